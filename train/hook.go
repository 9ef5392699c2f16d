package train

import (
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/optim"
)

// Hook is called by the training loop around its steps, as Keras calls a
// callback: everything Fit does besides the steps themselves (the
// learning-rate schedule, validation, the history, the progress bar) is
// a hook, and so are checkpoints (ModelCheckpoint), early stopping,
// learning-rate reduction, logs and unfreezing. Every method sees the
// run's State; an error ends the run with that error. Embed BaseHook to
// write only the methods a hook needs, or fill in a HookFuncs.
type Hook interface {
	// OnBegin runs once before the first step, when a resumed run's
	// state has been restored.
	OnBegin(s *State) error
	// OnEpochBegin runs before each epoch's first step: s.Epoch is the
	// epoch's index from 0, s.Batch how many of its batches a resumed
	// run has already done.
	OnEpochBegin(s *State) error
	// OnStep runs after every optimiser step: s.Step counts it and
	// s.Batch the epoch's batches done with it.
	OnStep(s *State) error
	// OnEpochEnd runs after each epoch's last step: s.Epoch counts the
	// epoch and s.Metrics holds its metrics, which a hook may fill in
	// further (validation does) for the hooks after it.
	OnEpochEnd(s *State) error
	// OnEnd runs once when the run ends, however it ends: err is why
	// (nil when it ran all its epochs or a hook stopped it, else the
	// error that stopped it, which wraps ctx's when ctx was cancelled).
	// It returns the error the run ends with: err, or one that wraps it
	// and says more (where a checkpoint was saved, say).
	OnEnd(s *State, err error) error
}

// BaseHook does nothing at every call: embedded in a hook, it supplies
// the methods the hook does not need.
type BaseHook struct{}

// OnBegin implements Hook.
func (BaseHook) OnBegin(*State) error { return nil }

// OnEpochBegin implements Hook.
func (BaseHook) OnEpochBegin(*State) error { return nil }

// OnStep implements Hook.
func (BaseHook) OnStep(*State) error { return nil }

// OnEpochEnd implements Hook.
func (BaseHook) OnEpochEnd(*State) error { return nil }

// OnEnd implements Hook.
func (BaseHook) OnEnd(_ *State, err error) error { return err }

// HookFuncs is a Hook made of functions, any of which may be nil (Keras'
// LambdaCallback).
type HookFuncs struct {
	Begin, EpochBegin, Step, EpochEnd func(s *State) error
	End                               func(s *State, err error) error
}

// call runs f on s unless f is nil.
func call(f func(*State) error, s *State) error {
	if f == nil {
		return nil
	}
	return f(s)
}

// OnBegin implements Hook.
func (h HookFuncs) OnBegin(s *State) error { return call(h.Begin, s) }

// OnEpochBegin implements Hook.
func (h HookFuncs) OnEpochBegin(s *State) error { return call(h.EpochBegin, s) }

// OnStep implements Hook.
func (h HookFuncs) OnStep(s *State) error { return call(h.Step, s) }

// OnEpochEnd implements Hook.
func (h HookFuncs) OnEpochEnd(s *State) error { return call(h.EpochEnd, s) }

// OnEnd implements Hook.
func (h HookFuncs) OnEnd(s *State, err error) error {
	if h.End == nil {
		return err
	}
	return h.End(s, err)
}

// State is the run as the hooks see it, and the means to stop it.
type State struct {
	// Model is the whole model, also when FitHead trains only its head:
	// its parameters are the ones trained, and its checkpoints resume
	// either way.
	Model     nn.Layer
	Optimizer optim.Optimizer
	// Epoch is the number of epochs completed; Step the number of
	// optimiser steps taken.
	Epoch int
	Step  int64
	// Batch is how many batches of the epoch in progress are done (0
	// between epochs), of Batches in an epoch.
	Batch, Batches int
	// Metrics are the last completed epoch's.
	Metrics EpochMetrics
	History *History
	stop    bool
	tally   *Tally // the epoch in progress's training figures
}

// Stop ends the run after the current epoch's hooks.
func (s *State) Stop() { s.stop = true }

// Running returns the mean training loss and accuracy over the steps of
// the epoch in progress so far, and the number of images they saw.
func (s *State) Running() (loss, acc float64, images int) {
	if s.tally == nil {
		return 0, 0, 0
	}
	loss, acc = s.tally.running()
	return loss, acc, s.tally.seen
}
