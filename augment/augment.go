package augment

import (
	"fmt"
	"math/rand/v2"

	"github.com/foveaml/fovea/data"
	"github.com/foveaml/fovea/internal/scratch"
)

// Op is one augmentation whose parameters have the type P, in two steps:
// Sample draws the random parameters for one image, Apply applies them.
// An Op is a value describing options; it holds no state, so one may be
// shared by any number of goroutines. Every transform of this package is
// an Op (HorizontalFlip an Op[FlipParams], RandomCrop an Op[Box], ...)
// and a Transform; Of turns an Op of your own into a Transform.
type Op[P any] interface {
	// OutShape returns the shape of a transformed h×w×c image, or an
	// error if an option is invalid or the op cannot take that shape (a
	// crop larger than the image, PCA colour on one channel).
	OutShape(h, w, c int) (oh, ow, oc int, err error)
	// Sample draws the parameters for one h×w×c image from rng. It
	// assumes OutShape accepts the shape.
	Sample(rng *rand.Rand, h, w, c int) P
	// Inference returns the parameters used when not training: those of
	// the identity (no flip, no rotation, zero alphas), or for ops that
	// must change the shape, the central crop.
	Inference(h, w, c int) P
	// Apply writes the transform of src (h×w×c, HWC) under p into dst,
	// overwriting all of it, or returns an error if p does not fit (a
	// box of another size, a matrix that cannot be inverted). The ops
	// of this package also check that OutShape accepts h×w×c and that
	// the buffers fit it (src of h·w·c values, dst of OutShape's size),
	// as the function Apply does. An Op of your own may leave those
	// checks to its callers: a Pipeline and the function Apply call it
	// only once they have made them.
	Apply(dst, src []float32, h, w, c int, p P) error
}

// stepOp is what a pipeline's turn needs of an Op: to draw its
// parameters, and to apply them to a shape and buffers already checked
// (apply). Each Op of this package is one; Of makes one of any Op.
type stepOp[P any] interface {
	Sample(rng *rand.Rand, h, w, c int) P
	Inference(h, w, c int) P
	apply(dst, src []float32, h, w, c int, p P) error
}

// Apply applies op with the parameters p to src, an h×w×c image, into
// dst: it checks the shape with op.OutShape and the sizes of the buffers,
// then applies op. It is the way to use one Op outside a Pipeline, on
// parameters drawn by op.Sample (or op.Inference, or made by hand); the
// Apply method of an op of this package is this function.
func Apply[P any](op Op[P], dst, src []float32, h, w, c int, p P) error {
	oh, ow, oc, err := op.OutShape(h, w, c)
	if err != nil {
		return fmt.Errorf("augment: %T of a %dx%dx%d image: %w", op, h, w, c, err)
	}
	if err := checkSizes(dst, src, h, w, c, oh, ow, oc); err != nil {
		return fmt.Errorf("augment: %T: %w", op, err)
	}
	if o, ok := op.(stepOp[P]); ok {
		err = o.apply(dst, src, h, w, c, p) // an op of this package: its Apply would check again
	} else {
		err = op.Apply(dst, src, h, w, c, p)
	}
	if err != nil {
		return fmt.Errorf("augment: %T: %w", op, err)
	}
	return nil
}

// Params are one transform's parameters for one image with their type
// hidden, as Pipeline.Sample returns them and Pipeline.Replay takes
// them: each holds its Op's parameter type (FlipParams, Box,
// AffineParams, PCAParams, ...), whose fields may be read, changed and
// replayed.
type Params any

// Transform is an Op with its parameter type hidden, so that ops with
// different parameters line up in a Pipeline. Every transform of this
// package is one; Of makes one of any Op.
type Transform interface {
	// OutShape is the Op's.
	OutShape(h, w, c int) (oh, ow, oc int, err error)
	// step takes the Op's turn in a pipeline (see runStep).
	step(k call) (Params, error)
}

// Of returns op as a Transform, for a Pipeline.
func Of[P any](op Op[P]) Transform { return typed[P]{op} }

// typed is the Transform of an Op from outside the package: its own
// Apply is applied unchecked, as the Op contract allows.
type typed[P any] struct{ Op[P] }

func (t typed[P]) apply(dst, src []float32, h, w, c int, p P) error {
	return t.Op.Apply(dst, src, h, w, c, p)
}

func (t typed[P]) step(k call) (Params, error) { return runStep(t, k) }

func (t typed[P]) unwrap() any { return t.Op }

// name returns the name of t's Op, for errors.
func name(t Transform) string {
	if u, ok := t.(interface{ unwrap() any }); ok {
		return fmt.Sprintf("%T", u.unwrap())
	}
	return fmt.Sprintf("%T", t)
}

// call is one transform's turn on one image whose shape the pipeline
// has checked with OutShape.
type call struct {
	dst, src []float32
	h, w, c  int
	rng      *rand.Rand
	train    bool // draw parameters from rng, rather than Inference's
	// replay applies params instead of drawing parameters; draw returns
	// the drawn parameters instead of applying them.
	replay, draw bool
	params       Params
}

