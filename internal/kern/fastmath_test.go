package kern

import (
	"math"
	"testing"
)

// ulpErr returns |got-want| in units of the last place of want in float32.
func ulpErr(got float32, want float64) float64 {
	w := float32(want)
	ulp := float64(math.Nextafter32(float32(math.Abs(float64(w))), float32(math.Inf(1)))) - math.Abs(float64(w))
	return math.Abs(float64(got)-want) / ulp
}

// sweep calls f on a dense grid of [lo, hi] and on random points in it.
func sweep(lo, hi float64, f func(x float32)) {
	const n = 200000
	for i := 0; i <= n; i++ {
		f(float32(lo + (hi-lo)*float64(i)/n))
	}
	r := newRand(7)
	for range n {
		f(float32(lo + (hi-lo)*r.Float64()))
	}
}

func TestExp32(t *testing.T) {
	worst, at := 0.0, float32(0)
	// The normal range of results: e^-87.3 ≈ 2^-126.
	sweep(-87.3, 88.72, func(x float32) {
		if e := ulpErr(exp32(x), math.Exp(float64(x))); e > worst {
			worst, at = e, x
		}
	})
	t.Logf("exp32: max error %.2f ulp at x=%v", worst, at)
	if worst > 2 {
		t.Errorf("exp32: error %.2f ulp at x=%v, want ≤ 2", worst, at)
	}
	// Subnormal results: absolute error within a few of the smallest step.
	sweep(-103.9, -87.3, func(x float32) {
		if d := math.Abs(float64(exp32(x)) - math.Exp(float64(x))); d > 4e-45 {
			t.Fatalf("exp32(%v) = %v, want %v", x, exp32(x), math.Exp(float64(x)))
		}
	})
	inf := float32(math.Inf(1))
	for _, c := range []struct{ x, want float32 }{
		{0, 1}, {1, math.E}, {88.72283935546875, inf}, {89, inf}, {1e30, inf}, {inf, inf},
		{-104, 0}, {-1e30, 0}, {-inf, 0},
	} {
		if got := exp32(c.x); got != c.want {
			t.Errorf("exp32(%v) = %v, want %v", c.x, got, c.want)
		}
	}
	if got := exp32(88.7228); math.IsInf(float64(got), 0) || got < 3.4e38 {
		t.Errorf("exp32(88.7228) = %v, want finite near MaxFloat32", got)
	}
	if got := exp32(nan32); !math.IsNaN(float64(got)) {
		t.Errorf("exp32(NaN) = %v", got)
	}
}

func TestTanhSigmoid32(t *testing.T) {
	worstT, worstS := 0.0, 0.0
	sweep(-20, 20, func(x float32) {
		worstT = max(worstT, ulpErr(tanh32(x), math.Tanh(float64(x))))
		worstS = max(worstS, ulpErr(sigmoid32(x), 1/(1+math.Exp(-float64(x)))))
	})
	// Tiny arguments, where tanh(x) ≈ x must keep full relative accuracy.
	sweep(-1e-3, 1e-3, func(x float32) {
		worstT = max(worstT, ulpErr(tanh32(x), math.Tanh(float64(x))))
	})
	t.Logf("tanh32: %.2f ulp, sigmoid32: %.2f ulp", worstT, worstS)
	if worstT > 3 || worstS > 3 {
		t.Errorf("tanh32 %.2f ulp, sigmoid32 %.2f ulp, want ≤ 3", worstT, worstS)
	}
	// Saturation: no NaN or Inf for large |x|; sigmoid of very negative
	// x keeps relative accuracy (e^x), and never exceeds [0, 1].
	for _, x := range []float32{-1e38, -1000, -100, -88, 88, 100, 1000, 1e38} {
		th, sg := tanh32(x), sigmoid32(x)
		if th != float32(math.Copysign(1, float64(x))) {
			t.Errorf("tanh32(%v) = %v", x, th)
		}
		if math.IsNaN(float64(sg)) || sg < 0 || sg > 1 {
			t.Errorf("sigmoid32(%v) = %v", x, sg)
		}
	}
	if got, want := sigmoid32(-80), math.Exp(-80); math.Abs(float64(got)-want) > 1e-6*want {
		t.Errorf("sigmoid32(-80) = %v, want %v", got, want)
	}
	for _, f := range []func(float32) float32{tanh32, sigmoid32} {
		if got := f(nan32); !math.IsNaN(float64(got)) {
			t.Errorf("NaN in, %v out", got)
		}
	}
}

func BenchmarkExp32(b *testing.B) {
	x := randSlice(newRand(1), 4096, -20, 20)
	s := float32(0)
	for b.Loop() {
		for _, v := range x {
			s += exp32(v)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(x)), "ns/exp")
	_ = s
}
