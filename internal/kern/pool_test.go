package kern

import (
	"fmt"
	"math"
	"testing"
)

// refPool is a float64 pooling straight from the definition: every tap of
// every window, bounds checked one by one. It returns the output, and the
// argmax indices for max pooling.
func refPool(x []float64, d Dims, p Pool2D, avg bool) ([]float64, []int32) {
	o := p.Out(d)
	y := make([]float64, o.Len())
	idx := make([]int32, o.Len())
	dh, dw := max(p.DH, 1), max(p.DW, 1)
	for n := range d.N {
		for oh := range o.H {
			for ow := range o.W {
				for c := range d.C {
					best, arg, sum, count := math.Inf(-1), int32(-1), 0.0, 0
					for i := range p.KH {
						for j := range p.KW {
							h, w := oh*p.SH-p.PadT+i*dh, ow*p.SW-p.PadL+j*dw
							if h < 0 || h >= d.H || w < 0 || w >= d.W {
								continue
							}
							v := x[((n*d.H+h)*d.W+w)*d.C+c]
							sum += v
							count++
							if v > best || arg < 0 {
								best, arg = v, int32(h*d.W+w)
							}
						}
					}
					at := ((n*o.H+oh)*o.W+ow)*d.C + c
					idx[at] = arg
					if !avg {
						y[at] = best
						continue
					}
					if !p.ExcludePad {
						// PyTorch: the window clipped to the padded input.
						hs, ws := oh*p.SH-p.PadT, ow*p.SW-p.PadL
						count = (min(hs+p.KH, d.H+p.PadB) - hs) * (min(ws+p.KW, d.W+p.PadR) - ws)
					}
					if count > 0 {
						y[at] = sum / float64(count)
					}
				}
			}
		}
	}
	return y, idx
}

// poolCases returns many windows over odd shapes: sizes, strides,
// asymmetric padding, ceil mode and (for max) dilation.
func poolCases(dilate bool) []struct {
	d Dims
	p Pool2D
} {
	var cs []struct {
		d Dims
		p Pool2D
	}
	r := newRand(5)
	for len(cs) < 300 {
		k, s := 1+r.IntN(5), 1+r.IntN(3)
		p := Pool2D{KH: k, KW: 1 + r.IntN(4), SH: s, SW: 1 + r.IntN(3), Ceil: r.IntN(2) == 0,
			ExcludePad: r.IntN(2) == 0}
		p.PadT, p.PadB = r.IntN((p.KH+1)/2+1), r.IntN((p.KH+1)/2+1)
		p.PadL, p.PadR = r.IntN((p.KW+1)/2+1), r.IntN((p.KW+1)/2+1)
		if dilate && r.IntN(3) == 0 {
			p.DH, p.DW = 2, 1+r.IntN(3)
		}
		d := Dims{1 + r.IntN(3), 1 + r.IntN(13), 1 + r.IntN(13), []int{1, 2, 3, 7, 16, 17, 33}[r.IntN(7)]}
		if o := p.Out(d); o.H == 0 || o.W == 0 {
			continue
		}
		cs = append(cs, struct {
			d Dims
			p Pool2D
		}{d, p})
	}
	// Windows that tile the input (LeNet's 2×2), which take a fast path.
	for _, c := range []struct {
		d Dims
		p Pool2D
	}{
		{Dims{2, 8, 12, 6}, Pool2D{KH: 2, KW: 2, SH: 2, SW: 2}},
		{Dims{1, 6, 9, 17}, Pool2D{KH: 2, KW: 3, SH: 2, SW: 3, Ceil: true}},
		{Dims{3, 4, 4, 33}, Pool2D{KH: 4, KW: 1, SH: 4, SW: 1, ExcludePad: true}},
	} {
		cs = append(cs, c)
	}
	// AlexNet's overlapping pooling, in both rounding modes.
	for _, ceil := range []bool{false, true} {
		cs = append(cs, struct {
			d Dims
			p Pool2D
		}{Dims{2, 13, 13, 19}, Pool2D{KH: 3, KW: 3, SH: 2, SW: 2, Ceil: ceil}})
	}
	return cs
}

// distinct returns n values, a shuffled grid 0.01 apart: no ties, so max
// pooling is differentiable at them.
func distinct(seed uint64, n int) []float32 {
	x := make([]float32, n)
	for i, j := range newRand(seed).Perm(n) {
		x[i] = float32(j-n/2) * 0.01
	}
	return x
}

func TestMaxPool(t *testing.T) {
	forEachVec(t, testMaxPool)
}

