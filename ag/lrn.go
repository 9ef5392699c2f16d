package ag

import "github.com/foveaml/fovea/internal/kern"

// LRN holds the constants of local response normalisation across
// channels, with PyTorch's semantics (nn.LocalResponseNorm): at every
// pixel
//
//	y[c] = x[c] · (K + Alpha/Size · Σ x[c']²)^(−Beta)
//
// the sum running over c−⌊Size/2⌋ ≤ c' ≤ c+⌊(Size−1)/2⌋ within [0, C).
// AlexNet's is LRN{Size: 5, Alpha: 1e-4, Beta: 0.75, K: 2}.
type LRN struct {
	Size           int
	Alpha, Beta, K float32
}

// LRN normalises the NHWC batch x across channels with l.
func (t *Tape) LRN(x *Var, l LRN) *Var {
	const op = "LRN"
	if !t.ok(op, x) || !t.isImage(op, "input", x) {
		return nil
	}
	if l.Size < 1 {
		return t.fail(op, "window size %d; want at least 1", l.Size)
	}
	k, d := kern.LRN(l), dims(x.val)
	y := t.newOutput(x.val.Shape(), x)
	k.Forward(y.val.Data(), x.val.Data(), d)
	if t.tracer != nil {
		t.trace(op, l, y, x)
	}
	return t.record(y, func(dy []float32) {
		dx := t.sink(x)
		k.Backward(dx, dy, x.val.Data(), d)
		t.flush(x, dx)
	})
}
