package ag

// freeList recycles buffers by exact length: a training step asks for
// the same lengths every time, so each request after the first finds
// its buffer again. A different batch size (a short last batch) adds a
// second set, kept alongside.
type freeList[E float32 | int32] struct {
	free   map[int][][]E
	misses int // buffers made anew, for tests
	// live counts the elements handed out and not yet put back, peak
	// the most at once: what a step needs (see Tape.Memory).
	live, peak int
}

// get returns a buffer of length n with undefined contents.
func (f *freeList[E]) get(n int) []E {
	f.live += n
	f.peak = max(f.peak, f.live)
	if l := f.free[n]; len(l) > 0 {
		b := l[len(l)-1]
		f.free[n] = l[:len(l)-1]
		return b
	}
	f.misses++
	return make([]E, n)
}

// put hands b back for a later get.
func (f *freeList[E]) put(b []E) {
	if f.free == nil {
		f.free = map[int][][]E{}
	}
	f.live -= len(b)
	f.free[len(b)] = append(f.free[len(b)], b)
}

// Memory returns the bytes of the tape's pooled buffers in use now (op
// outputs, the state their backward keeps, gradients being accumulated)
// and the most in use at once since the tape was made or ResetPeak was
// last called: the memory a forward pass, or a training step, needs for
// its activations. Parameters, their gradients and kernels' scratch space
// are not counted.
func (t *Tape) Memory() (inUse, peak int64) {
	return 4 * int64(t.floats.live+t.ints.live), 4 * int64(t.floats.peak+t.ints.peak)
}

// ResetPeak starts a new measure of Memory's peak from the bytes in use
// now.
func (t *Tape) ResetPeak() {
	t.floats.peak, t.ints.peak = t.floats.live, t.ints.live
}
