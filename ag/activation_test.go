package ag

import "testing"

func TestActivationGrads(t *testing.T) {
	r := newRand(10)
	for _, c := range []struct {
		name string
		f    func(tp *Tape, x *Var) *Var
	}{
		{"ReLU", (*Tape).ReLU},
		{"Sigmoid", (*Tape).Sigmoid},
		{"Tanh", (*Tape).Tanh},
		{"ScaledTanh", (*Tape).ScaledTanh},
	} {
		t.Run(c.name, func(t *testing.T) {
			x := spaced(r, 0.05, 2, 3, 3, 4)
			checkGrads(t, func(tp *Tape) *Var { return c.f(tp, x) }, leaves(x), defaultFD)
		})
	}
}
