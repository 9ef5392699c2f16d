package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/weights"
)

// ModelCheckpoint is the hook that saves the run's checkpoints, from
// which Config.Resume continues it: to Path after every Every epochs (0:
// every epoch), every EverySteps optimiser steps within an epoch (if
// above 0), and, if OnStop is set, when the context stops the run, so
// that a run stopped by Ctrl-C, or killed, resumes from where it was; and
// to Best whenever the Monitor metric (default val_loss) improves. Every
// file is written atomically. "{epoch}" in Path becomes the epoch the
// checkpoint is in: the number of epochs done, or, for one taken part of
// the way through an epoch, that epoch's number (from 1), which its
// end's checkpoint then replaces.
type ModelCheckpoint struct {
	BaseHook
	Path       string
	Every      int
	EverySteps int
	OnStop     bool
	Best       string
	Monitor    string
	// Meta is added to every checkpoint's metadata (the model's name,
	// classes and preprocessing), so that a checkpoint describes its
	// model as a model file does.
	Meta    map[string]string
	best    float64
	started bool
}

// OnStep implements Hook. An epoch's last step is not saved: its
// epoch-end hooks have yet to run, and a checkpoint is taken between
// steps of an epoch or after its hooks.
func (c *ModelCheckpoint) OnStep(s *State) error {
	if c.Path == "" || c.EverySteps <= 0 || s.Step%int64(c.EverySteps) != 0 || s.Batch >= s.Batches {
		return nil
	}
	return c.save(c.path(s), s, fmt.Sprintf("at step %d", s.Step))
}

// after reports whether the end of epoch (from 1) saves to Path.
func (c *ModelCheckpoint) after(epoch int) bool { return c.Every <= 1 || epoch%c.Every == 0 }

// OnEpochEnd implements Hook.
func (c *ModelCheckpoint) OnEpochEnd(s *State) error {
	if !c.started {
		c.best, c.started = math.NaN(), true
	}
	if c.Path != "" && c.after(s.Epoch) {
		if err := c.save(c.path(s), s, fmt.Sprintf("after epoch %d", s.Epoch)); err != nil {
			return err
		}
	}
	if c.Best == "" {
		return nil
	}
	v, max, err := monitored(s.Metrics, c.Monitor)
	if err != nil {
		return fmt.Errorf("ModelCheckpoint: %w", err)
	}
	if !better(v, c.best, 0, max) {
		return nil
	}
	c.best = v
	return c.save(c.Best, s, fmt.Sprintf("(best) after epoch %d", s.Epoch))
}

// OnEnd implements Hook: with OnStop, a run the context stopped is
// saved where it stopped (never one a non-finite loss stopped), and its
// error says where.
func (c *ModelCheckpoint) OnEnd(s *State, err error) error {
	if !c.OnStop || c.Path == "" || !(errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return err
	}
	p := c.path(s)
	if serr := c.save(p, s, "on stopping"); serr != nil {
		return fmt.Errorf("%w, and %w", err, serr)
	}
	return fmt.Errorf("%w, and saved %s", err, p)
}

// path returns Path for a checkpoint of s.
func (c *ModelCheckpoint) path(s *State) string {
	epoch := s.Epoch
	if s.Batch > 0 {
		epoch++
	}
	return strings.ReplaceAll(c.Path, "{epoch}", strconv.Itoa(epoch))
}

func (c *ModelCheckpoint) save(path string, s *State, when string) error {
	ck := s.Checkpoint()
	for k, v := range c.Meta {
		if _, own := ck.Meta[k]; !own {
			ck.Meta[k] = v
		}
	}
	if err := weights.SaveCheckpoint(path, ck); err != nil {
		return fmt.Errorf("checkpoint %s: %w", when, err)
	}
	return nil
}

// Checkpoint returns the state of the run as a checkpoint that
// Config.Resume continues.
func (s *State) Checkpoint() *weights.Checkpoint {
	ts, meta := s.Optimizer.State()
	ck := &weights.Checkpoint{
		Weights:   weights.StateDict(nn.State(s.Model)),
		Optim:     ts,
		OptimMeta: meta,
		Epoch:     s.Epoch,
		Step:      int(s.Step),
		Meta: map[string]string{"loss": fmt.Sprint(s.Metrics.Loss), "val_loss": fmt.Sprint(s.Metrics.ValLoss),
			batchKey: strconv.Itoa(s.Batch)},
	}
	if s.History != nil && len(s.History.Epochs) > 0 {
		if b, err := json.Marshal(s.History.Epochs); err == nil {
			ck.Meta[historyKey] = string(b)
		}
	}
	return ck
}

// batchKey is the checkpoint metadata that holds how many batches of
// the epoch in progress were done (absent or 0 at an epoch's end), and
// historyKey the metrics of the epochs done (JSON), so that a resumed
// run's History, CSV log and curves go back to its first epoch.
const (
	batchKey   = "batch"
	historyKey = "history"
)

// ResumeError is the error of Fit and FitHead when Config.Resume does not
// fit the run. Part says what does not: "weights" (the model's),
// "optimiser" (the optimiser's state) or "position" (the batches done of
// the epoch in progress, with this data and batch size); Err says how.
type ResumeError struct {
	Part string
	Err  error
}

func (e *ResumeError) Error() string {
	switch e.Part {
	case "weights":
		return "train: resuming: the checkpoint's weights do not fit the model: " + e.Err.Error()
	case "optimiser":
		return "train: resuming: the checkpoint's optimiser state does not fit the optimiser: " + e.Err.Error()
	}
	return "train: resuming: " + e.Err.Error()
}

// Unwrap returns Err.
func (e *ResumeError) Unwrap() error { return e.Err }

// restore loads a checkpoint into the run: the weights into s.Model, the
// optimiser's state, the counts and the position in the epoch.
func (s *State) restore(ck *weights.Checkpoint) error {
	pos := 0
	if v, ok := ck.Meta[batchKey]; ok {
		var err error
		if pos, err = strconv.Atoi(v); err != nil || pos < 0 {
			return &ResumeError{Part: "position", Err: fmt.Errorf("the checkpoint's %q metadata is %q; want a count of batches", batchKey, v)}
		}
	}
	if _, err := weights.LoadStateDict(nn.State(s.Model), ck.Weights, true); err != nil {
		return &ResumeError{Part: "weights", Err: err}
	}
	if err := s.Optimizer.LoadState(ck.Optim, ck.OptimMeta); err != nil {
		return &ResumeError{Part: "optimiser", Err: err}
	}
	if v, ok := ck.Meta[historyKey]; ok && s.History != nil {
		var epochs []EpochMetrics
		if err := json.Unmarshal([]byte(v), &epochs); err != nil {
			return &ResumeError{Part: "position", Err: fmt.Errorf("the checkpoint's %q metadata is not a list of epochs' metrics: %v", historyKey, err)}
		}
		s.History.Epochs = epochs
	}
	s.Epoch, s.Step, s.Batch = ck.Epoch, int64(ck.Step), pos
	return nil
}
