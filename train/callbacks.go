package train

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/foveaml/fovea/internal/atomicfile"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/optim"
	"github.com/foveaml/fovea/weights"
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

// ModelCheckpoint saves a checkpoint from which Fit can resume: after
// every Every epochs (0: every epoch) to Path, where "{epoch}" is replaced
// by the epoch number, and, if Best is set, to Best whenever the Monitor
// metric (default val_loss) improves. Files are written atomically.
type ModelCheckpoint struct {
	Path    string
	Every   int
	Best    string
	Monitor string
	best    float64
	started bool
}

// EpochEnd implements Callback.
func (c *ModelCheckpoint) EpochEnd(s *State) error {
	if !c.started {
		c.best, c.started = math.NaN(), true
	}
	if c.Path != "" && (c.Every <= 1 || s.Epoch%c.Every == 0) {
		p := strings.ReplaceAll(c.Path, "{epoch}", fmt.Sprint(s.Epoch))
		if err := weights.SaveCheckpoint(p, s.Checkpoint()); err != nil {
			return fmt.Errorf("checkpoint after epoch %d: %w", s.Epoch, err)
		}
	}
	if c.Best != "" {
		v, max, err := monitored(s.Metrics, c.Monitor)
		if err != nil {
			return fmt.Errorf("ModelCheckpoint: %w", err)
		}
		if better(v, c.best, 0, max) {
			c.best = v
			if err := weights.SaveCheckpoint(c.Best, s.Checkpoint()); err != nil {
				return fmt.Errorf("best checkpoint after epoch %d: %w", s.Epoch, err)
			}
		}
	}
	return nil
}

// EarlyStopping stops the run when the Monitor metric (default
// val_loss) has not improved by more than MinDelta for Patience epochs.
type EarlyStopping struct {
	Monitor  string
	Patience int
	MinDelta float64
	best     float64
	wait     int
	started  bool
}

// EpochEnd implements Callback.
func (e *EarlyStopping) EpochEnd(s *State) error {
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
	Plateau *optim.Plateau
	Monitor string
}

// EpochEnd implements Callback.
func (r *ReduceLROnPlateau) EpochEnd(s *State) error {
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
	Path string
}

// EpochEnd implements Callback.
func (l CSVLogger) EpochEnd(s *State) error {
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

// CallbackFunc adapts a function to a Callback.
type CallbackFunc func(s *State) error

// EpochEnd implements Callback.
func (f CallbackFunc) EpochEnd(s *State) error { return f(s) }

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
// have no state until their first update. A resumed run must call
// Restore before Fit, since the steps of the epochs already done do not
// run again.
type GradualUnfreezing struct {
	Plan []Unfreeze
	Log  io.Writer
}

// EpochEnd implements Callback.
func (g *GradualUnfreezing) EpochEnd(s *State) error {
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
// resumed run needs.
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
