package ag

// Memory returns the bytes of the tape's pooled buffers in use now (op
// outputs, saved state and gradients not yet handed back by Reset) and
// the most in use at once since the tape was made or ResetPeak was
// called: the activation memory of a step, measured rather than
// estimated.
func (t *Tape) Memory() (inUse, peak int64) {
	fn, fp := t.floats.InUse()
	in, ip := t.ints.InUse()
	return fn + in, fp + ip
}

// ResetPeak starts a new measure of Memory's peak from the bytes in use
// now.
func (t *Tape) ResetPeak() {
	t.floats.ResetPeak()
	t.ints.ResetPeak()
}
