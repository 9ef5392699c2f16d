package kern

import (
	"fmt"
	"math"
	"testing"
)

// TestConvBackwardFilterStacked checks that the filter gradient of a
// filter with short rows, taken on the stacked image, has the bits of
// the direct way, with and without a bias, across strides, padding and
// vertical dilation.
func TestConvBackwardFilterStacked(t *testing.T) {
	defer func() { stackFilterRows = true }()
	r := newRand(7)
	for _, c := range []struct {
		d Dims
		p Conv
	}{
		{Dims{3, 28, 28, 1}, Conv{KH: 5, KW: 5, PadT: 2, PadB: 2, PadL: 2, PadR: 2, Cout: 6}}, // LeNet's first layer
		{Dims{2, 11, 9, 2}, Conv{KH: 3, KW: 3, SH: 2, SW: 2, PadT: 1, PadB: 0, PadL: 0, PadR: 1, Cout: 5}},
		{Dims{2, 12, 10, 1}, Conv{KH: 3, KW: 2, DH: 2, PadT: 2, PadB: 1, Cout: 17}},
		{Dims{1, 7, 7, 3}, Conv{KH: 2, KW: 2, Cout: 33}},
	} {
		t.Run(fmt.Sprintf("%v_%+v", c.d, c.p), func(t *testing.T) {
			x := randSlice(r, c.d.Len(), -1, 1)
			dy := randSlice(r, c.p.Out(c.d).Len(), -1, 1)
			n := c.p.WeightLen(c.d.C)
			for _, bias := range []bool{false, true} {
				want, got := make([]float32, n), make([]float32, n)
				var wantB, gotB []float32
				if bias {
					wantB, gotB = make([]float32, c.p.Cout), make([]float32, c.p.Cout)
				}
				stackFilterRows = false
				Conv2DBackwardFilter(want, wantB, x, dy, c.d, c.p)
				stackFilterRows = true
				Conv2DBackwardFilter(got, gotB, x, dy, c.d, c.p)
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("bias %v: dw[%d] = %v, want %v", bias, i, got[i], want[i])
					}
				}
				for i := range wantB {
					if math.Float32bits(gotB[i]) != math.Float32bits(wantB[i]) {
						t.Fatalf("db[%d] = %v, want %v", i, gotB[i], wantB[i])
					}
				}
			}
		})
	}
}
