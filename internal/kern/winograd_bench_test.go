package kern

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// winoBenchCases are the 3×3 stride-1 layers of the README's table and of
// the zoo (ResNet-50 at batch 8, VGG-16, GoogLeNet's inception branches).
var winoBenchCases = []struct {
	name string
	d    Dims
	cout int
}{
	{"b32_32x32_64to64", Dims{32, 32, 32, 64}, 64},
	{"b64_16x16_128to128", Dims{64, 16, 16, 128}, 128}, // CIFAR ResNet-18 training
	{"b64_8x8_256to256", Dims{64, 8, 8, 256}, 256},
	{"b8_56x56_64to64", Dims{8, 56, 56, 64}, 64},
	{"b8_28x28_128to128", Dims{8, 28, 28, 128}, 128},
	{"b8_14x14_256to256", Dims{8, 14, 14, 256}, 256},
	{"b8_7x7_512to512", Dims{8, 7, 7, 512}, 512},
	{"b8_28x28_96to128", Dims{8, 28, 28, 96}, 128},
	{"b8_14x14_112to224", Dims{8, 14, 14, 112}, 224},
	{"b8_28x28_32to32", Dims{8, 28, 28, 32}, 32},
	{"b8_28x28_16to32", Dims{8, 28, 28, 16}, 32},
}

