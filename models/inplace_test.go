package models

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/tensor"
)

// TestInPlaceUnitsMatchLayerByLayer checks that a training step whose
// convolution units write their residual and ReLU over their batch
// norm's output (ag's in-place ops) gives the same gradients, bit for
// bit, as one whose units run layer by layer into buffers of their own
// (as they do under an observer), and as one whose tape hands buffers
// back during Backward, poisoned with NaN: through ResNet's residual
// shortcuts and GoogLeNet's branches and concatenations, where a value
// has several readers.
func TestInPlaceUnitsMatchLayerByLayer(t *testing.T) {
	resnet, err := NewResNet(ResNetConfig{Depth: 18, CIFAR: true, Width: 8, Classes: 10, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	googlenet, err := NewGoogLeNet(GoogLeNetConfig{Classes: 10, Dropout: -1, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		model nn.Layer
		n, hw int
	}{{"resnet18_cifar", resnet, 4, 32}, {"googlenet", googlenet, 2, 64}} {
		rng := rand.New(rand.NewPCG(5, 6))
		x := tensor.RandNormal(rng, 0, 1, c.n, c.hw, c.hw, 3)
		y := make([]int32, c.n)
		for i := range y {
			y[i] = int32(i % 10)
		}
		grads := func(observe, release bool) ([][]float32, int64) {
			ps := c.model.Params()
			for _, p := range ps {
				p.Var.ZeroGrad()
			}
			tp := ag.NewTape()
			defer tp.Reset()
			tp.SetReleaseInBackward(release)
			tp.SetPoisonReleased(release)
			ctx := &nn.Ctx{Tape: tp, Train: true}
			if observe {
				ctx.Observe = func(call nn.LayerCall) *ag.Var { return call.Out }
			}
			loss := tp.SoftmaxCrossEntropy(c.model.Forward(ctx, ag.Const(x)), y, 0)
			if err := tp.Backward(loss); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			gs := make([][]float32, len(ps))
			for i, p := range ps {
				gs[i] = slices.Clone(p.Var.Grad().Data())
			}
			_, peak := tp.Memory()
			return gs, peak
		}
		inPlace, inPlacePeak := grads(false, false)
		plain, plainPeak := grads(true, false)
		released, _ := grads(false, true)
		if inPlacePeak >= plainPeak {
			t.Errorf("%s: the step with in-place units peaked at %d bytes of the tape, the layer-by-layer one at %d; want less", c.name, inPlacePeak, plainPeak)
		}
		t.Logf("%s: tape peak %d bytes with in-place units, %d layer by layer", c.name, inPlacePeak, plainPeak)
		names := c.model.Params()
		for i := range plain {
			if !slices.Equal(inPlace[i], plain[i]) {
				t.Errorf("%s: %s: the gradient with in-place units differs from the layer-by-layer one", c.name, names[i].Name)
			}
			if !slices.Equal(released[i], plain[i]) {
				t.Errorf("%s: %s: the gradient differs when Backward hands buffers back (filled with NaN) as it goes", c.name, names[i].Name)
			}
		}
	}
}
