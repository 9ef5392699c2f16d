package ag

import (
	"math"
	"strings"
	"testing"

	"github.com/foveaml/fovea/tensor"
)

func TestBatchNormGrad(t *testing.T) {
	r := newRand(8)
	for _, shape := range [][]int{{2, 3, 5, 4}, {6, 3}} {
		for _, train := range []bool{true, false} {
			c := shape[len(shape)-1]
			x, g, b := randn(r, shape...), randn(r, c), randn(r, c)
			s := NewBatchNormStats(c)
			s.Mean = tensor.RandNormal(r, 0, 0.5, c)
			s.Var = tensor.RandUniform(r, 0.5, 2, c)
			checkGrads(t, func(tp *Tape) *Var { return tp.BatchNorm(x, g, b, s, train) }, leaves(x, g, b), defaultFD)
			// Frozen scale and shift: only the input's gradient.
			g.SetRequiresGrad(false)
			b.SetRequiresGrad(false)
			checkGrads(t, func(tp *Tape) *Var { return tp.BatchNorm(x, g, b, s, train) }, leaves(x, g, b), defaultFD)
		}
	}
}

// Training normalises with the batch statistics and moves the running
// ones towards them, with the unbiased variance.
func TestBatchNormStats(t *testing.T) {
	x, _ := tensor.FromSlice([]float32{1, 10, 3, 20, 5, 60}, 3, 2)
	s := NewBatchNormStats(2)
	tp := NewTape()
	y := tp.BatchNorm(Const(x), Const(tensor.Full(1, 2)), Const(tensor.Zeros(2)), s, true)
	if err := tp.Err(); err != nil {
		t.Fatal(err)
	}
	// Channel 0: mean 3, biased variance 8/3, unbiased 4.
	want := float32(-2 / math.Sqrt(8.0/3+1e-5))
	if got := y.Value().At(0, 0); math.Abs(float64(got-want)) > 1e-5 {
		t.Fatalf("y[0,0] = %v, want %v", got, want)
	}
	if m, v := s.Mean.At(0), s.Var.At(0); math.Abs(float64(m-0.3)) > 1e-6 || math.Abs(float64(v-(0.9+0.4))) > 1e-6 {
		t.Fatalf("running mean %v var %v, want 0.3 and 1.3", m, v)
	}
}

func TestBatchNormErrors(t *testing.T) {
	one := Const(tensor.Zeros(3))
	for _, c := range []struct {
		x    []int
		s    *BatchNormStats
		want string
	}{
		{[]int{2, 4, 4, 5}, NewBatchNormStats(3), "[2 4 4 5]"},
		{[]int{2, 4, 3}, NewBatchNormStats(3), "[2 4 3]"},
		{[]int{2, 4, 4, 3}, NewBatchNormStats(4), "[4]"},
		{[]int{1, 3}, NewBatchNormStats(3), "more than one value"},
	} {
		tp := NewTape()
		tp.BatchNorm(Const(tensor.Zeros(c.x...)), one, one, c.s, true)
		if err := tp.Err(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("input %v: error %v does not mention %s", c.x, err, c.want)
		}
	}
}
