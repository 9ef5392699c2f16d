//go:build noasm || !amd64

package gemm

// asmKernels is empty without assembly: everything uses the Go kernel.
func asmKernels() []*Kernel { return nil }

// Without assembly the few-rows path (rows.go) is off.
const hasRowsAxpy = false

func rowsAxpyAVX512(c *float32, ldc int, a *float32, lda int, b *float32, ldb int, rows, k, cols int) {
	panic("gemm: rowsAxpyAVX512 without assembly")
}
