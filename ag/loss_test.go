package ag

import (
	"math"
	"strings"
	"testing"

	"github.com/foveaml/fovea/tensor"
)

func TestSoftmaxCrossEntropyGrad(t *testing.T) {
	r := newRand(15)
	x := randn(r, 5, 4)
	labels := []int32{0, 3, 1, 1, 2}
	for _, eps := range []float32{0, 0.1} {
		checkGrads(t, func(tp *Tape) *Var { return tp.SoftmaxCrossEntropy(x, labels, eps) }, leaves(x), defaultFD)
	}
}

func TestSoftmaxCrossEntropyValue(t *testing.T) {
	x, _ := tensor.FromSlice([]float32{0, 0, 0, 1, 2, 3}, 2, 3)
	tp := NewTape()
	loss := tp.SoftmaxCrossEntropy(Const(x), []int32{1, 2}, 0)
	want := (math.Log(3) + (math.Log(math.Exp(1)+math.Exp(2)+math.Exp(3)) - 3)) / 2
	if l := loss.Item(); math.Abs(float64(l)-want) > 1e-6 {
		t.Fatalf("loss %v, want %v", l, want)
	}
	if loss.Value().Rank() != 0 {
		t.Fatalf("loss shape %v, want []", loss.Shape())
	}
	for _, c := range []struct {
		labels []int32
		want   string
	}{{[]int32{1}, "[2 3]"}, {[]int32{1, 3}, "label 3"}} {
		tp := NewTape()
		tp.SoftmaxCrossEntropy(Const(x), c.labels, 0)
		if err := tp.Err(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("labels %v: error %v", c.labels, err)
		}
	}
}

func TestSoftmaxGrad(t *testing.T) {
	x := randn(newRand(16), 3, 5)
	checkGrads(t, func(tp *Tape) *Var { return tp.Softmax(x) }, leaves(x), defaultFD)
}

// GoogLeNet's loss, main + 0.3·aux1 + 0.3·aux2, is one expression and
// backpropagates to all three heads.
func TestWeightedLoss(t *testing.T) {
	r := newRand(17)
	h, a1, a2 := randn(r, 4, 3), randn(r, 4, 3), randn(r, 4, 3)
	labels := []int32{2, 0, 1, 1}
	checkGrads(t, func(tp *Tape) *Var {
		return tp.WeightedSum([]float32{1, 0.3, 0.3},
			tp.SoftmaxCrossEntropy(h, labels, 0),
			tp.SoftmaxCrossEntropy(a1, labels, 0),
			tp.SoftmaxCrossEntropy(a2, labels, 0))
	}, leaves(h, a1, a2), defaultFD)
}
