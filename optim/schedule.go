package optim

import (
	"fmt"
	"math"
	"slices"
	"sort"
)

// Schedule gives the learning rate at time t from the base rate: t counts
// the schedule's steps from 0, epochs or batches as its user decides
// (PyTorch's last_epoch). Each is PyTorch's closed form, so a schedule
// has no state and a resumed run only needs t. Apply one with
//
//	opt.SetLR(s.LR(opt.BaseLR(), epoch))
//
// at the start of each epoch (or batch). Fields have no defaults; LR
// does not panic on a bad configuration, but Validate reports it.
type Schedule interface {
	LR(base float64, t int) float64
	// Validate reports a configuration out of range.
	Validate() error
}

// StepLR multiplies the rate by Gamma every StepSize steps, as
// torch.optim.lr_scheduler.StepLR: base·Gamma^⌊t/StepSize⌋.
type StepLR struct {
	StepSize int     // steps between reductions, > 0
	Gamma    float64 // the factor of each reduction, > 0
}

// LR returns base·Gamma^⌊t/StepSize⌋.
func (s StepLR) LR(base float64, t int) float64 {
	if s.StepSize <= 0 {
		return base
	}
	return base * math.Pow(s.Gamma, float64(max(t, 0)/s.StepSize))
}

// Validate reports a StepSize below 1 or a Gamma that is not finite
// and > 0.
func (s StepLR) Validate() error {
	if s.StepSize <= 0 {
		return fmt.Errorf("optim.StepLR: StepSize %d; want > 0", s.StepSize)
	}
	return checkGamma("StepLR", s.Gamma)
}

// MultiStepLR multiplies the rate by Gamma at each milestone, as
// torch.optim.lr_scheduler.MultiStepLR: base·Gamma^(milestones <= t).
type MultiStepLR struct {
	Milestones []int   // the steps at which the rate drops, increasing
	Gamma      float64 // the factor of each drop, > 0
}

// LR returns base·Gamma^n, n the number of milestones at or before t.
func (s MultiStepLR) LR(base float64, t int) float64 {
	n := sort.Search(len(s.Milestones), func(i int) bool { return s.Milestones[i] > t })
	return base * math.Pow(s.Gamma, float64(n))
}

// Validate reports milestones that do not increase or a Gamma that is
// not finite and > 0.
func (s MultiStepLR) Validate() error {
	if !slices.IsSorted(s.Milestones) || len(slices.Compact(slices.Clone(s.Milestones))) != len(s.Milestones) {
		return fmt.Errorf("optim.MultiStepLR: milestones %v; want them increasing", s.Milestones)
	}
	return checkGamma("MultiStepLR", s.Gamma)
}

// ExponentialLR multiplies the rate by Gamma every step, as
// torch.optim.lr_scheduler.ExponentialLR: base·Gamma^t.
type ExponentialLR struct {
	Gamma float64 // the factor per step, > 0
}

// LR returns base·Gamma^t.
func (s ExponentialLR) LR(base float64, t int) float64 {
	return base * math.Pow(s.Gamma, float64(max(t, 0)))
}

// Validate reports a Gamma that is not finite and > 0.
func (s ExponentialLR) Validate() error { return checkGamma("ExponentialLR", s.Gamma) }

func checkGamma(name string, g float64) error {
	if !(g > 0) || math.IsInf(g, 0) {
		return fmt.Errorf("optim.%s: Gamma %v; want a finite value > 0", name, g)
	}
	return nil
}

// CosineAnnealingLR anneals the rate from base to EtaMin along half a
// cosine over TMax steps, as torch.optim.lr_scheduler.CosineAnnealingLR
// (without restarts; past TMax the cosine continues, as in PyTorch):
// EtaMin + (base-EtaMin)·(1+cos(π·t/TMax))/2.
type CosineAnnealingLR struct {
	TMax   int     // steps from base to EtaMin, > 0
	EtaMin float64 // the least rate, >= 0
}

