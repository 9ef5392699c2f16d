package train

import (
	"context"
	"errors"
	"fmt"
	"github.com/foveaml/fovea/internal/cpu"
	"github.com/foveaml/fovea/tensor"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/foveaml/fovea/ag"
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
	// Callbacks run after each epoch, in order.
	Callbacks []Callback
	// Progress receives the progress bar; nil is quiet.
	Progress io.Writer
	// Resume continues the run saved in a checkpoint: weights, optimiser
	// state and the epoch and step counts. With the same Config the
	// resumed run continues as the uninterrupted one would have.
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
	// CheckpointPath, if set, is where Fit saves the run's checkpoint
	// (atomically): every CheckpointEvery optimiser steps (if above 0),
	// at the end of every epoch, and when ctx is cancelled, so that a run
	// stopped by Ctrl-C, or killed, resumes from where it was. A
	// checkpoint taken part of the way through an epoch records how many
	// of its batches were done, and Resume skips them.
	CheckpointPath string
	// CheckpointEvery is the number of steps between the checkpoints
	// saved within an epoch (0: none, only at epoch ends).
	CheckpointEvery int
}

// State is what callbacks see after an epoch: the run so far and the
// means to stop it.
type State struct {
	Model     nn.Layer
	Optimizer optim.Optimizer
	// Epoch is the number of epochs completed; Step the number of
	// optimiser steps taken.
	Epoch   int
	Step    int64
	Metrics EpochMetrics
	History *History
	stop    bool
	batch   int // batches of epoch Epoch done
}

// Stop ends the run after the current epoch's callbacks.
func (s *State) Stop() { s.stop = true }

// Checkpoint returns the state of the run as a checkpoint that Fit can
// resume from.
func (s *State) Checkpoint() *weights.Checkpoint {
	ts, meta := s.Optimizer.State()
	return &weights.Checkpoint{
		Weights:   weights.StateDict(nn.State(s.Model)),
		Optim:     ts,
		OptimMeta: meta,
		Epoch:     s.Epoch,
		Step:      int(s.Step),
		Meta: map[string]string{"loss": fmt.Sprint(s.Metrics.Loss), "val_loss": fmt.Sprint(s.Metrics.ValLoss),
			batchKey: strconv.Itoa(s.batch)},
	}
}

// batchKey is the checkpoint metadata that holds how many batches of
// the epoch in progress were done (absent or 0 at an epoch's end).
const batchKey = "batch"

// Callback is run by Fit after every epoch, with the epoch's metrics in
// s. An error ends the run with that error.
type Callback interface {
	EpochEnd(s *State) error
}

// ErrNonFinite is wrapped by Fit's error when the loss becomes NaN or
// infinite.
var ErrNonFinite = errors.New("the loss is not finite")