// BenchmarkWinograd runs each layer on the direct kernel and by Winograd
// in the same process, reporting both in direct-convolution GFLOP/s (the
// 2·9·Cin·Cout flops per output pixel the direct kernel does), so that
// their ratio is the speed-up. fwd is inference (the filter transform
// kept), bwddata the backward pass of training (transformed every call).
func BenchmarkWinograd(b *testing.B) {
	r := newRand(1)
	for _, c := range winoBenchCases {
		p := Conv{KH: 3, KW: 3, PadT: 1, PadB: 1, PadL: 1, PadR: 1, Cout: c.cout}.norm(c.d)
		x, w := heConv(r, c.d, c.cout)
		y := make([]float32, p.Out(c.d).Len())
		flops := convFlops(c.d, p)
		for _, m := range []struct {
			name string
			run  func()
		}{
			{"fwd/direct", func() { conv2DDirect(y, x, w, nil, c.d, p, Epilogue{}) }},
			{"fwd/winograd", func() { conv2DWinograd(y, x, w, nil, c.d, p, Epilogue{}) }},
			{"bwddata/direct", func() { convBackwardDataDirect(x, y, w, c.d, p, false) }},
			{"bwddata/winograd", func() { w[0] += 1e-3; convBackwardDataWinograd(x, y, w, c.d, p, false) }},
		} {
			b.Run(fmt.Sprintf("%s/%s", m.name, c.name), func(b *testing.B) {
				for b.Loop() {
					m.run()
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkWinogradVsDirect alternates the direct kernel and Winograd on
// each layer, one call each per iteration, so that both see the same
// load on a shared machine, and reports the fastest call of each in
// direct-convolution GFLOP/s and the speed-up as the ratio of the median
// times (speedup) and of the fastest (speedup-best).
func BenchmarkWinogradVsDirect(b *testing.B) {
	r := newRand(1)
	for _, c := range winoBenchCases {
		p := Conv{KH: 3, KW: 3, PadT: 1, PadB: 1, PadL: 1, PadR: 1, Cout: c.cout}.norm(c.d)
		x, w := heConv(r, c.d, c.cout)
		y := make([]float32, p.Out(c.d).Len())
		dx, dw := make([]float32, len(x)), make([]float32, len(w))
		flops := convFlops(c.d, p)
		for _, m := range []struct {
			name         string
			direct, wino func()
		}{
			{"fwd", func() { conv2DDirect(y, x, w, nil, c.d, p, Epilogue{}) }, func() { conv2DWinograd(y, x, w, nil, c.d, p, Epilogue{}) }},
			{"bwddata", func() { convBackwardDataDirect(dx, y, w, c.d, p, false) }, func() { w[0] += 1e-3; convBackwardDataWinograd(dx, y, w, c.d, p, false) }},
			{"bwdfilter", func() { convBackwardFilterDirect(dw, nil, x, y, c.d, p) }, func() { convBackwardFilterWinograd(dw, x, y, c.d, p) }},
		} {
			b.Run(fmt.Sprintf("%s/%s", m.name, c.name), func(b *testing.B) {
				m.direct()
				m.wino()
				m.wino()
				td, tw := alternate(b, nil, m.direct, m.wino)
				b.ReportMetric(flops/td[0]/1e9, "direct-GFLOP/s")
				b.ReportMetric(flops/tw[0]/1e9, "wino-GFLOP/s")
				b.ReportMetric(td[len(td)/2]/tw[len(tw)/2], "speedup")
				b.ReportMetric(td[0]/tw[0], "speedup-best")
			})
		}
	}
}

// winoBatchOneCases are the 3×3 stride-1 layers of ResNet-50, GoogLeNet
// and AlexNet at batch 1, the serving case.
var winoBatchOneCases = []struct {
	hw, cin, cout int
}{
	{56, 64, 64}, {28, 128, 128}, {14, 256, 256}, {7, 512, 512}, // ResNet-50
	{28, 96, 128}, {28, 16, 32}, {28, 128, 192}, {28, 32, 96}, // GoogLeNet
	{14, 96, 208}, {14, 16, 48}, {14, 112, 224}, {14, 24, 64}, {14, 128, 256},
	{14, 144, 288}, {14, 32, 64}, {14, 160, 320}, {14, 32, 128},
	{7, 160, 320}, {7, 32, 128}, {7, 192, 384}, {7, 48, 128},
	{13, 192, 384}, {13, 384, 256}, {13, 256, 256}, // AlexNet
}

// BenchmarkWinogradBatchOne alternates the direct kernel and Winograd on
// each layer at batch 1 with their filters kept (inference), each call
// after a pass over 64 MiB that puts its filter and input out of cache,
// as a network's pass does, and reports the speed-up of the median times
// and whether the cost model chooses Winograd (chosen 1): where the
// speed-up is under 1, it should not.
func BenchmarkWinogradBatchOne(b *testing.B) {
	r := newRand(1)
	flush := make([]float32, 16<<20)
	cold := func() {
		for i := 0; i < len(flush); i += 16 {
			flush[i]++
		}
	}
	for _, c := range winoBatchOneCases {
		d := Dims{1, c.hw, c.hw, c.cin}
		p := Conv{KH: 3, KW: 3, PadT: 1, PadB: 1, PadL: 1, PadR: 1, Cout: c.cout}.norm(d)
		x, w := heConv(r, d, c.cout)
		y := make([]float32, p.Out(d).Len())
		ep := Epilogue{Scale: randSlice(r, c.cout, 0.5, 1), Shift: randSlice(r, c.cout, -1, 1), ReLU: true}
		b.Run(fmt.Sprintf("%dx%d_%dto%d", c.hw, c.hw, c.cin, c.cout), func(b *testing.B) {
			var fd, fw Filters
			conv2DDirect(y, x, w, &fd, d, p, ep)
			conv2DWinograd(y, x, w, &fw, d, p, ep)
			td, tw := alternate(b, cold,
				func() { conv2DDirect(y, x, w, &fd, d, p, ep) },
				func() { conv2DWinograd(y, x, w, &fw, d, p, ep) })
			b.ReportMetric(1e3*td[len(td)/2], "direct-ms")
			b.ReportMetric(1e3*tw[len(tw)/2], "wino-ms")
			b.ReportMetric(td[len(td)/2]/tw[len(tw)/2], "speedup")
			chosen := 0.0
			if useWinograd(d, p, true) {
				chosen = 1
			}
			b.ReportMetric(chosen, "chosen")
		})
	}
}

// alternate runs first and second one after the other at every
// iteration of b, so that both see the same load on a shared machine,
// each after before (when not nil, untimed), and returns the times of
// each call in seconds, sorted.
func alternate(b *testing.B, before, first, second func()) (t1, t2 []float64) {
	timed := func(f func()) float64 {
		if before != nil {
			before()
		}
		t0 := time.Now()
		f()
		return time.Since(t0).Seconds()
	}
	for b.Loop() {
		t1 = append(t1, timed(first))
		t2 = append(t2, timed(second))
	}
	slices.Sort(t1)
	slices.Sort(t2)
	return t1, t2
}
