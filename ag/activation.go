package ag

import "github.com/foveaml/fovea/internal/kern"

// activation is an element-wise function and its backward, which gets
// the forward output y.
type activation struct {
	name     string
	forward  func(y, x []float32)
	backward func(dx, dy, y []float32)
}

var (
	relu       = activation{"ReLU", kern.ReLU, kern.ReLUBackward}
	sigmoid    = activation{"Sigmoid", kern.Sigmoid, kern.SigmoidBackward}
	tanh       = activation{"Tanh", kern.Tanh, kern.TanhBackward}
	scaledTanh = activation{"ScaledTanh", kern.ScaledTanh, kern.ScaledTanhBackward}
)

// apply runs a on x, writing its output over x's value when over is set
// (the caller has checked that it may be: see overwritable).
func (t *Tape) apply(a *activation, x *Var, over bool) *Var {
	if !t.ok(a.name, x) {
		return nil
	}
	var y *Var
	if over {
		y = t.output(x.val.Data(), x.val.Shape(), x)
		y.shares, x.viewed, x.overwritten = x, true, a.name+"InPlace"
	} else {
		y = t.newOutput(x.val.Shape(), x)
	}
	yd := y.val.Data()
	a.forward(yd, x.val.Data())
	if t.tracer != nil {
		t.trace(a.name, nil, y, x)
	}
	return t.record(y, func(dy []float32) {
		if t.canTake(x, y) { // element-wise: dx may be dy
			a.backward(dy, dy, yd)
			t.take(x, y)
			return
		}
		dx := t.sink(x)
		a.backward(dx, dy, yd)
		t.flush(x, dx)
	})
}

// ReLU returns max(x, 0) element-wise; its gradient is 0 where x ≤ 0.
func (t *Tape) ReLU(x *Var) *Var { return t.apply(&relu, x, false) }

// Sigmoid returns 1/(1+e^(−x)) element-wise.
func (t *Tape) Sigmoid(x *Var) *Var { return t.apply(&sigmoid, x, false) }

// Tanh returns tanh(x) element-wise.
func (t *Tape) Tanh(x *Var) *Var { return t.apply(&tanh, x, false) }

// ScaledTanh returns 1.7159·tanh(2x/3) element-wise, LeNet-5's squashing
// function.
func (t *Tape) ScaledTanh(x *Var) *Var { return t.apply(&scaledTanh, x, false) }
