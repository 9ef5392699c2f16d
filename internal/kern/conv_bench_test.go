package kern

import (
	"fmt"
	"testing"
)

// benchConvCases are the shapes the README's table reports: the 3×3
// convolution of a CIFAR ResNet, a 1×1 bottleneck and the ResNet stem.
var benchConvCases = []struct {
	name string
	d    Dims
	p    Conv
}{
	{"3x3_b32_32x32_64to64", Dims{32, 32, 32, 64}, Conv{KH: 3, KW: 3, PadT: 1, PadB: 1, PadL: 1, PadR: 1, Cout: 64}},
	{"1x1_b32_32x32_64to256", Dims{32, 32, 32, 64}, Conv{KH: 1, KW: 1, Cout: 256}},
	{"7x7s2_b8_224x224_3to64", Dims{8, 224, 224, 3}, Conv{KH: 7, KW: 7, SH: 2, SW: 2, PadT: 3, PadB: 3, PadL: 3, PadR: 3, Cout: 64}},
	{"3x3_b8_14x14_256to256", Dims{8, 14, 14, 256}, Conv{KH: 3, KW: 3, PadT: 1, PadB: 1, PadL: 1, PadR: 1, Cout: 256}},
}

func convFlops(d Dims, p Conv) float64 {
	od := p.Out(d)
	return 2 * float64(od.Len()) * float64(p.KH*p.KW*d.C)
}

func BenchmarkConv2D(b *testing.B) {
	r := newRand(1)
	for _, c := range benchConvCases {
		b.Run(fmt.Sprintf("fwd/%s", c.name), func(b *testing.B) {
			x := randSlice(r, c.d.Len(), -1, 1)
			w := randSlice(r, c.p.WeightLen(c.d.C), -1, 1)
			bias := randSlice(r, c.p.Cout, -1, 1)
			y := make([]float32, c.p.Out(c.d).Len())
			for b.Loop() {
				Conv2D(y, x, w, bias, c.d, c.p)
			}
			b.ReportMetric(convFlops(c.d, c.p)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(fmt.Sprintf("fwdbwd/%s", c.name), func(b *testing.B) {
			x := randSlice(r, c.d.Len(), -1, 1)
			w := randSlice(r, c.p.WeightLen(c.d.C), -1, 1)
			bias := randSlice(r, c.p.Cout, -1, 1)
			y := make([]float32, c.p.Out(c.d).Len())
			dx, dw, db := make([]float32, len(x)), make([]float32, len(w)), make([]float32, len(bias))
			for b.Loop() {
				Conv2D(y, x, w, bias, c.d, c.p)
				Conv2DBackwardData(dx, y, w, c.d, c.p)
				Conv2DBackwardFilter(dw, db, x, y, c.d, c.p)
			}
			b.ReportMetric(3*convFlops(c.d, c.p)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(fmt.Sprintf("bwddata/%s", c.name), func(b *testing.B) {
			x := randSlice(r, c.d.Len(), -1, 1)
			w := randSlice(r, c.p.WeightLen(c.d.C), -1, 1)
			dy := randSlice(r, c.p.Out(c.d).Len(), -1, 1)
			for b.Loop() {
				Conv2DBackwardData(x, dy, w, c.d, c.p)
			}
			b.ReportMetric(convFlops(c.d, c.p)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(fmt.Sprintf("bwdfilter/%s", c.name), func(b *testing.B) {
			x := randSlice(r, c.d.Len(), -1, 1)
			w := randSlice(r, c.p.WeightLen(c.d.C), -1, 1)
			dy := randSlice(r, c.p.Out(c.d).Len(), -1, 1)
			db := make([]float32, c.p.Cout)
			for b.Loop() {
				Conv2DBackwardFilter(w, db, x, dy, c.d, c.p)
			}
			b.ReportMetric(convFlops(c.d, c.p)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
