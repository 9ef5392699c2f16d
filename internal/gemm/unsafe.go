package gemm

import "unsafe"

// unsafeSlice views n floats from p: the micro-kernels take pointers, as
// the assembly ones must.
func unsafeSlice(p *float32, n int) []float32 { return unsafe.Slice(p, n) }
