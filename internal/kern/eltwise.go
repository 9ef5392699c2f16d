package kern

import (
	"fmt"

	"github.com/foveaml/fovea/internal/cpu"
)

// elemGrain is the smallest piece of an element-wise loop handed to
// another goroutine: 32K floats take several microseconds even in
// assembly, enough to pay for the hand-off. Shorter loops run inline.
const elemGrain = 1 << 15

// sameLen returns the common length of the slices and panics, naming op,
// if they differ.
func sameLen(op string, s ...[]float32) int {
	for _, v := range s[1:] {
		if len(v) != len(s[0]) {
			lens := make([]int, len(s))
			for i, v := range s {
				lens[i] = len(v)
			}
			panic(fmt.Sprintf("kern.%s: slice lengths %v differ", op, lens))
		}
	}
	return len(s[0])
}

// forElems runs f over [0, n) in parallel chunks of at least elemGrain.
func forElems(n int, f func(lo, hi int)) { cpu.For(n, elemGrain, f) }

// Add sets z[i] = x[i] + y[i]. All three have the same length; z may alias
// x or y.
func Add(z, x, y []float32) {
	forElems(sameLen("Add", z, x, y), func(lo, hi int) { vec.add(z[lo:hi], x[lo:hi], y[lo:hi]) })
}

// Acc accumulates dst[i] += src[i], the gradient sum of a tensor used
// twice. dst and src have the same length.
func Acc(dst, src []float32) { Axpy(dst, 1, src) }

// Axpy accumulates dst[i] += a·x[i] (one rounding where the processor
// fuses multiply-add). dst and x have the same length.
func Axpy(dst []float32, a float32, x []float32) {
	forElems(sameLen("Axpy", dst, x), func(lo, hi int) { vec.axpy(dst[lo:hi], a, x[lo:hi]) })
}

// Scale sets y[i] = a·x[i]. y and x have the same length; y may alias x.
func Scale(y []float32, a float32, x []float32) {
	forElems(sameLen("Scale", y, x), func(lo, hi int) { vec.scale(y[lo:hi], a, x[lo:hi]) })
}

// Mul sets z[i] = x[i]·y[i]. All three have the same length; z may alias
// x or y.
func Mul(z, x, y []float32) {
	forElems(sameLen("Mul", z, x, y), func(lo, hi int) { vec.mul(z[lo:hi], x[lo:hi], y[lo:hi]) })
}