// Fit trains model, which maps an NHWC batch to logits, on ds with
// softmax cross-entropy, for cfg.Epochs epochs, and returns the history of
// per-epoch metrics. It stops early, with the history so far, when a
// callback asks, and with an error wrapping ctx's when ctx is cancelled
// (after the batch in progress, having saved a checkpoint if
// cfg.CheckpointPath is set). A loss or gradient that becomes NaN or
// infinite stops it with an error naming the step and wrapping
// ErrNonFinite, before the step is applied or any checkpoint saved: the
// last checkpoint is the last good state.
func Fit(ctx context.Context, model nn.Layer, ds data.Dataset, cfg Config) (*History, error) {
	if cfg.Epochs < 1 {
		return nil, fmt.Errorf("train.Fit: %d epochs: want at least 1", cfg.Epochs)
	}
	if cfg.Optimizer == nil {
		return nil, errors.New("train.Fit: no optimiser: set Config.Optimizer (optim.NewSGD, NewAdam, ...)")
	}
	if ds == nil || ds.Len() == 0 {
		return nil, errors.New("train.Fit: the training set is empty")
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 32
	}
	if !(cfg.MaxGradNorm >= 0) || math.IsInf(cfg.MaxGradNorm, 0) {
		return nil, fmt.Errorf("train.Fit: MaxGradNorm %v: want 0 (no clipping) or a positive norm", cfg.MaxGradNorm)
	}
	val := cfg.Validation
	if val == nil && cfg.ValidationSplit > 0 {
		var err error
		ds, val, err = data.Split(ds, cfg.ValidationSplit, cfg.Seed)
		if err != nil {
			return nil, fmt.Errorf("train.Fit: validation split: %w", err)
		}
	}
	loader, err := data.NewLoader(ds, data.LoaderOptions{BatchSize: cfg.BatchSize, Shuffle: true, Seed: cfg.Seed,
		Workers: cfg.Workers, Transform: cfg.Transform})
	if err != nil {
		return nil, fmt.Errorf("train.Fit: %w", err)
	}
	s := &State{Model: model, Optimizer: cfg.Optimizer, History: &History{}}
	if cfg.Resume != nil {
		if err := restore(s, cfg.Resume, loader.NumBatches()); err != nil {
			return nil, err
		}
	}
	save := func(when string) error {
		if cfg.CheckpointPath == "" {
			return nil
		}
		if err := weights.SaveCheckpoint(cfg.CheckpointPath, s.Checkpoint()); err != nil {
			return fmt.Errorf("train.Fit: checkpoint %s: %w", when, err)
		}
		return nil
	}
	classes := ds.Classes()
	bar := newProgress(cfg.Progress, cfg.Epochs)
	defer bar.finish()
	tapes := newTapes(dataParallel(model, cfg))
	for s.Epoch < cfg.Epochs {
		epoch := s.Epoch
		if cfg.Schedule != nil {
			cfg.Optimizer.SetLR(cfg.Schedule.LR(cfg.Optimizer.BaseLR(), epoch))
		}
		m := EpochMetrics{Epoch: epoch, LR: cfg.Optimizer.LR()}
		start := time.Now()
		bar.beginEpoch(epoch, loader.NumBatches())
		t := NewTally(classes)
		done := s.batch
		it := loader.EpochFrom(epoch, s.batch)
		for b, ok := it.Next(); ok; b, ok = it.Next() {
			if err := ctx.Err(); err != nil {
				it.Close()
				if serr := save("on stopping"); serr != nil {
					return s.History, fmt.Errorf("train.Fit: stopped (%w) at epoch %d, step %d, and %w", err, epoch+1, s.Step, serr)
				}
				if cfg.CheckpointPath != "" {
					return s.History, fmt.Errorf("train.Fit: stopped (%w) at epoch %d, step %d, and saved %s", err, epoch+1, s.Step, cfg.CheckpointPath)
				}
				return s.History, fmt.Errorf("train.Fit: stopped (%w) at epoch %d, step %d", err, epoch+1, s.Step)
			}
			if err := step(tapes, model, cfg, b, s.Step, t); err != nil {
				it.Close()
				return s.History, fmt.Errorf("train.Fit: epoch %d, step %d: %w", epoch+1, s.Step+1, err)
			}
			s.Step++
			s.batch++
			done++
			loss, top1 := t.running()
			bar.update(done, t.seen, loss, top1)
			if cfg.CheckpointEvery > 0 && s.Step%int64(cfg.CheckpointEvery) == 0 && s.batch < loader.NumBatches() {
				if err := save(fmt.Sprintf("at step %d", s.Step)); err != nil {
					it.Close()
					return s.History, err
				}
			}
		}
		if err := it.Err(); err != nil {
			return s.History, fmt.Errorf("train.Fit: reading the training data: %w", err)
		}
		tm := t.Metrics()
		m.Loss, m.Acc, m.Images = tm.Loss, tm.Top1, tm.Count
		m.Seconds = time.Since(start).Seconds()
		if val != nil {
			vm, err := Evaluate(model, val, EvalConfig{BatchSize: cfg.BatchSize, Workers: cfg.Workers})
			if err != nil {
				return s.History, fmt.Errorf("train.Fit: validation after epoch %d: %w", epoch+1, err)
			}
			m.ValLoss, m.ValAcc, m.HasVal = vm.Loss, vm.Top1, true
		}
		bar.endEpoch(m.Images, m)
		s.Epoch++
		s.batch = 0
		s.Metrics = m
		s.History.Epochs = append(s.History.Epochs, m)
		if err := save(fmt.Sprintf("after epoch %d", s.Epoch)); err != nil {
			return s.History, err
		}
		for _, cb := range cfg.Callbacks {
			if err := cb.EpochEnd(s); err != nil {
				return s.History, err
			}
		}
		if s.stop {
			break
		}
	}
	return s.History, nil
}

