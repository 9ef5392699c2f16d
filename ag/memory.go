package ag

import "github.com/foveaml/fovea/internal/scratch"

// floatPool is where a tape's float buffers come from: the recycler the
// kernels' workspaces come from too (scratch.Floats), so that the buffers
// Backward hands back early (the activations of the later layers, while
// the earlier ones are backpropagated) serve the kernels' padded copies
// and transforms, and the workspaces idle between calls serve the tape's
// gradients, instead of each kind of buffer keeping its own. It counts
// what its tape has out.
type floatPool struct{ live, peak int64 }

// Get returns a buffer of n floats from scratch.Floats.
func (p *floatPool) Get(n int) []float32 {
	b := scratch.Floats.Get(n)
	p.live += int64(n)
	p.peak = max(p.peak, p.live)
	return b
}

// GetSized returns a buffer of n floats of its own size class, for a
// value kept until Backward or Reset (see scratch.Pool.GetSized).
func (p *floatPool) GetSized(n int) []float32 {
	b := scratch.Floats.GetSized(n)
	p.live += int64(n)
	p.peak = max(p.peak, p.live)
	return b
}

// Put hands back a buffer from Get, at its length from Get. The pool
// keeps it past its limit: the next step asks for it again (a model whose
// activations outgrow the limit would otherwise make them anew at every
// step).
func (p *floatPool) Put(b []float32) {
	p.live -= int64(len(b))
	scratch.Floats.Keep(b)
}

// InUse returns the bytes handed out and not put back, and the most at
// once since ResetPeak.
func (p *floatPool) InUse() (now, peak int64) { return 4 * p.live, 4 * p.peak }

// ResetPeak starts a new measure of the peak.
func (p *floatPool) ResetPeak() { p.peak = p.live }

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

// Made returns the buffers scratch.Floats has made anew, for the tape
// and the kernels: after a warm-up, a steady state makes none.
func (p *floatPool) Made() int { return scratch.Floats.Made() }
