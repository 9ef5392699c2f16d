package kern

import (
	"math"
	"math/rand/v2"
	"testing"
)

// guard is the value written around every output buffer; a kernel that
// writes out of bounds changes it.
const guard = 12345.0

const guardLen = 19

// guarded returns an n-float slice cut from the middle of a larger buffer
// whose margins hold guard values, and a check that the margins are intact.
// The slice's capacity is n, so appends cannot reach the margins either.
func guarded(t *testing.T, n int) ([]float32, func()) {
	t.Helper()
	buf := make([]float32, n+2*guardLen)
	for i := range buf {
		buf[i] = guard
	}
	check := func() {
		t.Helper()
		for i, v := range buf {
			if (i < guardLen || i >= guardLen+n) && v != guard {
				t.Fatalf("out-of-bounds write at offset %d (n=%d): %v", i-guardLen, n, v)
			}
		}
	}
	return buf[guardLen : guardLen+n : guardLen+n], check
}

// guardedFill is guarded with the slice filled with fill (NaN by default
// in most tests, so unwritten outputs show up).
func guardedFill(t *testing.T, n int, fill float32) ([]float32, func()) {
	t.Helper()
	s, check := guarded(t, n)
	for i := range s {
		s[i] = fill
	}
	return s, check
}

var nan32 = float32(math.NaN())

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

// randSlice returns n values uniform in [lo, hi).
func randSlice(r *rand.Rand, n int, lo, hi float64) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(lo + (hi-lo)*r.Float64())
	}
	return s
}

// forEachVec runs f once per element-wise implementation (assembly and
// pure Go), with that implementation installed as the package's vec.
func forEachVec(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	saved := vec
	defer func() { vec = saved }()
	for _, v := range vecImpls {
		vec = v
		t.Run(v.name, f)
	}
}

// closeTo reports whether got is within tol of want, relative to
// max(1, |want|).
func closeTo(got, want, tol float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(got)
	}
	if math.IsInf(want, 0) {
		return got == want
	}
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}

// assertClose fails the test at the first element of got that is not
// within tol of want.
func assertClose[T float32 | float64](t *testing.T, what string, got []float32, want []T, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: len %d, want %d", what, len(got), len(want))
	}
	for i := range got {
		if !closeTo(float64(got[i]), float64(want[i]), tol) {
			t.Fatalf("%s: [%d] = %v, want %v (tol %g)", what, i, got[i], want[i], tol)
		}
	}
}

// numGrad returns the central finite-difference gradient of the scalar f
// (a float64 reference of a forward pass) with respect to every element of
// x, with step h.
func numGrad(x []float64, h float64, f func() float64) []float64 {
	g := make([]float64, len(x))
	for i := range x {
		v := x[i]
		x[i] = v + h
		fp := f()
		x[i] = v - h
		fm := f()
		x[i] = v
		g[i] = (fp - fm) / (2 * h)
	}
	return g
}

// to64 converts to float64.
func to64(s []float32) []float64 {
	d := make([]float64, len(s))
	for i, v := range s {
		d[i] = float64(v)
	}
	return d
}

// dot64 returns Σ a[i]·b[i]: the scalar loss whose gradient with respect
// to a is b, which turns a forward reference into a gradient check.
func dot64(a []float64, b []float32) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * float64(b[i])
	}
	return s
}
