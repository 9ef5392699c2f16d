//go:build noasm || !amd64

package gemm

// asmKernels is empty without assembly: everything uses the Go kernel.
func asmKernels() []*Kernel { return nil }
