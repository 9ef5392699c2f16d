package train

import (
	"errors"
	"fmt"
	"math"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/data"
	"github.com/foveaml/fovea/internal/cpu"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/optim"
	"github.com/foveaml/fovea/tensor"
)

// Stepper runs training steps: forward, softmax cross-entropy (with an
// AuxModel's auxiliary losses), backward, gradient clipping and the
// optimiser's update, the batch cut into data-parallel parts. It is what
// Fit's loop runs on every batch, and what a program that drives its own
// loop runs: the same steps either way. Of a Config it uses Optimizer
// (required), LabelSmoothing, MaxGradNorm, DataParallel and BatchSize
// (for the default number of parts).
type Stepper struct {
	model       nn.Layer
	opt         optim.Optimizer
	smoothing   float32
	maxGradNorm float64
	tapes       []*ag.Tape
	logits      [][]float32 // per tape, the step's logits copied before Backward
	steps       int64       // Step's count, which seeds dropout
}

// NewStepper returns a Stepper for model.
func NewStepper(model nn.Layer, cfg Config) (*Stepper, error) {
	if err := cfg.checkSteps("train.NewStepper"); err != nil {
		return nil, err
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 32
	}
	return newStepper(model, dataParallel(model, cfg), cfg), nil
}

// newStepper returns a Stepper for model that cuts batches into parts.
func newStepper(model nn.Layer, parts int, cfg Config) *Stepper {
	tapes := make([]*ag.Tape, parts)
	for i := range tapes {
		tapes[i] = ag.NewTape()
		tapes[i].SetLocalLeafGrads(parts > 1)
		// The step reads no intermediate value after Backward (the logits
		// are copied before), so activations may go back to the pool as
		// soon as backward is done with them.
		tapes[i].SetReleaseInBackward(true)
	}
	return &Stepper{model: model, opt: cfg.Optimizer, smoothing: cfg.LabelSmoothing, maxGradNorm: cfg.MaxGradNorm, tapes: tapes, logits: make([][]float32, parts)}
}

// checkSteps checks the fields of cfg that steps use, for the error of
// the entry point name.
func (cfg *Config) checkSteps(name string) error {
	if cfg.Optimizer == nil {
		return fmt.Errorf("%s: no optimiser: set Config.Optimizer (optim.NewSGD, NewAdam, ...)", name)
	}
	if !(cfg.MaxGradNorm >= 0) || math.IsInf(cfg.MaxGradNorm, 0) {
		return fmt.Errorf("%s: MaxGradNorm %v: want 0 (no clipping) or a positive norm", name, cfg.MaxGradNorm)
	}
	return nil
}

// Step trains on one batch, x [N, H, W, C] with labels y, and returns its
// mean loss.
func (s *Stepper) Step(x *tensor.Tensor, y []int32) (float64, error) {
	t := NewTally(0) // sized by the logits
	err := s.step(data.Batch{X: x, Y: y}, s.steps, t)
	s.steps++
	loss, _ := t.running()
	return loss, err
}

// ErrNonFinite is wrapped by a step's error when the loss or its
// gradients become NaN or infinite; the step is not applied.
var ErrNonFinite = errors.New("the loss is not finite")

// step runs training step stepNo on batch b and counts it into t. With
// several tapes, the batch is cut into as many parts, run at once, one
// per tape, each backpropagating its share of the mean loss into the
// tape's own copy of the parameter gradients; the copies are then added
// up in a fixed order, so the update is the whole batch's.
func (s *Stepper) step(b data.Batch, stepNo int64, t *Tally) error {
	tapes := s.tapes
	k, n := len(tapes), len(b.Y)
	if n < k {
		k = 1 // too few examples to share: the first tape takes them all
	}
	type part struct {
		logits []float32 // a copy: Backward releases the Var's buffer
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
		logits, loss, mainLoss := forwardLoss(c, s.model, s.smoothing, x, b.Y[lo:hi])
		if err := tp.Err(); err != nil {
			parts[i].err = err
			return
		}
		if l := float64(loss.Item()); math.IsNaN(l) || math.IsInf(l, 0) {
			parts[i].err = fmt.Errorf("%w (%v): the learning rate (%.3g) may be too high for this model; lower it, or clip gradients", ErrNonFinite, l, s.opt.LR())
			return
		}
		if k > 1 {
			loss = tp.Scale(loss, float32(hi-lo)/float32(n))
		}
		s.logits[i] = append(s.logits[i][:0], logits.Value().Data()...)
		parts[i] = part{logits: s.logits[i], loss: float64(mainLoss.Item()) * float64(hi-lo)}
		parts[i].err = tp.Backward(loss)
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
	if norm := gradNorm(s.opt.Params()); math.IsNaN(norm) || math.IsInf(norm, 0) {
		return fmt.Errorf("%w: the loss is finite but its gradients' norm is %v: the learning rate (%.3g) may be too high for this model; lower it, or clip gradients", ErrNonFinite, norm, s.opt.LR())
	} else if s.maxGradNorm > 0 {
		clipGradNorm(s.opt.Params(), norm, s.maxGradNorm)
	}
	s.opt.Step()
	s.opt.ZeroGrad()
	for i, p := range parts {
		lo, hi := i*n/k, (i+1)*n/k
		t.Add(p.logits, b.Y[lo:hi], p.loss)
	}
	return nil
}

// forwardLoss runs model on x and returns its logits, the loss to
// minimise (with an AuxModel's auxiliary terms) and the main loss alone,
// each cross-entropy with label smoothing smoothing.
func forwardLoss(c *nn.Ctx, model nn.Layer, smoothing float32, x *tensor.Tensor, y []int32) (logits, loss, mainLoss *ag.Var) {
	tp := c.Tape
	var aux []*ag.Var
	if am, ok := model.(AuxModel); ok {
		logits, aux = am.ForwardAux(c, ag.Const(x))
	} else {
		logits = model.Forward(c, ag.Const(x))
	}
	loss = tp.SoftmaxCrossEntropy(logits, y, smoothing)
	mainLoss = loss
	if len(aux) > 0 {
		ws, terms := []float32{1}, []*ag.Var{loss}
		for _, a := range aux {
			ws, terms = append(ws, AuxLossWeight), append(terms, tp.SoftmaxCrossEntropy(a, y, smoothing))
		}
		loss = tp.WeightedSum(ws, terms...)
	}
	return logits, loss, mainLoss
}

// AuxModel is nn.AuxModel: a model with auxiliary classifiers, such as
// GoogLeNet's, that are trained alongside the main one and dropped at
// inference. Fit calls ForwardAux instead of Forward for its training
// steps and minimises main + AuxLossWeight·Σ aux, each term a softmax
// cross-entropy against the batch's labels; the loss and accuracy it
// reports are the main classifier's, comparable with the validation ones.
// Evaluate and Predict call Forward. ForwardAux may return no aux logits
// (when c.Train is false, or the heads are off).
type AuxModel = nn.AuxModel

// AuxLossWeight weighs each auxiliary classifier's loss in an AuxModel's
// training loss (GoogLeNet's 0.3).
const AuxLossWeight = 0.3

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
