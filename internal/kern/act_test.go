package kern

import (
	"math"
	"testing"
)

// unaryCase is an activation with its float64 reference.
type unaryCase struct {
	name   string
	fwd    func(y, x []float32)
	bwd    func(dx, dy, xy []float32)
	ref    func(x float64) float64
	bwdArg string // "x" or "y": which of the forward's values backward takes
	tol    float64
}

var unaryCases = []unaryCase{
	{"ReLU", ReLU, ReLUBackward, func(x float64) float64 { return max(x, 0) }, "x", 0},
	{"Sigmoid", Sigmoid, SigmoidBackward, func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }, "y", 4e-7},
	{"Tanh", Tanh, TanhBackward, math.Tanh, "y", 4e-7},
	{"ScaledTanh", ScaledTanh, ScaledTanhBackward, func(x float64) float64 { return lecunA * math.Tanh(lecunB*x) }, "y", 5e-7},
}

// TestActivations checks forward passes against the float64 reference and
// backward passes against central differences of it, on every length up
// to 300 (and one long enough to run in parallel), with guard values.
func TestActivations(t *testing.T) {
	forEachVec(t, func(t *testing.T) {
		r := newRand(2)
		for _, c := range unaryCases {
			for _, n := range append(seq(0, 300), 3*elemGrain+7) {
				x := randSlice(r, n, -6, 6)
				// Keep x away from ReLU's kink, where the difference quotient is meaningless.
				for i, v := range x {
					if math.Abs(float64(v)) < 1e-3 {
						x[i] = 0.5
					}
				}
				y, checkY := guardedFill(t, n, nan32)
				c.fwd(y, x)
				checkY()
				want := make([]float64, n)
				for i, v := range x {
					want[i] = c.ref(float64(v))
				}
				assertClose(t, c.name, y, want, c.tol)

				dy := randSlice(r, n, -1, 1)
				dx, checkDX := guardedFill(t, n, nan32)
				arg := x
				if c.bwdArg == "y" {
					arg = y
				}
				c.bwd(dx, dy, arg)
				checkDX()
				if n > 300 {
					continue // the difference quotients are slow; short lengths cover the maths
				}
				const h = 1e-4
				x64 := to64(x)
				g := make([]float64, n)
				for i := range x64 {
					g[i] = (c.ref(x64[i]+h) - c.ref(x64[i]-h)) / (2 * h) * float64(dy[i])
				}
				assertClose(t, c.name+"Backward", dx, g, 1e-5)
			}
		}
	})
}

// TestActivationsInPlace runs every forward and backward with the output
// aliasing the input, as layers do.
func TestActivationsInPlace(t *testing.T) {
	r := newRand(3)
	for _, c := range unaryCases {
		x := randSlice(r, 1000, -4, 4)
		want := make([]float32, len(x))
		c.fwd(want, x)
		c.fwd(x, x)
		assertClose(t, c.name+" in place", x, want, 0)
		dy := randSlice(r, len(x), -1, 1)
		c.bwd(want, dy, x)
		c.bwd(dy, dy, x)
		assertClose(t, c.name+"Backward in place", dy, want, 0)
	}
}

// seq returns lo, lo+1, ..., hi.
func seq(lo, hi int) []int {
	s := make([]int, 0, hi-lo+1)
	for i := lo; i <= hi; i++ {
		s = append(s, i)
	}
	return s
}

func BenchmarkReLU(b *testing.B) {
	d := Dims{32, 32, 32, 64}
	x := randSlice(newRand(1), d.Len(), -1, 1)
	y := make([]float32, d.Len())
	for b.Loop() {
		ReLU(y, x)
	}
	b.ReportMetric(float64(8*d.Len())*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
}

func BenchmarkReLUBackward(b *testing.B) {
	d := Dims{32, 32, 32, 64}
	x := randSlice(newRand(1), d.Len(), -1, 1)
	dy := randSlice(newRand(2), d.Len(), -1, 1)
	dx := make([]float32, d.Len())
	for b.Loop() {
		ReLUBackward(dx, dy, x)
	}
	b.ReportMetric(float64(12*d.Len())*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
}
