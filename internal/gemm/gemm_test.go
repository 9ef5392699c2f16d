package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

const guard = float32(-7777.5)

// refGemm is the plain triple loop, in float64.
func refGemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) []float64 {
	out := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				ai, bi := i*lda+p, p*ldb+j
				if transA {
					ai = p*lda + i
				}
				if transB {
					bi = j*ldb + p
				}
				av, bv := a[ai], b[bi]
				s += float64(av) * float64(bv)
			}
			s *= float64(alpha)
			if beta != 0 {
				s += float64(beta) * float64(c[i*ldc+j])
			}
			out[i*n+j] = s
		}
	}
	return out
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

// withKernel runs f once with each micro-kernel this machine has.
func withKernel(t *testing.T, f func(t *testing.T)) {
	saved := impl
	defer func() { impl = saved }()
	for _, k := range impls {
		impl = k
		t.Run(k.name, f)
	}
}

// checkSgemm runs one Sgemm against the reference, with guard values
// around C and in the gap between its rows.
func checkSgemm(t *testing.T, r *rand.Rand, transA, transB bool, m, n, k, pad int, alpha, beta float32) {
	t.Helper()
	ra, ca := m, k
	if transA {
		ra, ca = k, m
	}
	rb, cb := k, n
	if transB {
		rb, cb = n, k
	}
	lda, ldb, ldc := ca+pad, cb+pad, n+pad
	a := randSlice(r, ra*lda)
	b := randSlice(r, rb*ldb)
	const front = 37
	buf := make([]float32, front+m*ldc+front)
	for i := range buf {
		buf[i] = guard
	}
	c := buf[front : front+m*ldc]
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			if beta == 0 {
				c[i*ldc+j] = float32(math.NaN()) // must not be read
			} else {
				c[i*ldc+j] = float32(r.NormFloat64())
			}
		}
	}
	want := refGemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	name := fmt.Sprintf("tA=%v tB=%v m=%d n=%d k=%d pad=%d alpha=%v beta=%v", transA, transB, m, n, k, pad, alpha, beta)
	tol := 1e-5 * math.Sqrt(float64(k+1)) * 4
	for i := 0; i < m; i++ {
		for j := 0; j < ldc; j++ {
			got := c[i*ldc+j]
			if j >= n {
				if got != guard {
					t.Fatalf("%s: wrote past row end at (%d,%d): %v", name, i, j, got)
				}
				continue
			}
			w := want[i*n+j]
			if d := math.Abs(float64(got) - w); d > tol*(1+math.Abs(w)) || math.IsNaN(float64(got)) {
				t.Fatalf("%s: C[%d,%d] = %v, want %v", name, i, j, got, w)
			}
		}
	}
	for i := 0; i < front; i++ {
		if buf[i] != guard || buf[len(buf)-1-i] != guard {
			t.Fatalf("%s: wrote outside C", name)
		}
	}
}

func TestSgemmShapes(t *testing.T) {
	withKernel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 2))
		sizes := []int{1, 2, 3, 5, 7, 11, 12, 13, 16, 17, 31, 32, 33, 47, 64, 97}
		for _, m := range sizes {
			for _, n := range sizes {
				k := sizes[(m+n)%len(sizes)]
				for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
					checkSgemm(t, r, tr[0], tr[1], m, n, k, (m*n)%3, 1, 0)
				}
			}
		}
	})
}

func TestSgemmLargeAndPrime(t *testing.T) {
	withKernel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(3, 4))
		cases := [][3]int{{300, 257, 263}, {151, 299, 600}, {1, 300, 97}, {300, 1, 283}, {293, 37, 1}, {577, 64, 576}, {64, 1031, 9}}
		for _, c := range cases {
			checkSgemm(t, r, false, false, c[0], c[1], c[2], 1, 1, 0)
			checkSgemm(t, r, true, true, c[0], c[1], c[2], 3, 0.5, 1)
		}
	})
}

func TestSgemmAlphaBeta(t *testing.T) {
	withKernel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(5, 6))
		for _, ab := range [][2]float32{{1, 1}, {2, 0}, {-0.5, 0.25}, {0, 3}, {1, float32(math.Copysign(0, -1))}} {
			checkSgemm(t, r, false, true, 29, 45, 70, 2, ab[0], ab[1])
			checkSgemm(t, r, true, false, 100, 33, 300, 0, ab[0], ab[1])
		}
		checkSgemm(t, r, false, false, 13, 17, 0, 1, 1, 0.5) // k = 0: C = beta·C
	})
}

