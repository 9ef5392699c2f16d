//go:build amd64 && !noasm

package kern

import "github.com/foveaml/fovea/internal/cpu"

// The assembly loops below each equal the reference loop in their doc
// comment, with n = len(x) (len(a) for scaleShift's channel count). Each
// exists as name+"AVX512" (16 lanes, masked tail) and name+"AVX2" (8 lanes,
// scalar tail), one .s file per kernel and instruction set, all written by
// gen_vec.go from one description of each kernel.

//go:generate go run gen_vec.go

// axpyAVX512 and axpyAVX2 compute
//
//	for i, v := range x { dst[i] += a * v }
//
//go:noescape
func axpyAVX512(dst []float32, a float32, x []float32)

//go:noescape
func axpyAVX2(dst []float32, a float32, x []float32)

// addAVX512 and addAVX2 compute
//
//	for i, v := range x { z[i] = v + y[i] }
//
//go:noescape
func addAVX512(z, x, y []float32)

//go:noescape
func addAVX2(z, x, y []float32)

// mulAVX512 and mulAVX2 compute
//
//	for i, v := range x { z[i] = v * y[i] }
//
//go:noescape
func mulAVX512(z, x, y []float32)

//go:noescape
func mulAVX2(z, x, y []float32)

// scaleAVX512 and scaleAVX2 compute
//
//	for i, v := range x { y[i] = a * v }
//
//go:noescape
func scaleAVX512(y []float32, a float32, x []float32)

//go:noescape
func scaleAVX2(y []float32, a float32, x []float32)

// reluAVX512 and reluAVX2 compute (MAXPS with 0 as first operand, so a
// NaN passes through)
//
//	for i, v := range x { if v < 0 { v = 0 }; y[i] = v }
//
//go:noescape
func reluAVX512(y, x []float32)

//go:noescape
func reluAVX2(y, x []float32)

// reluGradAVX512 and reluGradAVX2 compute
//
//	for i, v := range x { if v > 0 { dx[i] = dy[i] } else { dx[i] = 0 } }
//
//go:noescape
func reluGradAVX512(dx, dy, x []float32)

//go:noescape
func reluGradAVX2(dx, dy, x []float32)

// scaleShiftAVX512 and scaleShiftAVX2 compute, with c = len(a) > 0,
//
//	for r := 0; r+c <= len(x); r += c {
//		for j := 0; j < c; j++ { y[r+j] = x[r+j]*a[j] + b[j] }
//	}
//
//go:noescape
func scaleShiftAVX512(y, x, a, b []float32)

//go:noescape
func scaleShiftAVX2(y, x, a, b []float32)

// maxNaNAVX512 and maxNaNAVX2 compute
//
//	for i, v := range x { if w := y[i]; w > v || w != w { v = w }; z[i] = v }
//
//go:noescape
func maxNaNAVX512(z, x, y []float32)

//go:noescape
func maxNaNAVX2(z, x, y []float32)

// maxIdxAVX512 and maxIdxAVX2 compute (a compare and a blend per vector)
//
//	for i, v := range x { if v > ym[i] || v != v { ym[i], ix[i] = v, pix } }
//
//go:noescape
func maxIdxAVX512(ym []float32, ix []int32, x []float32, pix int32)

//go:noescape
func maxIdxAVX2(ym []float32, ix []int32, x []float32, pix int32)

// epilogueRowsAVX512 computes vecKernels.epilogueRows; the caller checks
// that every row is within y, x and res. (The AVX2 set uses the Go loop:
// the epilogue runs once per output value, after a whole reduction.)
//
//go:noescape
func epilogueRowsAVX512(y, x []float32, ld, rows, cols int, scale, shift, res []float32, relu bool)

// maxWindowAVX512 computes vecKernels.maxWindow for pixels pixels, the
// taps' addresses at x[0..taps); the caller checks every address.
//
//go:noescape
func maxWindowAVX512(y *float32, x **float32, taps, c, pixels, xs int)

func maxWindowAsm(y []float32, x []*float32, c, xs int) {
	if len(y) >= c && len(x) > 0 && c > 0 {
		maxWindowAVX512(&y[0], &x[0], len(x), c, len(y)/c, xs)
	}
}

// asmVecs lists the assembly implementations this CPU runs, fastest first.
func asmVecs() []vecKernels {
	var vs []vecKernels
	if cpu.HasAVX512 {
		vs = append(vs, vecKernels{"avx512", axpyAVX512, addAVX512, mulAVX512,
			scaleAVX512, reluAVX512, reluGradAVX512, scaleShiftAVX512, maxNaNAVX512, maxIdxAVX512, epilogueRowsAVX512, maxWindowAsm})
	}
	if cpu.HasAVX2FMA {
		vs = append(vs, vecKernels{"avx2", axpyAVX2, addAVX2, mulAVX2,
			scaleAVX2, reluAVX2, reluGradAVX2, scaleShiftAVX2, maxNaNAVX2, maxIdxAVX2, goEpilogueRows, tapByTap(maxNaNAVX2)})
	}
	return vs
}
