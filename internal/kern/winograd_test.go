package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// winoImpls lists the transforms this machine runs: the assembly (when
// there is one) and the Go reference.
func winoImpls() []*winoKernels {
	if k := winoAsm(); k != nil {
		return []*winoKernels{k, winoGo}
	}
	return []*winoKernels{winoGo}
}

// forEachWino runs f once per transform implementation and gemm kernel.
func forEachWino(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	saved := wino
	defer func() { wino = saved }()
	for _, w := range winoImpls() {
		wino = w
		t.Run(w.name, func(t *testing.T) { forEachGemm(t, f) })
	}
}

// TestWinoTransforms checks the assembly transforms against the Go
// reference on every channel count up to three vectors and a tail, with
// guard values around every output.
func TestWinoTransforms(t *testing.T) {
	asm := winoAsm()
	if asm == nil {
		t.Skip("no assembly transforms on this build")
	}
	r := newRand(7)
	for c := 1; c <= 50; c++ {
		// in: 36 pixels scattered in one buffer, 36 points vs floats apart.
		src := randSlice(r, 36*(c+5), -1, 1)
		var xp [36]*float32
		for i := range xp {
			xp[i] = &src[((i*7)%36)*(c+5)]
		}
		vs := c + 3
		want := make([]float32, 36*vs)
		winoInGo(&want[0], 4*vs, &xp[0], c)
		got, check := guardedFill(t, 36*vs, nan32)
		asm.in(&got[0], 4*vs, &xp[0], c)
		check()
		for xi := 0; xi < 36; xi++ {
			for ch := 0; ch < c; ch++ {
				g, w := got[xi*vs+ch], want[xi*vs+ch]
				if !closeTo(float64(g), float64(w), 1e-5) {
					t.Fatalf("in c=%d: point %d channel %d = %v, want %v", c, xi, ch, g, w)
				}
			}
			for ch := c; ch < vs; ch++ {
				if !math.IsNaN(float64(got[xi*vs+ch])) {
					t.Fatalf("in c=%d: wrote past the channels at point %d", c, xi)
				}
			}
		}

		// out: with a scale, a shift, a residual and each floor.
		ms := c + 2
		m := randSlice(r, 36*ms, -1, 1)
		scale, shift := randSlice(r, c, -2, 2), randSlice(r, c, -1, 1)
		res := randSlice(r, 16*c, -1, 1)
		for _, floor := range []float32{float32(math.Inf(-1)), 0} {
			var yw, yg, rp [16]*float32
			wantY := make([]float32, 16*c)
			gotY, check := guardedFill(t, 16*c, nan32)
			for p := 0; p < 16; p++ {
				q := (p * 5) % 16 // pixels in any order
				yw[p], yg[p], rp[p] = &wantY[q*c], &gotY[q*c], &res[q*c]
			}
			winoOutGo(&yw[0], &rp[0], &m[0], 4*ms, c, &scale[0], &shift[0], floor)
			asm.out(&yg[0], &rp[0], &m[0], 4*ms, c, &scale[0], &shift[0], floor)
			check()
			assertClose(t, fmt.Sprintf("out c=%d floor %v", c, floor), gotY, wantY, 1e-5)
		}

		// filter: taps gs floats apart, points us apart.
		gs, us := c+1, c+4
		g := randSlice(r, 9*gs, -1, 1)
		wantU := make([]float32, 36*us)
		winoFilterGo(&wantU[0], 4*us, &g[0], 4*gs, c)
		gotU, check := guardedFill(t, 36*us, 0)
		asm.filter(&gotU[0], 4*us, &g[0], 4*gs, c)
		check()
		assertClose(t, fmt.Sprintf("filter c=%d", c), gotU, wantU, 1e-6)
	}
}

