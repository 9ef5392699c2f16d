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
// Callers whose left operand is not stored as a matrix (convolution's
// im2col rows, gathered straight from an NHWC image) implement PanelA and
// call Gemm, so the matrix never exists in memory.
package gemm

import (
	"fmt"
	"sync"
)

// PanelA is the left operand of Gemm: a logical m×k matrix that copies
// blocks of itself into the packed layout the micro-kernel reads.
type PanelA interface {
	// PackA writes rows [i0, i0+mc) and columns [k0, k0+kc) of the matrix
	// into dst as ceil(mc/mr) micro-panels of mr rows each:
	//
	//	dst[(r/mr)*kc*mr + p*mr + r%mr] = A[i0+r][k0+p]
	//
	// Rows past mc in the last panel are set to zero.
	PackA(dst []float32, i0, mc, k0, kc, mr int)
}

// PanelB is the right operand of Gemm: a logical k×n matrix that copies
// blocks of itself into the packed layout the micro-kernel reads.
type PanelB interface {
	// PackB writes rows [k0, k0+kc) and columns [j0, j0+nc) of the matrix
	// into dst as ceil(nc/nr) micro-panels of nr columns each:
	//
	//	dst[(c/nr)*kc*nr + p*nr + c%nr] = B[k0+p][j0+c]
	//
	// Columns past nc in the last panel are set to zero.
	PackB(dst []float32, k0, kc, j0, nc, nr int)
}

// Epilogue is called once for each block of C that Gemm has finished,
// while the block is still in cache: rows [i0, i0+rows) and columns
// [j0, j0+cols). Convolution adds its bias and activation here. It is
// called from several goroutines at once, on disjoint blocks.
type Epilogue func(c []float32, ldc, i0, rows, j0, cols int)

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
	Gemm(m, n, k, alpha, Matrix{a, lda, transA}, Matrix{b, ldb, transB}, beta, c, ldc, nil)
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

// Gemm computes C = alpha·A·B + beta·C where A (m×k) and B (k×n) pack
// themselves, and calls epi (if not nil) on each finished block of C.
// When beta is 0, C is not read. Work is split over the pool of
// internal/cpu.
func Gemm(m, n, k int, alpha float32, a PanelA, b PanelB, beta float32, c []float32, ldc int, epi Epilogue) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		if epi != nil {
			epi(c, ldc, 0, m, 0, n)
		}
		return
	}
	newDriver(impl, m, n, k, alpha, a, b, beta, c, ldc, epi).run(true)
}

// GemmSerial is Gemm on the calling goroutine alone, for callers that
// already run one Gemm per worker (one per image of a batch, say).
func GemmSerial(m, n, k int, alpha float32, a PanelA, b PanelB, beta float32, c []float32, ldc int, epi Epilogue) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		if epi != nil {
			epi(c, ldc, 0, m, 0, n)
		}
		return
	}
	newDriver(impl, m, n, k, alpha, a, b, beta, c, ldc, epi).run(false)
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

// bufPool recycles packing buffers between calls.
var bufPool sync.Pool

func getBuf(n int) *[]float32 {
	if p, ok := bufPool.Get().(*[]float32); ok && cap(*p) >= n {
		*p = (*p)[:n]
		return p
	}
	s := make([]float32, n, n+n/4)
	return &s
}

func putBuf(p *[]float32) { bufPool.Put(p) }

// Matrix is a row-major matrix in a slice with row stride LD, or, when T is
// set, the transpose of one. It implements PanelA and PanelB, so Gemm can
// mix stored matrices with implicit ones.
type Matrix struct {
	Data []float32
	LD   int
	T    bool
}

// PackA implements PanelA.
func (x Matrix) PackA(dst []float32, i0, mc, k0, kc, mr int) {
	packRows(dst, x.Data, x.LD, x.T, i0, mc, k0, kc, mr)
}

// PackB implements PanelB: B's columns are the rows of Bᵀ.
func (x Matrix) PackB(dst []float32, k0, kc, j0, nc, nr int) {
	packRows(dst, x.Data, x.LD, !x.T, j0, nc, k0, kc, nr)
}

// packRows packs rows [r0, r0+rc) and columns [k0, k0+kc) of the logical
// matrix X into micro-panels of w rows, interleaved by column:
// dst[(r/w)*kc*w + p*w + r%w] = X[r0+r][k0+p]. X is stored row-major with
// stride ld, or transposed when t is set.
func packRows(dst, x []float32, ld int, t bool, r0, rc, k0, kc, w int) {
	for base := 0; base < rc; base += w {
		rows := min(w, rc-base)
		panel := dst[(base/w)*kc*w : (base/w+1)*kc*w]
		if t {
			// X[r][p] = x[p*ld + r]: each column of the panel is a
			// contiguous run of the stored matrix.
			for p := 0; p < kc; p++ {
				src := x[(k0+p)*ld+r0+base:]
				d := panel[p*w : p*w+w]
				copy(d, src[:rows])
				clear(d[rows:])
			}
			continue
		}
		for r := 0; r < rows; r++ {
			src := x[(r0+base+r)*ld+k0 : (r0+base+r)*ld+k0+kc]
			for p, v := range src {
				panel[p*w+r] = v
			}
		}
		for r := rows; r < w; r++ {
			for p := 0; p < kc; p++ {
				panel[p*w+r] = 0
			}
		}
	}
}
