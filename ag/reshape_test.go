package ag

import (
	"slices"
	"strings"
	"testing"

	"github.com/foveaml/fovea/tensor"
)

func TestReshapeGrad(t *testing.T) {
	r := newRand(14)
	x, w := randn(r, 2, 3, 2, 4), randn(r, 24, 3)
	// Flatten feeding a dense layer, and a reshape used beside its input.
	checkGrads(t, func(tp *Tape) *Var { return tp.Dense(tp.Flatten(x), w, nil) }, leaves(x, w), defaultFD)
	checkGrads(t, func(tp *Tape) *Var { return tp.Add(tp.Reshape(tp.Scale(x, 2), 2, 3, 2, 4), x) }, leaves(x), defaultFD)
	tp := NewTape()
	if y := tp.Flatten(x); !slices.Equal(y.Shape(), []int{2, 24}) {
		t.Fatalf("Flatten shape %v", y.Shape())
	}
	tp.Reshape(x, 5, -1)
	if err := tp.Err(); err == nil || !strings.Contains(err.Error(), "[2 3 2 4]") {
		t.Fatalf("Reshape to [5 -1]: %v", err)
	}
	tp = NewTape()
	if tp.Flatten(Const(tensor.Zeros())) != nil || tp.Err() == nil {
		t.Fatal("flattened a scalar")
	}
}
