package optim

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/tensor"
)

// fixture is testdata/optim.json, made by testdata/gen_optim.py.
type fixture struct {
	A0, B0  []float32
	Grads   []map[string][]float32
	FrozenB int `json:"frozen_b"`
	Cases   []struct {
		Name   string
		Class  string
		KW     map[string]any
		BScale float64
		BWD    *float64
		Traj   []map[string][]float32
	}
	Schedules      map[string][]float64
	PlateauMetrics []float64 `json:"plateau_metrics"`
	AccMetrics     []float64 `json:"acc_metrics"`
}

func loadFixture(t *testing.T) *fixture {
	t.Helper()
	b, err := os.ReadFile("testdata/optim.json")
	if err != nil {
		t.Fatal(err)
	}
	var f fixture
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return &f
}

// setGrads makes Backward leave exactly g[name] in each trainable
// parameter's gradient: the loss is the sum over parameters of g·p,
// each a one-row Dense product.
func setGrads(t *testing.T, ps []nn.Param, g map[string][]float32) {
	t.Helper()
	tp := ag.NewTape()
	defer tp.Reset()
	var terms []*ag.Var
	for _, p := range ps {
		p.Var.ZeroGrad()
		if !p.Trainable() {
			continue
		}
		n := p.Var.Value().Len()
		gt, err := tensor.FromSlice(append([]float32(nil), g[p.Name]...), 1, n)
		if err != nil {
			t.Fatal(err)
		}
		terms = append(terms, tp.Dense(ag.Const(gt), tp.Reshape(p.Var, n, 1), nil))
	}
	loss := terms[0]
	if len(terms) > 1 {
		loss = tp.Add(terms[0], terms[1])
	}
	if err := tp.Backward(loss); err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.Trainable() {
			for i, v := range p.Var.Grad().Data() {
				if v != g[p.Name][i] {
					t.Fatalf("setGrads: %s[%d] = %v, want %v", p.Name, i, v, g[p.Name][i])
				}
			}
		}
	}
}

func num(kw map[string]any, k string) float64 {
	if v, ok := kw[k].(float64); ok {
		return v
	}
	return 0
}

