package augment

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/foveaml/fovea/data"
)

func cifarPipeline() *Pipeline {
	return New(RandomCrop{Padding: 4, Fill: FillReflect}, HorizontalFlip{}, ImageNetPCA,
		&Affine{Degrees: [2]float64{-10, 10}}, RandomErasing{})
}

func TestPipelineReplay(t *testing.T) {
	p := cifarPipeline()
	img := randImage(newRand(1), 12, 12, 3)
	a := make([]float32, len(img))
	b := make([]float32, len(img))
	// The same seed gives the same parameters and image.
	if err := p.Apply(a, img, 12, 12, 3, newRand(42)); err != nil {
		t.Fatal(err)
	}
	pp, err := p.Sample(newRand(42), 12, 12, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Replay(b, img, 12, 12, 3, pp); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a, b) {
		t.Error("replaying the sampled parameters differs from Apply")
	}
	// The parameters replay on another image (a second channel set, a
	// label map) of the same shape: here, replaying on the image twice.
	if err := p.Replay(b, img, 12, 12, 3, pp); err != nil || !slices.Equal(a, b) {
		t.Error("replay is not deterministic")
	}
	// Another seed, another image.
	p.Apply(b, img, 12, 12, 3, newRand(43))
	if slices.Equal(a, b) {
		t.Error("seeds 42 and 43 gave the same augmentation")
	}
	// Wrong parameter counts and types are errors.
	if err := p.Replay(b, img, 12, 12, 3, pp[:2]); err == nil {
		t.Error("short parameters: no error")
	}
	pp[0] = FlipParams{}
	if err := p.Replay(b, img, 12, 12, 3, pp); err == nil {
		t.Error("parameters of the wrong type: no error")
	}
}

func TestPipelineInferenceIsIdentity(t *testing.T) {
	img := randImage(newRand(2), 12, 12, 3)
	out := make([]float32, len(img))
	inf := cifarPipeline().Inference()
	rng := newRand(3)
	before := rng.Uint64()
	rng = newRand(3)
	if err := inf.Apply(out, img, 12, 12, 3, rng); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(out, img) {
		t.Error("the pipeline at inference is not the identity")
	}
	if rng.Uint64() != before {
		t.Error("inference drew random numbers")
	}
	// A shape-changing pipeline takes central crops.
	p := New(RandomCrop{Height: 2, Width: 2}, HorizontalFlip{}).Inference()
	out = out[:4]
	p.Apply(out, seq(4, 4, 1), 4, 4, 1, nil)
	if want := []float32{5, 6, 9, 10}; !slices.Equal(out, want) {
		t.Errorf("inference crop %v, want %v", out, want)
	}
}

func TestEmptyPipelineCopies(t *testing.T) {
	img := seq(2, 2, 1)
	out := make([]float32, 4)
	if err := New().Apply(out, img, 2, 2, 1, newRand(1)); err != nil || !slices.Equal(out, img) {
		t.Errorf("empty pipeline: %v %v", out, err)
	}
}

// TestLoaderBatchesDoNotDependOnWorkers checks that a loader's augmented
// batches are the same with 1 and 3 workers, and equal ApplyBatch's.
func TestLoaderBatchesDoNotDependOnWorkers(t *testing.T) {
	const n, h, w = 37, 10, 10
	pix := randImage(newRand(5), n*h, w, 3)
	ds, err := data.NewInMemory(pix, make([]int32, n), h, w, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	p := New(RandomResizedCrop{Height: 8, Width: 8}, HorizontalFlip{}, ImageNetPCA, RandomErasing{})
	batches := func(workers int) []float32 {
		l, err := data.NewLoader(ds, data.LoaderOptions{BatchSize: 8, Workers: workers, Seed: 99, Transform: p})
		if err != nil {
			t.Fatal(err)
		}
		var all []float32
		for b, err := range l.All(0) {
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, b.X.Data()...)
		}
		return all
	}
	one, three := batches(1), batches(3)
	if !slices.Equal(one, three) {
		t.Error("1 and 3 workers gave different batches")
	}
	direct := make([]float32, n*8*8*3)
	if err := ApplyBatch(p, direct, pix, n, h, w, 3, 99, 0); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(one, direct) {
		t.Error("ApplyBatch differs from the loader")
	}
	// A bad option stops the loader before any work, naming the transform.
	if _, err := data.NewLoader(ds, data.LoaderOptions{Transform: New(CenterCrop{Height: 20, Width: 20})}); err == nil {
		t.Error("a crop larger than the images: no loader error")
	}
}

func TestPresets(t *testing.T) {
	for _, name := range PresetNames() {
		p, err := Preset(name)
		if err != nil {
			t.Fatal(err)
		}
		h, w, c := 32, 32, 3
		switch name {
		case "mnist":
			h, w, c = 28, 28, 1
		case "alexnet", "imagenet":
			h, w = 256, 256
		}
		oh, ow, oc, err := p.OutShape(h, w, c)
		if err != nil {
			t.Fatalf("preset %s: %v", name, err)
		}
		out := make([]float32, oh*ow*oc)
		if err := p.Apply(out, randImage(newRand(1), h, w, c), h, w, c, rand.New(rand.NewPCG(1, 1))); err != nil {
			t.Errorf("preset %s: %v", name, err)
		}
		if PresetDoc(name) == "" {
			t.Errorf("preset %s has no description", name)
		}
	}
	if _, err := Preset("nope"); err == nil {
		t.Error("unknown preset: no error")
	}
}

