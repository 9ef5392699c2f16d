package gemm

import (
	"github.com/foveaml/fovea/internal/cpu"
	"github.com/foveaml/fovea/internal/scratch"
)

// driver holds one Sgemm call.
type driver struct {
	kern        *Kernel
	m, n, k     int
	alpha, beta float32
	a           []float32
	lda         int
	transA      bool
	b           []float32
	ldb         int
	transB      bool
	c           []float32
	ldc         int
	// inPlaceB reads whole panels of a stored B where it lies instead of
	// packing them: for a few rows of A (a dense layer at a small batch),
	// packing B would cost as much as the product.
	inPlaceB bool
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func roundUp(a, b int) int { return ceilDiv(a, b) * b }

// tiling returns the rows of an A block and how many parts the columns
// of a B block are cut into, so that every worker has several tasks to
// take and none is left with a much larger last one.
func (d *driver) tiling(cols int) (mc, nParts int) {
	mr, nr := d.kern.MR, d.kern.NR
	mc = min(d.kern.mc, roundUp(d.m, mr))
	w := cpu.Workers()
	if w == 1 {
		return mc, 1
	}
	want := 8 * w // tasks
	mb := ceilDiv(d.m, mc)
	nParts = min(ceilDiv(cols, nr), max(1, ceilDiv(want, mb)))
	if mb*nParts < want {
		// Still too few: make the row blocks smaller too.
		mc = max(mr, roundUp(ceilDiv(d.m, ceilDiv(want, nParts)), mr))
	}
	return mc, nParts
}

// run is the BLIS loop order with the k loop moved inside the tasks: for
// each block of columns, pack that block of B for all of k (shared by the
// workers, in L3), then let the workers take (row block, column part)
// tasks, each finishing its block of C across all of k while it sits in
// L2. One barrier per column block, none per block of k.
func (d *driver) run() {
	if d.fewRows() {
		return
	}
	nr, mr := d.kern.NR, d.kern.MR
	kb := ceilDiv(d.k, ceilDiv(d.k, d.kern.kc)) // equal blocks of k
	kBlocks := ceilDiv(d.k, kb)
	ncMax := min(roundUp(d.n, nr), d.kern.nc)
	bp := scratch.Get(ncMax * d.k)
	defer scratch.Put(bp)
	bbuf := *bp
	d.inPlaceB = !d.transB && d.m <= 2*mr
	for j0 := 0; j0 < d.n; j0 += ncMax {
		nc := min(ncMax, d.n-j0)
		panels := ceilDiv(nc, nr)
		// Block p of k starts at p*kb*panels*nr; in it, panel j at j*kc*nr.
		cpu.For(kBlocks*panels, 4, func(lo, hi int) {
			for t := lo; t < hi; t++ {
				p0, jp := (t/panels)*kb, t%panels
				if d.inPlaceB && nc-jp*nr >= nr {
					continue // read in place by macro
				}
				kc := min(kb, d.k-p0)
				off := p0*panels*nr + jp*kc*nr
				d.packB(bbuf[off:off+kc*nr], p0, kc, j0+jp*nr, min(nr, nc-jp*nr))
			}
		})
		mc, nParts := d.tiling(nc)
		mBlocks := ceilDiv(d.m, mc)
		perPart := ceilDiv(panels, nParts)
		cpu.ForEach(mBlocks*nParts, func(t int) {
			i0 := (t / nParts) * mc
			jp0 := (t % nParts) * perPart
			jp1 := min(jp0+perPart, panels)
			if jp0 >= jp1 {
				return
			}
			rows := min(mc, d.m-i0)
			inPlace := !d.transA && i0+roundUp(rows, mr) <= d.m
			var ap *[]float32
			if !inPlace {
				ap = scratch.Get(roundUp(mc, mr) * kb)
				defer scratch.Put(ap)
			}
			for p0 := 0; p0 < d.k; p0 += kb {
				kc := min(kb, d.k-p0)
				beta := d.beta
				if p0 > 0 {
					beta = 1
				}
				b := bbuf[p0*panels*nr:]
				if inPlace {
					// Whole micro-panels of a stored A: read in place.
					d.macro(d.a[i0*d.lda+p0:], 4*d.lda, d.lda, 4, b, p0, kc, i0, rows, jp0, jp1, j0, beta)
					continue
				}
				rs, ps := d.packA(*ap, i0, rows, p0, kc)
				d.macro(*ap, rs, kc, ps, b, p0, kc, i0, rows, jp0, jp1, j0, beta)
			}
		})

	}
}

// packA copies rows [i0, i0+rows) and columns [k0, k0+kc) of op(A) into
// dst as micro-panels of MR rows, in whichever layout is a straight copy
// of the stored matrix, and returns the byte strides the kernel reads it
// with: between rows, and between columns. Rows past the end are zero.
func (d *driver) packA(dst []float32, i0, rows, k0, kc int) (rs, ps int) {
	mr := d.kern.MR
	for base := 0; base < rows; base += mr {
		n := min(mr, rows-base)
		panel := dst[base*kc : (base+mr)*kc]
		if d.transA {
			// Stored k×m: MR consecutive floats per column p.
			for p := 0; p < kc; p++ {
				src := d.a[(k0+p)*d.lda+i0+base:]
				copy(panel[p*mr:p*mr+n], src[:n])
				clear(panel[p*mr+n : p*mr+mr])
			}
			continue
		}
		// Stored m×k: kc consecutive floats per row r.
		for r := 0; r < n; r++ {
			copy(panel[r*kc:(r+1)*kc], d.a[(i0+base+r)*d.lda+k0:])
		}
		clear(panel[n*kc:])
	}
	if d.transA {
		return 4, 4 * mr
	}
	return 4 * kc, 4
}

// packB copies rows [k0, k0+kc) and columns [j0, j0+cols) of op(B) into
// one NR-column panel: dst[p*NR+j] = op(B)[k0+p][j0+j], zero past cols.
func (d *driver) packB(dst []float32, k0, kc, j0, cols int) {
	nr := d.kern.NR
	if !d.transB {
		for p := 0; p < kc; p++ {
			row := dst[p*nr : p*nr+nr]
			copy(row, d.b[(k0+p)*d.ldb+j0:(k0+p)*d.ldb+j0+cols])
			clear(row[cols:])
		}
		return
	}
	clear(dst[:kc*nr])
	for j := 0; j < cols; j++ {
		src := d.b[(j0+j)*d.ldb+k0 : (j0+j)*d.ldb+k0+kc]
		for p, v := range src {
			dst[p*nr+j] = v
		}
	}
}

// macro multiplies a packed block of A (rows of C from i0) by the packed
// B panels [jp0, jp1) (columns of C from j0 + jp0*NR).
func (d *driver) macro(abuf []float32, rs, pstep, ps int, bbuf []float32, p0, kc, i0, rows, jp0, jp1, j0 int, beta float32) {
	mr, nr := d.kern.MR, d.kern.NR
	ep := scratch.Get(maxTile) // not a local array: it would escape through Tile
	defer scratch.Put(ep)
	edge := *ep
	for jp := jp0; jp < jp1; jp++ {
		col := j0 + jp*nr
		cols := min(nr, d.n-col)
		// A B read in place has each row of a panel on another page: the
		// kernel asks for the next panel's row as it reads this one's.
		b, bs, pf := &bbuf[jp*kc*nr], 4*nr, 0
		if d.inPlaceB && cols == nr {
			b, bs, pf = &d.b[p0*d.ldb+col], 4*d.ldb, 4*nr
		}
		for ib := 0; ib < rows; ib += mr {
			r := min(mr, rows-ib)
			a := &abuf[ib*pstep]
			ci := (i0+ib)*d.ldc + col
			if r == mr && cols == nr {
				d.kern.Tile(a, oneSegment, kc, rs, ps, b, bs, &d.c[ci], d.ldc, d.alpha, beta, pf)
				continue
			}
			d.kern.Tile(a, oneSegment, kc, rs, ps, b, bs, &edge[0], nr, d.alpha, 0, pf)
			AddTile(d.c[ci:], d.ldc, edge, nr, r, cols, beta)
		}
	}
}

// oneSegment is the segment list of a plain matrix: one run, at offset 0.
var oneSegment = []int{0}

// AddTile sets the rows×cols corner of c (row stride ldc) to
// tile + beta·c, tile having row stride ldt; c is not read when beta is 0.
// It finishes an edge tile that a Kernel computed into scratch.
func AddTile(c []float32, ldc int, tile []float32, ldt, rows, cols int, beta float32) {
	for i := 0; i < rows; i++ {
		dst := c[i*ldc : i*ldc+cols]
		src := tile[i*ldt : i*ldt+cols]
		if beta == 0 {
			copy(dst, src)
			continue
		}
		for j := range dst {
			dst[j] = beta*dst[j] + src[j]
		}
	}
}
