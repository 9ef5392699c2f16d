package optim

import (
	"fmt"
	"math"

	"github.com/foveaml/fovea/internal/kern"
	"github.com/foveaml/fovea/nn"
)

// SGDConfig sets up stochastic gradient descent as torch.optim.SGD does;
// every zero value is PyTorch's default.
type SGDConfig struct {
	LR float64 // learning rate
	// Momentum is the factor of the velocity buffer (0: plain SGD).
	Momentum float64
	// Dampening scales the gradient added to the velocity after the first
	// step.
	Dampening float64
	// Nesterov uses Nesterov momentum; it needs Momentum > 0 and
	// Dampening 0.
	Nesterov bool
	// WeightDecay is the L2 penalty added to the gradient (wd·param).
	WeightDecay float64
}

// SGD is stochastic gradient descent with optional momentum, Nesterov
// momentum and weight decay. With g the gradient and p the parameter, a
// step is exactly PyTorch's:
//
//	d = g + WeightDecay·p
//	buf = d on the first step, else Momentum·buf + (1-Dampening)·d
//	d = d + Momentum·buf if Nesterov, else buf   (when Momentum != 0)
//	p = p - lr·d
//
// Its one slot of state, with momentum, is "momentum_buffer".
type SGD struct {
	core
	cfg SGDConfig
}

// NewSGD returns an SGD optimiser over params and the groups; it is an
// error if the configuration is out of range, or a parameter is unnamed
// or given twice.
func NewSGD(params []nn.Param, cfg SGDConfig, groups ...Group) (*SGD, error) {
	switch {
	case !(cfg.Momentum >= 0) || math.IsInf(cfg.Momentum, 0):
		return nil, fmt.Errorf("optim.SGD: momentum %v; want a finite value >= 0", cfg.Momentum)
	case math.IsNaN(cfg.Dampening) || math.IsInf(cfg.Dampening, 0):
		return nil, fmt.Errorf("optim.SGD: dampening %v is not finite", cfg.Dampening)
	case cfg.Nesterov && (cfg.Momentum <= 0 || cfg.Dampening != 0):
		return nil, fmt.Errorf("optim.SGD: Nesterov momentum needs momentum > 0 and zero dampening; have momentum %v, dampening %v", cfg.Momentum, cfg.Dampening)
	}
	c, err := newCore("SGD", cfg.LR, cfg.WeightDecay, params, groups)
	if err != nil {
		return nil, err
	}
	if cfg.Momentum != 0 {
		c.slotNames = []string{"momentum_buffer"}
	}
	return &SGD{core: c, cfg: cfg}, nil
}

// Step updates every trainable parameter that has a gradient. Frozen
// parameters get no update, no weight decay and no state.
func (o *SGD) Step() {
	mom, damp := float32(o.cfg.Momentum), float32(1-o.cfg.Dampening)
	o.next(func(p *param, g []float32, first bool) {
		x := p.Var.Value().Data()
		lr := float32(o.lr * p.lrScale)
		wd := float32(p.decay)
		if mom == 0 {
			if wd == 0 {
				kern.Axpy(x, -lr, g)
				return
			}
			parallel(len(g), func(lo, hi int) {
				for i := lo; i < hi; i++ {
					x[i] -= lr * (g[i] + wd*x[i])
				}
			})
			return
		}
		buf, nesterov := p.slots[0].Data(), o.cfg.Nesterov
		parallel(len(g), func(lo, hi int) {
			x, g, buf := x[lo:hi], g[lo:hi], buf[lo:hi]
			g, buf = g[:len(x)], buf[:len(x)] // one length: no bounds checks below
			if !first && !nesterov {
				// The common case, in a loop without branches.
				for i := range x {
					b := mom*buf[i] + damp*(g[i]+wd*x[i])
					buf[i] = b
					x[i] -= lr * b
				}
				return
			}
			for i := range x {
				d := g[i] + wd*x[i]
				b := d
				if !first {
					b = mom*buf[i] + damp*d
				}
				buf[i] = b
				if nesterov {
					d += mom * b
				} else {
					d = b
				}
				x[i] -= lr * d
			}
		})
	})
}
