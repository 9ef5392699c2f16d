package train

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/foveaml/fovea/data"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/optim"
)

// TestFrozenBackboneUnchanged trains a batch-normalised net whose
// backbone is frozen, with AdamW's weight decay, and checks that every
// frozen tensor, running statistics included, is bit-identical after,
// that the head did learn, and that the optimiser keeps no state for the
// frozen parameters. A frozen batch norm with KeepTraining does update
// its statistics (and only those).
func TestFrozenBackboneUnchanged(t *testing.T) {
	ds := bars(t, 96, 1)
	for _, keep := range []bool{false, true} {
		m := bnNet(t, 1)
		heads := nn.FreezeAllButHead(m)
		if !slices.Equal(heads, []string{"7"}) {
			t.Fatalf("heads %v; want [7]", heads)
		}
		m.Layers[4].(*nn.BatchNorm).KeepTraining = keep
		before := snapshot(m)
		o, err := optim.NewAdamW(m.Params(), optim.AdamConfig{LR: 0.01, WeightDecay: 0.1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Fit(context.Background(), m, ds, Config{Epochs: 2, BatchSize: 16, Optimizer: o, Seed: 3}); err != nil {
			t.Fatal(err)
		}
		after := snapshot(m)
		for name, v := range before {
			changed := !slices.Equal(v, after[name])
			want := strings.HasPrefix(name, "7.") || keep && strings.HasPrefix(name, "4.running_")
			if changed != want {
				t.Errorf("KeepTraining %v: %s changed %v; want %v", keep, name, changed, want)
			}
		}
		ts, meta := o.State()
		for k := range ts {
			if !strings.HasPrefix(k, "7.") {
				t.Errorf("optimiser state %q for a frozen parameter", k)
			}
		}
		for k := range meta {
			if strings.HasSuffix(k, ".step") && !strings.HasPrefix(k, "7.") {
				t.Errorf("optimiser step count %q for a frozen parameter", k)
			}
		}
	}
}

// TestFitHeadMatchesFit trains the head of a frozen net twice from the
// same weights, once through the backbone with Fit and once on cached
// features with FitHead, and compares the heads: same seed, batches and
// validation split, so the same updates up to float rounding.
func TestFitHeadMatchesFit(t *testing.T) {
	ds := bars(t, 120, 2)
	var heads [2][]float32
	var hists [2]*History
	for i := range 2 {
		m := bnNet(t, 5)
		nn.FreezeAllButHead(m)
		o := adam(t, m, 0.01)
		cfg := Config{Epochs: 3, BatchSize: 16, Optimizer: o, Seed: 7, ValidationSplit: 0.2}
		var err error
		if i == 0 {
			hists[i], err = Fit(context.Background(), m, ds, cfg)
		} else {
			var log bytes.Buffer
			cfg.Progress = &log
			hists[i], err = FitHead(context.Background(), m, ds, cfg)
			if !strings.Contains(log.String(), "caching the features 7 reads for 120 examples") {
				t.Errorf("no progress line for the cache: %q", log.String())
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range m.Params() {
			if strings.HasPrefix(p.Name, "7.") {
				heads[i] = append(heads[i], p.Var.Value().Data()...)
			}
		}
	}
	moved := false
	init := snapshot(bnNet(t, 5))
	for j, v := range append(slices.Clone(init["7.weight"]), init["7.bias"]...) {
		if math.Abs(float64(heads[0][j]-v)) > 1e-3 {
			moved = true
		}
	}
	if !moved {
		t.Fatal("the head did not train")
	}
	for j := range heads[0] {
		if d := math.Abs(float64(heads[0][j] - heads[1][j])); d > 1e-4 {
			t.Fatalf("head value %d: Fit %v, FitHead %v", j, heads[0][j], heads[1][j])
		}
	}
	for e := range hists[0].Epochs {
		a, b := hists[0].Epochs[e], hists[1].Epochs[e]
		if math.Abs(a.Loss-b.Loss) > 1e-4 || math.Abs(a.ValLoss-b.ValLoss) > 1e-4 {
			t.Errorf("epoch %d: Fit loss %v val %v, FitHead %v val %v", e+1, a.Loss, a.ValLoss, b.Loss, b.ValLoss)
		}
	}
}

// TestFitHeadRefuses checks that FitHead says why it cannot cache.
func TestFitHeadRefuses(t *testing.T) {
	ds := bars(t, 32, 3)
	cases := []struct {
		name string
		prep func(m *nn.Sequential, cfg *Config)
		want string
	}{
		{"backbone trains", func(m *nn.Sequential, cfg *Config) {}, "parameter 0.weight, outside the head 7, trains"},
		{"augmented", func(m *nn.Sequential, cfg *Config) {
			nn.FreezeAllButHead(m)
			cfg.Transform = data.TransformFunc(func(dst, src []float32, h, w, c int, rng *rand.Rand) error {
				copy(dst, src)
				return nil
			})
		}, "augmented"},
		{"batch norm keeps training", func(m *nn.Sequential, cfg *Config) {
			nn.FreezeAllButHead(m)
			m.Layers[1].(*nn.BatchNorm).KeepTraining = true
		}, "other features in training mode"},
		{"dropout", func(m *nn.Sequential, cfg *Config) {
			nn.FreezeAllButHead(m)
			m.Layers = slices.Insert(m.Layers, 7, nn.Layer(nn.Dropout{P: 0.5, Seed: 1}))
		}, "other features in training mode"},
		{"unfreezing", func(m *nn.Sequential, cfg *Config) {
			nn.FreezeAllButHead(m)
			cfg.Hooks = []Hook{&GradualUnfreezing{Plan: []Unfreeze{{Epoch: 1, Pattern: "0"}}}}
		}, "GradualUnfreezing"},
	}
	for _, c := range cases {
		m := bnNet(t, 1)
		cfg := Config{Epochs: 1, Optimizer: adam(t, m, 0.01)}
		c.prep(m, &cfg)
		before := snapshot(m)
		_, err := FitHead(context.Background(), m, ds, cfg)
		if !errors.Is(err, ErrNoHeadCache) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v; want one saying %q and wrapping ErrNoHeadCache", c.name, err, c.want)
		}
		for k, v := range snapshot(m) {
			if !slices.Equal(v, before[k]) {
				t.Errorf("%s: %s changed", c.name, k)
			}
		}
	}
}

// TestGradualUnfreezing checks that the plan unfreezes its groups after
// their epochs, that the newly trainable layers then learn, and that
// Restore replays the plan for a resumed run.
func TestGradualUnfreezing(t *testing.T) {
	ds := bars(t, 64, 4)
	m := smallNet(t, 1)
	nn.FreezeAllButHead(m)
	var log bytes.Buffer
	g := &GradualUnfreezing{Plan: []Unfreeze{{Epoch: 1, Pattern: "0"}}, Log: &log}
	conv := m.Params()[0]
	var atEpoch1 []float32
	snap := HookFuncs{EpochEnd: func(s *State) error {
		if s.Epoch == 1 {
			atEpoch1 = slices.Clone(conv.Var.Value().Data())
		}
		return nil
	}}
	before := slices.Clone(conv.Var.Value().Data())
	o := adam(t, m, 0.01)
	if _, err := Fit(context.Background(), m, ds, Config{Epochs: 2, BatchSize: 16, Optimizer: o, Seed: 1, Hooks: []Hook{snap, g}}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(before, atEpoch1) {
		t.Error("the frozen convolution changed in epoch 1")
	}
	if slices.Equal(before, conv.Var.Value().Data()) || !conv.Trainable() {
		t.Error("the convolution did not train after it was unfrozen")
	}
	if !strings.Contains(log.String(), "after epoch 1: unfroze 0") {
		t.Errorf("log %q", log.String())
	}
	m2 := smallNet(t, 1)
	nn.FreezeAllButHead(m2)
	if err := g.Restore(m2, 1); err != nil || !m2.Params()[0].Trainable() {
		t.Errorf("Restore: %v, conv trainable %v", err, m2.Params()[0].Trainable())
	}
	// A run resumed after epoch 1 takes the step when it begins.
	m3 := smallNet(t, 1)
	nn.FreezeAllButHead(m3)
	o3 := adam(t, m3, 0.01)
	ck := (&State{Model: m3, Optimizer: o3, Epoch: 1, Step: 4}).Checkpoint()
	before = slices.Clone(m3.Params()[0].Var.Value().Data())
	g3 := &GradualUnfreezing{Plan: g.Plan}
	if _, err := Fit(context.Background(), m3, ds, Config{Epochs: 2, BatchSize: 16, Optimizer: o3, Seed: 1, Resume: ck, Hooks: []Hook{g3}}); err != nil {
		t.Fatal(err)
	}
	if p := m3.Params()[0]; !p.Trainable() || slices.Equal(before, p.Var.Value().Data()) {
		t.Error("the resumed run did not unfreeze and train the convolution")
	}
	bad := &GradualUnfreezing{Plan: []Unfreeze{{Epoch: 1, Pattern: "layer9"}}}
	if err := bad.Restore(m2, 1); err == nil || !strings.Contains(err.Error(), `"layer9" selects no parameter`) {
		t.Errorf("bad pattern: %v", err)
	}
}

// TestCacheFeaturesShape checks the cache of [N, F] features and that
// the HeadLayer reproduces the model's output on it.
func TestCacheFeaturesShape(t *testing.T) {
	ds := bars(t, 20, 5)
	m := bnNet(t, 2)
	feats, hl, err := CacheFeatures(m, "7", ds, EvalConfig{BatchSize: 8}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if h, w, c := feats.Shape(); h != 1 || w != 1 || c != 8 || feats.Len() != 20 || !hl.Flat {
		t.Fatalf("features %d×%d×%d, %d examples, flat %v; want 1×1×8, 20, true", h, w, c, feats.Len(), hl.Flat)
	}
	if names := nn.State(hl); len(names) != 2 || names[0].Name != "7.weight" {
		t.Errorf("head state %v; want 7.weight and 7.bias", names)
	}
	want, err := Predict(m, ds, EvalConfig{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Predict(hl, feats, EvalConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		for j := range want[i] {
			if math.Abs(float64(want[i][j]-got[i][j])) > 1e-5 {
				t.Fatalf("example %d: model %v, head on cache %v", i, want[i], got[i])
			}
		}
	}
	if _, _, err := CacheFeatures(m, "9", ds, EvalConfig{}, nil); err == nil || !strings.Contains(err.Error(), `calls no layer "9"`) {
		t.Errorf("unknown head: %v", err)
	}
}
