//go:build amd64 && !noasm

package gemm

import "github.com/foveaml/fovea/internal/cpu"

// microAVX512 is microGeneric for a 12×32 tile, in AVX-512 assembly:
// 24 ZMM accumulators, two 16-float loads of B and twelve broadcasts of A
// per step of k.
//
//go:noescape
func microAVX512(a *float32, off *int, nseg, kc, rs, ps int, b *float32, bs int, c *float32, ldc int, alpha, beta float32, pf int)

// microAVX2 is microGeneric for a 6×16 tile, in AVX2+FMA assembly:
// 12 YMM accumulators.
//
//go:noescape
func microAVX2(a *float32, off *int, nseg, kc, rs, ps int, b *float32, bs int, c *float32, ldc int, alpha, beta float32, pf int)

// microAVX512R14 and microAVX512R7 are microAVX512 for 14 and 7 rows,
// for convolutions whose output rows are 7, 14, 28 or 56 pixels long.
//
//go:noescape
func microAVX512R14(a *float32, off *int, nseg, kc, rs, ps int, b *float32, bs int, c *float32, ldc int, alpha, beta float32, pf int)

//go:noescape
func microAVX512R7(a *float32, off *int, nseg, kc, rs, ps int, b *float32, bs int, c *float32, ldc int, alpha, beta float32, pf int)

// microAVX512R8 is microAVX512 for 8 rows: Winograd's products over the
// 16 tiles of a batch of one 13×13 or 14×14 image, which the 7-row kernel
// covers in 21 rows.
//
//go:noescape
func microAVX512R8(a *float32, off *int, nseg, kc, rs, ps int, b *float32, bs int, c *float32, ldc int, alpha, beta float32, pf int)

// microAVX512R8E is microAVX512R8 through an Epilogue.
//
//go:noescape
func microAVX512R8E(a *float32, off *int, nseg, kc, rs, ps int, b *float32, bs int, c *float32, ldc int, alpha, beta float32, pf int, e *Epilogue)

// microAVX512E, microAVX512R14E and microAVX512R7E are the 12-, 14- and
// 7-row kernels that store their tile through an Epilogue.
//
//go:noescape
func microAVX512E(a *float32, off *int, nseg, kc, rs, ps int, b *float32, bs int, c *float32, ldc int, alpha, beta float32, pf int, e *Epilogue)

//go:noescape
func microAVX512R14E(a *float32, off *int, nseg, kc, rs, ps int, b *float32, bs int, c *float32, ldc int, alpha, beta float32, pf int, e *Epilogue)

//go:noescape
func microAVX512R7E(a *float32, off *int, nseg, kc, rs, ps int, b *float32, bs int, c *float32, ldc int, alpha, beta float32, pf int, e *Epilogue)

//go:generate go run gen_kernels.go

// microAVX512N is microGeneric for a 16×16 tile, in AVX-512 assembly:
// one ZMM accumulator per row, for products with few columns.
//
//go:noescape
func microAVX512N(a *float32, off *int, nseg, kc, rs, ps int, b *float32, bs int, c *float32, ldc int, alpha, beta float32, pf int)

// asmKernels lists the assembly kernels this CPU runs, fastest first.
func asmKernels() []*Kernel {
	var ks []*Kernel
	if cpu.HasAVX512 {
		ks = append(ks, &Kernel{Name: "avx512", MR: 12, NR: 32, mc: 72, kc: 512, nc: 1024, family: "avx512-32", epi: microAVX512E, fn: microAVX512},
			&Kernel{Name: "avx512-narrow", MR: 16, NR: 16, mc: 96, kc: 512, nc: 1024, fn: microAVX512N},
			&Kernel{Name: "avx512-14rows", MR: 14, NR: 32, mc: 84, kc: 512, nc: 1024, family: "avx512-32", epi: microAVX512R14E, fn: microAVX512R14},
			&Kernel{Name: "avx512-7rows", MR: 7, NR: 32, mc: 84, kc: 512, nc: 1024, family: "avx512-32", epi: microAVX512R7E, fn: microAVX512R7},
			&Kernel{Name: "avx512-8rows", MR: 8, NR: 32, mc: 80, kc: 512, nc: 1024, family: "avx512-32", epi: microAVX512R8E, fn: microAVX512R8})
	}
	if cpu.HasAVX2FMA {
		ks = append(ks, &Kernel{Name: "avx2", MR: 6, NR: 16, mc: 144, kc: 256, nc: 1024, fn: microAVX2})
	}
	return ks
}