// TestMicroKernels compares each micro-kernel with the generic one on its
// own tile, the contract its doc comment states.
func TestMicroKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, kern := range impls {
		for _, kc := range []int{0, 1, 2, 7, 256} {
			a := randSlice(r, kc*kern.mr+1)
			b := randSlice(r, kc*kern.nr+1)
			ldc := kern.nr + 5
			c0 := randSlice(r, kern.mr*ldc)
			for _, beta := range []float32{0, 1, 0.5} {
				got := append([]float32(nil), c0...)
				kern.micro(kc, &a[0], &b[0], &got[0], ldc, 1.5, beta)
				for i := 0; i < kern.mr; i++ {
					for j := 0; j < ldc; j++ {
						var s float64
						for p := 0; p < kc; p++ {
							s += float64(a[p*kern.mr+i]) * float64(b[p*kern.nr+j%kern.nr])
						}
						want := 1.5 * s
						if beta != 0 {
							want += float64(beta) * float64(c0[i*ldc+j])
						}
						if j >= kern.nr {
							want = float64(c0[i*ldc+j])
						}
						if math.Abs(float64(got[i*ldc+j])-want) > 1e-4*(1+math.Abs(want)) {
							t.Fatalf("%s kc=%d beta=%v: C[%d,%d] = %v, want %v", kern.name, kc, beta, i, j, got[i*ldc+j], want)
						}
					}
				}
			}
		}
	}
}

// rowIndex is an implicit A whose element (i, p) is i+p/8, to show that
// Gemm only ever asks PanelA for what it needs.
type rowIndex struct{ m, k int }

func (x rowIndex) PackA(dst []float32, i0, mc, k0, kc, mr int) {
	for r := 0; r < roundUp(mc, mr); r++ {
		for p := 0; p < kc; p++ {
			v := float32(0)
			if r < mc {
				v = float32(i0+r) + float32(k0+p)/8
			}
			dst[(r/mr)*kc*mr+p*mr+r%mr] = v
		}
	}
}

func TestGemmImplicitAndEpilogue(t *testing.T) {
	withKernel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(9, 10))
		for _, c := range [][3]int{{1000, 64, 576}, {50, 3000, 40}, {7, 5, 3}} {
			m, n, k := c[0], c[1], c[2]
			b := randSlice(r, k*n)
			covered := make([]int32, m*n)
			out := make([]float32, m*n)
			Gemm(m, n, k, 1, rowIndex{m, k}, Matrix{b, n, false}, 0, out, n, func(cc []float32, ldc, i0, rows, j0, cols int) {
				for i := i0; i < i0+rows; i++ {
					for j := j0; j < j0+cols; j++ {
						covered[i*n+j]++
						cc[i*ldc+j] += 1 // a bias of one
					}
				}
			})
			for i := 0; i < m; i++ {
				for j := 0; j < n; j++ {
					if covered[i*n+j] != 1 {
						t.Fatalf("%v: epilogue saw C[%d,%d] %d times", c, i, j, covered[i*n+j])
					}
					s, mag := 1.0, 1.0
					for p := 0; p < k; p++ {
						term := (float64(i) + float64(p)/8) * float64(b[p*n+j])
						s += term
						mag += math.Abs(term)
					}
					// Float32 rounding grows with the terms' size, not the sum's.
					if d := math.Abs(float64(out[i*n+j]) - s); d > 1e-6*mag {
						t.Fatalf("%v: C[%d,%d] = %v, want %v", c, i, j, out[i*n+j], s)
					}
				}
			}
		}
	})
}

func TestGemmSerialMatchesParallel(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	m, n, k := 200, 130, 300
	a, b := randSlice(r, m*k), randSlice(r, k*n)
	c1, c2 := make([]float32, m*n), make([]float32, m*n)
	Gemm(m, n, k, 1, Matrix{a, k, false}, Matrix{b, n, false}, 0, c1, n, nil)
	GemmSerial(m, n, k, 1, Matrix{a, k, false}, Matrix{b, n, false}, 0, c2, n, nil)
	for i := range c1 {
		if c1[i] != c2[i] {
			t.Fatalf("C[%d]: parallel %v, serial %v", i, c1[i], c2[i])
		}
	}
}

func TestSgemmPanicsOnShortSlice(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for a B too short for its dimensions")
		}
	}()
	Sgemm(false, false, 4, 4, 4, 1, make([]float32, 16), 4, make([]float32, 15), 4, 0, make([]float32, 16), 4)
}
