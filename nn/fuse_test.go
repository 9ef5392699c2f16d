package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/tensor"
)

// A Unit gives the same output fused (inference, no gradient needed) as
// layer by layer, and falls back to the layers when only its residual
// needs a gradient, which then reaches the residual.
func TestUnitFusedAndFallback(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	conv, err := NewConv2D(Conv2DConfig{In: 3, Out: 8, Kernel: 3, Pad: 1}, rng)
	if err != nil {
		t.Fatal(err)
	}
	bn, _ := NewBatchNorm(8)
	for i := range 8 {
		bn.Stats.Mean.Data()[i], bn.Stats.Var.Data()[i] = float32(i)*0.1, 1+float32(i)*0.2
		bn.Weight.Value().Data()[i], bn.Bias.Value().Data()[i] = 1-float32(i)*0.05, float32(i)*0.03
	}
	Freeze(conv, true)
	Freeze(bn, true)
	m := &Module{}
	Add(m, "conv", conv)
	Add(m, "bn", bn)
	u := Unit{Conv: conv, BN: bn, ReLU: true}
	x := ag.Const(tensor.RandNormal(rng, 0, 1, 2, 5, 5, 3))
	resT := tensor.RandNormal(rng, 0, 1, 2, 5, 5, 8)

	run := func(grad, trace bool) (*ag.Var, *ag.Var, *ag.Tape) {
		tp := ag.NewTape()
		tp.SetGradEnabled(grad)
		res := ag.Param(resT.Clone())
		c := &Ctx{Tape: tp}
		if trace {
			c.trace = &[]traceRow{} // forces the layer-by-layer path
		}
		return m.Unit(c, x, u, func() *ag.Var { return res }), res, tp
	}
	want, _, _ := run(false, true)
	fused, _, tp := run(false, false)
	if tp.Err() != nil {
		t.Fatal(tp.Err())
	}
	fallback, res, tp := run(true, false)
	for i, v := range want.Value().Data() {
		for _, got := range []*ag.Var{fused, fallback} {
			if d := math.Abs(float64(got.Value().Data()[i] - v)); d > 1e-5 {
				t.Fatalf("[%d] = %v, want %v", i, got.Value().Data()[i], v)
			}
		}
	}
	if err := tp.Backward(tp.SoftmaxCrossEntropy(tp.GlobalAvgPool(fallback), []int32{0, 1}, 0)); err != nil {
		t.Fatal(err)
	}
	if res.Grad() == nil {
		t.Fatal("the residual got no gradient on the fallback path")
	}
}
