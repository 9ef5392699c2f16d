package optim

import (
	"fmt"
	"math"

	"github.com/foveaml/fovea/nn"
)

// RMSpropConfig sets up RMSprop as torch.optim.RMSprop does. Zero values
// mean PyTorch's defaults where zero would be degenerate: Alpha 0.99 and
// Eps 1e-8; the others default to zero, as in PyTorch.
type RMSpropConfig struct {
	LR float64 // learning rate
	// Alpha is the decay rate of the squared-gradient average; 0 means
	// 0.99.
	Alpha float64
	// Eps is added to the root of the average (not under it, unlike
	// Keras); 0 means 1e-8.
	Eps float64
	// WeightDecay is the L2 penalty added to the gradient (wd·param).
	WeightDecay float64
	// Momentum is the factor of a velocity buffer (0: none).
	Momentum float64
	// Centered divides by an estimate of the gradient's variance rather
	// than its uncentred second moment.
	Centered bool
}

// RMSprop is Hinton's RMSprop, as PyTorch defines it. With g the
// gradient and p the parameter:
//
//	g = g + WeightDecay·p
//	s = α·s + (1-α)·g²
//	a = α·a + (1-α)·g;  avg = sqrt(s - a²) + Eps   (Centered)
//	avg = sqrt(s) + Eps                             (otherwise)
//	buf = Momentum·buf + g/avg;  p = p - lr·buf     (Momentum > 0)
//	p = p - lr·g/avg                                (otherwise)
//
// Its slots of state are "square_avg", then "momentum_buffer" with
// momentum and "grad_avg" when centred.
type RMSprop struct {
	core
	cfg RMSpropConfig
}

// NewRMSprop returns an RMSprop optimiser over params and the groups.
func NewRMSprop(params []nn.Param, cfg RMSpropConfig, groups ...Group) (*RMSprop, error) {
	if cfg.Alpha == 0 {
		cfg.Alpha = 0.99
	}
	if cfg.Eps == 0 {
		cfg.Eps = 1e-8
	}
	switch {
	case !(cfg.Alpha > 0 && cfg.Alpha <= 1):
		return nil, fmt.Errorf("optim.RMSprop: alpha %v; want 0 < alpha <= 1", cfg.Alpha)
	case !(cfg.Eps > 0) || math.IsInf(cfg.Eps, 0):
		return nil, fmt.Errorf("optim.RMSprop: eps %v; want a finite value > 0", cfg.Eps)
	case !(cfg.Momentum >= 0) || math.IsInf(cfg.Momentum, 0):
		return nil, fmt.Errorf("optim.RMSprop: momentum %v; want a finite value >= 0", cfg.Momentum)
	}
	c, err := newCore("RMSprop", cfg.LR, cfg.WeightDecay, params, groups)
	if err != nil {
		return nil, err
	}
	c.slotNames = []string{"square_avg"}
	if cfg.Momentum > 0 {
		c.slotNames = append(c.slotNames, "momentum_buffer")
	}
	if cfg.Centered {
		c.slotNames = append(c.slotNames, "grad_avg")
	}
	return &RMSprop{core: c, cfg: cfg}, nil
}

// Step updates every trainable parameter that has a gradient. Frozen
// parameters get no update, no weight decay and no state.
func (o *RMSprop) Step() {
	alpha, ca := float32(o.cfg.Alpha), float32(1-o.cfg.Alpha)
	eps, mom := float32(o.cfg.Eps), float32(o.cfg.Momentum)
	o.next(func(p *param, g []float32, _ bool) {
		x := p.Var.Value().Data()
		lr := float32(o.lr * p.lrScale)
		wd := float32(p.decay)
		s := p.slots[0].Data()
		var buf, a []float32
		k := 1
		if mom > 0 {
			buf = p.slots[k].Data()
			k++
		}
		if o.cfg.Centered {
			a = p.slots[k].Data()
		}
		parallel(len(g), func(lo, hi int) {
			for i := lo; i < hi; i++ {
				gi := g[i] + wd*x[i]
				s[i] = alpha*s[i] + ca*gi*gi
				var avg float32
				if a != nil {
					a[i] = alpha*a[i] + ca*gi
					avg = sqrt32(s[i]-a[i]*a[i]) + eps
				} else {
					avg = sqrt32(s[i]) + eps
				}
				if buf != nil {
					buf[i] = mom*buf[i] + gi/avg
					x[i] -= lr * buf[i]
				} else {
					x[i] -= lr * (gi / avg)
				}
			}
		})
	})
}
