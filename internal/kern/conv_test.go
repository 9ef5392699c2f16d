package kern

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"testing"

	"github.com/foveaml/fovea/internal/gemm"
)

// forEachGemm runs f once per micro-kernel this machine has (assembly and
// pure Go), with that kernel installed as gemm's default.
func forEachGemm(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	for _, k := range gemm.Kernels() {
		prev := gemm.SetDefault(k)
		t.Run(k.Name, f)
		gemm.SetDefault(prev)
	}
}

// refConv is the definition of Conv2D as a plain loop, in float64.
func refConv(x, w, bias []float32, d Dims, p Conv) []float64 {
	p = p.norm(d)
	od := p.Out(d)
	y := make([]float64, od.Len())
	for n := 0; n < od.N; n++ {
		for oy := 0; oy < od.H; oy++ {
			for ox := 0; ox < od.W; ox++ {
				for co := 0; co < p.Cout; co++ {
					s := 0.0
					if bias != nil {
						s = float64(bias[co])
					}
					for ky := 0; ky < p.KH; ky++ {
						iy := oy*p.SH + ky*p.DH - p.PadT
						if iy < 0 || iy >= d.H {
							continue
						}
						for kx := 0; kx < p.KW; kx++ {
							ix := ox*p.SW + kx*p.DW - p.PadL
							if ix < 0 || ix >= d.W {
								continue
							}
							for ci := 0; ci < d.C; ci++ {
								s += float64(x[((n*d.H+iy)*d.W+ix)*d.C+ci]) * float64(w[((ky*p.KW+kx)*d.C+ci)*p.Cout+co])
							}
						}
					}
					y[((n*od.H+oy)*od.W+ox)*p.Cout+co] = s
				}
			}
		}
	}
	return y
}

type convCase struct {
	d Dims
	p Conv
}

func (c convCase) String() string { return fmt.Sprintf("%v %+v", c.d, c.p) }

// convCases sweeps kernel sizes, strides, paddings and dilations over odd
// and prime sizes, with channel counts on both sides of the tile widths.
func convCases() []convCase {
	cs := []convCase{
		{Dims{2, 7, 9, 3}, Conv{KH: 3, KW: 3, PadT: 1, PadB: 1, PadL: 1, PadR: 1, Cout: 5}},
		{Dims{1, 13, 17, 16}, Conv{KH: 3, KW: 3, Cout: 33}},
		{Dims{3, 11, 11, 7}, Conv{KH: 5, KW: 5, SH: 2, SW: 2, PadT: 2, PadB: 2, PadL: 2, PadR: 2, Cout: 6}},
		{Dims{2, 15, 14, 3}, Conv{KH: 7, KW: 7, SH: 2, SW: 2, PadT: 3, PadB: 3, PadL: 3, PadR: 3, Cout: 64}},
		{Dims{2, 9, 10, 64}, Conv{KH: 1, KW: 1, Cout: 31}},
		{Dims{2, 9, 10, 37}, Conv{KH: 1, KW: 1, SH: 2, SW: 2, Cout: 65}},
		{Dims{1, 12, 11, 5}, Conv{KH: 3, KW: 2, SH: 1, SW: 3, PadT: 0, PadB: 2, PadL: 1, PadR: 0, Cout: 12}},
		{Dims{2, 10, 13, 4}, Conv{KH: 3, KW: 3, DH: 2, DW: 3, PadT: 2, PadB: 2, PadL: 3, PadR: 3, Cout: 17}},
		{Dims{1, 5, 5, 300}, Conv{KH: 3, KW: 3, PadT: 1, PadB: 1, PadL: 1, PadR: 1, Cout: 7}},
		{Dims{1, 4, 4, 2}, Conv{KH: 4, KW: 4, Cout: 1}},
		{Dims{1, 1, 1, 1}, Conv{KH: 1, KW: 1, Cout: 1}},
		{Dims{4, 32, 32, 64}, Conv{KH: 3, KW: 3, PadT: 1, PadB: 1, PadL: 1, PadR: 1, Cout: 64}},
		{Dims{1, 3, 3, 2}, Conv{KH: 3, KW: 3, PadT: 4, PadB: 0, PadL: 0, PadR: 5, Cout: 3}},
		// Rows of 7, 14 and 28 pixels, where 7- and 14-row tiles fit.
		{Dims{2, 9, 7, 40}, Conv{KH: 3, KW: 3, PadT: 1, PadB: 1, PadL: 1, PadR: 1, Cout: 40}},
		{Dims{1, 14, 14, 33}, Conv{KH: 3, KW: 3, PadT: 1, PadB: 1, PadL: 1, PadR: 1, Cout: 64}},
		{Dims{2, 28, 28, 20}, Conv{KH: 3, KW: 3, SH: 2, SW: 2, PadT: 1, PadB: 1, PadL: 1, PadR: 1, Cout: 48}},
		{Dims{2, 56, 55, 24}, Conv{KH: 1, KW: 1, SH: 2, SW: 2, Cout: 33}},
		// Enough input channels for two chunks with a 32-wide tile.
		{Dims{1, 9, 8, 100}, Conv{KH: 7, KW: 7, PadT: 3, PadB: 3, PadL: 3, PadR: 3, Cout: 40}},
		// LeNet-5's: one input channel (the filter gradient on the
		// stacked image), and 6 channels whose 5×5 rows of 30 floats
		// nearly fill a 32-wide panel (the scatter by runs).
		{Dims{2, 28, 28, 1}, Conv{KH: 5, KW: 5, PadT: 2, PadB: 2, PadL: 2, PadR: 2, Cout: 6}},
		{Dims{2, 14, 14, 6}, Conv{KH: 5, KW: 5, Cout: 16}},
	}
	return cs
}

