package optim

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/tensor"
)

// TestFrozenNoUpdateNoDecayNoState checks that a frozen parameter gets no
// update, no weight decay and no optimiser state, for every optimiser,
// and that once unfrozen it learns at its group's rate.
func TestFrozenNoUpdateNoDecayNoState(t *testing.T) {
	makers := map[string]func([]Group) (Optimizer, error){
		"sgd": func(g []Group) (Optimizer, error) {
			return NewSGD(nil, SGDConfig{LR: 0.1, Momentum: 0.9, WeightDecay: 0.5}, g...)
		},
		"adam":  func(g []Group) (Optimizer, error) { return NewAdam(nil, AdamConfig{LR: 0.1, WeightDecay: 0.5}, g...) },
		"adamw": func(g []Group) (Optimizer, error) { return NewAdamW(nil, AdamConfig{LR: 0.1, WeightDecay: 0.5}, g...) },
		"rmsprop": func(g []Group) (Optimizer, error) {
			return NewRMSprop(nil, RMSpropConfig{LR: 0.1, WeightDecay: 0.5}, g...)
		},
	}
	for name, mk := range makers {
		back := nn.Param{Name: "backbone.weight", Var: ag.Param(tensor.Full(1, 4, 4))}
		head := nn.Param{Name: "head.weight", Var: ag.Param(tensor.Full(1, 4, 2))}
		x, _ := tensor.FromSlice([]float32{1, -2, 3, 0.5}, 1, 4)
		groups, err := Discriminative([]nn.Param{back, head}, func(n string) bool { return strings.HasPrefix(n, "head.") }, 0.1)
		if err != nil {
			t.Fatal(err)
		}
		o, err := mk(groups)
		if err != nil {
			t.Fatal(err)
		}
		back.Var.SetRequiresGrad(false)
		step := func() {
			tp := ag.NewTape()
			loss := tp.SoftmaxCrossEntropy(tp.Dense(tp.Dense(ag.Const(x), back.Var, nil), head.Var, nil), []int32{1}, 0)
			if err := tp.Backward(loss); err != nil {
				t.Fatal(err)
			}
			o.Step()
			o.ZeroGrad()
			tp.Reset()
		}
		step()
		if slices.ContainsFunc(back.Var.Value().Data(), func(v float32) bool { return v != 1 }) {
			t.Errorf("%s: the frozen parameter moved to %v", name, back.Var.Value().Data())
		}
		if !slices.ContainsFunc(head.Var.Value().Data(), func(v float32) bool { return v != 1 }) {
			t.Errorf("%s: the head did not move", name)
		}
		ts, meta := o.State()
		for k := range ts {
			if strings.HasPrefix(k, "backbone.") {
				t.Errorf("%s: state %s for the frozen parameter", name, k)
			}
		}
		if _, ok := meta["backbone.weight.step"]; ok {
			t.Errorf("%s: a step count for the frozen parameter", name)
		}
		// Unfrozen, it learns at a tenth of the head's rate: compare the
		// first updates of the two (same gradient magnitude for SGD).
		back.Var.SetRequiresGrad(true)
		h0 := head.Var.Value().Data()[0]
		step()
		if back.Var.Value().Data()[0] == 1 {
			t.Errorf("%s: the unfrozen parameter did not move", name)
		}
		if name == "adam" {
			// Adam's first step moves each parameter by about its rate.
			db := 1 - back.Var.Value().Data()[0]
			dh := h0 - head.Var.Value().Data()[0]
			if r := math.Abs(float64(db / dh)); r < 0.05 || r > 0.2 {
				t.Errorf("%s: backbone step %v, head step %v: want a ratio near 0.1", name, db, dh)
			}
		}
	}
	if _, err := Discriminative(nil, func(string) bool { return true }, 0); err == nil {
		t.Error("a zero backbone scale was accepted")
	}
}

// TestWarmupThenCosine checks the warm-up schedule Fit takes through
// Config.Schedule: linear from StartFactor to the base, then the cosine
// from its start.
func TestWarmupThenCosine(t *testing.T) {
	s := Warmup{Steps: 2, StartFactor: 0.1, Then: CosineAnnealingLR{TMax: 4}}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	want := []float64{0.1, 0.55, 1, 0.8535533905932737, 0.5}
	for i, w := range want {
		if got := s.LR(1, i); got < w-1e-12 || got > w+1e-12 {
			t.Errorf("t=%d: %v; want %v", i, got, w)
		}
	}
}
