package gemm

import "unsafe"

// maxTile bounds MR·NR over all micro-kernels (the edge-tile buffer).
const maxTile = 16 * 32

// Kernel is a register-blocked micro-kernel and the cache blocking that
// suits it. Its tile is MR rows of A by NR columns of B.
//
// The kernel reads A through strides rather than from a fixed packed
// layout, which is what lets a convolution run it straight on an NHWC
// image: element (r, p) of the s-th segment of A is the float at byte
// offset off[s] + r·rs + p·ps from a. B is packed: row p (NR floats) of
// the whole reduction (segments one after the other) is at byte offset
// p·bs from b.
type Kernel struct {
	Name   string
	MR, NR int
	mc, kc int // an A block of mc×kc stays in L2
	nc     int // a B block of kc×nc stays in L3
	// family names the kernels that differ only in MR (same NR and
	// instruction set), among which a convolution picks the one whose
	// tiles fit its rows best.
	family string
	// siblings is what Siblings returns, listed at start-up.
	siblings []*Kernel
	// epi, when set, is the kernel with an Epilogue argument (TileEpilogue).
	epi func(a *float32, off *int, nseg, kc, rs, ps int, b *float32, bs int, c *float32, ldc int, alpha, beta float32, pf int, e *Epilogue)
	fn  func(a *float32, off *int, nseg, kc, rs, ps int, b *float32, bs int, c *float32, ldc int, alpha, beta float32, pf int)
}

// Tile computes one MR×NR tile of C (row stride ldc, in floats):
//
//	C[r][j] = alpha · Σ_s Σ_{p<kc} A_s(r, p) · B[s·kc+p][j] + beta · C[r][j]
//
// with A_s(r, p) and B addressed as the Kernel doc describes (byte
// strides). When beta is 0, C is not read. Every address the sum names
// must be valid memory: callers compute edge tiles into a scratch tile.
//
// As it reads each row of B, the kernel asks L2 for the row pf bytes on:
// the same row of the panel the caller reads next, so that a panel
// coming from memory (a filter at a batch of one image, a B read in
// place with each row on another page) is on its way while this one is
// used. With pf 0 it asks for the row it is reading, which costs
// nothing.
func (k *Kernel) Tile(a *float32, off []int, kc, rs, ps int, b *float32, bs int, c *float32, ldc int, alpha, beta float32, pf int) {
	k.fn(a, unsafe.SliceData(off), len(off), kc, rs, ps, b, bs, c, ldc, alpha, beta, pf)
}

// Epilogue is what TileEpilogue does to each value of a finished tile
// before storing it, in registers:
//
//	C[r][j] = max(acc[r][j]·Scale[j] + Shift[j] + Res[r·LdRes+j], Floor)
//
// Scale and Shift point at NR floats each, Res at the tile's residual
// (rows LdRes floats apart). Every pointer must be valid: for none, Scale
// points at ones, Shift at zeros, Res at NR zeros with LdRes 0, and Floor
// is −Inf (0 for ReLU; max lets NaN through, as ReLU does). The field
// order is the assembly's.
type Epilogue struct {
	Scale, Shift, Res *float32
	LdRes             int
	Floor             float32
}

// HasEpilogue reports whether TileEpilogue may be called on k.
func (k *Kernel) HasEpilogue() bool { return k.epi != nil }

// TileEpilogue is Tile followed by e on every value of the tile, with
// alpha 1, for kernels where HasEpilogue holds.
func (k *Kernel) TileEpilogue(a *float32, off []int, kc, rs, ps int, b *float32, bs int, c *float32, ldc int, beta float32, pf int, e *Epilogue) {
	k.epi(a, unsafe.SliceData(off), len(off), kc, rs, ps, b, bs, c, ldc, 1, beta, pf, e)
}

// generic is the pure-Go micro-kernel: always available.
var generic = &Kernel{Name: "generic", MR: 4, NR: 16, mc: 128, kc: 256, nc: 2048, fn: microGeneric}

// impls lists every kernel this machine can run, fastest first; Default
// is the one everything uses, chosen once at start-up.
var (
	impls = append(asmKernels(), generic)
	impl  = impls[0]
)

// Default returns the micro-kernel chosen for this machine at start-up:
// "avx512", "avx2" or, under the noasm tag or off amd64, "generic".
func Default() *Kernel { return impl }

// Narrow returns the kernel for products with at most 16 columns (a
// convolution to few channels): a 16-wide assembly kernel where the
// default is wider, else the default. It is chosen once, at start-up.
func Narrow() *Kernel { return narrow }

var narrow = func() *Kernel {
	for _, k := range impls {
		if k.NR == 16 && k != generic {
			return k
		}
	}
	return impl
}()

// Siblings returns k and the other kernels of its family: the same NR
// and instruction set with other numbers of rows, k first. A convolution
// whose output rows are short picks the one that wastes fewest rows. The
// list is made once, at start-up: the caller must not change it.
func Siblings(k *Kernel) []*Kernel {
	if k.siblings == nil {
		return []*Kernel{k} // not one of this machine's kernels
	}
	return k.siblings
}

func init() {
	for _, k := range impls {
		k.siblings = []*Kernel{k}
		for _, o := range impls {
			if o != k && o.family != "" && o.family == k.family {
				k.siblings = append(k.siblings, o)
			}
		}
	}
}

// Kernels returns every micro-kernel this machine can run, fastest first,
// so that tests can check each one.
func Kernels() []*Kernel { return impls }

// SetDefault makes k the kernel used from now on and returns the previous
// one: for tests that compare the kernels. It is not safe to call while
// other goroutines multiply.
func SetDefault(k *Kernel) *Kernel {
	prev := impl
	impl = k
	return prev
}

// at returns the float at byte offset off from p.
func at(p *float32, off int) float32 {
	return *(*float32)(unsafe.Add(unsafe.Pointer(p), off))
}

// microGeneric is the reference the assembly kernels must equal, for a
// 4×16 tile.
func microGeneric(a *float32, off *int, nseg, kc, rs, ps int, b *float32, bs int, c *float32, ldc int, alpha, beta float32, pf int) {
	const mr, nr = 4, 16
	var acc [mr * nr]float32
	offs := unsafe.Slice(off, nseg)
	bo := 0
	for _, o := range offs {
		for p := 0; p < kc; p++ {
			bv := unsafe.Slice((*float32)(unsafe.Add(unsafe.Pointer(b), bo)), nr)
			bo += bs
			for i := 0; i < mr; i++ {
				av := at(a, o+i*rs+p*ps)
				row := acc[i*nr : i*nr+nr]
				for j := range row {
					row[j] += av * bv[j]
				}
			}
		}
	}
	cs := unsafe.Slice(c, (mr-1)*ldc+nr)
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
