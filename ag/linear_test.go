package ag

import (
	"strings"
	"testing"

	"github.com/foveaml/fovea/tensor"
)

func TestLinearGrads(t *testing.T) {
	r := newRand(12)
	a, b, c := randn(r, 2, 3, 4), randn(r, 2, 3, 4), randn(r, 2, 3, 4)
	checkGrads(t, func(tp *Tape) *Var { return tp.Add(a, b) }, leaves(a, b), defaultFD)
	checkGrads(t, func(tp *Tape) *Var { return tp.Scale(a, -2.5) }, leaves(a), defaultFD)
	checkGrads(t, func(tp *Tape) *Var { return tp.WeightedSum([]float32{1, 0.3, -0.7}, a, b, c) }, leaves(a, b, c), defaultFD)
	// One Var in several terms: its gradients add up.
	checkGrads(t, func(tp *Tape) *Var { return tp.Add(a, a) }, leaves(a), defaultFD)
	checkGrads(t, func(tp *Tape) *Var { return tp.WeightedSum([]float32{2, 3, -1}, a, b, a) }, leaves(a, b), defaultFD)
}

func TestLinearErrors(t *testing.T) {
	a, b := Const(tensor.Zeros(2, 3)), Const(tensor.Zeros(3, 2))
	tp := NewTape()
	tp.Add(a, b)
	if err := tp.Err(); err == nil || !strings.Contains(err.Error(), "[2 3] and [3 2]") {
		t.Fatalf("Add of [2 3] and [3 2]: %v", err)
	}
	tp = NewTape()
	tp.WeightedSum([]float32{1}, a, a)
	if err := tp.Err(); err == nil || !strings.Contains(err.Error(), "1 weights for 2 terms") {
		t.Fatalf("WeightedSum with 1 weight for 2 terms: %v", err)
	}
}
