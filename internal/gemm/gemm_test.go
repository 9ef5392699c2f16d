package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
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
		t.Run(k.Name, f)
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
		// Few rows (a dense layer at a small batch): the few-rows path,
		// with odd k, tail columns and every beta.
		for _, c := range [][3]int{{8, 1024, 200}, {5, 640, 3}, {1, 64, 2}, {8, 576, 1001}, {3, 128, 64}, {8, 1031, 200}} {
			for _, beta := range []float32{0, 1, 0.5} {
				checkSgemm(t, r, false, false, c[0], c[1], c[2], 2, 1, beta)
			}
		}
		// A dense layer at batch 1 or 2 on two workers: slabs of B's rows
		// (sliceRows), with tail columns and an odd k.
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
		for _, c := range [][3]int{{1, 1000, 1031}, {2, 4096, 600}, {1, 64, 513}, {1, 4096, 2048}, {2, 100, 4099}} {
			for _, beta := range []float32{0, 1, 0.5} {
				checkSgemm(t, r, false, false, c[0], c[1], c[2], 2, 1, beta)
			}
		}
		// 17 workers cut 4353 rows into 68 slabs of 66: the last two are
		// empty.
		runtime.GOMAXPROCS(17)
		for _, beta := range []float32{0, 0.5} {
			checkSgemm(t, r, false, false, 1, 64, 4353, 2, 1, beta)
		}
	})
}

// TestKernels checks each micro-kernel on its own tile against the
// formula of Kernel.Tile, with several segments and with A read through
// both the packed layouts and an unpacked, strided one.
func TestKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, kern := range impls {
		mr, nr := kern.MR, kern.NR
		for _, kc := range []int{0, 1, 2, 7, 64} {
			for _, lay := range []struct {
				name   string
				rs, ps int
				offs   []int
			}{
				{"rows", kc, 1, []int{0}},
				{"interleaved", 1, mr, []int{0}},
				{"segments", 3 * kc, 1, []int{0, kc + 5, 2*kc + 9}},
			} {
				a := randSlice(r, mr*lay.rs+kc*lay.ps+4*kc+20)
				offs := make([]int, len(lay.offs))
				for i, o := range lay.offs {
					offs[i] = 4 * o
				}
				bs := nr + 3 // B rows need not be packed tightly
				b := randSlice(r, len(offs)*kc*bs+nr)
				ldc := nr + 5
				c0 := randSlice(r, mr*ldc)
				for bi, beta := range []float32{0, 1, 0.5} {
					got := append([]float32(nil), c0...)
					// A prefetch changes nothing, and never faults, even
					// on memory that is not the program's.
					pf := []int{0, 4 * nr, -1 << 40}[bi]
					kern.Tile(&a[0], offs, kc, 4*lay.rs, 4*lay.ps, &b[0], 4*bs, &got[0], ldc, 1.5, beta, pf)
					for i := 0; i < mr; i++ {
						for j := 0; j < ldc; j++ {
							var s float64
							for si, o := range lay.offs {
								for p := 0; p < kc; p++ {
									s += float64(a[o+i*lay.rs+p*lay.ps]) * float64(b[(si*kc+p)*bs+j%nr])
								}
							}
							want := 1.5 * s
							if beta != 0 {
								want += float64(beta) * float64(c0[i*ldc+j])
							}
							if j >= nr {
								want = float64(c0[i*ldc+j])
							}
							if math.Abs(float64(got[i*ldc+j])-want) > 1e-4*(1+math.Abs(want)) {
								t.Fatalf("%s %s kc=%d beta=%v: C[%d,%d] = %v, want %v", kern.Name, lay.name, kc, beta, i, j, got[i*ldc+j], want)
							}
						}
					}
				}
			}
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

// TestKernelEpilogue checks TileEpilogue against Tile followed by the
// epilogue's formula, with and without beta, scale, residual and ReLU.
func TestKernelEpilogue(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	tested := 0
	for _, kern := range impls {
		if !kern.HasEpilogue() {
			continue
		}
		tested++
		mr, nr := kern.MR, kern.NR
		const kc = 37
		a, b := randSlice(r, mr*kc), randSlice(r, 2*kc*nr)
		scale, shift := randSlice(r, nr), randSlice(r, nr)
		ldc, ldr := nr+3, nr+7
		res := randSlice(r, mr*ldr)
		ones, zeros := make([]float32, nr), make([]float32, nr)
		for i := range ones {
			ones[i] = 1
		}
		c0 := randSlice(r, mr*ldc)
		for _, beta := range []float32{0, 1} {
			for mask := range 8 {
				e := Epilogue{Scale: &ones[0], Shift: &zeros[0], Res: &zeros[0], Floor: float32(math.Inf(-1))}
				if mask&1 != 0 {
					e.Scale, e.Shift = &scale[0], &shift[0]
				}
				if mask&2 != 0 {
					e.Res, e.LdRes = &res[0], ldr
				}
				if mask&4 != 0 {
					e.Floor = 0
				}
				want := append([]float32(nil), c0...)
				kern.Tile(&a[0], []int{0, 4 * (kc / 2)}, kc/2, 4*kc, 4, &b[0], 4*nr, &want[0], ldc, 1, beta, 0)
				got := append([]float32(nil), c0...)
				kern.TileEpilogue(&a[0], []int{0, 4 * (kc / 2)}, kc/2, 4*kc, 4, &b[0], 4*nr, &got[0], ldc, beta, 4*nr*kc, &e)
				for i := 0; i < mr; i++ {
					for j := 0; j < ldc; j++ {
						w := float64(want[i*ldc+j])
						if j < nr {
							if mask&1 != 0 {
								w = w*float64(scale[j]) + float64(shift[j])
							}
							if mask&2 != 0 {
								w += float64(res[i*ldr+j])
							}
							if mask&4 != 0 {
								w = max(w, 0)
							}
						}
						if g := float64(got[i*ldc+j]); math.Abs(g-w) > 1e-5*(1+math.Abs(w)) {
							t.Fatalf("%s beta %v parts %03b: C[%d,%d] = %v, want %v", kern.Name, beta, mask, i, j, g, w)
						}
					}
				}
			}
		}
	}
	if tested == 0 && len(impls) > 3 {
		t.Fatalf("no kernel with an epilogue among %d", len(impls))
	}
}
