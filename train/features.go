package train

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/data"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/tensor"
)

// HeadLayer is a model's head seen on its own: it maps the features the
// head reads, as CacheFeatures stores them, to the head's output. Its
// parameters are the model's own Vars under the model's names
// ("classifier.5.weight"), so an optimiser, a checkpoint or a state dict
// made for the whole model fits it, and training it trains the model.
type HeadLayer struct {
	nn.Module          // the head, declared under its dotted name in the model ("fc")
	Layer     nn.Layer // the head itself
	// Flat is set when the head reads [N, F] features, which are stored
	// as 1×1×F images and flattened back on the way in.
	Flat bool
}

// NewHeadLayer returns the head called name in its model, layer, seen on
// its own; flat says it reads [N, F] features.
func NewHeadLayer(name string, layer nn.Layer, flat bool) *HeadLayer {
	h := &HeadLayer{Flat: flat}
	h.Layer = nn.Add(&h.Module, name, layer)
	return h
}

// Forward implements nn.Layer.
func (h *HeadLayer) Forward(c *nn.Ctx, x *ag.Var) *ag.Var {
	if h.Flat {
		x = c.Tape.Flatten(x)
	}
	return h.Call(c, h.Layer, x)
}

// CacheFeatures runs model in inference mode over ds once and keeps what
// its layer called head reads: the backbone's features, one example per
// example of ds, with ds's labels and class names, in ds's order. It
// returns them as a dataset with the HeadLayer that maps them to the
// model's output. Features of shape [F] are stored as 1×1×F images, [H, W,
// C] maps as they are. progress, if not nil, gets a line at the start and
// one at the end.
func CacheFeatures(model nn.Layer, head string, ds data.Dataset, cfg EvalConfig, progress io.Writer) (*data.InMemory, *HeadLayer, error) {
	if ds == nil || ds.Len() == 0 {
		return nil, nil, errors.New("train.CacheFeatures: the dataset is empty")
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 64
	}
	loader, err := data.NewLoader(ds, data.LoaderOptions{BatchSize: cfg.BatchSize, Workers: cfg.Workers, Transform: cfg.Transform})
	if err != nil {
		return nil, nil, fmt.Errorf("train.CacheFeatures: %w", err)
	}
	if progress != nil {
		fmt.Fprintf(progress, "caching the features %s reads for %d examples...\n", head, ds.Len())
	}
	start := time.Now()
	tp := ag.NewTape()
	tp.SetGradEnabled(false)
	it := loader.Epoch(0)
	defer it.Close()
	var (
		feats  []float32
		labels = make([]int32, ds.Len())
		hl     *HeadLayer
		shape  []int // of one example's features
		per    int
	)
	for b, ok := it.Next(); ok; b, ok = it.Next() {
		layer, in, err := nn.Capture(tp, model, head, ag.Const(b.X))
		if err != nil {
			tp.Reset()
			return nil, nil, fmt.Errorf("train.CacheFeatures: %w", err)
		}
		s := in.Shape()
		if hl == nil {
			switch len(s) {
			case 2, 4:
			default:
				tp.Reset()
				return nil, nil, fmt.Errorf("train.CacheFeatures: %s reads features of shape %v; want [N F] or [N H W C]", head, s)
			}
			shape, per = s[1:], in.Value().Len()/s[0]
			hl = NewHeadLayer(head, layer, len(s) == 2)
			feats = make([]float32, ds.Len()*per)
		}
		if !slices.Equal(s[1:], shape) {
			tp.Reset()
			return nil, nil, fmt.Errorf("train.CacheFeatures: %s reads features of shape %v, then %v; want one shape", head, shape, s[1:])
		}
		d := in.Value().Data()
		for i, idx := range b.Indices {
			copy(feats[idx*per:(idx+1)*per], d[i*per:(i+1)*per])
			labels[idx] = b.Y[i]
		}
		tp.Reset()
	}
	if err := it.Err(); err != nil {
		return nil, nil, fmt.Errorf("train.CacheFeatures: %w", err)
	}
	h, w, c := 1, 1, per
	if len(shape) == 3 {
		h, w, c = shape[0], shape[1], shape[2]
	}
	out, err := data.NewInMemory(feats, labels, h, w, c, ds.Classes())
	if err != nil {
		return nil, nil, fmt.Errorf("train.CacheFeatures: %w", err)
	}
	if names := data.ClassNames(ds); names != nil {
		if err := out.SetClassNames(names); err != nil {
			return nil, nil, fmt.Errorf("train.CacheFeatures: %w", err)
		}
	}
	if progress != nil {
		fmt.Fprintf(progress, "cached %d×%v features in %.1f s\n", ds.Len(), shape, time.Since(start).Seconds())
	}
	return out, hl, nil
}

