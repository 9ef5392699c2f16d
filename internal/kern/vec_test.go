package kern

import (
	"fmt"
	"math"
	"testing"
)

// TestVec checks every implementation of every element-wise loop against a
// float64 reference for all lengths 0..300 and four alignments, with guard
// values around the outputs; inputs include negatives, zeros and a NaN.
func TestVec(t *testing.T) {
	r := newRand(1)
	const maxN = 300
	for _, v := range vecImpls {
		t.Run(v.name, func(t *testing.T) {
			for n := 0; n <= maxN; n++ {
				for off := 0; off < 4; off++ {
					if n > 40 && off > 0 && n%7 != 0 {
						continue // all alignments for short and some long lengths
					}
					x := randSlice(r, n+off, -2, 2)[off:]
					y := randSlice(r, n+off, -2, 2)[off:]
					if n > 0 {
						x[r.IntN(n)] = 0
						if n > 2 {
							x[r.IntN(n)] = nan32
						}
					}
					a := float32(r.Float64()*4 - 2)
					checkVec(t, v, n, x, y, a)
				}
			}
		})
	}
}

func checkVec(t *testing.T, v vecKernels, n int, x, y []float32, a float32) {
	t.Helper()
	ref := func(f func(i int) float64) []float64 {
		w := make([]float64, n)
		for i := range w {
			w[i] = f(i)
		}
		return w
	}
	x64, y64, a64 := to64(x), to64(y), float64(a)
	run := func(what string, tol float64, want []float64, init []float32, f func(out []float32)) {
		t.Helper()
		out, check := guarded(t, n)
		copy(out, init)
		f(out)
		check()
		for i := range out {
			if !closeTo(float64(out[i]), want[i], tol) {
				t.Fatalf("%s n=%d: [%d] = %v, want %v", what, n, i, out[i], want[i])
			}
		}
	}
	// Results of one rounded operation are exact to float32 precision;
	// fused multiply-adds may differ from two roundings by an ulp.
	const exact, fma = 1e-7, 1e-6
	run("axpy", fma, ref(func(i int) float64 { return y64[i] + a64*x64[i] }), y, func(o []float32) { v.axpy(o, a, x) })
	run("add", exact, ref(func(i int) float64 { return x64[i] + y64[i] }), nil, func(o []float32) { v.add(o, x, y) })
	run("mul", exact, ref(func(i int) float64 { return x64[i] * y64[i] }), nil, func(o []float32) { v.mul(o, x, y) })
	run("scale", exact, ref(func(i int) float64 { return a64 * x64[i] }), nil, func(o []float32) { v.scale(o, a, x) })
	run("relu", 0, ref(func(i int) float64 {
		if x64[i] < 0 {
			return 0
		}
		return x64[i]
	}), nil, func(o []float32) { v.relu(o, x) })
	run("reluGrad", 0, ref(func(i int) float64 {
		if x64[i] > 0 {
			return y64[i]
		}
		return 0
	}), nil, func(o []float32) { v.reluGrad(o, y, x) })
	// scaleShift over every channel count that divides n, up to 40.
	for c := 1; c <= min(n, 40); c++ {
		if n%c != 0 {
			continue
		}
		sa, sb := y[:c], x[n-c:]
		run("scaleShift", fma, ref(func(i int) float64 {
			return x64[i]*float64(sa[i%c]) + float64(sb[i%c])
		}), nil, func(o []float32) { v.scaleShift(o, x, sa, sb) })
	}
	// maxIdx: a running maximum with NaNs and ties (which keep the old index).
	ym, checkM := guarded(t, n)
	ix := make([]int32, n+2)
	copy(ym, y)
	for i := range ix {
		ix[i] = -7
	}
	wantM, wantI := make([]float64, n), make([]int32, n)
	for i := range n {
		wantM[i], wantI[i] = y64[i], -7
		if x64[i] > y64[i] || math.IsNaN(x64[i]) {
			wantM[i], wantI[i] = x64[i], 5
		}
	}
	if n > 3 {
		ym[1] = x[1] // a tie
		wantM[1], wantI[1] = x64[1], -7
		if math.IsNaN(x64[1]) {
			wantI[1] = 5
		}
	}
	v.maxIdx(ym, ix[1:n+1], x, 5)
	checkM()
	for i := range n {
		if !closeTo(float64(ym[i]), wantM[i], 0) || ix[i+1] != wantI[i] {
			t.Fatalf("maxIdx n=%d: [%d] = %v, %d; want %v, %d", n, i, ym[i], ix[i+1], wantM[i], wantI[i])
		}
	}
	if ix[0] != -7 || ix[n+1] != -7 {
		t.Fatalf("maxIdx n=%d wrote an index out of bounds", n)
	}
	// epilogue with every combination of its optional operands; y stands
	// in for the scale, a reversed x for the shift, y+x for the residual.
	sc, sh, rs := y[:n], make([]float32, n), make([]float32, n)
	for i := range n {
		sh[i], rs[i] = x[n-1-i], y[i]+x[i]
	}
	for mask := range 16 {
		var s, b, r []float32
		if mask&1 != 0 {
			s = sc
		}
		if mask&2 != 0 {
			b = sh
		}
		if mask&4 != 0 {
			r = rs
		}
		relu := mask&8 != 0
		run(fmt.Sprintf("epilogue%04b", mask), 2e-6, ref(func(i int) float64 {
			z := x64[i]
			if s != nil {
				z *= float64(s[i])
			}
			if b != nil {
				z += float64(b[i])
			}
			if r != nil {
				z += float64(r[i])
			}
			if relu && z < 0 {
				z = 0
			}
			return z
		}), nil, func(o []float32) { v.epilogueRows(o, x, n, 1, n, s, b, r, relu) })
	}
	// epilogueRows over rows of up to 37 values, 41 apart.
	if cols := min(n, 37); n >= 3 {
		ld, rows := 41, 3
		yr, checkR := guarded(t, (rows-1)*ld+cols)
		xr := make([]float32, len(yr))
		for i := range xr {
			xr[i] = x[i%n]
		}
		res := make([]float32, len(yr))
		for i := range res {
			res[i] = y[(i*7)%n]
		}
		copy(yr, xr)
		v.epilogueRows(yr, yr, ld, rows, cols, sc[:cols], sh[:cols], res, true)
		checkR()
		for i := range yr {
			want := float64(xr[i])
			if c := i % ld; i/ld < rows && c < cols {
				want = max(want*float64(sc[c])+float64(sh[c])+float64(res[i]), 0)
				if math.IsNaN(float64(xr[i])) {
					continue
				}
			}
			if !closeTo(float64(yr[i]), want, 2e-6) {
				t.Fatalf("epilogueRows n=%d: [%d] = %v, want %v", n, i, yr[i], want)
			}
		}
	}
	// In-place use (dst aliases an input) is how the layers call these.
	in := append([]float32(nil), x...)
	v.relu(in, in)
	for i := range in {
		if want := max(x64[i], 0); !closeTo(float64(in[i]), want, 0) && !math.IsNaN(x64[i]) {
			t.Fatalf("relu in place n=%d: [%d] = %v, want %v", n, i, in[i], want)
		}
	}
}

