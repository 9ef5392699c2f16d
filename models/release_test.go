package models

import (
	"math/rand/v2"
	"testing"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/tensor"
)

// TestInferenceHoldsFewActivations checks that a forward pass at
// inference hands each value back once the layers after it have read it
// (nn.Ctx.Done): the tape's peak stays within a few of the largest
// activations, whatever the depth, where a pass watched by an observer
// (which may keep any value, so nothing is handed back) holds them all.
func TestInferenceHoldsFewActivations(t *testing.T) {
	cases := []struct {
		name string
		new  func() (nn.Layer, error)
		side int
	}{
		{"resnet50 (bottleneck blocks)", func() (nn.Layer, error) {
			return NewResNet(ResNetConfig{Depth: 50, Width: 8, Classes: 10, Seed: 1})
		}, 64},
		{"resnet18 (basic blocks)", func() (nn.Layer, error) {
			return NewResNet(ResNetConfig{Depth: 18, Width: 8, Classes: 10, Seed: 1})
		}, 64},
		{"googlenet (inception)", func() (nn.Layer, error) { return NewGoogLeNet(GoogLeNetConfig{Classes: 10, Seed: 1}) }, 64},
		{"vgg11 (sequential)", func() (nn.Layer, error) {
			return NewVGG(VGGConfig{Depth: 11, Width: 8, Input: 32, Classes: 10, Seed: 1})
		}, 32},
	}
	for _, c := range cases {
		m, err := c.new()
		if err != nil {
			t.Fatal(err)
		}
		x := ag.Const(tensor.RandNormal(rand.New(rand.NewPCG(1, 2)), 0, 1, 2, c.side, c.side, 3))
		pass := func(observe bool) (peak, largest int64) {
			tp := ag.NewTape()
			tp.SetGradEnabled(false)
			ctx := &nn.Ctx{Tape: tp}
			if observe {
				ctx.Observe = func(call nn.LayerCall) *ag.Var {
					if call.Out != nil {
						largest = max(largest, 4*int64(call.Out.Value().Len()))
					}
					return call.Out
				}
			}
			if m.Forward(ctx, x); tp.Err() != nil {
				t.Fatal(tp.Err())
			}
			_, peak = tp.Memory()
			return peak, largest
		}
		all, largest := pass(true)
		peak, _ := pass(false)
		if peak > 4*largest {
			t.Errorf("%s: inference peak %d KiB, over 4 of its largest activation (%d KiB)", c.name, peak>>10, largest>>10)
		}
		if all < 2*peak {
			t.Errorf("%s: observed pass peak %d KiB, inference %d KiB: handing values back saves under half", c.name, all>>10, peak>>10)
		}
		t.Logf("%s: tape peak %d KiB at inference, %d KiB observed, largest activation %d KiB", c.name, peak>>10, all>>10, largest>>10)
	}
}

// TestInceptionJoinedMatchesConcat checks GoogLeNet's inference path,
// where each inception module's branches end in one op writing into the
// joined output, against the same model run with the convolutions fused
// one by one and joined by Concat (a tape that records gradients, over
// frozen weights): the logits agree bit for bit.
func TestInceptionJoinedMatchesConcat(t *testing.T) {
	m, err := NewGoogLeNet(GoogLeNetConfig{Classes: 10, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Params() {
		p.Var.SetRequiresGrad(false)
	}
	x := ag.Const(tensor.RandNormal(rand.New(rand.NewPCG(3, 4)), 0, 1, 2, 64, 64, 3))
	logits := func(grad bool) []float32 {
		tp := ag.NewTape()
		tp.SetGradEnabled(grad)
		y := m.Forward(&nn.Ctx{Tape: tp}, x)
		if tp.Err() != nil {
			t.Fatal(tp.Err())
		}
		return y.Value().Data()
	}
	joined, apart := logits(false), logits(true)
	for i := range apart {
		if joined[i] != apart[i] {
			t.Fatalf("logit %d: %v joined, %v with Concat", i, joined[i], apart[i])
		}
	}
}
