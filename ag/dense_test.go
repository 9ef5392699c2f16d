package ag

import (
	"strings"
	"testing"

	"github.com/foveaml/fovea/tensor"
)

func TestDenseGrad(t *testing.T) {
	r := newRand(3)
	for _, c := range [][3]int{{1, 1, 1}, {3, 5, 4}, {7, 33, 10}} {
		x, w, b := randn(r, c[0], c[1]), randn(r, c[1], c[2]), randn(r, c[2])
		checkGrads(t, func(tp *Tape) *Var { return tp.Dense(x, w, b) }, leaves(x, w, b), defaultFD)
		checkGrads(t, func(tp *Tape) *Var { return tp.Dense(x, w, nil) }, leaves(x, w), defaultFD)
	}
}

// A frozen weight and a constant input get no gradient; the bias does.
func TestDenseFrozen(t *testing.T) {
	r := newRand(5)
	x, w, b := Const(tensor.RandNormal(r, 0, 1, 3, 4)), randn(r, 4, 2), randn(r, 2)
	w.SetRequiresGrad(false)
	checkGrads(t, func(tp *Tape) *Var { return tp.Dense(x, w, b) }, leaves(x, w, b), defaultFD)
	if w.Grad() != nil || x.Grad() != nil {
		t.Fatal("frozen weight or constant input got a gradient buffer")
	}
}

// Dense's weight gradient is added by gemm itself when it already holds
// one: a second Backward without ZeroGrad doubles it.
func TestDenseAccumulates(t *testing.T) {
	r := newRand(4)
	x, w := Const(tensor.RandNormal(r, 0, 1, 4, 3)), randn(r, 3, 2)
	labels := []int32{0, 1, 1, 0}
	tp := NewTape()
	var first []float32
	for step := range 2 {
		if err := tp.Backward(tp.SoftmaxCrossEntropy(tp.Dense(x, w, nil), labels, 0)); err != nil {
			t.Fatal(err)
		}
		tp.Reset()
		if step == 0 {
			first = w.Grad().Clone().Data()
		}
	}
	for i, g := range w.Grad().Data() {
		if d := g - 2*first[i]; d > 1e-6 || d < -1e-6 {
			t.Fatalf("after two steps grad[%d] = %v, want 2·%v", i, g, first[i])
		}
	}
}

func TestDenseErrors(t *testing.T) {
	for _, c := range []struct {
		x, w, b []int
		want    []string
	}{
		{[]int{2, 3}, []int{4, 5}, nil, []string{"[4 5]", "[2 3]"}},
		{[]int{2, 2, 2, 3}, []int{3, 5}, nil, []string{"[2 2 2 3]", "Flatten"}},
		{[]int{2, 3}, []int{3, 5}, []int{3}, []string{"[3]", "[3 5]"}},
	} {
		tp := NewTape()
		var b *Var
		if c.b != nil {
			b = Const(tensor.Zeros(c.b...))
		}
		tp.Dense(Const(tensor.Zeros(c.x...)), Const(tensor.Zeros(c.w...)), b)
		for _, s := range c.want {
			if err := tp.Err(); err == nil || !strings.Contains(err.Error(), s) {
				t.Fatalf("x %v w %v: error %v does not mention %s", c.x, c.w, err, s)
			}
		}
	}
}
