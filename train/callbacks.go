package train

import (
	"fmt"
	"io"
	"math"

	"github.com/foveaml/fovea/internal/atomicfile"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/optim"
)

// monitored returns the metric named by monitor ("loss", "acc",
// "val_loss", "val_acc") and whether larger is better.
func monitored(m EpochMetrics, monitor string) (float64, bool, error) {
	switch monitor {
	case "", "val_loss":
		if !m.HasVal {
			return m.Loss, false, nil // no validation data: fall back to the training loss
		}
		return m.ValLoss, false, nil
	case "val_acc":
		if !m.HasVal {
			return m.Acc, true, nil
		}
		return m.ValAcc, true, nil
	case "loss":
		return m.Loss, false, nil
	case "acc":
		return m.Acc, true, nil
	}
	return 0, false, fmt.Errorf("unknown metric %q: want loss, acc, val_loss or val_acc", monitor)
}

// better reports whether v improves on best by more than delta.
func better(v, best, delta float64, max bool) bool {
	if math.IsNaN(best) {
		return true
	}
	if max {
		return v > best+delta
	}
	return v < best-delta
}

// EarlyStopping stops the run when the Monitor metric (default
// val_loss) has not improved by more than MinDelta for Patience epochs.
type EarlyStopping struct {
	BaseHook
	Monitor  string
	Patience int
	MinDelta float64
	best     float64
	wait     int
	started  bool
}

// OnEpochEnd implements Hook.
func (e *EarlyStopping) OnEpochEnd(s *State) error {
	v, max, err := monitored(s.Metrics, e.Monitor)
	if err != nil {
		return fmt.Errorf("EarlyStopping: %w", err)
	}
	if !e.started || better(v, e.best, e.MinDelta, max) {
		e.best, e.wait, e.started = v, 0, true
		return nil
	}
	e.wait++
	if e.wait >= e.Patience {
		s.Stop()
	}
	return nil
}

// ReduceLROnPlateau lowers the learning rate when the Monitor metric
// (default val_loss) stops improving, through an optim.Plateau.
type ReduceLROnPlateau struct {
	BaseHook
	Plateau *optim.Plateau
	Monitor string
}

// OnEpochEnd implements Hook.
func (r *ReduceLROnPlateau) OnEpochEnd(s *State) error {
	v, _, err := monitored(s.Metrics, r.Monitor)
	if err != nil {
		return fmt.Errorf("ReduceLROnPlateau: %w", err)
	}
	r.Plateau.Observe(v)
	return nil
}

// CSVLogger writes the history to Path as CSV after every epoch
// (rewriting the file atomically), one row per epoch.
type CSVLogger struct {
	BaseHook
	Path string
}

// OnEpochEnd implements Hook.
func (l CSVLogger) OnEpochEnd(s *State) error {
	return atomicfile.Write(l.Path, func(w io.Writer) error {
		if _, err := io.WriteString(w, "epoch,loss,acc,val_loss,val_acc,lr,images,seconds\n"); err != nil {
			return err
		}
		for _, m := range s.History.Epochs {
			vl, va := "", ""
			if m.HasVal {
				vl, va = fmt.Sprint(m.ValLoss), fmt.Sprint(m.ValAcc)
			}
			if _, err := fmt.Fprintf(w, "%d,%v,%v,%s,%s,%v,%d,%.3f\n", m.Epoch+1, m.Loss, m.Acc, vl, va, m.LR, m.Images, m.Seconds); err != nil {
				return err
			}
		}
		return nil
	})
}

// Unfreeze is one step of GradualUnfreezing: once Epoch epochs are done,
// the parameters Pattern selects start training. Pattern is an
// nn.MatchName pattern ("layer4", "features.*"), or "head", or "*" for
// everything.
type Unfreeze struct {
	Epoch   int
	Pattern string
}

// GradualUnfreezing unfreezes a pretrained model layer group by layer
// group as training goes on (Howard and Ruder's ULMFiT): the new head
// first, with the backbone frozen, then, epoch after epoch, the groups
// nearer the input, so that the early, generic features are disturbed
// last. Log, if set, gets a line per step. The optimiser must hold the
// parameters from the start (build it over model.Params()): frozen ones
// have no state until their first update. A resumed run takes the steps
// of the epochs it has done when it begins (see Restore). It needs the
// backbone's features to change, so FitHead refuses it.
type GradualUnfreezing struct {
	BaseHook
	Plan []Unfreeze
	Log  io.Writer
}

// OnBegin implements Hook: a resumed run takes the steps of the epochs
// it has done.
func (g *GradualUnfreezing) OnBegin(s *State) error { return g.Restore(s.Model, s.Epoch) }

// OnEpochEnd implements Hook.
func (g *GradualUnfreezing) OnEpochEnd(s *State) error {
	for _, u := range g.Plan {
		if u.Epoch == s.Epoch {
			if err := g.unfreeze(s.Model, u); err != nil {
				return err
			}
		}
	}
	return nil
}

// Restore applies the steps of the first epoch epochs to model, as a
// resumed run needs (OnBegin does, for the run's own model).
func (g *GradualUnfreezing) Restore(model nn.Layer, epoch int) error {
	for _, u := range g.Plan {
		if u.Epoch <= epoch {
			if err := g.unfreeze(model, u); err != nil {
				return err
			}
		}
	}
	return nil
}

func (g *GradualUnfreezing) unfreeze(model nn.Layer, u Unfreeze) error {
	n := 0
	for _, p := range nn.HeadPatterns(model, []string{u.Pattern}) {
		k, err := nn.FreezeMatching(model, p, false)
		if err != nil {
			return fmt.Errorf("GradualUnfreezing after epoch %d: %w", u.Epoch, err)
		}
		n += k
	}
	if g.Log != nil {
		t, f := nn.TrainableCount(model)
		fmt.Fprintf(g.Log, "after epoch %d: unfroze %s (%d tensors); %d parameters train, %d frozen\n", u.Epoch, u.Pattern, n, t, f)
	}
	return nil
}
