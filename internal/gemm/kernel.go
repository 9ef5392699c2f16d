package gemm

// maxTile bounds mr·nr over all micro-kernels (the edge-tile buffer).
const maxTile = 16 * 32

// kernel is one micro-kernel and the blocking that suits it.
type kernel struct {
	name   string
	mr, nr int // register tile: rows of A, columns of B
	mc, kc int // an A block of mc×kc stays in L2
	nc     int // a B block of kc×nc stays in L3
	// micro computes C[mr×nr] = alpha·Ã·B̃ + beta·C over kc packed
	// columns, where Ã is an mr-row micro-panel and B̃ an nr-column one.
	// C has row stride ldc. When beta is 0, C is not read.
	micro func(kc int, a, b, c *float32, ldc int, alpha, beta float32)
}

// generic is the pure-Go micro-kernel: always available.
var generic = kernel{name: "generic", mr: 4, nr: 16, mc: 128, kc: 256, nc: 2048, micro: microGeneric}

// impl is the micro-kernel Gemm uses, chosen once at start-up; impls lists
// every kernel this machine can run, for tests and benchmarks.
var (
	impls = append(asmKernels(), generic)
	impl  = impls[0]
)

// Kernel names the micro-kernel in use: "avx512", "avx2" or "generic".
func Kernel() string { return impl.name }

// microGeneric is the reference the assembly kernels must equal.
func microGeneric(kc int, a, b, c *float32, ldc int, alpha, beta float32) {
	const mr, nr = 4, 16
	ap := unsafeSlice(a, kc*mr)
	bp := unsafeSlice(b, kc*nr)
	var acc [mr * nr]float32
	for p := 0; p < kc; p++ {
		bv := bp[p*nr : p*nr+nr]
		for i := 0; i < mr; i++ {
			av := ap[p*mr+i]
			row := acc[i*nr : i*nr+nr]
			for j := range row {
				row[j] += av * bv[j]
			}
		}
	}
	cs := unsafeSlice(c, (mr-1)*ldc+nr)
	for i := 0; i < mr; i++ {
		row := cs[i*ldc : i*ldc+nr]
		for j := range row {
			if beta == 0 {
				row[j] = alpha * acc[i*nr+j]
			} else {
				row[j] = alpha*acc[i*nr+j] + beta*row[j]
			}
		}
	}
}
