package kern

import (
	"math"
	"testing"
)

func TestDropoutMask(t *testing.T) {
	for _, p := range []float32{0, 0.1, 0.5, 0.9, 1} {
		n := 3*elemGrain + 11 // long enough to be drawn in parallel
		mask, check := guardedFill(t, n, nan32)
		DropoutMask(mask, p, 42)
		check()
		keep := float32(0)
		if p < 1 {
			keep = 1 / (1 - p)
		}
		kept := 0
		for i, v := range mask {
			if v != 0 && v != keep {
				t.Fatalf("p=%v: mask[%d] = %v, want 0 or %v", p, i, v, keep)
			}
			if v != 0 {
				kept++
			}
		}
		// The kept fraction is binomial: within 5 standard deviations.
		q := 1 - float64(p)
		if sd := math.Sqrt(float64(n) * q * (1 - q)); math.Abs(float64(kept)-float64(n)*q) > 5*sd {
			t.Errorf("p=%v: kept %d of %d, expected about %.0f", p, kept, n, float64(n)*q)
		}
		// The same seed gives the same mask, drawn in parallel or one by one.
		for i := 0; i < n; i += 997 {
			one := []float32{0}
			DropoutMask(one, p, 42+uint64(i)*0x9e3779b97f4a7c15)
			if one[0] != mask[i] {
				t.Fatalf("p=%v: element %d differs when drawn alone", p, i)
			}
		}
	}
	a, b := make([]float32, 1000), make([]float32, 1000)
	DropoutMask(a, 0.5, 1)
	DropoutMask(b, 0.5, 2)
	same := 0
	for i := range a {
		if a[i] == b[i] {
			same++
		}
	}
	if same > 600 {
		t.Errorf("seeds 1 and 2 agree on %d of 1000 elements", same)
	}
}

func TestDropout(t *testing.T) {
	forEachVec(t, func(t *testing.T) {
		for _, n := range []int{0, 1, 31, 1000} {
			r := newRand(uint64(n))
			x, dy := randSlice(r, n, -1, 1), randSlice(r, n, -1, 1)
			mask := make([]float32, n)
			DropoutMask(mask, 0.3, uint64(n))
			y, checkY := guardedFill(t, n, nan32)
			Dropout(y, x, mask)
			checkY()
			dx, checkDX := guardedFill(t, n, nan32)
			DropoutBackward(dx, dy, mask)
			checkDX()
			wantY, wantDX := make([]float64, n), make([]float64, n)
			for i := range x {
				wantY[i] = float64(x[i]) * float64(mask[i])
				wantDX[i] = float64(dy[i]) * float64(mask[i])
			}
			assertClose(t, "Dropout", y, wantY, 1e-7)
			assertClose(t, "DropoutBackward", dx, wantDX, 1e-7)
		}
	})
}
