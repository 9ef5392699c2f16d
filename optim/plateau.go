package optim

import (
	"fmt"
	"math"
	"strconv"
)

// Mode says whether a monitored metric improves by falling (Min, the
// zero value: a loss) or by rising (Max: an accuracy).
type Mode int

// The modes of a monitored metric.
const (
	Min Mode = iota
	Max
)

// ThresholdMode says how an improvement is measured against the best
// value so far: relatively (Rel, the zero value) or absolutely (Abs).
type ThresholdMode int

// The threshold modes.
const (
	Rel ThresholdMode = iota
	Abs
)

// PlateauConfig sets up a Plateau as torch.optim.lr_scheduler's
// ReduceLROnPlateau. Factor 0 means 0.1 and Eps 0 means 1e-8 (their
// PyTorch defaults); every other zero is used as given, so set Patience
// (PyTorch's default is 10) and Threshold (1e-4) yourself.
type PlateauConfig struct {
	Mode          Mode          // Min: the metric improves by falling; Max: by rising
	Factor        float64       // the rate is multiplied by it on a plateau; 0 < Factor < 1
	Patience      int           // epochs without improvement tolerated before a reduction
	Threshold     float64       // the least change that counts as an improvement
	ThresholdMode ThresholdMode // Rel: improve on best·(1∓Threshold); Abs: on best∓Threshold
	Cooldown      int           // epochs after a reduction during which bad epochs are not counted
	MinLR         float64       // the rate is never reduced below it
	Eps           float64       // a reduction smaller than Eps is skipped
}

// LRSetter is what a Plateau adjusts: an Optimizer.
type LRSetter interface {
	LR() float64
	SetLR(lr float64)
}

// Plateau reduces an optimiser's learning rate when a metric has
// stopped improving for Patience epochs, exactly as PyTorch's
// ReduceLROnPlateau. It acts on the optimiser's learning rate, so groups
// keep their LRScale and MinLR bounds the unscaled rate. Use it instead
// of a Schedule, not with one.
type Plateau struct {
	opt       LRSetter
	cfg       PlateauConfig
	best      float64
	bad       int // epochs without improvement
	cooldown  int // epochs of cooldown left
	lastEpoch int
}

// NewPlateau returns a Plateau that adjusts opt's learning rate.
func NewPlateau(opt LRSetter, cfg PlateauConfig) (*Plateau, error) {
	if cfg.Factor == 0 {
		cfg.Factor = 0.1
	}
	if cfg.Eps == 0 {
		cfg.Eps = 1e-8
	}
	switch {
	case !(cfg.Factor > 0 && cfg.Factor < 1):
		return nil, fmt.Errorf("optim.Plateau: Factor %v; want 0 < Factor < 1", cfg.Factor)
	case cfg.Mode != Min && cfg.Mode != Max:
		return nil, fmt.Errorf("optim.Plateau: Mode %d; want Min or Max", cfg.Mode)
	case cfg.ThresholdMode != Rel && cfg.ThresholdMode != Abs:
		return nil, fmt.Errorf("optim.Plateau: ThresholdMode %d; want Rel or Abs", cfg.ThresholdMode)
	case cfg.Patience < 0 || cfg.Cooldown < 0:
		return nil, fmt.Errorf("optim.Plateau: Patience %d, Cooldown %d; want both >= 0", cfg.Patience, cfg.Cooldown)
	case !(cfg.Threshold >= 0) || !(cfg.MinLR >= 0) || !(cfg.Eps >= 0):
		return nil, fmt.Errorf("optim.Plateau: Threshold %v, MinLR %v, Eps %v; want all >= 0", cfg.Threshold, cfg.MinLR, cfg.Eps)
	}
	p := &Plateau{opt: opt, cfg: cfg}
	p.best = p.worst()
	return p, nil
}

func (p *Plateau) worst() float64 {
	if p.cfg.Mode == Min {
		return math.Inf(1)
	}
	return math.Inf(-1)
}

func (p *Plateau) better(a float64) bool {
	b, th := p.best, p.cfg.Threshold
	switch {
	case p.cfg.Mode == Min && p.cfg.ThresholdMode == Rel:
		return a < b*(1-th)
	case p.cfg.Mode == Min:
		return a < b-th
	case p.cfg.ThresholdMode == Rel:
		return a > b*(th+1)
	default:
		return a > b+th
	}
}

// Observe takes the epoch's metric and reduces the learning rate if the
// metric has not improved for more than Patience epochs; it reports
// whether it did. A NaN metric is never an improvement.
func (p *Plateau) Observe(metric float64) (reduced bool) {
	p.lastEpoch++
	if p.better(metric) {
		p.best, p.bad = metric, 0
	} else {
		p.bad++
	}
	if p.cooldown > 0 {
		p.cooldown--
		p.bad = 0
	}
	if p.bad > p.cfg.Patience {
		old := p.opt.LR()
		lr := max(old*p.cfg.Factor, p.cfg.MinLR)
		if old-lr > p.cfg.Eps {
			p.opt.SetLR(lr)
			reduced = true
		}
		p.cooldown, p.bad = p.cfg.Cooldown, 0
	}
	return reduced
}

// Best returns the best metric observed so far (+Inf in Min mode, -Inf
// in Max mode, before any).
func (p *Plateau) Best() float64 { return p.best }

// State returns the Plateau's counters for a checkpoint, under the keys
// "best", "bad_epochs", "cooldown" and "epoch".
func (p *Plateau) State() map[string]string {
	return map[string]string{
		"best":       strconv.FormatFloat(p.best, 'g', -1, 64),
		"bad_epochs": strconv.Itoa(p.bad),
		"cooldown":   strconv.Itoa(p.cooldown),
		"epoch":      strconv.Itoa(p.lastEpoch),
	}
}

// LoadState restores counters made by State; the learning rate itself
// is the optimiser's to restore. On an error, naming the key, p is
// unchanged.
func (p *Plateau) LoadState(meta map[string]string) error {
	best, err := strconv.ParseFloat(meta["best"], 64)
	if err != nil {
		return fmt.Errorf("optim.Plateau.LoadState: best %q is not a number", meta["best"])
	}
	var n [3]int
	for i, k := range []string{"bad_epochs", "cooldown", "epoch"} {
		if n[i], err = strconv.Atoi(meta[k]); err != nil || n[i] < 0 {
			return fmt.Errorf("optim.Plateau.LoadState: %s %q is not an integer >= 0", k, meta[k])
		}
	}
	p.best, p.bad, p.cooldown, p.lastEpoch = best, n[0], n[1], n[2]
	return nil
}
