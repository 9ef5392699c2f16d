package augment

import (
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/foveaml/fovea/data"
)

// Params are the random draws of one transform for one image: a flip
// decision, a crop box, an affine transform's angle and shifts, PCA
// colour alphas. Each transform documents its concrete type (FlipParams,
// Box, AffineParams, PCAParams, ...), whose fields may be read, changed
// and replayed.
type Params any

// Transform is one augmentation step, in two parts: Sample draws the
// random parameters for one image, Apply applies them. A Transform is
// a value describing options; it holds no state, so one may be shared by
// any number of goroutines.
type Transform interface {
	// OutShape returns the shape of a transformed h×w×c image, or an
	// error if an option is invalid or the transform cannot take that
	// shape (a crop larger than the image, PCA colour on one channel).
	OutShape(h, w, c int) (oh, ow, oc int, err error)
	// Sample draws the parameters for one h×w×c image from rng. It
	// assumes OutShape accepts the shape.
	Sample(rng *rand.Rand, h, w, c int) Params
	// Inference returns the parameters used when not training: those of
	// the identity (no flip, no rotation, zero alphas), or for
	// transforms that must change the shape, the central crop.
	Inference(h, w, c int) Params
	// Apply writes the transform of src (h×w×c, HWC) under p into dst,
	// which must hold OutShape's size and must not overlap src. It
	// overwrites all of dst.
	Apply(dst, src []float32, h, w, c int, p Params) error
}

// Pipeline applies transforms one after another. It implements
// data.Transform, so it plugs into data.LoaderOptions.Transform and
// train.Config.Transform; the loader hands each example its own seeded
// source, so an augmented batch does not depend on the number of
// workers. A Pipeline is safe for concurrent use.
type Pipeline struct {
	// Transforms are applied in order.
	Transforms []Transform
	// Train makes Apply sample random parameters; without it every
	// transform takes its Inference parameters (the identity, or a
	// central crop), and no random number is drawn.
	Train bool
}

// New returns a training Pipeline of the transforms.
func New(ts ...Transform) *Pipeline { return &Pipeline{Transforms: ts, Train: true} }

// Inference returns a view of p for evaluation: the same transforms, each
// the identity (shape-changing ones take their central crop).
func (p *Pipeline) Inference() *Pipeline {
	return &Pipeline{Transforms: p.Transforms, Train: false}
}

// PipelineParams holds the parameters of each of a Pipeline's transforms
// for one image, in order.
type PipelineParams []Params

// OutShape returns the shape of a transformed h×w×c image, or the first
// transform's error, naming it.
func (p *Pipeline) OutShape(h, w, c int) (oh, ow, oc int, err error) {
	for i, t := range p.Transforms {
		nh, nw, nc, err := t.OutShape(h, w, c)
		if err != nil {
			return 0, 0, 0, fmt.Errorf("augment: transform %d (%T) of a %dx%dx%d image: %w", i, t, h, w, c, err)
		}
		h, w, c = nh, nw, nc
	}
	return h, w, c, nil
}

// Sample draws the parameters of every transform for one h×w×c image (or
// takes their Inference parameters if p is not training).
func (p *Pipeline) Sample(rng *rand.Rand, h, w, c int) (PipelineParams, error) {
	pp := make(PipelineParams, len(p.Transforms))
	for i, t := range p.Transforms {
		nh, nw, nc, err := t.OutShape(h, w, c)
		if err != nil {
			return nil, fmt.Errorf("augment: transform %d (%T) of a %dx%dx%d image: %w", i, t, h, w, c, err)
		}
		if p.Train {
			pp[i] = t.Sample(rng, h, w, c)
		} else {
			pp[i] = t.Inference(h, w, c)
		}
		h, w, c = nh, nw, nc
	}
	return pp, nil
}

// Apply augments one image: it samples parameters from rng and replays
// them. It implements data.Transform.
func (p *Pipeline) Apply(dst, src []float32, h, w, c int, rng *rand.Rand) error {
	pp, err := p.Sample(rng, h, w, c)
	if err != nil {
		return err
	}
	return p.Replay(dst, src, h, w, c, pp)
}