func testMaxPool(t *testing.T) {
	for i, tc := range poolCases(true) {
		d, p, o := tc.d, tc.p, tc.p.Out(tc.d)
		x := distinct(uint64(i), d.Len())
		if i%3 == 0 {
			x = randSlice(newRand(uint64(i)), d.Len(), -1, 1)
		}
		want, wantIdx := refPool(to64(x), d, p, false)
		y, checkY := guardedFill(t, o.Len(), nan32)
		idx := make([]int32, o.Len())
		MaxPool(y, idx, x, d, p)
		checkY()
		name := fmt.Sprintf("MaxPool %v %+v", d, p)
		assertClose(t, name, y, want, 0)
		for j := range idx {
			if idx[j] != wantIdx[j] {
				t.Fatalf("%s: argmax[%d] = %d, want %d", name, j, idx[j], wantIdx[j])
			}
		}
		y2 := make([]float32, o.Len())
		MaxPool(y2, nil, x, d, p)
		assertClose(t, name+" without argmax", y2, want, 0)

		dy := randSlice(newRand(uint64(i)+1000), o.Len(), -1, 1)
		dx, checkDX := guardedFill(t, d.Len(), nan32)
		MaxPoolBackward(dx, dy, idx, d, p)
		checkDX()
		want = make([]float64, d.Len())
		for j, k := range wantIdx {
			if k >= 0 {
				n := j / (o.H * o.W * d.C)
				want[(n*d.H*d.W+int(k))*d.C+j%d.C] += float64(dy[j])
			}
		}
		assertClose(t, name+" backward", dx, want, 1e-6)
	}
}

func TestAvgPool(t *testing.T) {
	forEachVec(t, func(t *testing.T) {
		for i, tc := range poolCases(false) {
			d, p, o := tc.d, tc.p, tc.p.Out(tc.d)
			x := randSlice(newRand(uint64(i)), d.Len(), -1, 1)
			want, _ := refPool(to64(x), d, p, true)
			y, checkY := guardedFill(t, o.Len(), nan32)
			AvgPool(y, x, d, p)
			checkY()
			name := fmt.Sprintf("AvgPool %v %+v", d, p)
			assertClose(t, name, y, want, 1e-6)

			dy := randSlice(newRand(uint64(i)+1000), o.Len(), -1, 1)
			dx, checkDX := guardedFill(t, d.Len(), nan32)
			AvgPoolBackward(dx, dy, d, p)
			checkDX()
			// Average pooling is linear, so its backward is its adjoint:
			// ⟨AvgPool(x), dy⟩ = ⟨x, AvgPoolBackward(dy)⟩.
			if l, r := dot64(want, dy), dot64(to64(x), dx); math.Abs(l-r) > 1e-5*math.Max(1, math.Abs(l)) {
				t.Fatalf("%s: ⟨y,dy⟩ = %v but ⟨x,dx⟩ = %v", name, l, r)
			}
			// The gradient of Σ y·dy, from float64 differences (exact: y
			// is linear in x), on the smaller shapes.
			if d.Len() > 400 {
				continue
			}
			x64 := to64(x)
			g := numGrad(x64, 0.5, func() float64 { y, _ := refPool(x64, d, p, true); return dot64(y, dy) })
			assertClose(t, name+" backward", dx, g, 1e-6)
		}
	})
}

// TestMaxPoolGradient checks MaxPoolBackward against float64 central
// differences of the reference forward on small shapes.
func TestMaxPoolGradient(t *testing.T) {
	for i, tc := range poolCases(true) {
		d, p, o := tc.d, tc.p, tc.p.Out(tc.d)
		if d.Len() > 400 {
			continue
		}
		x := distinct(uint64(i), d.Len())
		idx := make([]int32, o.Len())
		MaxPool(make([]float32, o.Len()), idx, x, d, p)
		dy := randSlice(newRand(uint64(i)), o.Len(), -1, 1)
		dx := make([]float32, d.Len())
		MaxPoolBackward(dx, dy, idx, d, p)
		x64 := to64(x)
		g := numGrad(x64, 1e-3, func() float64 {
			y, _ := refPool(x64, d, p, false)
			for j, v := range y {
				if math.IsInf(v, -1) {
					y[j] = 0 // an all-padding window: constant, no gradient
				}
			}
			return dot64(y, dy)
		})
		assertClose(t, fmt.Sprintf("MaxPoolBackward %v %+v", d, p), dx, g, 1e-6)
	}
}