// TestWinoMatrices checks the Go transforms against the definition
// Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A for one channel, in float64: a 6×6 patch
// correlated with a 3×3 filter.
func TestWinoMatrices(t *testing.T) {
	r := newRand(8)
	d := randSlice(r, 36, -1, 1)
	g := randSlice(r, 9, -1, 1)
	var xp [36]*float32
	for i := range xp {
		xp[i] = &d[i]
	}
	var v, u [36]float32
	winoInGo(&v[0], 4, &xp[0], 1)
	winoFilterGo(&u[0], 4, &g[0], 4, 1)
	var m [36]float32
	for i := range m {
		m[i] = v[i] * u[i]
	}
	var y [16]float32
	var yp, rp [16]*float32
	zero, one := float32(0), float32(1)
	for p := range yp {
		yp[p], rp[p] = &y[p], &zero
	}
	winoOutGo(&yp[0], &rp[0], &m[0], 4, 1, &one, &zero, float32(math.Inf(-1)))
	for i := 0; i < 4; i++ {
		for j := 0; j < 4; j++ {
			s := 0.0
			for ky := 0; ky < 3; ky++ {
				for kx := 0; kx < 3; kx++ {
					s += float64(d[(i+ky)*6+j+kx]) * float64(g[ky*3+kx])
				}
			}
			if !closeTo(float64(y[4*i+j]), s, 1e-5) {
				t.Fatalf("y[%d][%d] = %v, want %v", i, j, y[4*i+j], s)
			}
		}
	}
}

// winoCases are 3×3 stride-1 convolutions over odd sizes, every padding
// from 0 to 2, batches, and channel counts on both sides of the vector
// and tile widths.
func winoCases() []convCase {
	pad := func(t, b, l, r int) Conv {
		return Conv{KH: 3, KW: 3, PadT: t, PadB: b, PadL: l, PadR: r}
	}
	cs := []struct {
		d    Dims
		p    Conv
		cout int
	}{
		{Dims{2, 7, 9, 3}, pad(1, 1, 1, 1), 5},
		{Dims{1, 13, 17, 16}, pad(0, 0, 0, 0), 33},
		{Dims{3, 8, 8, 40}, pad(1, 1, 1, 1), 40},
		{Dims{2, 9, 7, 17}, pad(2, 0, 1, 2), 31},
		{Dims{1, 14, 14, 33}, pad(1, 1, 1, 1), 64},
		{Dims{2, 5, 6, 64}, pad(1, 1, 1, 1), 17},
		{Dims{1, 3, 3, 20}, pad(0, 0, 0, 0), 12},
		{Dims{1, 4, 11, 100}, pad(2, 2, 2, 2), 70},
		{Dims{5, 12, 12, 24}, pad(1, 1, 1, 1), 96},
		{Dims{1, 6, 5, 1}, pad(1, 2, 0, 1), 1},
	}
	var out []convCase
	for _, c := range cs {
		c.p.Cout = c.cout
		out = append(out, convCase{c.d, c.p})
	}
	return out
}

