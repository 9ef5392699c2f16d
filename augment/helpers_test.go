package augment

import (
	"math"
	"math/rand/v2"
	"testing"
)

// seq returns an h×w×c image whose values are 0, 1, 2, ...
func seq(h, w, c int) []float32 {
	img := make([]float32, h*w*c)
	for i := range img {
		img[i] = float32(i)
	}
	return img
}

// randImage returns an h×w×c image of uniform values in [0, 1).
func randImage(rng *rand.Rand, h, w, c int) []float32 {
	img := make([]float32, h*w*c)
	for i := range img {
		img[i] = rng.Float32()
	}
	return img
}

// apply runs op with parameters p and returns the output.
func apply[P any](t *testing.T, op Op[P], src []float32, h, w, c int, p P) []float32 {
	t.Helper()
	dst := nanImage(t, op, h, w, c)
	if err := Apply(op, dst, src, h, w, c, p); err != nil {
		t.Fatalf("%T.Apply: %v", op, err)
	}
	return dst
}

// applyRandom runs tr on parameters drawn from rng, through a pipeline,
// and returns the output.
func applyRandom(t *testing.T, tr Transform, src []float32, h, w, c int, rng *rand.Rand) []float32 {
	t.Helper()
	dst := nanImage(t, tr, h, w, c)
	if err := New(tr).Apply(dst, src, h, w, c, rng); err != nil {
		t.Fatalf("%T: %v", tr, err)
	}
	return dst
}

// nanImage returns an output image for tr of NaNs: Apply must overwrite
// all of it.
func nanImage(t *testing.T, tr interface {
	OutShape(h, w, c int) (int, int, int, error)
}, h, w, c int) []float32 {
	t.Helper()
	oh, ow, oc, err := tr.OutShape(h, w, c)
	if err != nil {
		t.Fatalf("%T.OutShape(%d, %d, %d): %v", tr, h, w, c, err)
	}
	dst := make([]float32, oh*ow*oc)
	for i := range dst {
		dst[i] = float32(math.NaN())
	}
	return dst
}

// maxDiff returns the largest absolute difference of a and b, or +Inf
// if their lengths differ or a value is not finite.
func maxDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var m float64
	for i := range a {
		d := math.Abs(float64(a[i]) - float64(b[i]))
		if math.IsNaN(d) {
			return math.Inf(1)
		}
		m = max(m, d)
	}
	return m
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0xabcdef)) }