// Replay applies the transforms with the given parameters (from Sample,
// perhaps edited) to src, h×w×c, writing the result into dst.
func (p *Pipeline) Replay(dst, src []float32, h, w, c int, pp PipelineParams) error {
	if len(pp) != len(p.Transforms) {
		return fmt.Errorf("augment: %d parameters for a pipeline of %d transforms", len(pp), len(p.Transforms))
	}
	if len(src) != h*w*c {
		return fmt.Errorf("augment: source holds %d values, a %dx%dx%d image %d", len(src), h, w, c, h*w*c)
	}
	if len(p.Transforms) == 0 {
		if len(dst) != len(src) {
			return fmt.Errorf("augment: destination holds %d values, want %d", len(dst), len(src))
		}
		copy(dst, src)
		return nil
	}
	// Intermediate images ping-pong between two pooled buffers; the last
	// transform writes into dst.
	var bufs [2]*[]float32
	defer func() {
		for _, b := range bufs {
			if b != nil {
				bufPool.Put(b)
			}
		}
	}()
	cur := src
	last := len(p.Transforms) - 1
	for i, t := range p.Transforms {
		nh, nw, nc, err := t.OutShape(h, w, c)
		if err != nil {
			return fmt.Errorf("augment: transform %d (%T) of a %dx%dx%d image: %w", i, t, h, w, c, err)
		}
		out := dst
		if i < last {
			k := i % 2
			if bufs[k] == nil {
				bufs[k] = getBuf(nh * nw * nc)
			}
			*bufs[k] = grow(*bufs[k], nh*nw*nc)
			out = *bufs[k]
		} else if len(dst) != nh*nw*nc {
			return fmt.Errorf("augment: destination holds %d values, a %dx%dx%d image %d", len(dst), nh, nw, nc, nh*nw*nc)
		}
		if err := t.Apply(out, cur, h, w, c, pp[i]); err != nil {
			return fmt.Errorf("augment: transform %d (%T): %w", i, t, err)
		}
		cur = out
		h, w, c = nh, nw, nc
	}
	return nil
}

// ApplyBatch augments n images of h×w×c held one after another in src
// into dst, drawing example i's parameters from the source the Loader
// would give example i of epoch with this seed (data.ExampleSeed), so the
// result equals an unshuffled Loader's batch, whatever the workers.
func ApplyBatch(t data.Transform, dst, src []float32, n, h, w, c int, seed uint64, epoch int) error {
	oh, ow, oc, err := t.OutShape(h, w, c)
	if err != nil {
		return err
	}
	in, out := h*w*c, oh*ow*oc
	if len(src) != n*in || len(dst) != n*out {
		return fmt.Errorf("augment.ApplyBatch: %d images need %d source and %d destination values, have %d and %d", n, n*in, n*out, len(src), len(dst))
	}
	pcg := rand.NewPCG(0, 0)
	rng := rand.New(pcg)
	for i := range n {
		pcg.Seed(data.ExampleSeed(seed, epoch, i))
		if err := t.Apply(dst[i*out:(i+1)*out], src[i*in:(i+1)*in], h, w, c, rng); err != nil {
			return fmt.Errorf("augment.ApplyBatch: image %d: %w", i, err)
		}
	}
	return nil
}

// bufPool recycles scratch images between calls (and goroutines).
var bufPool sync.Pool

func getBuf(n int) *[]float32 {
	if b, ok := bufPool.Get().(*[]float32); ok {
		*b = grow(*b, n)
		return b
	}
	b := make([]float32, n)
	return &b
}

// grow returns b resized to n, reallocated if its capacity is short.
func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

// paramsError reports parameters of the wrong type.
func paramsError(want string, p Params) error {
	return fmt.Errorf("parameters of type %T, want %s", p, want)
}

// checkSizes verifies the lengths of an Apply's buffers.
func checkSizes(dst, src []float32, h, w, c, oh, ow, oc int) error {
	if len(src) != h*w*c {
		return fmt.Errorf("source holds %d values, a %dx%dx%d image %d", len(src), h, w, c, h*w*c)
	}
	if len(dst) != oh*ow*oc {
		return fmt.Errorf("destination holds %d values, a %dx%dx%d image %d", len(dst), oh, ow, oc, oh*ow*oc)
	}
	return nil
}

// checkShape rejects a non-positive shape.
func checkShape(h, w, c int) error {
	if h <= 0 || w <= 0 || c <= 0 {
		return fmt.Errorf("shape %dx%dx%d is not positive", h, w, c)
	}
	return nil
}

// uniform returns a uniform draw from [lo, hi], or lo without drawing if
// the range is empty.
func uniform(rng *rand.Rand, lo, hi float64) float64 {
	if hi <= lo {
		return lo
	}
	return lo + (hi-lo)*rng.Float64()
}

// orDefault returns v, or def if v is the zero value.
func orDefault(v, def float64) float64 {
	if v == 0 {
		return def
	}
	return v
}

// probability validates a probability option whose zero value means def.
func probability(name string, p, def float64) (float64, error) {
	if p < 0 || p > 1 || p != p {
		return 0, fmt.Errorf("%s %v is not a probability in [0, 1]", name, p)
	}
	return orDefault(p, def), nil
}
