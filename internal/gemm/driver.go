package gemm

import "github.com/foveaml/fovea/internal/cpu"

// residentBytes bounds the packed B for which Gemm packs the whole of B
// once and keeps it in cache while every block of A streams past it: the
// shape of a convolution (many pixels, few output channels).
const residentBytes = 512 << 10

// driver holds one Gemm call.
type driver struct {
	kern        kernel
	m, n, k     int
	alpha, beta float32
	a           PanelA
	b           PanelB
	c           []float32
	ldc         int
	epi         Epilogue
}

func newDriver(kern kernel, m, n, k int, alpha float32, a PanelA, b PanelB, beta float32, c []float32, ldc int, epi Epilogue) *driver {
	return &driver{kern: kern, m: m, n: n, k: k, alpha: alpha, beta: beta, a: a, b: b, c: c, ldc: ldc, epi: epi}
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func roundUp(a, b int) int { return ceilDiv(a, b) * b }

// kBlocks splits k into equal blocks of at most the kernel's kc.
func (d *driver) kBlock() int { return ceilDiv(d.k, ceilDiv(d.k, d.kern.kc)) }

// tiling returns the rows of an A block and how many parts the columns
// are cut into, so that there are enough tasks for every worker.
func (d *driver) tiling(cols int, parallel bool) (mc, nParts int) {
	mr, nr := d.kern.mr, d.kern.nr
	mc = min(d.kern.mc, roundUp(d.m, mr))
	if !parallel {
		return mc, 1
	}
	w := cpu.Workers()
	if mb := ceilDiv(d.m, mc); mb < 2*w {
		// Few row blocks: shrink them, then cut the columns too.
		mc = max(mr, roundUp(ceilDiv(d.m, 2*w), mr))
		mb = ceilDiv(d.m, mc)
		if mb < 2*w {
			nParts = min(ceilDiv(cols, nr), ceilDiv(2*w, mb))
		}
	}
	return mc, max(nParts, 1)
}

func (d *driver) run(parallel bool) {
	if roundUp(d.n, d.kern.nr)*d.k*4 <= residentBytes {
		d.runResident(parallel)
	} else {
		d.runBlocked(parallel)
	}
}

func forTasks(parallel bool, n int, fn func(lo, hi int)) {
	if parallel {
		cpu.For(n, 1, fn)
	} else {
		fn(0, n)
	}
}

// runResident packs all of B once, then gives each task a block of rows
// (and columns) of C that it finishes across all of k, so its C block
// stays in cache from the first k block to the epilogue.
func (d *driver) runResident(parallel bool) {
	nr := d.kern.nr
	kb := d.kBlock()
	panels := ceilDiv(d.n, nr)
	bp := getBuf(panels * nr * d.k)
	defer putBuf(bp)
	bbuf := *bp
	// Block p0 of k starts at p0*panels*nr; in it, panel j at j*kc*nr.
	forTasks(parallel, panels, func(lo, hi int) {
		for p0 := 0; p0 < d.k; p0 += kb {
			kc := min(kb, d.k-p0)
			off := p0 * panels * nr
			d.b.PackB(bbuf[off+lo*kc*nr:off+hi*kc*nr], p0, kc, lo*nr, min(hi*nr, d.n)-lo*nr, nr)
		}
	})
	mc, nParts := d.tiling(d.n, parallel)
	mBlocks := ceilDiv(d.m, mc)
	perPart := ceilDiv(panels, nParts)
	forTasks(parallel, mBlocks*nParts, func(lo, hi int) {
		ap := getBuf(roundUp(mc, d.kern.mr) * kb)
		defer putBuf(ap)
		for t := lo; t < hi; t++ {
			i0 := (t / nParts) * mc
			rows := min(mc, d.m-i0)
			jp0 := (t % nParts) * perPart
			jp1 := min(jp0+perPart, panels)
			if jp0 >= jp1 {
				continue
			}
			for p0 := 0; p0 < d.k; p0 += kb {
				kc := min(kb, d.k-p0)
				d.a.PackA(*ap, i0, rows, p0, kc, d.kern.mr)
				beta := d.beta
				if p0 > 0 {
					beta = 1
				}
				d.macro(*ap, bbuf[p0*panels*nr:], kc, i0, rows, jp0, jp1, 0, beta)
			}
			if d.epi != nil {
				j0 := jp0 * nr
				d.epi(d.c, d.ldc, i0, rows, j0, min(jp1*nr, d.n)-j0)
			}
		}
	})
}

// runBlocked is the BLIS loop order for large B: for each block of
// columns and each block of k, pack that block of B (shared by all
// workers), then let the workers take blocks of rows of A against it.
func (d *driver) runBlocked(parallel bool) {
	nr := d.kern.nr
	kb := d.kBlock()
	ncMax := min(roundUp(d.n, nr), d.kern.nc)
	bp := getBuf(ncMax * kb)
	defer putBuf(bp)
	bbuf := *bp
	for j0 := 0; j0 < d.n; j0 += ncMax {
		nc := min(ncMax, d.n-j0)
		panels := ceilDiv(nc, nr)
		mc, nParts := d.tiling(nc, parallel)
		mBlocks := ceilDiv(d.m, mc)
		perPart := ceilDiv(panels, nParts)
		for p0 := 0; p0 < d.k; p0 += kb {
			kc := min(kb, d.k-p0)
			forTasks(parallel, panels, func(lo, hi int) {
				d.b.PackB(bbuf[lo*kc*nr:hi*kc*nr], p0, kc, j0+lo*nr, min(hi*nr, nc)-lo*nr, nr)
			})
			beta := d.beta
			if p0 > 0 {
				beta = 1
			}
			last := p0+kc == d.k
			forTasks(parallel, mBlocks*nParts, func(lo, hi int) {
				ap := getBuf(roundUp(mc, d.kern.mr) * kc)
				defer putBuf(ap)
				for t := lo; t < hi; t++ {
					i0 := (t / nParts) * mc
					rows := min(mc, d.m-i0)
					jp0 := (t % nParts) * perPart
					jp1 := min(jp0+perPart, panels)
					if jp0 >= jp1 {
						continue
					}
					d.a.PackA(*ap, i0, rows, p0, kc, d.kern.mr)
					d.macro(*ap, bbuf, kc, i0, rows, jp0, jp1, j0, beta)
					if last && d.epi != nil {
						c0 := j0 + jp0*nr
						d.epi(d.c, d.ldc, i0, rows, c0, min(j0+jp1*nr, d.n)-c0)
					}
				}
			})
		}
	}
}

// macro multiplies a packed block of A (rows of C from i0) by the packed
// B panels [jp0, jp1) (columns of C from j0 + jp0*nr).
func (d *driver) macro(abuf, bbuf []float32, kc, i0, rows, jp0, jp1, j0 int, beta float32) {
	mr, nr := d.kern.mr, d.kern.nr
	var edge [maxTile]float32
	for jp := jp0; jp < jp1; jp++ {
		col := j0 + jp*nr
		cols := min(nr, d.n-col)
		b := &bbuf[jp*kc*nr]
		for ip := 0; ip*mr < rows; ip++ {
			r := min(mr, rows-ip*mr)
			a := &abuf[ip*kc*mr]
			ci := (i0+ip*mr)*d.ldc + col
			if r == mr && cols == nr {
				d.kern.micro(kc, a, b, &d.c[ci], d.ldc, d.alpha, beta)
				continue
			}
			// An edge tile: compute the whole tile aside, then add in
			// only the part that lies inside C.
			d.kern.micro(kc, a, b, &edge[0], nr, d.alpha, 0)
			for i := 0; i < r; i++ {
				dst := d.c[ci+i*d.ldc : ci+i*d.ldc+cols]
				src := edge[i*nr : i*nr+cols]
				if beta == 0 {
					copy(dst, src)
					continue
				}
				for j := range dst {
					dst[j] = beta*dst[j] + src[j]
				}
			}
		}
	}
}
