package gemm

import "github.com/foveaml/fovea/internal/cpu"

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
// page), each task keeps a block of C's columns in L1 and reads B's rows
// once, 2 KB runs at a time, two rows per step. It takes only widths
// that are a multiple of 64.
func (d *driver) fewRows() bool {
	// Columns past a multiple of 64 would be a second, tiled pass down all
	// of B's rows (FC 4096→1000 is faster tiled); take whole multiples.
	if !hasRowsAxpy || d.transA || d.transB || d.m > rowsMax || d.alpha != 1 || d.n%64 != 0 || d.k < 2 {
		return false
	}
	main := d.n
	kEven := d.k &^ 1
	blocks := (main + rowsBlock - 1) / rowsBlock
	cpu.ForEach(blocks, func(t int) {
		j0 := t * rowsBlock
		cols := min(rowsBlock, main-j0)
		for r := 0; r < d.m; r++ {
			row := d.c[r*d.ldc+j0 : r*d.ldc+j0+cols]
			if d.beta == 0 {
				clear(row)
			} else if d.beta != 1 {
				for j := range row {
					row[j] *= d.beta
				}
			}
		}
		// Bounds of what the assembly reads and writes.
		_ = d.c[(d.m-1)*d.ldc+j0+cols-1]
		_ = d.a[(d.m-1)*d.lda+kEven-1]
		_ = d.b[(kEven-1)*d.ldb+j0+cols-1]
		rowsAxpyAVX512(&d.c[j0], d.ldc, &d.a[0], d.lda, &d.b[j0], d.ldb, d.m, kEven, cols)
		if kEven < d.k { // the last row of B
			p := d.k - 1
			brow := d.b[p*d.ldb+j0 : p*d.ldb+j0+cols]
			for r := 0; r < d.m; r++ {
				av := d.a[r*d.lda+p]
				crow := d.c[r*d.ldc+j0 : r*d.ldc+j0+cols]
				for j, bv := range brow {
					crow[j] += av * bv
				}
			}
		}
	})
	return true
}