// AuxModel is a model with auxiliary classifiers, such as GoogLeNet's,
// that are trained alongside the main one and dropped at inference. Fit
// calls ForwardAux instead of Forward for its training steps and
// minimises main + AuxLossWeight·Σ aux, each term a softmax cross-entropy
// against the batch's labels; the loss and accuracy it reports are the
// main classifier's, comparable with the validation ones. Evaluate and
// Predict call Forward. ForwardAux may return no aux logits (when
// c.Train is false, or the heads are off).
type AuxModel interface {
	nn.Layer
	ForwardAux(c *nn.Ctx, x *ag.Var) (main *ag.Var, aux []*ag.Var)
}

// AuxLossWeight weighs each auxiliary classifier's loss in an AuxModel's
// training loss (GoogLeNet's 0.3).
const AuxLossWeight = 0.3

// step runs one training step on batch b and counts it into t. With
// several tapes, the batch is cut into as many parts, run at once, one
// per tape, each backpropagating its share of the mean loss into the
// tape's own copy of the parameter gradients; the copies are then added
// up in a fixed order, so the update is the whole batch's.
func step(tapes []*ag.Tape, model nn.Layer, cfg Config, b data.Batch, stepNo int64, t *Tally) error {
	k, n := len(tapes), len(b.Y)
	if n < k {
		k = 1 // too few examples to share: the first tape takes them all
	}
	type part struct {
		logits *ag.Var
		loss   float64
		err    error
	}
	parts := make([]part, k)
	run := func(i int) {
		lo, hi := i*n/k, (i+1)*n/k
		x := b.X
		if k > 1 {
			x, _ = b.X.Slice(lo, hi)
		}
		tp := tapes[i]
		c := &nn.Ctx{Tape: tp, Train: true, Step: stepNo*int64(len(tapes)) + int64(i)}
		logits, loss, mainLoss := forwardLoss(c, model, cfg, x, b.Y[lo:hi])
		if err := tp.Err(); err != nil {
			parts[i].err = err
			return
		}
		if l := float64(loss.Item()); math.IsNaN(l) || math.IsInf(l, 0) {
			parts[i].err = fmt.Errorf("%w (%v): the learning rate (%.3g) may be too high for this model; lower it, or clip gradients", ErrNonFinite, l, cfg.Optimizer.LR())
			return
		}
		if k > 1 {
			loss = tp.Scale(loss, float32(hi-lo)/float32(n))
		}
		parts[i] = part{logits: logits, loss: float64(mainLoss.Item()) * float64(hi-lo), err: tp.Backward(loss)}
	}
	if k == 1 {
		run(0)
	} else {
		cpu.ForEach(k, run)
	}
	defer func() {
		for _, tp := range tapes[:k] {
			tp.Reset()
		}
	}()
	for i, p := range parts {
		if p.err != nil {
			return p.err
		}
		if k > 1 {
			tapes[i].AddLeafGrads()
		}
	}
	// A gradient that overflowed would make the weights NaN: refuse the
	// step, as for a NaN loss, so that no checkpoint holds them.
	if norm := gradNorm(cfg.Optimizer.Params()); math.IsNaN(norm) || math.IsInf(norm, 0) {
		return fmt.Errorf("%w: the loss is finite but its gradients' norm is %v: the learning rate (%.3g) may be too high for this model; lower it, or clip gradients", ErrNonFinite, norm, cfg.Optimizer.LR())
	} else if cfg.MaxGradNorm > 0 {
		clipGradNorm(cfg.Optimizer.Params(), norm, cfg.MaxGradNorm)
	}
	cfg.Optimizer.Step()
	cfg.Optimizer.ZeroGrad()
	for i, p := range parts {
		lo, hi := i*n/k, (i+1)*n/k
		t.Add(p.logits.Value().Data(), b.Y[lo:hi], p.loss)
	}
	return nil
}