// LR returns EtaMin + (base-EtaMin)·(1+cos(π·t/TMax))/2.
func (s CosineAnnealingLR) LR(base float64, t int) float64 {
	if s.TMax <= 0 {
		return base
	}
	return s.EtaMin + (base-s.EtaMin)*(1+math.Cos(math.Pi*float64(t)/float64(s.TMax)))/2
}

// Validate reports a TMax below 1 or a negative EtaMin.
func (s CosineAnnealingLR) Validate() error {
	if s.TMax <= 0 || !(s.EtaMin >= 0) {
		return fmt.Errorf("optim.CosineAnnealingLR: TMax %d, EtaMin %v; want TMax > 0 and EtaMin >= 0", s.TMax, s.EtaMin)
	}
	return nil
}

// LinearLR scales the rate by a factor going linearly from StartFactor
// to EndFactor over Iters steps, then staying there, as
// torch.optim.lr_scheduler.LinearLR (whose defaults are 1/3, 1 and 5;
// here they must be given).
type LinearLR struct {
	StartFactor float64 // the factor at t = 0, in (0, 1]
	EndFactor   float64 // the factor from t = Iters on, in [0, 1]
	Iters       int     // steps of the ramp, > 0
}

// LR returns base·(StartFactor + (EndFactor-StartFactor)·min(t, Iters)/Iters).
func (s LinearLR) LR(base float64, t int) float64 {
	if s.Iters <= 0 {
		return base * s.EndFactor
	}
	f := float64(min(max(t, 0), s.Iters)) / float64(s.Iters)
	return base * (s.StartFactor + (s.EndFactor-s.StartFactor)*f)
}

// Validate reports what PyTorch rejects: StartFactor not in (0, 1],
// EndFactor not in [0, 1], or Iters below 1.
func (s LinearLR) Validate() error {
	if !(s.StartFactor > 0 && s.StartFactor <= 1) || !(s.EndFactor >= 0 && s.EndFactor <= 1) || s.Iters <= 0 {
		return fmt.Errorf("optim.LinearLR: StartFactor %v, EndFactor %v, Iters %d; want 0 < StartFactor <= 1, 0 <= EndFactor <= 1, Iters > 0",
			s.StartFactor, s.EndFactor, s.Iters)
	}
	return nil
}

// Warmup ramps the rate linearly from StartFactor·base up to base over
// Steps steps, then hands over to Then (nil: the constant base), whose
// time starts again from 0. It is PyTorch's
//
//	SequentialLR(opt, [LinearLR(opt, StartFactor, 1, Steps), then], milestones=[Steps])
//
// except that StartFactor may be 0 (the first step then has rate 0).
type Warmup struct {
	Steps       int      // steps of warm-up, >= 0
	StartFactor float64  // the factor at t = 0, in [0, 1]
	Then        Schedule // the schedule after warm-up, from its t = 0; nil: constant
}

// LR returns the warm-up rate for t < Steps and Then's rate at t-Steps
// after.
func (s Warmup) LR(base float64, t int) float64 {
	if t < s.Steps {
		return base * (s.StartFactor + (1-s.StartFactor)*float64(max(t, 0))/float64(s.Steps))
	}
	if s.Then == nil {
		return base
	}
	return s.Then.LR(base, t-max(s.Steps, 0))
}

// Validate reports negative Steps, a StartFactor not in [0, 1] and Then's
// own problems.
func (s Warmup) Validate() error {
	if s.Steps < 0 || !(s.StartFactor >= 0 && s.StartFactor <= 1) {
		return fmt.Errorf("optim.Warmup: Steps %d, StartFactor %v; want Steps >= 0 and 0 <= StartFactor <= 1", s.Steps, s.StartFactor)
	}
	if s.Then != nil {
		return s.Then.Validate()
	}
	return nil
}
