// Package gemm is fovea's single-precision matrix multiply: the engine
// under every convolution and dense layer.
//
// It follows BLIS: operands are packed into cache-sized panels, and an
// MR×NR register-blocked micro-kernel written in Go assembly (AVX-512, or
// AVX2 with FMA) runs over them; a pure-Go micro-kernel serves the noasm
// build tag and other architectures. The kernel is chosen once, at start-up.
// Matrices are row-major, as everywhere in fovea.
//
//	// C (2×2) = A (2×3) · B (3×2)
//	a := []float32{1, 2, 3, 4, 5, 6}
//	b := []float32{1, 0, 0, 1, 1, 1}
//	c := make([]float32, 4)
//	gemm.Sgemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2)
//	// c == [4 5 10 11]
//
// Convolutions do not go through Sgemm: they call a Kernel's Tile on
// their NHWC images directly, so that no im2col matrix is ever built.
package gemm

import (
	"fmt"
)

// Sgemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices,
// where op(X) is X, or Xᵀ when the matching trans flag is set. op(A) is
// m×k, op(B) is k×n and C is m×n; lda, ldb and ldc are the row strides
// (leading dimensions) of A, B and C as stored. When beta is 0, C is not
// read, so it may hold anything, NaN included. Sgemm runs on the pool of
// internal/cpu and panics if a slice is too short for its dimensions.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ra, ca := m, k
	if transA {
		ra, ca = k, m
	}
	rb, cb := k, n
	if transB {
		rb, cb = n, k
	}
	checkMatrix("A", a, ra, ca, lda)
	checkMatrix("B", b, rb, cb, ldb)
	checkMatrix("C", c, m, n, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	d := driver{kern: impl, m: m, n: n, k: k, alpha: alpha, beta: beta,
		a: a, lda: lda, transA: transA, b: b, ldb: ldb, transB: transB, c: c, ldc: ldc}
	d.run()
}

func checkMatrix(name string, x []float32, rows, cols, ld int) {
	if rows == 0 || cols == 0 {
		return
	}
	if ld < cols {
		panic(fmt.Sprintf("gemm: leading dimension of %s is %d, less than its %d columns", name, ld, cols))
	}
	if need := (rows-1)*ld + cols; len(x) < need {
		panic(fmt.Sprintf("gemm: %s needs %d values for %d×%d with stride %d, has %d", name, need, rows, cols, ld, len(x)))
	}
}

func scaleC(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}
