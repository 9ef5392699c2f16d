package resample

import (
	"math"
	"testing"
)

// TestTapsSumToOneInRange checks every filter's taps: weights sum to 1
// and never reach outside [lo, lo+in).
func TestTapsSumToOneInRange(t *testing.T) {
	for _, f := range []Filter{Bilinear, Area, Nearest} {
		for _, c := range [][3]int{{0, 7, 3}, {5, 3, 7}, {2, 10, 10}, {0, 1, 4}, {3, 224, 28}} {
			lo, in, out := c[0], c[1], c[2]
			tp := NewTaps(lo, in, out, f)
			for o := range out {
				var sum float64
				for k, w := range tp.W[o*tp.N : (o+1)*tp.N] {
					if w != 0 && (tp.Start[o]+k < lo || tp.Start[o]+k >= lo+in) {
						t.Fatalf("filter %d %v: output %d reads sample %d", f, c, o, tp.Start[o]+k)
					}
					sum += float64(w)
				}
				if math.Abs(sum-1) > 1e-5 {
					t.Fatalf("filter %d %v: output %d weights sum to %v", f, c, o, sum)
				}
			}
		}
	}
}

// TestIdentityAndHalving resizes a small image to its own size (the
// identity) and halves a constant image (still constant).
func TestIdentityAndHalving(t *testing.T) {
	const h, w, c = 4, 6, 2
	src := make([]float32, h*w*c)
	for i := range src {
		src[i] = float32(i)
	}
	resize := func(oh, ow int, f Filter, src []float32) []float32 {
		tx, ty := NewTaps(0, w, ow, f), NewTaps(0, h, oh, f)
		tmp := make([]float32, h*ow*c)
		for y := range h {
			tx.Across(tmp[y*ow*c:(y+1)*ow*c], src[y*w*c:(y+1)*w*c], c)
		}
		dst := make([]float32, oh*ow*c)
		ty.Down(dst, tmp, ow*c, 0)
		return dst
	}
	for _, f := range []Filter{Bilinear, Area, Nearest} {
		got := resize(h, w, f, src)
		for i := range src {
			if math.Abs(float64(got[i]-src[i])) > 1e-4 {
				t.Fatalf("filter %d: identity resize changed %d: %v -> %v", f, i, src[i], got[i])
			}
		}
	}
	flat := make([]float32, h*w*c)
	for i := range flat {
		flat[i] = 0.25
	}
	for _, v := range resize(2, 3, Bilinear, flat) {
		if math.Abs(float64(v)-0.25) > 1e-6 {
			t.Fatalf("halving a constant image gave %v", v)
		}
	}
}
