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

// apply runs t with parameters p and returns the output.
func apply(t *testing.T, tr Transform, src []float32, h, w, c int, p Params) []float32 {
	t.Helper()
	oh, ow, oc, err := tr.OutShape(h, w, c)
	if err != nil {
		t.Fatalf("%T.OutShape(%d, %d, %d): %v", tr, h, w, c, err)
	}
	dst := make([]float32, oh*ow*oc)
	for i := range dst {
		dst[i] = float32(math.NaN()) // Apply must overwrite all of dst
	}
	if err := tr.Apply(dst, src, h, w, c, p); err != nil {
		t.Fatalf("%T.Apply: %v", tr, err)
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
