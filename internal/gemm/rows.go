package gemm

import (
	"github.com/foveaml/fovea/internal/cpu"
	"github.com/foveaml/fovea/internal/scratch"
)

// rowsMax is the most rows of A the few-rows path takes (a dense layer
// at batch 8), and rowsBlock the columns of C one task keeps in L1.
const (
	rowsMax   = 8
	rowsBlock = 512
)

// fewRows computes C = A·B + beta·C for at most rowsMax rows of a stored
// (not transposed) A and B with alpha 1, when the assembly is there, and
// reports whether it did. A dense layer at a small batch uses each weight
// a handful of times, so its time is the time to read B: instead of
// micro-panels that walk down B's columns (each row of a panel on another
// page), each task reads B's rows once, two rows per step: whole rows
// of a slab of them when the rows of C fit in L1 (sliceRows), else 2 KB
// runs of every row for a block of C's columns kept in L1, for widths
// that are a multiple of 64. The kernel takes any width: the columns past
// a multiple of 16 under a mask.
func (d *driver) fewRows() bool {
	if !hasRowsAxpy || d.transA || d.transB || d.m > rowsMax || d.alpha != 1 || d.k < 2 {
		return false
	}
	if d.sliceRows() {
		return true
	}
	if d.n%64 != 0 {
		// Blocks of C's columns past a multiple of 64 lose to the tiled
		// product at 8 rows (1000 columns: 1.23–1.4× its time).
		return false
	}
	main := d.n
	kEven := d.k &^ 1
	blocks := (main + rowsBlock - 1) / rowsBlock
	cpu.ForEach(blocks, func(t int) {
		j0 := t * rowsBlock
		cols := min(rowsBlock, main-j0)
		if d.beta != 1 {
			scaleC(d.m, cols, d.beta, d.c[j0:], d.ldc)
		}
		// Bounds of what the assembly reads and writes.
		_ = d.c[(d.m-1)*d.ldc+j0+cols-1]
		_ = d.a[(d.m-1)*d.lda+kEven-1]
		_ = d.b[(kEven-1)*d.ldb+j0+cols-1]
		rowsAxpyAVX512(&d.c[j0], d.ldc, &d.a[0], d.lda, &d.b[j0], d.ldb, d.m, kEven, cols)
		if kEven < d.k { // the last row of B
			d.addRowOfB(d.c, d.ldc, d.k-1, j0, j0+cols)
		}
	})
	return true
}

// sliceRows is fewRows for one or two rows of C that fit in L1 together
// (a dense layer at batch 1 or 2): each task streams a contiguous slab
// of B's rows, whole rows at a time, into a partial C of its own, and the
// partials are added up in slab order (the same bits from run to run at
// a given number of workers). A column block of B's rows instead reads
// 2 KB runs a B row apart, each a fresh start for the prefetchers. It
// reports whether it took the product.
func (d *driver) sliceRows() bool {
	w := cpu.Workers()
	slabs := 4 * w
	if w == 1 || d.m > sliceRowsM || d.m*d.n > sliceRowsC || d.k < 64*slabs || d.n < 64 {
		return false
	}
	size := d.m * d.n
	pp := scratch.Get(slabs * size)
	defer scratch.Put(pp)
	parts := *pp
	rows := roundUp(ceilDiv(d.k, slabs), 2) // even: the kernel takes pairs of B's rows
	cpu.ForEach(slabs, func(s int) {
		part := parts[s*size : (s+1)*size]
		clear(part)
		p0, p1 := min(s*rows, d.k), min((s+1)*rows, d.k)
		kEven := (p1 - p0) &^ 1
		if kEven > 0 {
			_ = d.a[(d.m-1)*d.lda+p0+kEven-1]
			_ = d.b[(p0+kEven-1)*d.ldb+d.n-1]
			rowsAxpyAVX512(&part[0], d.n, &d.a[p0], d.lda, &d.b[p0*d.ldb], d.ldb, d.m, kEven, d.n)
		}
		if p0+kEven < p1 { // the odd last row of B
			d.addRowOfB(part, d.n, p1-1, 0, d.n)
		}
	})
	// The partials' sum, by columns in parallel, each in slab order.
	cpu.For(d.n, 1024, func(lo, hi int) {
		if d.beta != 1 {
			scaleC(d.m, hi-lo, d.beta, d.c[lo:], d.ldc)
		}
		for r := 0; r < d.m; r++ {
			row := d.c[r*d.ldc+lo : r*d.ldc+hi]
			for s := 0; s < slabs; s++ {
				part := parts[s*size+r*d.n+lo : s*size+r*d.n+hi]
				for j, v := range part {
					row[j] += v
				}
			}
		}
	})
	return true
}

// addRowOfB adds A's column p times columns [j0, j1) of B's row p into
// the rows of c (row stride ldc), in Go: what the assembly leaves, an odd
// last row of B.
func (d *driver) addRowOfB(c []float32, ldc, p, j0, j1 int) {
	brow := d.b[p*d.ldb+j0 : p*d.ldb+j1]
	for r := 0; r < d.m; r++ {
		av := d.a[r*d.lda+p]
		crow := c[r*ldc+j0 : r*ldc+j1]
		for j, bv := range brow {
			crow[j] += av * bv
		}
	}
}

// sliceRowsM and sliceRowsC are the most rows and floats of C that
// sliceRows takes: a partial C a task keeps in L1 while B streams past.
// At 4 rows and more, loading and storing C for every pair of B's rows
// costs more than the column blocks' scattered reads (2–2.6× at 8 rows
// of 1000).
const (
	sliceRowsM = 2
	sliceRowsC = 8192
)
