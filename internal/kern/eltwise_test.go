package kern

import (
	"strings"
	"testing"
)

// TestEltwise checks the exported element-wise kernels, short and long
// enough to be split over the pool, against float64 references; the
// assembly loops themselves are swept in TestVec.
func TestEltwise(t *testing.T) {
	forEachVec(t, func(t *testing.T) {
		r := newRand(4)
		for _, n := range []int{0, 1, 17, 255, 2*elemGrain + 3} {
			x, y := randSlice(r, n, -3, 3), randSlice(r, n, -3, 3)
			x64, y64 := to64(x), to64(y)
			want := func(f func(a, b float64) float64) []float64 {
				w := make([]float64, n)
				for i := range w {
					w[i] = f(x64[i], y64[i])
				}
				return w
			}
			const a = 0.75
			cases := []struct {
				name string
				run  func(out []float32)
				want []float64
			}{
				{"Add", func(o []float32) { Add(o, x, y) }, want(func(a, b float64) float64 { return a + b })},
				{"Mul", func(o []float32) { Mul(o, x, y) }, want(func(a, b float64) float64 { return a * b })},
				{"Scale", func(o []float32) { Scale(o, a, x) }, want(func(x, _ float64) float64 { return a * x })},
				{"Acc", func(o []float32) { copy(o, y); Acc(o, x) }, want(func(a, b float64) float64 { return b + a })},
				{"Axpy", func(o []float32) { copy(o, y); Axpy(o, a, x) }, want(func(x, y float64) float64 { return y + a*x })},
			}
			for _, c := range cases {
				out, check := guardedFill(t, n, nan32)
				c.run(out)
				check()
				assertClose(t, c.name, out, c.want, 1e-6) // Axpy may round twice
			}
		}
	})
}

func TestEltwiseLengthMismatch(t *testing.T) {
	defer func() {
		if msg, _ := recover().(string); !strings.Contains(msg, "kern.Add") {
			t.Errorf("panic %q, want a message naming kern.Add", msg)
		}
	}()
	Add(make([]float32, 3), make([]float32, 3), make([]float32, 4))
}
