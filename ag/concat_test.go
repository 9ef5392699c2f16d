package ag

import (
	"strings"
	"testing"

	"github.com/foveaml/fovea/tensor"
)

func TestConcatGrad(t *testing.T) {
	r := newRand(13)
	a, b, c := randn(r, 2, 3, 3, 2), randn(r, 2, 3, 3, 5), randn(r, 2, 3, 3, 1)
	checkGrads(t, func(tp *Tape) *Var { return tp.Concat(a, b, c) }, leaves(a, b, c), defaultFD)
	// A branch used twice, one input frozen.
	c.SetRequiresGrad(false)
	checkGrads(t, func(tp *Tape) *Var { return tp.Concat(a, c, a) }, leaves(a, c), defaultFD)
	tp := NewTape()
	if y := tp.Concat(a, b); y.Value().Dim(3) != 7 {
		t.Fatalf("joined shape %v", y.Shape())
	}
}

func TestConcatErrors(t *testing.T) {
	tp := NewTape()
	tp.Concat(Const(tensor.Zeros(2, 3, 3, 2)), Const(tensor.Zeros(2, 4, 3, 2)))
	if err := tp.Err(); err == nil || !strings.Contains(err.Error(), "[2 3 3 2] and [2 4 3 2]") {
		t.Fatalf("error %v", err)
	}
}