func TestGlobalAvgPool(t *testing.T) {
	forEachVec(t, func(t *testing.T) {
		for i, d := range []Dims{{1, 1, 1, 1}, {2, 7, 7, 33}, {3, 5, 3, 17}, {1, 13, 11, 64}, {5, 2, 2, 3}} {
			x := randSlice(newRand(uint64(i)), d.Len(), -1, 1)
			y, check := guardedFill(t, d.N*d.C, nan32)
			GlobalAvgPool(y, x, d)
			check()
			want := make([]float64, d.N*d.C)
			for j, v := range x {
				n, c := j/(d.H*d.W*d.C), j%d.C
				want[n*d.C+c] += float64(v) / float64(d.H*d.W)
			}
			assertClose(t, fmt.Sprint("GlobalAvgPool ", d), y, want, 1e-6)

			dy := randSlice(newRand(uint64(i)+9), d.N*d.C, -1, 1)
			dx, checkDX := guardedFill(t, d.Len(), nan32)
			GlobalAvgPoolBackward(dx, dy, d)
			checkDX()
			wantDX := make([]float64, d.Len())
			for j := range wantDX {
				wantDX[j] = float64(dy[j/(d.H*d.W*d.C)*d.C+j%d.C]) / float64(d.H*d.W)
			}
			assertClose(t, fmt.Sprint("GlobalAvgPoolBackward ", d), dx, wantDX, 1e-6)
		}
	})
}

func BenchmarkMaxPool3x3s2(b *testing.B) {
	d, p := Dims{32, 32, 32, 64}, Pool2D{KH: 3, KW: 3, SH: 2, SW: 2}
	o := p.Out(d)
	x := randSlice(newRand(1), d.Len(), -1, 1)
	y, idx := make([]float32, o.Len()), make([]int32, o.Len())
	for b.Loop() {
		MaxPool(y, idx, x, d, p)
	}
	b.ReportMetric(float64(4*(d.Len()+2*o.Len()))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
}

// BenchmarkMaxPoolInfer times max pooling without indices (inference) at
// a batch of one image on the zoo's shapes: ResNet-50's and GoogLeNet's
// stems (3×3 stride 2) and an inception branch's 3×3 stride-1 pooling.
func BenchmarkMaxPoolInfer(b *testing.B) {
	for _, c := range []struct {
		name string
		d    Dims
		p    Pool2D
	}{
		{"stem_112x112x64_s2", Dims{1, 112, 112, 64}, Pool2D{KH: 3, KW: 3, SH: 2, SW: 2, PadT: 1, PadB: 1, PadL: 1, PadR: 1}},
		{"inception_28x28x192_s1", Dims{1, 28, 28, 192}, Pool2D{KH: 3, KW: 3, SH: 1, SW: 1, PadT: 1, PadB: 1, PadL: 1, PadR: 1}},
	} {
		b.Run(c.name, func(b *testing.B) {
			o := c.p.Out(c.d)
			x := randSlice(newRand(1), c.d.Len(), -1, 1)
			y := make([]float32, o.Len())
			for b.Loop() {
				MaxPool(y, nil, x, c.d, c.p)
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/op")
		})
	}
}

func BenchmarkMaxPool3x3s2Backward(b *testing.B) {
	d, p := Dims{32, 32, 32, 64}, Pool2D{KH: 3, KW: 3, SH: 2, SW: 2}
	o := p.Out(d)
	x := randSlice(newRand(1), d.Len(), -1, 1)
	y, idx := make([]float32, o.Len()), make([]int32, o.Len())
	MaxPool(y, idx, x, d, p)
	dx := make([]float32, d.Len())
	for b.Loop() {
		MaxPoolBackward(dx, y, idx, d, p)
	}
	b.ReportMetric(float64(4*(d.Len()+2*o.Len()))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
}

// The path without indices (maxWindow over each row's runs) lets NaN
// through and agrees with the one the indices force, at unit strides and
// strided, edges included.
func TestMaxPoolNoIndicesNaN(t *testing.T) {
	d := Dims{2, 9, 8, 19}
	for _, p := range []Pool2D{
		{KH: 3, KW: 3, SH: 1, SW: 1, PadT: 1, PadB: 1, PadL: 1, PadR: 1},
		{KH: 3, KW: 3, SH: 2, SW: 2, PadT: 1, PadB: 1, PadL: 1, PadR: 1},
	} {
		o := p.Out(d)
		x := randSlice(newRand(7), d.Len(), -1, 1)
		for i := 0; i < len(x); i += 37 {
			x[i] = float32(math.NaN())
		}
		want := make([]float32, o.Len())
		MaxPool(want, make([]int32, o.Len()), x, d, p)
		got := make([]float32, o.Len())
		MaxPool(got, nil, x, d, p)
		nans := 0
		for i := range want {
			if math.IsNaN(float64(want[i])) {
				nans++
				if !math.IsNaN(float64(got[i])) {
					t.Fatalf("stride %d: [%d] = %v, want NaN", p.SH, i, got[i])
				}
			} else if got[i] != want[i] {
				t.Fatalf("stride %d: [%d] = %v, want %v", p.SH, i, got[i], want[i])
			}
		}
		if nans == 0 {
			t.Fatalf("stride %d: no NaN reached the output", p.SH)
		}
	}
}
