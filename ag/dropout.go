package ag

import "github.com/foveaml/fovea/internal/kern"

// Dropout is inverted dropout: with train set, every value of x is
// zeroed with probability p and the others are scaled by 1/(1−p), so
// that inference (train unset, or p = 0) is the identity and returns x
// itself. Which values drop is a pure function of seed; draw a fresh one
// per step from a seeded source.
func (t *Tape) Dropout(x *Var, p float32, seed uint64, train bool) *Var {
	const op = "Dropout"
	if !t.ok(op, x) {
		return nil
	}
	if !(p >= 0 && p <= 1) {
		return t.fail(op, "probability %v is outside [0, 1]", p)
	}
	if !train || p == 0 {
		return x
	}
	n := x.val.Len()
	mask := t.alloc(n)
	kern.DropoutMask(mask, p, seed)
	y := t.newOutput(x.val.Shape(), x)
	kern.Dropout(y.val.Data(), x.val.Data(), mask)
	if t.tracer != nil {
		t.trace(op, DropoutAttrs{P: p, Seed: seed}, y, x)
	}
	return t.record(y, func(dy []float32) {
		dx := t.sink(x)
		kern.DropoutBackward(dx, dy, mask)
		t.flush(x, dx)
	})
}