func TestWinogradConv(t *testing.T) {
	forEachWino(t, func(t *testing.T) {
		r := newRand(9)
		for _, c := range winoCases() {
			p := c.p.norm(c.d)
			od := p.Out(c.d)
			x := randSlice(r, c.d.Len(), -1, 1)
			w := randSlice(r, p.WeightLen(c.d.C), -1, 1)
			conv := refConv(x, w, nil, c.d, p)
			scale, shift := randSlice(r, p.Cout, -2, 2), randSlice(r, p.Cout, -1, 1)
			res := randSlice(r, od.Len(), -1, 1)
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
				conv2DWinograd(y, x, w, nil, c.d, p, ep)
				check()
				tol := 1e-4 * math.Sqrt(float64(9*c.d.C))
				for i, v := range conv {
					co := i % p.Cout
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

func TestWinogradBackwardData(t *testing.T) {
	forEachWino(t, func(t *testing.T) {
		r := newRand(10)
		for _, c := range winoCases() {
			p := c.p.norm(c.d)
			od := p.Out(c.d)
			x := randSlice(r, c.d.Len(), -1, 1)
			w := randSlice(r, p.WeightLen(c.d.C), -1, 1)
			dy := randSlice(r, od.Len(), -1, 1)
			want, _, _ := refConvBackward(x, w, dy, c.d, p)
			dx, check := guardedFill(t, c.d.Len(), nan32)
			convBackwardDataWinograd(dx, dy, w, c.d, p, false)
			check()
			checkClose(t, fmt.Sprintf("%v dx", c), dx, want, 1e-4*math.Sqrt(float64(9*p.Cout)))
		}
	})
}

// TestWinogradBackwardFiniteDifference checks that Winograd's backward
// data is the derivative of the forward convolution: for L = Σ y·g,
// dL/dx against central differences of the float64 reference.
func TestWinogradBackwardFiniteDifference(t *testing.T) {
	r := newRand(11)
	d := Dims{2, 6, 7, 3}
	p := Conv{KH: 3, KW: 3, PadT: 1, PadB: 0, PadL: 2, PadR: 1, Cout: 4}.norm(d)
	x := randSlice(r, d.Len(), -1, 1)
	w := randSlice(r, p.WeightLen(d.C), -1, 1)
	g := randSlice(r, p.Out(d).Len(), -1, 1)
	dx := make([]float32, len(x))
	convBackwardDataWinograd(dx, g, w, d, p, false)
	x64 := to64(x)
	num := numGrad(x64, 1e-2, func() float64 {
		for i, v := range x64 {
			x[i] = float32(v)
		}
		return dot64(refConv(x, w, nil, d, p), g)
	})
	assertClose(t, "dL/dx", dx, num, 1e-3)
}

// heConv is a layer of a trained network, statistically: ReLU'd
// activations (half zeros, the rest |N(0, 1)|) and He-initialised
// weights, N(0, 2/(9·Cin)).
func heConv(r *rand.Rand, d Dims, cout int) (x, w []float32) {
	x = make([]float32, d.Len())
	for i := range x {
		x[i] = float32(max(0, r.NormFloat64()))
	}
	w = make([]float32, 9*d.C*cout)
	sd := math.Sqrt(2 / float64(9*d.C))
	for i := range w {
		w[i] = float32(sd * r.NormFloat64())
	}
	return x, w
}

// convError returns the largest and the root-mean-square error of y
// against want, both relative to the root mean square of want.
func convError(y []float32, want []float64) (maxRel, rmsRel float64) {
	var se, sw, me float64
	for i, v := range want {
		e := math.Abs(float64(y[i]) - v)
		me = max(me, e)
		se += e * e
		sw += v * v
	}
	rms := math.Sqrt(sw / float64(len(want)))
	return me / rms, math.Sqrt(se/float64(len(want))) / rms
}

// The largest error Winograd may make on realistic statistics, relative
// to the output's root mean square, and its root-mean-square error. The
// measured values (about 5e-5 and 3e-6 at 512 channels, five to eight
// times the direct kernel's) grow slowly with the channels; these bounds
// leave twice to three times that, and stay under the 1e-4 that parity
// with torchvision allows a whole network.
const (
	winoMaxBound = 1e-4
	winoRMSBound = 1e-5
)

// TestWinogradError bounds Winograd's error against the float64
// reference on realistic statistics, beside the direct kernel's, for the
// channel counts of the zoo's 3×3 layers.
func TestWinogradError(t *testing.T) {
	r := newRand(12)
	for _, c := range []struct {
		d    Dims
		cout int
	}{
		{Dims{2, 16, 16, 64}, 64},
		{Dims{1, 14, 14, 256}, 256},
		{Dims{1, 7, 7, 512}, 512},
	} {
		p := Conv{KH: 3, KW: 3, PadT: 1, PadB: 1, PadL: 1, PadR: 1, Cout: c.cout}.norm(c.d)
		x, w := heConv(r, c.d, c.cout)
		want := refConv(x, w, nil, c.d, p)
		y := make([]float32, len(want))
		conv2DWinograd(y, x, w, nil, c.d, p, Epilogue{})
		wMax, wRMS := convError(y, want)
		direct := make([]float32, len(want))
		k, virtual := convPlan(p.Out(c.d), p, c.d.W+2)
		xp := pad(x, c.d, 1, 1, 1, 1, c.d.H+2, c.d.W+2, (k.MR+5)*c.d.C)
		convCore(k, direct, p.Out(c.d), xp, w, nil, Epilogue{}, p, virtual)
		xp.release()
		dMax, dRMS := convError(direct, want)
		t.Logf("%v→%d: Winograd max %.2e rms %.2e; direct max %.2e rms %.2e", c.d, c.cout, wMax, wRMS, dMax, dRMS)
		if wMax > winoMaxBound || wRMS > winoRMSBound {
			t.Errorf("%v→%d: Winograd's error is %.2e (largest) and %.2e (rms) of the output's rms, above %.0e and %.0e",
				c.d, c.cout, wMax, wRMS, winoMaxBound, winoRMSBound)
		}
	}
}

// TestFilters checks that the packed forms a Filters keeps give the
// same output, bit for bit, as packing at every call, on the direct and
// the Winograd kernels, that each is made once, and that the cost model
// counts a kept Winograd filter as free.
func TestFilters(t *testing.T) {
	r := newRand(13)
	d := Dims{2, 8, 8, 32}
	for _, p := range []Conv{
		{KH: 3, KW: 3, PadT: 1, PadB: 1, PadL: 1, PadR: 1, Cout: 40}, // Winograd's shape
		{KH: 3, KW: 3, SH: 2, SW: 2, PadT: 1, PadB: 1, PadL: 1, PadR: 1, Cout: 40},
		{KH: 1, KW: 1, Cout: 72},
	} {
		p = p.norm(d)
		x := randSlice(r, d.Len(), -1, 1)
		w := randSlice(r, p.WeightLen(d.C), -1, 1)
		n := p.Out(d).Len()
		want, got := make([]float32, n), make([]float32, n)
		var f Filters
		for step := range 3 {
			conv2DDirect(want, x, w, nil, d, p, Epilogue{})
			conv2DDirect(got, x, w, &f, d, p, Epilogue{})
			if !slices.Equal(got, want) {
				t.Fatalf("%+v step %d: the direct kernel on kept filters differs from packing each call", p, step)
			}
			if winoShape(p) {
				conv2DWinograd(want, x, w, nil, d, p, Epilogue{})
				conv2DWinograd(got, x, w, &f, d, p, Epilogue{})
				if !slices.Equal(got, want) {
					t.Fatalf("%+v step %d: Winograd on kept filters differs from transforming each call", p, step)
				}
			}
			held := f.Bytes()
			if held == 0 {
				t.Fatalf("%+v: nothing kept", p)
			}
			if step > 0 && held != f.Bytes() {
				t.Fatalf("%+v: a form made again", p)
			}
		}
		if winoShape(p) {
			pl := newWinoPlan(kernelFor(p.Cout), p.Out(d), d.C, p.Cout)
			if !f.has(winoForm(pl, false)) {
				t.Fatalf("%+v: the Winograd transform was not kept", p)
			}
		}
		// A new Filters for changed weights follows them.
		w[len(w)/2] += 0.5
		var f2 Filters
		conv2DDirect(got, x, w, &f2, d, p, Epilogue{})
		assertClose(t, fmt.Sprintf("%+v after a change", p), got, refConv(x, w, nil, d, p), 1e-4*math.Sqrt(float64(9*d.C)))
	}
}

// TestUseWinograd checks the cost model's choices on the zoo's layers.
func TestUseWinograd(t *testing.T) {
	if !winoFast {
		if useWinograd(Dims{8, 56, 56, 64}, Conv{KH: 3, KW: 3, PadT: 1, PadB: 1, PadL: 1, PadR: 1, Cout: 64}.norm(Dims{8, 56, 56, 64}), true) {
			t.Fatal("Winograd chosen without the assembly transforms")
		}
		t.Skip("no assembly transforms: Winograd is never chosen")
	}
	same := Conv{KH: 3, KW: 3, PadT: 1, PadB: 1, PadL: 1, PadR: 1}
	for _, c := range []struct {
		d          Dims
		p          Conv
		cout       int
		kept, want bool
	}{
		{Dims{32, 32, 32, 64}, same, 64, false, true},
		{Dims{8, 56, 56, 64}, same, 64, false, true},
		{Dims{8, 14, 14, 256}, same, 256, false, true},
		{Dims{8, 7, 7, 512}, same, 512, true, true},
		{Dims{8, 7, 7, 512}, same, 512, false, true},
		{Dims{1, 7, 7, 512}, same, 512, true, false},  // 4 tiles fill a 14-row micro-kernel tile poorly
		{Dims{1, 7, 7, 512}, same, 512, false, false}, // and the filter transform dominates
		{Dims{1, 13, 13, 256}, same, 256, true, true}, // AlexNet at batch 1
		{Dims{8, 28, 28, 16}, same, 32, true, true},
		{Dims{8, 224, 224, 3}, same, 64, true, false}, // three input channels
		{Dims{8, 28, 28, 8}, same, 16, true, false},   // a narrow inception branch
		{Dims{8, 2, 2, 512}, same, 512, true, false},  // smaller than a tile
		{Dims{8, 56, 56, 64}, Conv{KH: 3, KW: 3, SH: 2, SW: 2, PadT: 1, PadB: 1, PadL: 1, PadR: 1}, 128, true, false},
		{Dims{8, 56, 56, 64}, Conv{KH: 1, KW: 1}, 256, true, false},
	} {
		c.p.Cout = c.cout
		p := c.p.norm(c.d)
		if got := useWinograd(c.d, p, c.kept); got != c.want {
			t.Errorf("%v %+v kept %v: useWinograd = %v, want %v", c.d, p, c.kept, got, c.want)
		}
	}
}

// TestWinogradSplit checks a Winograd convolution whose transformed
// filter is past winoSplitFloats and is transformed at every call
// (training, no Filters): it runs in parts of its input channels, forward
// and backward data, and gives the reference's results; kept in a
// Filters (inference), it runs whole.
func TestWinogradSplit(t *testing.T) {
	d := Dims{2, 4, 4, 320}
	r := newRand(15)
	p := Conv{KH: 3, KW: 3, PadT: 1, PadB: 1, PadL: 1, PadR: 1, Cout: 320}.norm(d)
	x, w, y := randSlice(r, d.Len(), -1, 1), randSlice(r, p.WeightLen(d.C), -1, 1), make([]float32, p.Out(d).Len())
	bias := randSlice(r, p.Cout, -1, 1)
	dx, dy := make([]float32, d.Len()), randSlice(r, p.Out(d).Len(), -1, 1)
	pl := newWinoPlan(kernelFor(p.Cout), p.Out(d), d.C, p.Cout)
	if g := winoParts(pl, nil); g != 2 {
		t.Fatalf("%d parts for a filter of %d transformed floats made at every call; want 2", g, pl.filterLen())
	}
	for step := range 3 {
		w[step] += 0.25 // a training step
		conv2DWinograd(y, x, w, nil, d, p, Epilogue{Shift: bias})
		assertClose(t, fmt.Sprintf("step %d y", step), y, refConv(x, w, bias, d, p), 1e-4*math.Sqrt(float64(9*d.C)))
		convBackwardDataWinograd(dx, dy, w, d, p, false)
		want, _, _ := refConvBackward(x, w, dy, d, p)
		checkClose(t, fmt.Sprintf("step %d dx", step), dx, want, 1e-4*math.Sqrt(float64(9*p.Cout)))
	}
	if g := winoParts(pl, &Filters{}); g != 1 {
		t.Errorf("%d parts for a filter kept in a Filters; want 1", g)
	}
}

// TestKeptFiltersChooseWinograd checks that an inference convolution
// with a Filters runs by Winograd where the cost model wants it for a
// kept transform, from its first call on: AlexNet's 13×13 layers and a
// 14×14 ResNet layer at batch 1, which once ran on the direct kernel at
// every call because the transform was not kept yet at the first.
func TestKeptFiltersChooseWinograd(t *testing.T) {
	if !winoFast {
		t.Skip("no assembly transforms: Winograd is never chosen")
	}
	r := newRand(16)
	for _, d := range []Dims{{1, 13, 13, 256}, {1, 14, 14, 256}} {
		p := Conv{KH: 3, KW: 3, PadT: 1, PadB: 1, PadL: 1, PadR: 1, Cout: 256}.norm(d)
		if !useWinograd(d, p, true) {
			t.Fatalf("%v: the cost model does not want Winograd for a kept filter", d)
		}
		x, w := randSlice(r, d.Len(), -1, 1), randSlice(r, p.WeightLen(d.C), -1, 1)
		y := make([]float32, p.Out(d).Len())
		var f Filters
		Conv2DFused(y, x, w, &f, d, p, Epilogue{ReLU: true})
		pl := newWinoPlan(kernelFor(p.Cout), p.Out(d), d.C, p.Cout)
		if !f.has(winoForm(pl, false)) {
			t.Fatalf("%v: the first call with a Filters did not run by Winograd", d)
		}
		want := refConv(x, w, nil, d, p)
		for i := range want {
			want[i] = max(want[i], 0)
		}
		assertClose(t, fmt.Sprint(d), y, want, 1e-4*math.Sqrt(float64(9*d.C)))
	}
}
