package optim

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/tensor"
)

func newParam(name string, shape ...int) nn.Param {
	return nn.Param{Name: name, Var: ag.Param(tensor.Full(1, shape...))}
}

func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("no error; want one mentioning %q", parts)
		return
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not mention %q", err, p)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	w := newParam("w", 2)
	v := nn.Param{Name: "v", Var: w.Var}
	_, err := NewSGD([]nn.Param{w}, SGDConfig{LR: -1})
	wantErr(t, err, "learning rate -1")
	_, err = NewSGD([]nn.Param{w}, SGDConfig{LR: 1, Nesterov: true})
	wantErr(t, err, "Nesterov")
	_, err = NewSGD([]nn.Param{w}, SGDConfig{LR: 1, Momentum: -0.5})
	wantErr(t, err, "momentum -0.5")
	_, err = NewSGD([]nn.Param{w, w}, SGDConfig{LR: 1})
	wantErr(t, err, `"w" appears twice`)
	_, err = NewSGD([]nn.Param{w}, SGDConfig{LR: 1}, Group{Params: []nn.Param{v}})
	wantErr(t, err, `"w" and "v" are the same Var`)
	_, err = NewSGD([]nn.Param{{Name: "x"}}, SGDConfig{LR: 1})
	wantErr(t, err, `"x"`, "no Var")
	_, err = NewSGD([]nn.Param{{Var: w.Var}}, SGDConfig{LR: 1})
	wantErr(t, err, "no name")
	_, err = NewSGD(nil, SGDConfig{LR: 1}, Group{Params: []nn.Param{w}, WeightDecay: -1})
	wantErr(t, err, "group 1", "weight decay -1")
	_, err = NewAdam([]nn.Param{w}, AdamConfig{LR: 1, Betas: [2]float64{0.9, 1}})
	wantErr(t, err, "beta 2 is 1")
	_, err = NewAdamW([]nn.Param{w}, AdamConfig{LR: 1, Eps: -1})
	wantErr(t, err, "AdamW", "eps -1")
	_, err = NewRMSprop([]nn.Param{w}, RMSpropConfig{LR: 1, Alpha: 2})
	wantErr(t, err, "alpha 2")
	_, err = NewPlateau(nil, PlateauConfig{Factor: 1})
	wantErr(t, err, "Factor 1")
	for _, s := range []Schedule{StepLR{Gamma: 0.1}, MultiStepLR{Milestones: []int{3, 2}, Gamma: 0.1},
		ExponentialLR{}, CosineAnnealingLR{}, LinearLR{EndFactor: 1, Iters: 2}, Warmup{Steps: -1},
		Warmup{Steps: 2, Then: StepLR{StepSize: 1}}} {
		if s.Validate() == nil {
			t.Errorf("%#v validates", s)
		}
		s.LR(0.1, 3) // does not panic
	}
}