// convPlan picks the tiles that waste fewest pixels.
func TestConvPlan(t *testing.T) {
	if gemm.Default().Name != "avx512" {
		t.Skipf("kernel %s has no siblings to choose from", gemm.Default().Name)
	}
	for _, c := range []struct {
		od      Dims
		p       Conv
		wp, mr  int
		virtual bool
	}{
		{Dims{8, 7, 7, 512}, Conv{KH: 3, KW: 3, SH: 2, SW: 2, Cout: 512}, 15, 7, false},
		{Dims{8, 14, 14, 256}, Conv{KH: 3, KW: 3, SH: 2, SW: 2, Cout: 256}, 29, 14, false},
		{Dims{8, 28, 28, 128}, Conv{KH: 1, KW: 1, SH: 2, SW: 2, Cout: 128}, 56, 14, false},
		{Dims{8, 56, 56, 64}, Conv{KH: 1, KW: 1, SH: 1, SW: 1, Cout: 64}, 56, 14, true},
		{Dims{8, 27, 27, 192}, Conv{KH: 5, KW: 5, SH: 1, SW: 1, Cout: 192}, 31, 14, false},
		{Dims{8, 55, 55, 64}, Conv{KH: 11, KW: 11, SH: 4, SW: 4, Cout: 64}, 228, 14, false},
	} {
		k, v := convPlan(c.od, c.p, c.wp)
		if k.MR != c.mr || v != c.virtual {
			t.Errorf("%v %+v: %d rows, virtual %v; want %d, %v", c.od, c.p, k.MR, v, c.mr, c.virtual)
		}
	}
}

// TestConvBands checks that a batch of one image keeps both workers of
// two busy: the busiest worker's share of rows × panels, as cpu.For hands
// out the tasks, is within 5% of an even split wherever the panels can be
// halved (cutting 28 rows into 10 bands left one worker a seventh more
// than the other); and that the bands cover the rows once.
func TestConvBands(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	for _, h := range []int{7, 13, 14, 27, 28, 55, 56, 112} {
		for _, panels := range []int{2, 4, 7, 8, 16, 64} {
			od := Dims{1, h, h, 32 * panels}
			bands, groups := convBands(od, panels)
			busiest := busiestLoad(od, bands, groups, panels)
			if even := float64(h*panels) / 2; float64(busiest) > 1.05*even && panels%2 == 0 {
				t.Errorf("%v, %d panels: %d bands × %d groups leave the busiest worker %d rows × panels, even is %.0f",
					od, panels, bands, groups, busiest, even)
			}
			if cutAt(0, bands, h) != 0 || cutAt(bands, bands, h) != h {
				t.Errorf("%v: %d bands do not cover %d rows", od, bands, h)
			}
			for b := range bands {
				if cutLen(b, bands, h) <= 0 {
					t.Errorf("%v: band %d of %d is empty", od, b, bands)
				}
			}
		}
	}
}

func TestConv2D(t *testing.T) {
	forEachGemm(t, func(t *testing.T) {
		r := newRand(1)
		for _, c := range convCases() {
			od := c.p.Out(c.d)
			x := randSlice(r, c.d.Len(), -1, 1)
			w := randSlice(r, c.p.WeightLen(c.d.C), -1, 1)
			for _, bias := range [][]float32{nil, randSlice(r, c.p.Cout, -1, 1)} {
				y, check := guardedFill(t, od.Len(), nan32)
				Conv2D(y, x, w, bias, c.d, c.p)
				check()
				want := refConv(x, w, bias, c.d, c.p)
				tol := 1e-5 * math.Sqrt(float64(c.p.KH*c.p.KW*c.d.C))
				for i := range want {
					if !closeTo(float64(y[i]), want[i], tol) {
						t.Fatalf("%v: y[%d] = %v, want %v", c, i, y[i], want[i])
					}
				}
			}
		}
	})
}

