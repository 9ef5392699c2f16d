package ag

// Reshape returns x with a new shape holding the same values (one
// dimension may be -1, inferred); the output shares x's value.
func (t *Tape) Reshape(x *Var, shape ...int) *Var {
	const op = "Reshape"
	if !t.ok(op, x) {
		return nil
	}
	r, err := x.val.Reshape(shape...)
	if err != nil {
		return t.fail(op, "%v", err)
	}
	y := t.output(r.Data(), r.Shape(), x)
	y.shares, x.viewed = x, true
	if t.tracer != nil {
		t.trace(op, r.Shape(), y, x)
	}
	return t.record(y, func(dy []float32) { t.accum(x, 1, dy) })
}

// Flatten reshapes a batch [N, ...] to [N, features]: an NHWC image
// becomes its pixels' channels in (h, w, c) order.
func (t *Tape) Flatten(x *Var) *Var {
	if !t.ok("Flatten", x) {
		return nil
	}
	if x.val.Rank() == 0 {
		return t.fail("Flatten", "cannot flatten a scalar")
	}
	return t.Reshape(x, x.val.Dim(0), -1)
}