// TestMaxNaN checks maxNaN bit for bit against its reference loop on
// NaNs on either side, ties and zeros of both signs, at every length
// around the vector widths, in place as the poolings run it.
func TestMaxNaN(t *testing.T) {
	r := newRand(3)
	negZero := float32(math.Copysign(0, -1))
	specials := []float32{nan32, 0, negZero, 1, -1}
	for _, v := range vecImpls {
		for n := 0; n <= 70; n++ {
			x := randSlice(r, n, -2, 2)
			y := randSlice(r, n, -2, 2)
			for i := range n {
				switch r.IntN(4) {
				case 0:
					x[i] = specials[r.IntN(len(specials))]
				case 1:
					y[i] = specials[r.IntN(len(specials))]
				case 2:
					y[i] = x[i]
				}
			}
			want := make([]float32, n)
			for i := range n {
				want[i] = x[i]
				if y[i] > x[i] || y[i] != y[i] {
					want[i] = y[i]
				}
			}
			got, check := guarded(t, n)
			v.maxNaN(got, x, y)
			check()
			v.maxNaN(y, x, y) // in place, as the poolings run it
			for i := range n {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) || math.Float32bits(y[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%s maxNaN n=%d: [%d] = %v (in place %v), want %v (x %v)", v.name, n, i, got[i], y[i], want[i], x[i])
				}
			}
		}
	}
}

// TestMaxWindow checks maxWindow bit for bit against the tap-by-tap rule
// (the first tap kept on ties, NaN from any tap) for every channel count
// around the vector widths, 1 to 9 taps and several pixels whose taps
// are further apart than their channels, as a strided pooling's are.
func TestMaxWindow(t *testing.T) {
	r := newRand(5)
	negZero := float32(math.Copysign(0, -1))
	specials := []float32{nan32, 0, negZero, 1, -1}
	for _, v := range vecImpls {
		for _, c := range []int{1, 3, 15, 16, 17, 47, 64, 65, 80, 130} {
			for _, taps := range []int{1, 2, 9} {
				const pixels = 3
				xs := 2*c + 1
				x := make([][]float32, taps)
				ptrs := make([]*float32, taps)
				for k := range x {
					x[k] = randSlice(r, (pixels-1)*xs+c, -2, 2)
					for i := range x[k] {
						switch r.IntN(4) {
						case 0:
							x[k][i] = specials[r.IntN(len(specials))]
						case 1:
							if k > 0 {
								x[k][i] = x[k-1][i]
							}
						}
					}
					ptrs[k] = &x[k][0]
				}
				want := make([]float32, pixels*c)
				for p := range pixels {
					for j := range c {
						acc := x[0][p*xs+j]
						for k := 1; k < taps; k++ {
							if w := x[k][p*xs+j]; w > acc || w != w {
								acc = w
							}
						}
						want[p*c+j] = acc
					}
				}
				got, check := guarded(t, pixels*c)
				v.maxWindow(got, ptrs, c, xs)
				check()
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s maxWindow c=%d taps=%d: [%d] = %v, want %v", v.name, c, taps, i, got[i], want[i])
					}
				}
			}
		}
	}
}