// TestConv2DFused checks every combination of the epilogue's parts
// against the reference convolution followed by them one at a time.
func TestConv2DFused(t *testing.T) {
	forEachGemm(t, func(t *testing.T) {
		r := newRand(2)
		for _, c := range convCases() {
			od := c.p.Out(c.d)
			x := randSlice(r, c.d.Len(), -1, 1)
			w := randSlice(r, c.p.WeightLen(c.d.C), -1, 1)
			conv := refConv(x, w, nil, c.d, c.p)
			scale, shift := randSlice(r, c.p.Cout, -2, 2), randSlice(r, c.p.Cout, -1, 1)
			res := randSlice(r, od.Len(), -1, 1)
			var kept Filters // odd masks take the packed filter from here
			for mask := range 16 {
				var ep Epilogue
				if mask&1 != 0 {
					ep.Scale = scale
				}
				if mask&2 != 0 {
					ep.Shift = shift
				}
				if mask&4 != 0 {
					ep.Res = res
				}
				ep.ReLU = mask&8 != 0
				y, check := guardedFill(t, od.Len(), nan32)
				f := &kept
				if mask%2 == 0 {
					f = nil
				}
				Conv2DFused(y, x, w, f, c.d, c.p, ep)
				check()
				tol := 2e-5 * math.Sqrt(float64(c.p.KH*c.p.KW*c.d.C))
				for i, v := range conv {
					co := i % c.p.Cout
					if ep.Scale != nil {
						v *= float64(scale[co])
					}
					if ep.Shift != nil {
						v += float64(shift[co])
					}
					if ep.Res != nil {
						v += float64(res[i])
					}
					if ep.ReLU {
						v = max(v, 0)
					}
					if !closeTo(float64(y[i]), v, tol) {
						t.Fatalf("%v epilogue %04b: y[%d] = %v, want %v", c, mask, i, y[i], v)
					}
				}
			}
		}
	})
}

// refConvBackward computes both gradients of Conv2D by scattering each
// output gradient back along the forward loop, in float64.
func refConvBackward(x, w, dy []float32, d Dims, p Conv) (dx, dw, db []float64) {
	p = p.norm(d)
	od := p.Out(d)
	dx = make([]float64, d.Len())
	dw = make([]float64, len(w))
	db = make([]float64, p.Cout)
	for n := 0; n < od.N; n++ {
		for oy := 0; oy < od.H; oy++ {
			for ox := 0; ox < od.W; ox++ {
				for co := 0; co < p.Cout; co++ {
					g := float64(dy[((n*od.H+oy)*od.W+ox)*p.Cout+co])
					db[co] += g
					for ky := 0; ky < p.KH; ky++ {
						iy := oy*p.SH + ky*p.DH - p.PadT
						if iy < 0 || iy >= d.H {
							continue
						}
						for kx := 0; kx < p.KW; kx++ {
							ix := ox*p.SW + kx*p.DW - p.PadL
							if ix < 0 || ix >= d.W {
								continue
							}
							for ci := 0; ci < d.C; ci++ {
								xi := ((n*d.H+iy)*d.W+ix)*d.C + ci
								wi := ((ky*p.KW+kx)*d.C+ci)*p.Cout + co
								dx[xi] += g * float64(w[wi])
								dw[wi] += g * float64(x[xi])
							}
						}
					}
				}
			}
		}
	}
	return dx, dw, db
}

func checkClose(t *testing.T, what string, got []float32, want []float64, tol float64) {
	t.Helper()
	for i := range want {
		if !closeTo(float64(got[i]), want[i], tol) {
			t.Fatalf("%s[%d] = %v, want %v", what, i, got[i], want[i])
		}
	}
}

func TestConv2DBackward(t *testing.T) {
	forEachGemm(t, func(t *testing.T) {
		r := newRand(2)
		for _, c := range convCases() {
			od := c.p.Out(c.d)
			x := randSlice(r, c.d.Len(), -1, 1)
			w := randSlice(r, c.p.WeightLen(c.d.C), -1, 1)
			dy := randSlice(r, od.Len(), -1, 1)
			wantDx, wantDw, wantDb := refConvBackward(x, w, dy, c.d, c.p)

			dx, checkDx := guardedFill(t, c.d.Len(), nan32)
			Conv2DBackwardData(dx, dy, w, c.d, c.p)
			checkDx()
			checkClose(t, fmt.Sprintf("%v dx", c), dx, wantDx, 1e-5*math.Sqrt(float64(c.p.KH*c.p.KW*c.p.Cout)))

			dw, checkDw := guardedFill(t, len(w), nan32)
			db, checkDb := guardedFill(t, c.p.Cout, nan32)
			Conv2DBackwardFilter(dw, db, x, dy, c.d, c.p)
			checkDw()
			checkDb()
			tol := 1e-5 * math.Sqrt(float64(od.N*od.H*od.W))
			checkClose(t, fmt.Sprintf("%v dw", c), dw, wantDw, tol)
			checkClose(t, fmt.Sprintf("%v db", c), db, wantDb, tol)
			Conv2DBackwardFilter(dw, nil, x, dy, c.d, c.p) // the bias is optional
			checkClose(t, fmt.Sprintf("%v dw without db", c), dw, wantDw, tol)
		}
	})
}