// runStep is every transform's step: draw op's parameters (or take those
// to replay, their type asserted here, once), then apply them. Typed all
// the way, and k passed by value, a pipeline's Apply allocates nothing.
func runStep[P any, T stepOp[P]](op T, k call) (Params, error) {
	var p P
	switch {
	case k.replay:
		q, ok := k.params.(P)
		if !ok {
			return nil, fmt.Errorf("parameters of type %T, want %T", k.params, p)
		}
		p = q
	case k.train:
		p = op.Sample(k.rng, k.h, k.w, k.c)
	default:
		p = op.Inference(k.h, k.w, k.c)
	}
	if k.draw {
		return p, nil
	}
	return nil, op.apply(k.dst, k.src, k.h, k.w, k.c, p)
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
		if h, w, c, err = outShape(i, t, h, w, c); err != nil {
			return 0, 0, 0, err
		}
	}
	return h, w, c, nil
}

// outShape is t.OutShape, its error naming t, the i-th transform.
func outShape(i int, t Transform, h, w, c int) (int, int, int, error) {
	oh, ow, oc, err := t.OutShape(h, w, c)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("augment: transform %d (%s) of a %dx%dx%d image: %w", i, name(t), h, w, c, err)
	}
	return oh, ow, oc, nil
}

// Sample draws the parameters of every transform for one h×w×c image (or
// takes their Inference parameters if p is not training).
func (p *Pipeline) Sample(rng *rand.Rand, h, w, c int) (PipelineParams, error) {
	pp := make(PipelineParams, len(p.Transforms))
	k := call{rng: rng, train: p.Train, draw: true}
	for i, t := range p.Transforms {
		nh, nw, nc, err := outShape(i, t, h, w, c)
		if err != nil {
			return nil, err
		}
		k.h, k.w, k.c = h, w, c
		if pp[i], err = t.step(k); err != nil {
			return nil, fmt.Errorf("augment: transform %d (%s): %w", i, name(t), err)
		}
		h, w, c = nh, nw, nc
	}
	return pp, nil
}

// Apply augments one image: each transform draws its parameters from rng
// and applies them, as Sample then Replay would. It implements
// data.Transform.
func (p *Pipeline) Apply(dst, src []float32, h, w, c int, rng *rand.Rand) error {
	return p.run(dst, src, h, w, c, call{rng: rng, train: p.Train}, nil)
}

// Replay applies the transforms with the given parameters (from Sample,
// perhaps edited) to src, h×w×c, writing the result into dst.
func (p *Pipeline) Replay(dst, src []float32, h, w, c int, pp PipelineParams) error {
	if len(pp) != len(p.Transforms) {
		return fmt.Errorf("augment: %d parameters for a pipeline of %d transforms", len(pp), len(p.Transforms))
	}
	return p.run(dst, src, h, w, c, call{replay: true}, pp)
}

// run checks the shapes of every transform's turn, once, then takes the
// turns, intermediate images ping-ponging between the two halves of one
// pooled buffer and the last written into dst. With pp, each turn
// replays its parameters.
func (p *Pipeline) run(dst, src []float32, h, w, c int, k call, pp PipelineParams) error {
	// shapes[i] is the input shape of transform i, shapes[n] the output.
	var stack [8][3]int
	shapes := append(stack[:0], [3]int{h, w, c})
	var half [2]int // the larger image of the even and the odd turns
	for i, t := range p.Transforms {
		nh, nw, nc, err := outShape(i, t, h, w, c)
		if err != nil {
			return err
		}
		h, w, c = nh, nw, nc
		shapes = append(shapes, [3]int{h, w, c})
		if i < len(p.Transforms)-1 {
			half[i%2] = max(half[i%2], h*w*c)
		}
	}
	if err := checkSizes(dst, src, shapes[0][0], shapes[0][1], shapes[0][2], h, w, c); err != nil {
		return fmt.Errorf("augment: %w", err)
	}
	if len(p.Transforms) == 0 {
		copy(dst, src)
		return nil
	}
	var buf []float32
	if half[0] > 0 {
		buf = scratch.Floats.Get(half[0] + half[1])
		defer scratch.Floats.Put(buf)
	}
	k.src = src
	for i, t := range p.Transforms {
		in, out := shapes[i], shapes[i+1]
		k.dst = dst
		if i < len(p.Transforms)-1 {
			off := (i % 2) * half[0]
			k.dst = buf[off : off+out[0]*out[1]*out[2]]
		}
		k.h, k.w, k.c = in[0], in[1], in[2]
		if pp != nil {
			k.params = pp[i]
		}
		if _, err := t.step(k); err != nil {
			return fmt.Errorf("augment: transform %d (%s): %w", i, name(t), err)
		}
		k.src = k.dst
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