// build makes the fixture case's optimiser over a (params) and b (a
// group).
func build(t *testing.T, class string, kw map[string]any, a, b nn.Param, bscale float64, bwd *float64) Optimizer {
	g := Group{Params: []nn.Param{b}, LRScale: bscale}
	if bwd != nil {
		g.WeightDecay = *bwd
		g.NoDecay = *bwd == 0
	}
	lr, wd, mom := num(kw, "lr"), num(kw, "weight_decay"), num(kw, "momentum")
	flag := func(k string) bool { v, _ := kw[k].(bool); return v }
	var betas [2]float64
	if bs, ok := kw["betas"].([]any); ok {
		betas = [2]float64{bs[0].(float64), bs[1].(float64)}
	}
	var (
		o   Optimizer
		err error
	)
	ps := []nn.Param{a}
	switch class {
	case "SGD":
		o, err = NewSGD(ps, SGDConfig{LR: lr, Momentum: mom, Dampening: num(kw, "dampening"), Nesterov: flag("nesterov"), WeightDecay: wd}, g)
	case "Adam":
		o, err = NewAdam(ps, AdamConfig{LR: lr, Betas: betas, Eps: num(kw, "eps"), WeightDecay: wd, AMSGrad: flag("amsgrad")}, g)
	case "AdamW":
		o, err = NewAdamW(ps, AdamConfig{LR: lr, Betas: betas, Eps: num(kw, "eps"), WeightDecay: wd, AMSGrad: flag("amsgrad")}, g)
	case "RMSprop":
		o, err = NewRMSprop(ps, RMSpropConfig{LR: lr, Alpha: num(kw, "alpha"), Eps: num(kw, "eps"), WeightDecay: wd, Momentum: mom, Centered: flag("centered")}, g)
	default:
		t.Fatalf("unknown class %s", class)
	}
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// closeRel checks got against want within rel of want's largest
// magnitude (and 1e-7 absolute where that is about zero).
func closeRel(t *testing.T, what string, got, want []float32, rel float64) {
	t.Helper()
	scale, worst := 0.0, 0.0
	for i, w := range want {
		scale = max(scale, math.Abs(float64(w)))
		worst = max(worst, math.Abs(float64(got[i])-float64(w)))
	}
	if worst > max(rel*scale, 1e-7) {
		t.Errorf("%s: differs from PyTorch by %.3g, more than %g of %.3g\ngot  %v\nwant %v", what, worst, rel, scale, got, want)
	}
}

func newParams(f *fixture) (a, b nn.Param) {
	ta, _ := tensor.FromSlice(append([]float32(nil), f.A0...), 2, 3)
	tb, _ := tensor.FromSlice(append([]float32(nil), f.B0...), 4)
	return nn.Param{Name: "a", Var: ag.Param(ta)}, nn.Param{Name: "b", Var: ag.Param(tb)}
}

// TestTorchTrajectories runs every optimiser of the fixture and compares
// both parameters after every step with PyTorch's, within 1e-5
// relative. Halfway, the state is saved and loaded into a fresh
// optimiser, which must continue identically.
func TestTorchTrajectories(t *testing.T) {
	f := loadFixture(t)
	for _, c := range f.Cases {
		t.Run(c.Name, func(t *testing.T) {
			a, b := newParams(f)
			o := build(t, c.Class, c.KW, a, b, c.BScale, c.BWD)
			for step, g := range f.Grads {
				b.Var.SetRequiresGrad(step >= f.FrozenB)
				setGrads(t, []nn.Param{a, b}, g)
				o.Step()
				if step == f.FrozenB-1 {
					if ts, _ := o.State(); hasPrefix(ts, "b.") {
						t.Errorf("frozen parameter b has state %v", keys(ts))
					}
				}
				if step == 3 {
					// Resume from a copy of the state in a new optimiser.
					ts, meta := o.State()
					cp := map[string]*tensor.Tensor{}
					for k, v := range ts {
						cp[k] = v.Clone()
					}
					o = build(t, c.Class, c.KW, a, b, c.BScale, c.BWD)
					if err := o.LoadState(cp, meta); err != nil {
						t.Fatal(err)
					}
				}
				closeRel(t, c.Name+" a step "+itoa(step), a.Var.Value().Data(), c.Traj[step]["a"], 1e-5)
				closeRel(t, c.Name+" b step "+itoa(step), b.Var.Value().Data(), c.Traj[step]["b"], 1e-5)
			}
			if o.Steps() != len(f.Grads) {
				t.Errorf("Steps() = %d, want %d", o.Steps(), len(f.Grads))
			}
		})
	}
}

// TestTorchSchedules compares the schedules with PyTorch's schedulers.
func TestTorchSchedules(t *testing.T) {
	f := loadFixture(t)
	scheds := map[string]Schedule{
		"step":          StepLR{StepSize: 3, Gamma: 0.5},
		"multistep":     MultiStepLR{Milestones: []int{2, 5, 6}, Gamma: 0.1},
		"exponential":   ExponentialLR{Gamma: 0.9},
		"cosine":        CosineAnnealingLR{TMax: 6, EtaMin: 0.001},
		"linear_up":     LinearLR{StartFactor: 0.25, EndFactor: 1, Iters: 4},
		"linear_down":   LinearLR{StartFactor: 1, EndFactor: 0.1, Iters: 5},
		"warmup_cosine": Warmup{Steps: 3, StartFactor: 0.1, Then: CosineAnnealingLR{TMax: 5}},
	}
	for name, s := range scheds {
		if err := s.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		want := f.Schedules[name]
		if len(want) == 0 {
			t.Fatalf("%s: no fixture", name)
		}
		for step, w := range want {
			if got := s.LR(0.1, step); math.Abs(got-w) > 1e-9+1e-6*w {
				t.Errorf("%s: LR(0.1, %d) = %.9g, PyTorch %.9g", name, step, got, w)
			}
		}
	}
	plateaus := []struct {
		name    string
		cfg     PlateauConfig
		metrics []float64
	}{
		{"plateau_min", PlateauConfig{Factor: 0.5, Patience: 2, Threshold: 0.01, Cooldown: 1, MinLR: 0.01}, f.PlateauMetrics},
		{"plateau_max_abs", PlateauConfig{Mode: Max, Factor: 0.2, Patience: 1, Threshold: 0.005, ThresholdMode: Abs}, f.AccMetrics},
	}
	for _, c := range plateaus {
		o, _ := NewSGD(nil, SGDConfig{LR: 0.1})
		p, err := NewPlateau(o, c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		want := f.Schedules[c.name]
		for step, w := range want {
			if step > 0 {
				if step == len(want)/2 {
					// Resume halfway through.
					st := p.State()
					p, _ = NewPlateau(o, c.cfg)
					if err := p.LoadState(st); err != nil {
						t.Fatal(err)
					}
				}
				p.Observe(c.metrics[step-1])
			}
			if got := o.LR(); math.Abs(got-w) > 1e-12+1e-9*w {
				t.Errorf("%s: LR after %d epochs = %.9g, PyTorch %.9g", c.name, step, got, w)
			}
		}
	}
}
