package optim

import (
	"fmt"
	"math"

	"github.com/foveaml/fovea/internal/cpu"
	"github.com/foveaml/fovea/internal/kern"
	"github.com/foveaml/fovea/nn"
)

// AdamConfig sets up Adam and AdamW as torch.optim.Adam and AdamW do.
// Zero values mean PyTorch's defaults where zero would be out of range:
// Betas {0.9, 0.999} and Eps 1e-8. WeightDecay has no default: 0 means
// none, for AdamW too (PyTorch's AdamW defaults to 0.01).
type AdamConfig struct {
	LR float64 // learning rate
	// Betas are the decay rates of the running averages of the gradient
	// and its square; {0, 0} means {0.9, 0.999}.
	Betas [2]float64
	// Eps is added to the denominator; 0 means 1e-8.
	Eps float64
	// WeightDecay is, for Adam, the L2 penalty added to the gradient
	// (wd·param) and, for AdamW, the decoupled decay p -= lr·wd·p.
	WeightDecay float64
	// AMSGrad keeps the maximum of the squared-gradient average and
	// divides by it (Reddi et al., 2018).
	AMSGrad bool
}

// Adam is the Adam optimiser (Kingma and Ba, 2015) with PyTorch's bias
// correction, or, made by NewAdamW, AdamW (Loshchilov and Hutter, 2019).
// With g the gradient, p the parameter and t the parameter's own step
// count:
//
//	g = g + WeightDecay·p                      (Adam)
//	p = p - lr·WeightDecay·p                   (AdamW)
//	m = β1·m + (1-β1)·g
//	v = β2·v + (1-β2)·g²
//	p = p - lr/(1-β1^t) · m / (sqrt(v)/sqrt(1-β2^t) + Eps)
//
// Its slots of state are "exp_avg", "exp_avg_sq" and, with AMSGrad,
// "max_exp_avg_sq".
type Adam struct {
	core
	cfg       AdamConfig
	decoupled bool
}

// NewAdam returns an Adam optimiser over params and the groups.
func NewAdam(params []nn.Param, cfg AdamConfig, groups ...Group) (*Adam, error) {
	return newAdam("Adam", false, params, cfg, groups)
}

// NewAdamW returns an AdamW optimiser, Adam with weight decay decoupled
// from the gradient, over params and the groups.
func NewAdamW(params []nn.Param, cfg AdamConfig, groups ...Group) (*Adam, error) {
	return newAdam("AdamW", true, params, cfg, groups)
}

func newAdam(kind string, decoupled bool, params []nn.Param, cfg AdamConfig, groups []Group) (*Adam, error) {
	if cfg.Betas == [2]float64{} {
		cfg.Betas = [2]float64{0.9, 0.999}
	}
	if cfg.Eps == 0 {
		cfg.Eps = 1e-8
	}
	for i, b := range cfg.Betas {
		if !(b >= 0 && b < 1) {
			return nil, fmt.Errorf("optim.%s: beta %d is %v; want 0 <= beta < 1", kind, i+1, b)
		}
	}
	if !(cfg.Eps > 0) || math.IsInf(cfg.Eps, 0) {
		return nil, fmt.Errorf("optim.%s: eps %v; want a finite value > 0", kind, cfg.Eps)
	}
	c, err := newCore(kind, cfg.LR, cfg.WeightDecay, params, groups)
	if err != nil {
		return nil, err
	}
	c.slotNames = []string{"exp_avg", "exp_avg_sq"}
	if cfg.AMSGrad {
		c.slotNames = append(c.slotNames, "max_exp_avg_sq")
	}
	return &Adam{core: c, cfg: cfg, decoupled: decoupled}, nil
}

// Step updates every trainable parameter that has a gradient. Frozen
// parameters get no update, no weight decay and no state.
func (o *Adam) Step() {
	b1, b2 := o.cfg.Betas[0], o.cfg.Betas[1]
	fb1, fb2 := float32(b1), float32(b2)
	cb1, cb2 := float32(1-b1), float32(1-b2)
	eps := float32(o.cfg.Eps)
	o.next(func(p *param, g []float32, _ bool) {
		x := p.Var.Value().Data()
		lr := o.lr * p.lrScale
		t := float64(p.step)
		stepSize := float32(lr / (1 - math.Pow(b1, t)))
		bc2 := float32(math.Sqrt(1 - math.Pow(b2, t)))
		wd := float32(p.decay)
		if o.decoupled {
			if wd != 0 {
				kern.Scale(x, float32(1-lr*p.decay), x)
			}
			wd = 0
		}
		m, v := p.slots[0].Data(), p.slots[1].Data()
		var vmaxAll []float32
		if o.cfg.AMSGrad {
			vmaxAll = p.slots[2].Data()
		}
		parallel(len(g), func(lo, hi int) {
			x, g, m, v := x[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi]
			g, m, v = g[:len(x)], m[:len(x)], v[:len(x)] // one length: fewer bounds checks
			var vmax []float32
			if vmaxAll != nil {
				vmax = vmaxAll[lo:hi]
			}
			for i := range x {
				gi := g[i] + wd*x[i]
				m[i] = fb1*m[i] + cb1*gi
				v[i] = fb2*v[i] + cb2*gi*gi
				vi := v[i]
				if vmax != nil {
					vi = max(vmax[i], vi)
					vmax[i] = vi
				}
				denom := sqrt32(vi)/bc2 + eps
				x[i] -= stepSize * (m[i] / denom)
			}
		})
	})
}

func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }

// grain is the smallest piece of an update handed to another goroutine,
// as in package kern: below it, the hand-off costs more than it saves.
const grain = 1 << 15

// parallel runs f over [0, n) in pieces; updates are element-wise, so
// the result does not depend on the split.
func parallel(n int, f func(lo, hi int)) { cpu.For(n, grain, f) }