// TestConv2DGradientFiniteDifference checks that the backward passes are
// the derivative of the forward one: for the loss L = Σ y·g, compare
// dL/dx, dL/dw and dL/db with central differences in float64.
func TestConv2DGradientFiniteDifference(t *testing.T) {
	r := newRand(3)
	d := Dims{2, 6, 5, 3}
	p := Conv{KH: 3, KW: 2, SH: 2, SW: 1, PadT: 1, PadB: 0, PadL: 1, PadR: 1, DW: 2, Cout: 4}
	od := p.Out(d)
	x := randSlice(r, d.Len(), -1, 1)
	w := randSlice(r, p.WeightLen(d.C), -1, 1)
	bias := randSlice(r, p.Cout, -1, 1)
	g := randSlice(r, od.Len(), -1, 1)
	loss := func() float64 {
		y := refConv(x, w, bias, d, p)
		s := 0.0
		for i, v := range y {
			s += v * float64(g[i])
		}
		return s
	}
	dx := make([]float32, len(x))
	dw := make([]float32, len(w))
	db := make([]float32, len(bias))
	Conv2DBackwardData(dx, g, w, d, p)
	Conv2DBackwardFilter(dw, db, x, g, d, p)
	for _, v := range []struct {
		name string
		val  []float32
		grad []float32
	}{{"x", x, dx}, {"w", w, dw}, {"bias", bias, db}} {
		for i := range v.val {
			old := v.val[i]
			const h = 1e-2 // the loss is linear in each value: any h is exact up to rounding
			v.val[i] = old + h
			lp := loss()
			v.val[i] = old - h
			lm := loss()
			v.val[i] = old
			num := (lp - lm) / (2 * h)
			if !closeTo(float64(v.grad[i]), num, 1e-3) {
				t.Fatalf("d loss/d %s[%d] = %v, finite difference %v", v.name, i, v.grad[i], num)
			}
		}
	}
}

// TestConv2DBackwardDataAdd checks that Conv2DBackwardDataAdd adds what
// Conv2DBackwardData writes, on each of its paths: the scatter (strided),
// the direct kernel, Winograd, and Winograd in parts of its channels.
func TestConv2DBackwardDataAdd(t *testing.T) {
	r := newRand(41)
	same := func(k int) Conv { return Conv{KH: k, KW: k, PadT: k / 2, PadB: k / 2, PadL: k / 2, PadR: k / 2} }
	strided := same(3)
	strided.SH, strided.SW = 2, 2
	for _, c := range []struct {
		d    Dims
		p    Conv
		cout int
	}{
		{Dims{2, 8, 8, 16}, strided, 32},
		{Dims{2, 8, 8, 32}, same(5), 32},
		{Dims{2, 8, 8, 32}, same(3), 32},
		{Dims{2, 4, 4, 320}, same(3), 320},
	} {
		c.p.Cout = c.cout
		p := c.p.norm(c.d)
		w := randSlice(r, p.WeightLen(c.d.C), -1, 1)
		w[0] += 0.5 // a filter the cache has not seen unchanged
		dy := randSlice(r, p.Out(c.d).Len(), -1, 1)
		base := randSlice(r, c.d.Len(), -1, 1)
		got := slices.Clone(base)
		Conv2DBackwardDataAdd(got, dy, w, c.d, p)
		w[0] += 0.5
		Conv2DBackwardDataAdd(got, dy, w, c.d, p)
		one := make([]float32, c.d.Len())
		Conv2DBackwardData(one, dy, w, c.d, p)
		w[0] -= 0.5
		two := make([]float32, c.d.Len())
		Conv2DBackwardData(two, dy, w, c.d, p)
		want := make([]float64, len(base))
		for i := range want {
			want[i] = float64(base[i]) + float64(one[i]) + float64(two[i])
		}
		checkClose(t, fmt.Sprintf("%v %+v dx", c.d, p), got, want, 1e-4*math.Sqrt(float64(9*p.Cout)))
	}
}
