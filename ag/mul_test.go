package ag

import (
	"testing"

	"github.com/foveaml/fovea/tensor"
)

func TestMul(t *testing.T) {
	r := newRand(21)
	a := Param(tensor.RandNormal(r, 0, 1, 2, 3, 4))
	b := Param(tensor.RandNormal(r, 0, 1, 2, 3, 4))
	tp := NewTape()
	y := tp.Mul(a, b)
	for i, v := range y.Value().Data() {
		if v != a.Value().Data()[i]*b.Value().Data()[i] {
			t.Fatalf("y[%d] = %v", i, v)
		}
	}
	tp.Reset()
	// Gradients against finite differences, and a shared input (a⊙a).
	checkGrads(t, func(tp *Tape) *Var { return tp.Mul(a, b) }, leaves(a, b), defaultFD)
	checkGrads(t, func(tp *Tape) *Var { return tp.Mul(a, a) }, leaves(a), defaultFD) // a Var used twice
	if tp.Mul(a, Param(tensor.Zeros(3))); tp.Err() == nil {
		t.Fatal("no error for shapes that differ")
	}
}
