package ag

import "github.com/foveaml/fovea/internal/kern"

// Mul returns a ⊙ b, the element-wise product of two Vars of one shape:
// for example a filter times a fixed 0/1 mask, which keeps the masked
// weights at zero and their gradient at zero (LeNet-5's partial
// connections).
func (t *Tape) Mul(a, b *Var) *Var {
	const op = "Mul"
	if !t.ok(op, a, b) {
		return nil
	}
	if !a.val.SameShape(b.val) {
		return t.fail(op, "shapes %v and %v differ", a.val.Shape(), b.val.Shape())
	}
	y := t.newOutput(a.val.Shape(), a, b)
	kern.Mul(y.val.Data(), a.val.Data(), b.val.Data())
	if t.tracer != nil {
		t.trace(op, nil, y, a, b)
	}
	return t.record(y, func(dy []float32) {
		// d(a⊙b)/da = b and /db = a.
		for _, p := range [][2]*Var{{a, b}, {b, a}} {
			if p[0].requires {
				g := t.sink(p[0])
				kern.Mul(g, dy, p[1].val.Data())
				t.flush(p[0], g)
			}
		}
	})
}