// counted is an Op that counts the calls of its OutShape.
type counted struct{ shapes *int }

func (o counted) OutShape(h, w, c int) (int, int, int, error) {
	*o.shapes++
	return h, w, c, nil
}

func (counted) Sample(rng *rand.Rand, h, w, c int) FlipParams {
	return FlipParams{Flip: rng.IntN(2) == 0}
}

func (counted) Inference(h, w, c int) FlipParams { return FlipParams{} }

func (counted) Apply(dst, src []float32, h, w, c int, p FlipParams) error {
	return applyFlip(dst, src, h, w, c, p, FlipH)
}

// TestPipelineChecksShapesOnce checks that Apply, Sample and Replay each
// ask every transform for its shape once per image, and that Apply and
// Replay allocate nothing.
func TestPipelineChecksShapesOnce(t *testing.T) {
	var shapes int
	p := New(Of(counted{&shapes}), RandomCrop{Padding: 2}, Of(counted{&shapes}), ImageNetPCA)
	img := randImage(newRand(1), 6, 5, 3)
	out := make([]float32, len(img))
	rng := newRand(2)
	if err := p.Apply(out, img, 6, 5, 3, rng); err != nil || shapes != 2 {
		t.Errorf("Apply: %d shape checks of 2 transforms (error %v)", shapes, err)
	}
	pp, err := p.Sample(rng, 6, 5, 3)
	if err != nil || shapes != 4 {
		t.Errorf("Sample: %d shape checks of 2 transforms (error %v)", shapes-2, err)
	}
	if err := p.Replay(out, img, 6, 5, 3, pp); err != nil || shapes != 6 {
		t.Errorf("Replay: %d shape checks of 2 transforms (error %v)", shapes-4, err)
	}
	if n := testing.AllocsPerRun(50, func() { p.Apply(out, img, 6, 5, 3, rng) }); n != 0 {
		t.Errorf("Apply: %v allocations per image", n)
	}
	if n := testing.AllocsPerRun(50, func() { p.Replay(out, img, 6, 5, 3, pp) }); n != 0 {
		t.Errorf("Replay: %v allocations per image", n)
	}
}

// TestOpApplyChecksBuffers calls the Apply method of every op of the
// package directly, as a user may: buffers of the wrong size and a
// shape the op cannot take are errors that say what was expected, never
// a panic or a silent partial write.
func TestOpApplyChecksBuffers(t *testing.T) {
	checkDirectApply(t, HorizontalFlip{})
	checkDirectApply(t, VerticalFlip{})
	checkDirectApply(t, &Affine{Degrees: [2]float64{-10, 10}})
	checkDirectApply(t, ColorJitter{Brightness: 0.2})
	checkDirectApply(t, Grayscale{})
	checkDirectApply(t, Normalize{Mean: []float64{0.5, 0.5, 0.5}, Std: []float64{0.2, 0.2, 0.2}})
	checkDirectApply(t, RandomCrop{Height: 4, Width: 4})
	checkDirectApply(t, CenterCrop{Height: 4, Width: 4})
	checkDirectApply(t, RandomResizedCrop{Height: 4, Width: 4})
	checkDirectApply(t, RandomErasing{})
	checkDirectApply(t, ImageNetPCA)
	checkDirectApply(t, Resize{Height: 4, Width: 4})
}

func checkDirectApply[P any](t *testing.T, op Op[P]) {
	t.Helper()
	h, w, c := 8, 8, 3
	oh, ow, oc, err := op.OutShape(h, w, c)
	if err != nil {
		t.Fatalf("%T.OutShape: %v", op, err)
	}
	p := op.Inference(h, w, c)
	src := randImage(newRand(1), h, w, c)
	dst := make([]float32, oh*ow*oc)
	if err := op.Apply(dst, src, h, w, c, p); err != nil {
		t.Fatalf("%T.Apply on fitting buffers: %v", op, err)
	}
	for _, k := range []struct {
		what, want string
		dst, src   []float32
	}{
		{"a short destination", "destination holds", dst[:len(dst)-1], src},
		{"a long destination", "destination holds", make([]float32, len(dst)+1), src},
		{"a short source", "source holds", dst, src[:len(src)-1]},
	} {
		err := op.Apply(k.dst, k.src, h, w, c, p)
		if err == nil || !strings.Contains(err.Error(), k.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%T.Apply with %s: %v; want a one-line error saying %q", op, k.what, err, k.want)
		}
	}
	if err := op.Apply(dst, src, 0, w, c, p); err == nil || !strings.Contains(err.Error(), "0x8x3") {
		t.Errorf("%T.Apply of a 0x8x3 image: %v; want an error naming the shape", op, err)
	}
}