// newTapes returns the tapes of a run cut into parts data-parallel.
func newTapes(parts int) []*ag.Tape {
	tapes := make([]*ag.Tape, parts)
	for i := range tapes {
		tapes[i] = ag.NewTape()
		tapes[i].SetLocalLeafGrads(parts > 1)
	}
	return tapes
}

// Stepper runs training steps as Fit does (the batch cut into
// data-parallel parts, auxiliary losses, clipping, the optimiser's
// update), for programs that drive their own loop. cfg's Optimizer is
// required; LabelSmoothing, MaxGradNorm, DataParallel and BatchSize (for
// the default number of parts) are used.
type Stepper struct {
	model nn.Layer
	cfg   Config
	tapes []*ag.Tape
	steps int64
}

// NewStepper returns a Stepper for model.
func NewStepper(model nn.Layer, cfg Config) (*Stepper, error) {
	if cfg.Optimizer == nil {
		return nil, errors.New("train.NewStepper: no optimiser")
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 32
	}
	return &Stepper{model: model, cfg: cfg, tapes: newTapes(dataParallel(model, cfg))}, nil
}

// Step trains on one batch, x [N, H, W, C] with labels y, and returns its
// mean loss.
func (s *Stepper) Step(x *tensor.Tensor, y []int32) (float64, error) {
	t := NewTally(0) // sized by the logits
	err := step(s.tapes, s.model, s.cfg, data.Batch{X: x, Y: y}, s.steps, t)
	s.steps++
	loss, _ := t.running()
	return loss, err
}

// forwardLoss runs model on x and returns its logits, the loss to
// minimise (with an AuxModel's auxiliary terms) and the main loss alone.
func forwardLoss(c *nn.Ctx, model nn.Layer, cfg Config, x *tensor.Tensor, y []int32) (logits, loss, mainLoss *ag.Var) {
	tp := c.Tape
	var aux []*ag.Var
	if am, ok := model.(AuxModel); ok {
		logits, aux = am.ForwardAux(c, ag.Const(x))
	} else {
		logits = model.Forward(c, ag.Const(x))
	}
	loss = tp.SoftmaxCrossEntropy(logits, y, cfg.LabelSmoothing)
	mainLoss = loss
	if len(aux) > 0 {
		ws, terms := []float32{1}, []*ag.Var{loss}
		for _, a := range aux {
			ws, terms = append(ws, AuxLossWeight), append(terms, tp.SoftmaxCrossEntropy(a, y, cfg.LabelSmoothing))
		}
		loss = tp.WeightedSum(ws, terms...)
	}
	return logits, loss, mainLoss
}

// dataParallel returns how many parts Fit cuts each batch into: cfg's
// choice, or, by default, one per worker for models small enough that
// their kernels cannot keep the workers busy (under a million parameters)
// and without buffers (batch normalisation's running statistics, which
// must see the whole batch and are not safe to update from two parts at
// once), else one.
func dataParallel(model nn.Layer, cfg Config) int {
	if cfg.DataParallel > 0 {
		return cfg.DataParallel
	}
	if len(nn.BuffersOf(model)) > 0 {
		return 1 // state the forward pass updates (batch statistics) must see the whole batch
	}
	params := 0
	for _, p := range model.Params() {
		params += p.Var.Value().Len()
	}
	if params >= 1<<20 {
		return 1
	}
	return max(1, min(cpu.Workers(), cfg.BatchSize/8))
}

// gradNorm returns the global L2 norm of the parameters' gradients.
func gradNorm(ps []nn.Param) float64 {
	var ss float64
	for _, p := range ps {
		if g := p.Var.Grad(); g != nil {
			for _, v := range g.Data() {
				ss += float64(v) * float64(v)
			}
		}
	}
	return math.Sqrt(ss)
}

// clipGradNorm scales every gradient by maxNorm/norm when norm, the
// global norm of all of them, exceeds maxNorm (PyTorch's
// clip_grad_norm_).
func clipGradNorm(ps []nn.Param, norm, maxNorm float64) {
	if norm <= maxNorm || norm == 0 {
		return
	}
	f := float32(maxNorm / (norm + 1e-6))
	for _, p := range ps {
		if g := p.Var.Grad(); g != nil {
			d := g.Data()
			for i := range d {
				d[i] *= f
			}
		}
	}
}

