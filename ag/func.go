package ag

import "fmt"

// Func is an op defined outside this package: an element-wise function,
// a gather or a layout change that a model format needs and fovea's own
// ops do not cover. Its Forward and Backward work on the flat values of
// its inputs and output; the Tape sees to buffers, gradients and errors.
type Func struct {
	// Name names the op in errors and to tracers.
	Name string
	// Attrs describes the op to a tracer (see Op.Attrs).
	Attrs any
	// Forward writes the output y from the inputs' values xs, one slice
	// per input, in Apply's order.
	Forward func(y []float32, xs [][]float32)
	// Backward writes into dxs[i] the gradient with respect to input i,
	// given the output's gradient dy, the output y and the inputs xs. It
	// must overwrite every element of each non-nil dxs[i]; dxs[i] is nil
	// when input i needs no gradient. Nil Backward makes the op a
	// constant of its inputs: no gradient flows through it.
	Backward func(dxs [][]float32, dy, y []float32, xs [][]float32)
}

// Apply runs f on xs and returns its output, of the given shape. A
// negative dimension, or an input that is nil or dead, is an error on the
// tape, as for every op.
func (t *Tape) Apply(f Func, shape []int, xs ...*Var) *Var {
	if !t.ok(f.Name, xs...) {
		return nil
	}
	for _, d := range shape {
		if d < 0 {
			return t.fail(f.Name, "output shape %v has a negative dimension", shape)
		}
	}
	vals := make([][]float32, len(xs))
	for i, x := range xs {
		vals[i] = x.val.Data()
	}
	var y *Var
	if f.Backward == nil {
		y = t.newOutput(shape)
	} else {
		y = t.newOutput(shape, xs...)
	}
	yd := y.val.Data()
	f.Forward(yd, vals)
	if t.tracer != nil {
		t.trace(f.Name, f.Attrs, y, xs...)
	}
	return t.record(y, func(dy []float32) {
		dxs := make([][]float32, len(xs))
		for i, x := range xs {
			if x.requires {
				dxs[i] = t.sink(x)
			}
		}
		f.Backward(dxs, dy, yd, vals)
		for i, x := range xs {
			if dxs[i] != nil {
				t.flush(x, dxs[i])
			}
		}
	})
}

// Fail records err as the tape's error, as an op that cannot run does,
// and returns nil: how code outside this package that builds on the tape
// (a graph interpreter) reports a problem it finds mid-pass. Like every
// op, it keeps the first error.
func (t *Tape) Fail(op string, err error) *Var {
	if t.err == nil {
		t.err = fmt.Errorf("%s: %w", op, err)
	}
	return nil
}