// FitHead trains only the head of model, as Fit would with everything
// below the head frozen, but on features computed once: the backbone
// runs over the training (and validation) data a single time, in
// inference mode, and every epoch then trains the head on the cache (see
// CacheFeatures). This is the fast path for a small data set on a large
// frozen backbone; with the same Config it ends with the same head
// weights as Fit, up to float rounding. It runs Fit's loop, with Fit's
// hooks and cfg.Hooks, which see the whole model (s.Model): its
// checkpoints are the model's, and a resumed run loads them into the
// model before the cache is made. The optimiser may hold all of model's
// parameters, as for Fit.
//
// It needs what makes the cache valid: a model with one head (nn.Heads),
// every parameter outside it frozen, no Transform (augmentation would
// change the features every epoch), no GradualUnfreezing hook, and a
// backbone that computes the same in training as in inference mode (no
// active dropout, no batch norm updating its statistics below the head).
// When one fails, it changes nothing and returns an error that says
// which and wraps ErrNoHeadCache, so that a caller can fall back to Fit.
func FitHead(ctx context.Context, model nn.Layer, ds data.Dataset, cfg Config) (*History, error) {
	head, err := cacheable(model, ds, cfg)
	if err != nil {
		return nil, noHeadCache{err}
	}
	r, err := newRun("train.FitHead", model, ds, cfg)
	if err != nil {
		return nil, err
	}
	ecfg := EvalConfig{BatchSize: max(cfg.BatchSize, 64), Workers: cfg.Workers}
	feats, hl, err := CacheFeatures(model, head, ds, ecfg, cfg.Progress)
	if err != nil {
		return nil, fmt.Errorf("train.FitHead: %w", err)
	}
	if cfg.Validation != nil {
		if r.cfg.Validation, _, err = CacheFeatures(model, head, cfg.Validation, ecfg, cfg.Progress); err != nil {
			return nil, fmt.Errorf("train.FitHead: validation: %w", err)
		}
	}
	return r.fit(ctx, hl, feats)
}

// ErrNoHeadCache is wrapped by FitHead's error when the model, the data
// or the Config does not let the head train on cached features.
var ErrNoHeadCache = errors.New("the head cannot train on cached features")

// noHeadCache is FitHead's error when it cannot cache: the reason's
// message, wrapping both the reason and ErrNoHeadCache.
type noHeadCache struct{ reason error }

func (e noHeadCache) Error() string   { return e.reason.Error() }
func (e noHeadCache) Unwrap() []error { return []error{e.reason, ErrNoHeadCache} }

// cacheable returns the head FitHead trains, or why it cannot: the
// model must have one head, every parameter outside it frozen, no
// augmentation or unfreezing, and a backbone that computes the same in
// training as in inference mode. It changes nothing.
func cacheable(model nn.Layer, ds data.Dataset, cfg Config) (string, error) {
	heads := nn.Heads(model)
	if len(heads) != 1 {
		return "", fmt.Errorf("train.FitHead: the model has %d heads %v; want one (use Fit)", len(heads), heads)
	}
	head := heads[0]
	for _, p := range model.Params() {
		if p.Trainable() && !nn.MatchName(head, p.Name) {
			return "", fmt.Errorf("train.FitHead: parameter %s, outside the head %s, trains; freeze the backbone (nn.FreezeAllButHead) or train with Fit", p.Name, head)
		}
	}
	if cfg.Transform != nil {
		return "", errors.New("train.FitHead: the training data is augmented (Config.Transform), so the backbone's features differ every epoch and cannot be cached; use Fit")
	}
	for _, h := range cfg.Hooks {
		if _, ok := h.(*GradualUnfreezing); ok {
			return "", errors.New("train.FitHead: a GradualUnfreezing hook changes the backbone during the run, which the cache cannot follow; use Fit")
		}
	}
	if ds == nil || ds.Len() == 0 {
		return "", errors.New("train.FitHead: the training set is empty")
	}
	return head, sameInTraining(model, head, ds)
}

// sameInTraining checks that model's backbone computes the same features
// in training mode as in inference mode on the first few examples of ds
// (no dropout, no batch norm in training mode below the head), restoring
// any statistics the training-mode pass updated.
func sameInTraining(model nn.Layer, head string, ds data.Dataset) error {
	n := min(ds.Len(), 8)
	h, w, c := ds.Shape()
	x := tensor.Zeros(n, h, w, c)
	for i := range n {
		if _, err := ds.Example(i, x.Data()[i*h*w*c:(i+1)*h*w*c]); err != nil {
			return fmt.Errorf("train.FitHead: %w", err)
		}
	}
	bufs := nn.BuffersOf(model)
	saved := make([]*tensor.Tensor, len(bufs))
	for i, b := range bufs {
		saved[i] = b.Var.Value().Clone()
	}
	defer func() {
		for i, b := range bufs {
			_ = b.Var.Value().CopyFrom(saved[i])
		}
	}()
	features := func(train bool) ([]float32, error) {
		tp := ag.NewTape()
		tp.SetGradEnabled(false)
		defer tp.Reset()
		var cp *ag.Var
		var err error
		if train {
			_, cp, err = nn.CaptureTraining(tp, model, head, ag.Const(x))
		} else {
			_, cp, err = nn.Capture(tp, model, head, ag.Const(x))
		}
		if err != nil {
			return nil, err
		}
		return slices.Clone(cp.Value().Data()), nil
	}
	inf, err := features(false)
	if err != nil {
		return fmt.Errorf("train.FitHead: %w", err)
	}
	tr, err := features(true)
	if err != nil {
		return fmt.Errorf("train.FitHead: %w", err)
	}
	if !slices.Equal(inf, tr) {
		return fmt.Errorf("train.FitHead: the backbone below %s computes other features in training mode than in inference mode (active dropout, or a batch norm that keeps training); the cache would not match training through it: use Fit", head)
	}
	return nil
}
