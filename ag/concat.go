package ag

import (
	"slices"

	"github.com/foveaml/fovea/internal/kern"
)

// Concat joins xs along their last axis, the channels of NHWC batches,
// as GoogLeNet's inception blocks join their branches. The other axes
// must agree.
func (t *Tape) Concat(xs ...*Var) *Var {
	const op = "Concat"
	if !t.ok(op, xs...) {
		return nil
	}
	if len(xs) == 0 {
		return t.fail(op, "no inputs")
	}
	shape := xs[0].val.Shape()
	if len(shape) == 0 {
		return t.fail(op, "cannot join scalars")
	}
	last := len(shape) - 1
	shape[last] = 0
	for _, x := range xs {
		s := x.val.Shape()
		if len(s) != len(shape) || !slices.Equal(s[:last], shape[:last]) {
			return t.fail(op, "shapes %v and %v differ outside the last axis", xs[0].val.Shape(), s)
		}
		shape[last] += s[last]
	}
	pixels := xs[0].val.Len() / max(xs[0].val.Dim(last), 1)
	if pixels == 0 || shape[last] == 0 {
		return t.fail(op, "empty inputs, joined shape %v", shape)
	}
	parts := make([][]float32, len(xs))
	for i, x := range xs {
		parts[i] = x.val.Data()
	}
	y := t.newOutput(shape, xs...)
	kern.ConcatChannels(y.val.Data(), parts, pixels)
	if t.tracer != nil {
		t.trace(op, nil, y, xs...)
	}
	return t.record(y, func(dy []float32) {
		for i, x := range xs {
			parts[i] = t.sink(x)
		}
		kern.SplitChannels(parts, dy, pixels)
		for i, x := range xs {
			t.flush(x, parts[i])
		}
	})
}
