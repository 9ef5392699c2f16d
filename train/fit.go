package train

import (
	"context"
	"fmt"
	"io"

	"github.com/foveaml/fovea/data"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/optim"
	"github.com/foveaml/fovea/weights"
)

// Config describes a Fit. Zero values take the defaults noted.
type Config struct {
	// Epochs is the number of epochs to run (counting those a resumed
	// checkpoint already ran); at least 1.
	Epochs int
	// BatchSize defaults to 32.
	BatchSize int
	// Optimizer updates the model's parameters; required.
	Optimizer optim.Optimizer
	// Schedule, if set, sets the learning rate at the start of each epoch
	// from the optimiser's base rate.
	Schedule optim.Schedule
	// LabelSmoothing is the cross-entropy's ε (0: none).
	LabelSmoothing float32
	// Validation is evaluated after every epoch. If nil and
	// ValidationSplit is above 0, that fraction of the training data is
	// held out instead (chosen from Seed).
	Validation      data.Dataset
	ValidationSplit float64
	// Seed fixes the shuffling and the random draws of augmentation and
	// dropout: the same seed gives the same run.
	Seed uint64
	// Workers decode and transform examples; default GOMAXPROCS.
	Workers int
	// Transform augments training examples (never validation ones).
	Transform data.Transform
	// Hooks run around the steps, in order, after Fit's own: the
	// Schedule, validation, the History and the Progress bar, so that
	// they see each epoch's metrics whole. Checkpoints are a hook
	// (ModelCheckpoint).
	Hooks []Hook
	// Progress receives the progress bar; nil is quiet.
	Progress io.Writer
	// Resume continues the run saved in a checkpoint (ModelCheckpoint's):
	// weights, optimiser state, the epoch and step counts, and how many
	// batches of the epoch in progress were done, which it skips. With
	// the same Config the resumed run continues as the uninterrupted one
	// would have. An error loading it is a *ResumeError.
	Resume *weights.Checkpoint
	// DataParallel cuts every batch into this many parts that run at
	// once, each on its own tape, their gradients summed before the
	// update (the same update as the whole batch's, up to rounding). 0
	// chooses: one part per worker for small models without batch
	// normalisation, where the kernels are too small to split, else 1.
	DataParallel int
	// MaxGradNorm, if above 0, scales the gradients down so that their
	// global L2 norm is at most this (gradient clipping).
	MaxGradNorm float64
}

// Fit trains model, which maps an NHWC batch to logits, on ds with
// softmax cross-entropy, for cfg.Epochs epochs, and returns the history of
// per-epoch metrics. It stops early, with the history so far, when a
// hook asks, and with an error wrapping ctx's when ctx is cancelled
// (after the batch in progress; a ModelCheckpoint with OnStop then saves
// where the run stopped). A loss or gradient that becomes NaN or
// infinite stops it with an error naming the step and wrapping
// ErrNonFinite, before the step is applied or any checkpoint saved: the
// last checkpoint is the last good state.
func Fit(ctx context.Context, model nn.Layer, ds data.Dataset, cfg Config) (*History, error) {
	r, err := newRun("train.Fit", model, ds, cfg)
	if err != nil {
		return nil, err
	}
	return r.fit(ctx, model, ds)
}

// run is a Fit or FitHead set up: its Config checked and its State
// resumed from cfg.Resume.
type run struct {
	name  string // the entry point, for errors
	cfg   Config
	state *State
}

// newRun checks cfg and resumes the run of model it describes, if asked.
func newRun(name string, model nn.Layer, ds data.Dataset, cfg Config) (*run, error) {
	if cfg.Epochs < 1 {
		return nil, fmt.Errorf("%s: %d epochs: want at least 1", name, cfg.Epochs)
	}
	if err := cfg.checkSteps(name); err != nil {
		return nil, err
	}
	if ds == nil || ds.Len() == 0 {
		return nil, fmt.Errorf("%s: the training set is empty", name)
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 32
	}
	s := &State{Model: model, Optimizer: cfg.Optimizer, History: &History{}}
	if cfg.Resume != nil {
		if err := s.restore(cfg.Resume); err != nil {
			return nil, err
		}
	}
	return &run{name: name, cfg: cfg, state: s}, nil
}

// fit runs the loop with Fit's hooks and cfg.Hooks, training trainee (the
// model, or FitHead's head) on ds.
func (r *run) fit(ctx context.Context, trainee nn.Layer, ds data.Dataset) (*History, error) {
	cfg, s := r.cfg, r.state
	val := cfg.Validation
	if val == nil && cfg.ValidationSplit > 0 {
		var err error
		if ds, val, err = data.Split(ds, cfg.ValidationSplit, cfg.Seed); err != nil {
			return nil, fmt.Errorf("%s: validation split: %w", r.name, err)
		}
	}
	loader, err := data.NewLoader(ds, data.LoaderOptions{BatchSize: cfg.BatchSize, Shuffle: true, Seed: cfg.Seed,
		Workers: cfg.Workers, Transform: cfg.Transform})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.name, err)
	}
	if s.Batches = loader.NumBatches(); s.Batch >= s.Batches {
		return nil, &ResumeError{Part: "position", Err: fmt.Errorf("the checkpoint is %d batches into epoch %d, which has %d batches with this data and batch size",
			s.Batch, s.Epoch+1, s.Batches)}
	}
	var hooks []Hook
	if cfg.Schedule != nil {
		hooks = append(hooks, schedule{sched: cfg.Schedule})
	}
	if val != nil {
		hooks = append(hooks, validation{name: r.name, model: trainee, ds: val, cfg: EvalConfig{BatchSize: cfg.BatchSize, Workers: cfg.Workers}})
	}
	hooks = append(hooks, record{})
	if cfg.Progress != nil {
		hooks = append(hooks, newProgress(cfg.Progress, cfg.Epochs))
	}
	l := &loop{name: r.name, epochs: cfg.Epochs, loader: loader, classes: ds.Classes(),
		stepper: newStepper(trainee, dataParallel(s.Model, cfg), cfg), hooks: append(hooks, cfg.Hooks...)}
	err = l.run(ctx, s)
	return s.History, err
}

// schedule sets the learning rate of each epoch from a Schedule.
type schedule struct {
	BaseHook
	sched optim.Schedule
}

// OnEpochBegin implements Hook.
func (h schedule) OnEpochBegin(s *State) error {
	s.Optimizer.SetLR(h.sched.LR(s.Optimizer.BaseLR(), s.Epoch))
	return nil
}

// validation evaluates model on ds after every epoch, into the epoch's
// metrics.
type validation struct {
	BaseHook
	name  string
	model nn.Layer
	ds    data.Dataset
	cfg   EvalConfig
}

// OnEpochEnd implements Hook.
func (h validation) OnEpochEnd(s *State) error {
	vm, err := Evaluate(h.model, h.ds, h.cfg)
	if err != nil {
		return fmt.Errorf("%s: validation after epoch %d: %w", h.name, s.Epoch, err)
	}
	s.Metrics.ValLoss, s.Metrics.ValAcc, s.Metrics.HasVal = vm.Loss, vm.Top1, true
	return nil
}

// record appends every epoch's metrics to the History.
type record struct{ BaseHook }

// OnEpochEnd implements Hook.
func (record) OnEpochEnd(s *State) error {
	s.History.Epochs = append(s.History.Epochs, s.Metrics)
	return nil
}
