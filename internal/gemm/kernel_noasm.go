//go:build noasm || !amd64

package gemm

// asmKernels is empty without assembly: Gemm uses the pure-Go kernel.
func asmKernels() []kernel { return nil }