// TestFrozen checks that a frozen parameter, with weight decay on, is
// not touched and gets no state, that its state is allocated when it is
// unfrozen, and that the step counts are its own.
func TestFrozen(t *testing.T) {
	w, f := newParam("w", 3), newParam("f", 2)
	f.Var.SetRequiresGrad(false)
	o, err := NewAdam([]nn.Param{w, f}, AdamConfig{LR: 0.1, WeightDecay: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	grads := map[string][]float32{"w": {1, 2, 3}, "f": {1, 1}}
	for range 3 {
		setGrads(t, []nn.Param{w, f}, grads)
		o.Step()
	}
	if got := f.Var.Value().Data(); got[0] != 1 || got[1] != 1 {
		t.Errorf("frozen parameter changed to %v", got)
	}
	ts, meta := o.State()
	if hasPrefix(ts, "f.") || meta["f.step"] != "" {
		t.Errorf("frozen parameter has state: %v %v", keys(ts), meta)
	}
	if len(ts) != 2 || meta["w.step"] != "3" || meta["steps"] != "3" || meta["type"] != "Adam" {
		t.Errorf("state %v %v", keys(ts), meta)
	}
	f.Var.SetRequiresGrad(true)
	setGrads(t, []nn.Param{w, f}, grads)
	o.Step()
	ts, meta = o.State()
	if len(ts) != 4 || meta["f.step"] != "1" || meta["w.step"] != "4" {
		t.Errorf("after unfreezing: state %v %v", keys(ts), meta)
	}
	// ZeroGrad clears every gradient.
	o.ZeroGrad()
	for _, p := range o.Params() {
		for _, g := range p.Var.Grad().Data() {
			if g != 0 {
				t.Fatalf("%s: gradient %v after ZeroGrad", p.Name, p.Var.Grad().Data())
			}
		}
	}
}

func TestLoadStateErrors(t *testing.T) {
	mk := func() (*Adam, nn.Param) {
		w := newParam("conv1.weight", 2, 3)
		o, err := NewAdam([]nn.Param{w, newParam("fc.bias", 4)}, AdamConfig{LR: 0.1})
		if err != nil {
			t.Fatal(err)
		}
		setGrads(t, o.Params(), map[string][]float32{"conv1.weight": {1, 2, 3, 4, 5, 6}, "fc.bias": {1, 2, 3, 4}})
		o.Step()
		return o, w
	}
	o, _ := mk()
	good, meta := o.State()
	edit := func(f func(ts map[string]*tensor.Tensor, m map[string]string)) (map[string]*tensor.Tensor, map[string]string) {
		ts, m := map[string]*tensor.Tensor{}, map[string]string{}
		for k, v := range good {
			ts[k] = v
		}
		for k, v := range meta {
			m[k] = v
		}
		f(ts, m)
		return ts, m
	}
	cases := []struct {
		ts    map[string]*tensor.Tensor
		meta  map[string]string
		parts []string
	}{}
	add := func(f func(map[string]*tensor.Tensor, map[string]string), parts ...string) {
		ts, m := edit(f)
		cases = append(cases, struct {
			ts    map[string]*tensor.Tensor
			meta  map[string]string
			parts []string
		}{ts, m, parts})
	}
	add(func(ts map[string]*tensor.Tensor, m map[string]string) {
		ts["conv1.weight.exp_avg"] = tensor.Zeros(3, 2)
	}, "conv1.weight", "exp_avg", "[3 2]", "[2 3]")
	add(func(ts map[string]*tensor.Tensor, m map[string]string) { ts["conv2.weight.exp_avg"] = tensor.Zeros(1) }, "conv2.weight")
	add(func(ts map[string]*tensor.Tensor, m map[string]string) {
		ts["fc.bias.momentum_buffer"] = tensor.Zeros(4)
	}, "momentum_buffer")
	add(func(ts map[string]*tensor.Tensor, m map[string]string) { delete(ts, "fc.bias.exp_avg_sq") }, "fc.bias", "exp_avg_sq")
	add(func(ts map[string]*tensor.Tensor, m map[string]string) { delete(m, "fc.bias.step") }, "fc.bias", "step count")
	add(func(ts map[string]*tensor.Tensor, m map[string]string) { m["type"] = "SGD" }, `"SGD"`, `"Adam"`)
	add(func(ts map[string]*tensor.Tensor, m map[string]string) { m["lr"] = "fast" }, `"fast"`)
	add(func(ts map[string]*tensor.Tensor, m map[string]string) { m["bogus"] = "1" }, `"bogus"`)
	for _, c := range cases {
		o2, w := mk()
		before := w.Var.Value().Clone()
		st, _ := o2.State()
		avg := st["conv1.weight.exp_avg"].Clone()
		wantErr(t, o2.LoadState(c.ts, c.meta), c.parts...)
		// Nothing changed.
		st, _ = o2.State()
		if !equal(st["conv1.weight.exp_avg"], avg) || !equal(w.Var.Value(), before) {
			t.Errorf("a failed LoadState changed the state")
		}
	}
	// The good state loads, and the loaded tensors are copies.
	o2, _ := mk()
	if err := o2.LoadState(good, meta); err != nil {
		t.Fatal(err)
	}
	st, _ := o2.State()
	if st["fc.bias.exp_avg"] == good["fc.bias.exp_avg"] {
		t.Error("LoadState did not copy")
	}
	// SGD without momentum has step counts only.
	s, _ := NewSGD([]nn.Param{newParam("w", 2)}, SGDConfig{LR: 1})
	setGrads(t, s.Params(), map[string][]float32{"w": {1, 1}})
	s.Step()
	ts, m := s.State()
	if len(ts) != 0 || m["w.step"] != "1" {
		t.Errorf("SGD state %v %v", keys(ts), m)
	}
	if err := s.LoadState(ts, m); err != nil {
		t.Error(err)
	}
}

func equal(a, b *tensor.Tensor) bool {
	if !a.SameShape(b) {
		return false
	}
	for i, v := range a.Data() {
		if b.Data()[i] != v {
			return false
		}
	}
	return true
}

// TestParallel checks that the update of a parameter large enough to be
// split across goroutines equals, bit for bit, that of a small one
// holding the same values.
func TestParallel(t *testing.T) {
	n, tail := 3*grain+5, 1000
	rng := rand.New(rand.NewPCG(1, 2))
	big := nn.Param{Name: "big", Var: ag.Param(tensor.RandNormal(rng, 0, 1, n))}
	small := nn.Param{Name: "small", Var: ag.Param(tensor.Zeros(tail))}
	copy(small.Var.Value().Data(), big.Var.Value().Data()[n-tail:])
	ps := []nn.Param{big, small}
	mk := []func() (Optimizer, error){
		func() (Optimizer, error) {
			return NewSGD(ps, SGDConfig{LR: 0.1, Momentum: 0.9, Nesterov: true, WeightDecay: 0.01})
		},
		func() (Optimizer, error) { return NewSGD(ps, SGDConfig{LR: 0.1, WeightDecay: 0.01}) },
		func() (Optimizer, error) { return NewAdam(ps, AdamConfig{LR: 0.1, WeightDecay: 0.01, AMSGrad: true}) },
		func() (Optimizer, error) { return NewAdamW(ps, AdamConfig{LR: 0.1, WeightDecay: 0.01}) },
		func() (Optimizer, error) {
			return NewRMSprop(ps, RMSpropConfig{LR: 0.1, Momentum: 0.5, Centered: true, WeightDecay: 0.01})
		},
	}
	for _, f := range mk {
		o, err := f()
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			g := tensor.RandNormal(rng, 0, 1, n).Data()
			setGrads(t, ps, map[string][]float32{"big": g, "small": g[n-tail:]})
			o.Step()
		}
		if !equal(tensorOf(big.Var.Value().Data()[n-tail:]), small.Var.Value()) {
			t.Errorf("%T: a split update differs from a whole one", o)
		}
	}
}

func tensorOf(d []float32) *tensor.Tensor {
	t, _ := tensor.FromSlice(d, len(d))
	return t
}
