package ag

import (
	"slices"

	"github.com/foveaml/fovea/internal/kern"
)

// Add returns a + b element-wise; a and b have the same shape. It is the
// join of a residual block's shortcut.
func (t *Tape) Add(a, b *Var) *Var { return t.combine("Add", nil, false, a, b) }

// Scale returns a·x element-wise.
func (t *Tape) Scale(x *Var, a float32) *Var { return t.combine("Scale", []float32{a}, false, x) }

// WeightedSum returns Σ weights[i]·xs[i] for Vars of one shape, such as
// GoogLeNet's training loss:
//
//	loss := tp.WeightedSum([]float32{1, 0.3, 0.3}, main, aux1, aux2)
func (t *Tape) WeightedSum(weights []float32, xs ...*Var) *Var {
	if len(weights) != len(xs) && t.err == nil {
		return t.fail("WeightedSum", "%d weights for %d terms", len(weights), len(xs))
	}
	return t.combine("WeightedSum", slices.Clone(weights), false, xs...)
}

// combine returns Σ ws[i]·xs[i], every weight 1 when ws is nil, written
// over xs[0]'s value when over is set (the caller has checked that it
// may be: see overwritable).
func (t *Tape) combine(op string, ws []float32, over bool, xs ...*Var) *Var {
	if !t.ok(op, xs...) {
		return nil
	}
	if len(xs) == 0 {
		return t.fail(op, "no terms")
	}
	for _, x := range xs[1:] {
		if !x.val.SameShape(xs[0].val) {
			return t.fail(op, "shapes %v and %v differ", xs[0].val.Shape(), x.val.Shape())
		}
	}
	weight := func(i int) float32 {
		if ws == nil {
			return 1
		}
		return ws[i]
	}
	var y *Var
	if over {
		y = t.output(xs[0].val.Data(), xs[0].val.Shape(), xs...)
		y.shares, xs[0].viewed, xs[0].overwritten = xs[0], true, op+"InPlace"
	} else {
		y = t.newOutput(xs[0].val.Shape(), xs...)
	}
	y.spare = true // backward reads dy alone
	yd := y.val.Data()
	if ws == nil && len(xs) == 2 {
		kern.Add(yd, xs[0].val.Data(), xs[1].val.Data()) // a residual join: one pass
	} else {
		kern.Scale(yd, weight(0), xs[0].val.Data())
		for i, x := range xs[1:] {
			kern.Axpy(yd, weight(i+1), x.val.Data())
		}
	}
	if t.tracer != nil {
		t.trace(op, ws, y, xs...)
	}
	return t.record(y, func(dy []float32) {
		// The first term of weight 1 that may take dy as its gradient
		// does, after the others have read it.
		take := -1
		for i, x := range xs {
			if take < 0 && weight(i) == 1 && t.canTake(x, y) && !slices.Contains(xs[i+1:], x) && !slices.Contains(xs[:i], x) {
				take = i
			}
		}
		for i, x := range xs {
			if x.requires && i != take {
				t.accum(x, weight(i), dy)
			}
		}
		if take >= 0 {
			t.take(xs[take], y)
		}
	})
}
