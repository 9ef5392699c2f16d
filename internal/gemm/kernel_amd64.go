//go:build amd64 && !noasm

package gemm

import "github.com/foveaml/fovea/internal/cpu"

// microAVX512 is microGeneric for a 12×32 tile, in AVX-512 assembly:
// 24 ZMM accumulators, two 16-float loads of B and twelve broadcasts of A
// per step of k.
//
//go:noescape
func microAVX512(kc int, a, b, c *float32, ldc int, alpha, beta float32)

// microAVX2 is microGeneric for a 6×16 tile, in AVX2+FMA assembly:
// 12 YMM accumulators.
//
//go:noescape
func microAVX2(kc int, a, b, c *float32, ldc int, alpha, beta float32)

// asmKernels lists the assembly kernels this CPU runs, fastest first.
func asmKernels() []kernel {
	var ks []kernel
	if cpu.HasAVX512 {
		ks = append(ks, kernel{name: "avx512", mr: 12, nr: 32, mc: 144, kc: 256, nc: 1024, micro: microAVX512})
	}
	if cpu.HasAVX2FMA {
		ks = append(ks, kernel{name: "avx2", mr: 6, nr: 16, mc: 144, kc: 256, nc: 1024, micro: microAVX2})
	}
	return ks
}
