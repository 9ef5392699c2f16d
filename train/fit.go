package train

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
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
	// MaxGradNorm, if above 0, scales the gradients down so that their
	// global L2 norm is at most this (gradient clipping).
	MaxGradNorm float64
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
		Meta:      map[string]string{"loss": fmt.Sprint(s.Metrics.Loss), "val_loss": fmt.Sprint(s.Metrics.ValLoss)},
	}
}

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
// callback asks, and with ctx's error when ctx is cancelled (after the
// batch in progress). A loss that becomes NaN or infinite stops it with
// an error naming the step.
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
		if err := restore(s, cfg.Resume); err != nil {
			return nil, err
		}
	}
	classes := ds.Classes()
	bar := newProgress(cfg.Progress, cfg.Epochs)
	tp := ag.NewTape()
	for s.Epoch < cfg.Epochs {
		epoch := s.Epoch
		if cfg.Schedule != nil {
			cfg.Optimizer.SetLR(cfg.Schedule.LR(cfg.Optimizer.BaseLR(), epoch))
		}
		m := EpochMetrics{Epoch: epoch, LR: cfg.Optimizer.LR()}
		start := time.Now()
		bar.beginEpoch(epoch, loader.NumBatches())
		t := newTally(classes)
		done := 0
		it := loader.Epoch(epoch)
		for b, ok := it.Next(); ok; b, ok = it.Next() {
			if err := ctx.Err(); err != nil {
				it.Close()
				return s.History, err
			}
			if err := step(tp, model, cfg, b, s.Step, t); err != nil {
				it.Close()
				return s.History, fmt.Errorf("train.Fit: epoch %d, step %d: %w", epoch+1, s.Step+1, err)
			}
			s.Step++
			done++
			cur := t.metrics()
			bar.update(done, t.seen, cur.Loss, cur.Top1)
		}
		if err := it.Err(); err != nil {
			return s.History, fmt.Errorf("train.Fit: reading the training data: %w", err)
		}
		tm := t.metrics()
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
		s.Metrics = m
		s.History.Epochs = append(s.History.Epochs, m)
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

// step runs one training step on batch b and counts it into t.
func step(tp *ag.Tape, model nn.Layer, cfg Config, b data.Batch, stepNo int64, t *tally) error {
	defer tp.Reset()
	c := &nn.Ctx{Tape: tp, Train: true, Step: stepNo}
	var logits *ag.Var
	var aux []*ag.Var
	if am, ok := model.(AuxModel); ok {
		logits, aux = am.ForwardAux(c, ag.Const(b.X))
	} else {
		logits = model.Forward(c, ag.Const(b.X))
	}
	loss := tp.SoftmaxCrossEntropy(logits, b.Y, cfg.LabelSmoothing)
	mainLoss := loss
	if len(aux) > 0 {
		ws, terms := []float32{1}, []*ag.Var{loss}
		for _, a := range aux {
			ws, terms = append(ws, AuxLossWeight), append(terms, tp.SoftmaxCrossEntropy(a, b.Y, cfg.LabelSmoothing))
		}
		loss = tp.WeightedSum(ws, terms...)
	}
	if err := tp.Err(); err != nil {
		return err
	}
	if l := float64(loss.Item()); math.IsNaN(l) || math.IsInf(l, 0) {
		return fmt.Errorf("%w (%v): the learning rate (%.3g) may be too high for this model; lower it, or clip gradients", ErrNonFinite, l, cfg.Optimizer.LR())
	}
	l := float64(mainLoss.Item()) // what the metrics report
	if err := tp.Backward(loss); err != nil {
		return err
	}
	if cfg.MaxGradNorm > 0 {
		clipGradNorm(cfg.Optimizer.Params(), cfg.MaxGradNorm)
	}
	cfg.Optimizer.Step()
	cfg.Optimizer.ZeroGrad()
	n := float64(len(b.Y))
	t.add(logits.Value().Data(), b.Y, l*n)
	return nil
}

// clipGradNorm scales every gradient by maxNorm/‖g‖ when the global norm
// ‖g‖ of all of them exceeds maxNorm (PyTorch's clip_grad_norm_).
func clipGradNorm(ps []nn.Param, maxNorm float64) {
	var ss float64
	for _, p := range ps {
		if g := p.Var.Grad(); g != nil {
			for _, v := range g.Data() {
				ss += float64(v) * float64(v)
			}
		}
	}
	norm := math.Sqrt(ss)
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

// restore loads a checkpoint into the run.
func restore(s *State, ck *weights.Checkpoint) error {
	if _, err := weights.LoadStateDict(nn.State(s.Model), ck.Weights, true); err != nil {
		return fmt.Errorf("train.Fit: resuming: %w", err)
	}
	if err := s.Optimizer.LoadState(ck.Optim, ck.OptimMeta); err != nil {
		return fmt.Errorf("train.Fit: resuming the optimiser: %w", err)
	}
	s.Epoch, s.Step = ck.Epoch, int64(ck.Step)
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
	t := newTally(ds.Classes())
	err := forEachOutput(model, ds, cfg, func(logits *ag.Var, tp *ag.Tape, b data.Batch) error {
		loss := tp.SoftmaxCrossEntropy(logits, b.Y, 0)
		if err := tp.Err(); err != nil {
			return err
		}
		t.add(logits.Value().Data(), b.Y, float64(loss.Item())*float64(len(b.Y)))
		return nil
	})
	if err != nil {
		return Metrics{}, err
	}
	return t.metrics(), nil
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