// restore loads a checkpoint into the run, whose epochs have batches
// batches each.
func restore(s *State, ck *weights.Checkpoint, batches int) error {
	pos := 0
	if v, ok := ck.Meta[batchKey]; ok {
		var err error
		if pos, err = strconv.Atoi(v); err != nil || pos < 0 || pos >= batches {
			return fmt.Errorf("train.Fit: resuming: the checkpoint is %q batches into epoch %d, which has %d batches with this data and batch size", v, ck.Epoch+1, batches)
		}
	}
	if _, err := weights.LoadStateDict(nn.State(s.Model), ck.Weights, true); err != nil {
		return fmt.Errorf("train.Fit: resuming: %w", err)
	}
	if err := s.Optimizer.LoadState(ck.Optim, ck.OptimMeta); err != nil {
		return fmt.Errorf("train.Fit: resuming the optimiser: %w", err)
	}
	s.Epoch, s.Step, s.batch = ck.Epoch, int64(ck.Step), pos
	return nil
}

// EvalConfig describes an Evaluate or Predict run.
type EvalConfig struct {
	BatchSize int // default 64
	Workers   int // default GOMAXPROCS
	// Transform rewrites each example before evaluation (a centre crop,
	// say); it must be deterministic.
	Transform data.Transform
}

// Evaluate runs model (in inference mode) over ds and returns its mean
// cross-entropy loss, top-1 and top-5 accuracy, per-class accuracy and
// confusion matrix.
func Evaluate(model nn.Layer, ds data.Dataset, cfg EvalConfig) (Metrics, error) {
	t := NewTally(ds.Classes())
	err := forEachOutput(model, ds, cfg, func(logits *ag.Var, tp *ag.Tape, b data.Batch) error {
		loss := tp.SoftmaxCrossEntropy(logits, b.Y, 0)
		if err := tp.Err(); err != nil {
			return err
		}
		t.Add(logits.Value().Data(), b.Y, float64(loss.Item())*float64(len(b.Y)))
		return nil
	})
	if err != nil {
		return Metrics{}, err
	}
	return t.Metrics(), nil
}

// Predict runs model (in inference mode) over ds and returns the softmax
// probabilities, one row of ds.Classes() values per example, in ds's
// order.
func Predict(model nn.Layer, ds data.Dataset, cfg EvalConfig) ([][]float32, error) {
	out := make([][]float32, ds.Len())
	err := forEachOutput(model, ds, cfg, func(logits *ag.Var, tp *ag.Tape, b data.Batch) error {
		p := tp.Softmax(logits)
		if err := tp.Err(); err != nil {
			return err
		}
		pd := p.Value().Data()
		k := len(pd) / len(b.Indices)
		for i, idx := range b.Indices {
			out[idx] = append([]float32(nil), pd[i*k:(i+1)*k]...)
		}
		return nil
	})
	return out, err
}

// TopK returns the indices of the k largest values of p, largest first.
func TopK(p []float32, k int) []int {
	k = min(k, len(p))
	idx := make([]int, 0, k)
	for len(idx) < k {
		best := -1
		for i, v := range p {
			if (best < 0 || v > p[best]) && !contains(idx, i) {
				best = i
			}
		}
		idx = append(idx, best)
	}
	return idx
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// forEachOutput runs model without gradients over ds in order and calls
// fn with each batch's output.
func forEachOutput(model nn.Layer, ds data.Dataset, cfg EvalConfig, fn func(*ag.Var, *ag.Tape, data.Batch) error) error {
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 64
	}
	loader, err := data.NewLoader(ds, data.LoaderOptions{BatchSize: cfg.BatchSize, Workers: cfg.Workers, Transform: cfg.Transform})
	if err != nil {
		return err
	}
	tp := ag.NewTape()
	tp.SetGradEnabled(false)
	it := loader.Epoch(0)
	defer it.Close()
	for b, ok := it.Next(); ok; b, ok = it.Next() {
		c := &nn.Ctx{Tape: tp}
		logits := model.Forward(c, ag.Const(b.X))
		if err := tp.Err(); err != nil {
			tp.Reset()
			return err
		}
		err := fn(logits, tp, b)
		tp.Reset()
		if err != nil {
			return err
		}
	}
	return it.Err()
}
