package kern

import (
	"github.com/foveaml/fovea/internal/cpu"
	"github.com/foveaml/fovea/internal/gemm"
	"github.com/foveaml/fovea/internal/scratch"
)

// Conv2DBackwardData computes the gradient with respect to the input of
// Conv2D: given dy (dims p.Out(d)) it sets dx (dims d) to
//
//	dx[n,iy,ix,ci] = Σ dy[n,oy,ox,co] · w[ky,kx,ci,co]
//
// over every (oy, ox, ky, kx, co) with oy·SH+ky·DH−PadT = iy and
// ox·SW+kx·DW−PadL = ix. dx is overwritten.
//
// This is itself a forward convolution: of dy, with zeros inserted
// between its pixels when the stride is above 1, padded by the filter's
// extent minus the forward padding, with the filter turned half a circle
// and its channels swapped. So it runs on the same direct kernel.
func Conv2DBackwardData(dx, dy, w []float32, d Dims, p Conv) {
	convBackwardData(dx, dy, w, d, p, false)
}

// Conv2DBackwardDataAdd is Conv2DBackwardData adding the gradient into
// dx instead of overwriting it: for an input that other ops read too
// (a residual block's input), whose gradient then needs no buffer for
// this op's part.
func Conv2DBackwardDataAdd(dx, dy, w []float32, d Dims, p Conv) {
	convBackwardData(dx, dy, w, d, p, true)
}

// convBackwardData is Conv2DBackwardData, adding into dx if add is set.
func convBackwardData(dx, dy, w []float32, d Dims, p Conv, add bool) {
	p = p.norm(d)
	od := p.Out(d)
	checkLen("conv input gradient", dx, d.Len())
	checkLen("conv output gradient", dy, od.Len())
	checkLen("conv weights", w, p.WeightLen(d.C))
	if d.Len() == 0 {
		return
	}
	if od.Len() == 0 {
		if !add {
			clear(dx)
		}
		return
	}
	// The backward convolution runs from dy's Cout channels to Cin.
	if winoBackwardData(d, p) {
		convBackwardDataWinograd(dx, dy, w, d, p, add)
		return
	}
	convBackwardDataDirect(dx, dy, w, d, p, add)
}

// convBackwardDataDirect is Conv2DBackwardData on the direct kernel (p
// normed, the arguments checked, both sizes non-zero), adding into dx if
// add is set.
func convBackwardDataDirect(dx, dy, w []float32, d Dims, p Conv, add bool) {
	od := p.Out(d)
	if k := kernelFor(d.C); p.SH > 1 || p.SW > 1 || 2*d.C < k.NR {
		// Zero insertion would waste (stride²−1)/stride² of the work,
		// and a few input channels would fill a tile's columns poorly.
		convBackwardDataScatter(gemm.Default(), dx, dy, w, d, p, add)
		return
	}
	if add {
		// The direct kernel sums in its output: it cannot add to it.
		tp := scratch.Get(len(dx))
		defer scratch.Put(tp)
		convBackwardDataDirect(*tp, dy, w, d, p, false)
		vec.axpy(dx, 1, *tp)
		return
	}
	eh, ew := (p.KH-1)*p.DH, (p.KW-1)*p.DW // filter extent minus one
	q := Conv{KH: p.KH, KW: p.KW, SH: 1, SW: 1, DH: p.DH, DW: p.DW, Cout: d.C}
	k, virtual := convPlan(d, q, d.W+ew)
	slack := (k.MR + p.KW*p.DW + 2) * p.Cout
	dyp := pad(dy, od, eh-p.PadT, ew-p.PadL, p.SH, p.SW, d.H+eh, d.W+ew, slack)
	defer dyp.release()
	wt := scratch.Get(len(w))
	defer scratch.Put(wt)
	flipFilter(*wt, w, p.KH*p.KW, d.C, p.Cout)
	convCore(k, dx, d, dyp, *wt, nil, Epilogue{}, q, virtual)
}

// convBackwardDataScatter is Conv2DBackwardData as a product and a
// scatter: for a tile of MR output pixels, the micro-kernel multiplies
// their gradients (read in place from dy) by the transposed filter, giving
// the gradient of each input value that the pixels' windows read (a tile
// of the im2col matrix), and that tile is added into a padded input
// gradient. Windows of one image overlap, so each image is one task.
func convBackwardDataScatter(k *gemm.Kernel, dx, dy, w []float32, d Dims, p Conv, add bool) {
	od := p.Out(d)
	cin, cout := d.C, p.Cout
	hp, wp := d.H+p.PadT+p.PadB, d.W+p.PadL+p.PadR
	// A run of the im2col row that is contiguous in the padded image: a
	// filter row without horizontal dilation, else one tap.
	runLen := cin
	if p.DW == 1 {
		runLen = p.KW * cin
	}
	// B is the filter transposed: row co, column (tap, ci), a panel of
	// per columns (the rest of its NR zero): NR, or one run when a run
	// nearly fills a panel (LeNet's 5×5 on 6 channels: 30 of 32), so
	// that each row of a tile scatters in one piece instead of two.
	kAll := p.KH * p.KW * cin
	per := k.NR
	if runLen <= k.NR && 4*runLen >= 3*k.NR {
		per = runLen
	}
	panels := (kAll + per - 1) / per
	bp := scratch.Get(panels * cout * k.NR)
	defer scratch.Put(bp)
	bt := *bp
	for jp := 0; jp < panels; jp++ {
		for co := 0; co < cout; co++ {
			row := bt[(jp*cout+co)*k.NR : (jp*cout+co+1)*k.NR]
			for j := range row {
				row[j] = 0
				if kk := jp*per + j; j < per && kk < kAll {
					row[j] = w[kk*cout+co]
				}
			}
		}
	}
	runOff := func(kk int) int { // float offset of im2col column kk from a pixel
		t, ci := kk/cin, kk%cin
		return (t/p.KW*p.DH*wp+t%p.KW*p.DW)*cin + ci
	}
	offs := []int{0}
	cpu.ForEach(d.N, func(n int) {
		gp := scratch.Get(hp*wp*cin + k.MR)
		defer scratch.Put(gp)
		g := *gp
		clear(g)
		tp := scratch.Get(tileLen)
		defer scratch.Put(tp)
		tile := *tp
		var tail []float32
		defer putTail(&tail)
		dyImg := padded{buf: &dy, c: cout}
		for oy := 0; oy < od.H; oy++ {
			for ox := 0; ox < od.W; ox += k.MR {
				rows := min(k.MR, od.W-ox)
				first := ((n*od.H+oy)*od.W + ox) * cout
				a := dyImg.tileInput(first, k.MR*cout, &tail)
				for jp := 0; jp < panels; jp++ {
					k.Tile(a, offs, cout, 4*cout, 4, &bt[jp*cout*k.NR], 4*k.NR, &tile[0], k.NR, 1, 0, 0)
					k0 := jp * per
					cols := min(per, kAll-k0)
					for r := 0; r < rows; r++ {
						base := (oy*p.SH*wp + (ox+r)*p.SW) * cin
						src := tile[r*k.NR : r*k.NR+cols]
						// Split the columns into runs contiguous in g.
						for j := 0; j < cols; {
							kk := k0 + j
							n := min(cols-j, runLen-kk%runLen)
							if p.DW != 1 {
								n = min(n, cin-kk%cin)
							}
							at := base + runOff(kk)
							vec.axpy(g[at:at+n], 1, src[j:j+n])
							j += n
						}
					}
				}
			}
		}
		// Crop the padding off.
		for y := 0; y < d.H; y++ {
			src := g[((y+p.PadT)*wp+p.PadL)*cin:]
			dst := dx[((n*d.H+y)*d.W)*cin : ((n*d.H+y)*d.W+d.W)*cin]
			if add {
				vec.axpy(dst, 1, src[:d.W*cin])
			} else {
				copy(dst, src[:d.W*cin])
			}
		}
	})
}

// flipFilter sets dst[t', co, ci] = w[taps-1-t', ci, co]: the HWIO filter
// turned half a circle, with input and output channels swapped.
func flipFilter(dst, w []float32, taps, cin, cout int) {
	for t := 0; t < taps; t++ {
		src := w[t*cin*cout : (t+1)*cin*cout]
		transpose(dst[(taps-1-t)*cin*cout:(taps-t)*cin*cout], src, cin, cout)
	}
}

// Conv2DBackwardFilter computes the gradients with respect to the filter
// and the bias of Conv2D, given its input x (dims d) and the gradient dy
// of its output (dims p.Out(d)):
//
//	dw[ky,kx,ci,co] = Σ_{n,oy,ox} x[n, oy·SH+ky·DH−PadT, ox·SW+kx·DW−PadL, ci] · dy[n,oy,ox,co]
//	db[co] = Σ_{n,oy,ox} dy[n,oy,ox,co]
//
// dw and db (which may be nil) are overwritten.
//
// The micro-kernel's tile is MR consecutive rows of dw (input channels of
// one tap, contiguous in the image) by NR output channels, and its
// reduction runs over output pixels, one segment per output row, reading
// the padded input and dy in place. Workers take chunks of bands of output
// rows, and the chunks' partial sums are added into dw in chunk order, so
// that at a fixed number of workers the result has the same bits from run
// to run.
func Conv2DBackwardFilter(dw, db, x, dy []float32, d Dims, p Conv) {
	p = p.norm(d)
	od := p.Out(d)
	checkLen("conv input", x, d.Len())
	checkLen("conv output gradient", dy, od.Len())
	checkLen("conv weight gradient", dw, p.WeightLen(d.C))
	if db != nil {
		checkLen("conv bias gradient", db, p.Cout)
	}
	if k := kernelFor(p.Cout); stackFilterRows && p.DW == 1 && p.KH > 1 && 2*p.KW*d.C <= k.MR && od.Len() > 0 {
		convBackwardFilterStacked(dw, db, x, dy, d, p)
		return
	}
	if od.Len() > 0 && winoFilterGrad(d, p) {
		convBackwardFilterWinograd(dw, x, dy, d, p)
		if db != nil {
			biasGrad(db, dy, od)
		}
		return
	}
	convBackwardFilterDirect(dw, db, x, dy, d, p)
}

// biasGrad sets db to the sum of dy over every pixel, in chunks of
// pixels summed apart and added in chunk order (the same bits from run
// to run).
func biasGrad(db, dy []float32, od Dims) {
	clear(db)
	cout := od.C
	var sum cpu.Ordered
	cpu.ForChunks(od.N*od.H*od.W, 1024, func(c, lo, hi int) {
		part := scratch.Get(cout + tileLen)
		pb, acc := (*part)[:cout], (*part)[cout:]
		clear(pb)
		sumRowsInto(pb, dy[lo*cout:hi*cout], acc)
		sum.Do(c, func() {
			vec.axpy(db, 1, pb)
			scratch.Put(part)
		})
	})
}

// convBackwardFilterDirect is Conv2DBackwardFilter on the direct kernel
// (p normed, the arguments checked).
func convBackwardFilterDirect(dw, db, x, dy []float32, d Dims, p Conv) {
	od := p.Out(d)
	if db != nil {
		clear(db)
	}
	clear(dw)
	if od.Len() == 0 {
		return
	}
	k := kernelFor(p.Cout)
	cin, cout := d.C, p.Cout
	slack := (k.MR + p.KW*p.DW + 2) * cin
	// Tiles here read whole bands of rows, so the input is always copied
	// with slack after it.
	xp := padOrShare(x, d, p.PadT, p.PadL, 1, 1, d.H+p.PadT+p.PadB, d.W+p.PadL+p.PadR, slack, false)
	defer xp.release()

	// B is dy itself, row by row (stride Cout). A last panel narrower
	// than NR reads on into the next pixel's channels (columns the edge
	// tile discards), and so, at the very end, past dy: the band that
	// would is read from a copy with room after it.
	ldb := cout
	tailFrom := len(dy) // bands whose B reads end beyond this need the copy
	if cout%k.NR != 0 && cap(dy)-len(dy) < k.NR {
		tailFrom = len(dy) - k.NR
	}

	// The rows of dw, in runs that are contiguous in the image: one run
	// of KW·Cin per filter row without horizontal dilation, else one run
	// of Cin per tap.
	runLen, runs := cin, p.KH*p.KW
	if p.DW == 1 {
		runLen, runs = p.KW*cin, p.KH
	}
	rowBytes := 4 * xp.w * cin
	runOff := func(r int) int { // byte offset of run r from a pixel
		if p.DW == 1 {
			return r * p.DH * rowBytes
		}
		ky, kx := r/p.KW, r%p.KW
		return ky*p.DH*rowBytes + 4*kx*p.DW*cin
	}
	tilesPerRun := (runLen + k.MR - 1) / k.MR
	panels := (cout + k.NR - 1) / k.NR
	rowsTotal, bandRows := filterBands(od)

	// Each chunk of bands sums into a partial of its own, and the
	// partials are added into dw in chunk order, not as the chunks
	// finish, so that the result has the same bits from run to run.
	// The first chunk's partial is dw (and db) itself.
	var sum cpu.Ordered
	// The chunks' lists of row offsets, one allocation for them all.
	chunks, _ := cpu.Split(rowsTotal, bandRows)
	allOffs := make([]int, chunks*bandRows)
	cpu.ForChunks(rowsTotal, bandRows, func(c, lo, hi int) {
		pw, pb := dw, db
		var part *[]float32
		if c > 0 || db == nil {
			part = scratch.Get(len(dw) + cout)
			pb = (*part)[len(dw):]
			clear(pb)
			if c > 0 {
				pw = (*part)[:len(dw)]
			}
		}
		ep := scratch.Get(2 * tileLen)
		defer scratch.Put(ep)
		edge, acc := (*ep)[:tileLen], (*ep)[tileLen:]
		offs := allOffs[c*bandRows : c*bandRows : (c+1)*bandRows]
		for r0 := lo; r0 < hi; r0 += bandRows {
			r1 := min(r0+bandRows, hi)
			offs = offs[:0]
			for nr := r0; nr < r1; nr++ {
				n, oy := nr/od.H, nr%od.H
				offs = append(offs, 4*(n*xp.stride+oy*p.SH*xp.w*cin))
			}
			beta := float32(1)
			if r0 == lo {
				beta = 0
			}
			g, g0 := dy, r0*od.W*ldb // B of this band: g from g0
			var tail *[]float32
			if r1*od.W*ldb > tailFrom {
				n := (r1 - r0) * od.W * ldb
				tail = scratch.Get(n + k.NR)
				clear((*tail)[copy(*tail, dy[g0:g0+n]):])
				g, g0 = *tail, 0
			}
			for run := 0; run < runs; run++ {
				base := runOff(run)
				for tr := 0; tr < tilesPerRun; tr++ {
					rows := min(k.MR, runLen-tr*k.MR)
					a := (*xp.buf)[base/4+tr*k.MR:]
					dwRow := run*runLen + tr*k.MR
					for jp := 0; jp < panels; jp++ {
						cols := min(k.NR, cout-jp*k.NR)
						b := ptr(g, g0+jp*k.NR)
						ci := dwRow*cout + jp*k.NR
						if rows == k.MR && cols == k.NR {
							k.Tile(&a[0], offs, od.W, 4, 4*p.SW*cin, b, 4*ldb, &pw[ci], cout, 1, beta, 0)
							continue
						}
						k.Tile(&a[0], offs, od.W, 4, 4*p.SW*cin, b, 4*ldb, &edge[0], k.NR, 1, 0, 0)
						gemm.AddTile(pw[ci:], cout, edge, k.NR, rows, cols, beta)
					}
				}
			}
			if tail != nil {
				scratch.Put(tail)
			}
			if db != nil {
				sumRowsInto(pb, dy[r0*od.W*cout:r1*od.W*cout], acc)
			}
		}
		sum.Do(c, func() {
			if c > 0 {
				vec.axpy(dw, 1, pw)
				if db != nil {
					vec.axpy(db, 1, pb)
				}
			}
			if part != nil {
				scratch.Put(part)
			}
		})
	})
}

// sumRowsInto adds the rows of m, len(db) floats each, into db. With a few
// channels a row, a vector call per row would cost more than its
// additions: the rows are then added a block of rows at a time into acc
// (lcm(len(db), 16) floats or a power-of-two multiple up to 256, within
// tileLen), and acc's rows into db at the end. That is another order of
// the same sums, the same on every run.
func sumRowsInto(db, m, acc []float32) {
	c := len(db)
	if c >= 32 {
		for i := 0; i+c <= len(m); i += c {
			vec.axpy(db, 1, m[i:i+c])
		}
		return
	}
	l := c
	for l%16 != 0 {
		l += c
	}
	for 2*l <= 256 {
		l *= 2
	}
	acc = acc[:l]
	clear(acc)
	i := 0
	for ; i+l <= len(m); i += l {
		vec.axpy(acc, 1, m[i:i+l])
	}
	for ; i+c <= len(m); i += c { // the rows of a last partial block
		row := acc[:c]
		for j, v := range m[i : i+c] {
			row[j] += v
		}
	}
	for t := 0; t < l; t += c {
		for j, v := range acc[t : t+c] {
			db[j] += v
		}
	}
}

// filterBands returns the output rows that Conv2DBackwardFilter's
// reduction runs over (every row of every image of od) and the rows of a
// band: few enough that a band's input and dy stay in L2.
func filterBands(od Dims) (rows, band int) {
	return od.N * od.H, max(1, 256/od.W)
}

// stackFilterRows turns convBackwardFilterStacked on (tests compare it
// with the direct way).
var stackFilterRows = true

// convBackwardFilterStacked is Conv2DBackwardFilter (p normed, the
// lengths checked) for a filter whose rows are a few floats (KW·Cin, as
// a first layer's 5×5 on one channel), on which the micro-kernel's tiles
// would be mostly empty rows. It stacks each padded input pixel with the
// KH−1 below it as its channels, so that the filter is a single row of
// KW·KH·Cin contiguous floats, runs the same reduction on that, and
// permutes the result back. Each value of dw is the same sum of the same
// products in the same order, so the bits are those of the direct way.
func convBackwardFilterStacked(dw, db, x, dy []float32, d Dims, p Conv) {
	cin, cout := d.C, p.Cout
	hp, wp := d.H+p.PadT+p.PadB, d.W+p.PadL+p.PadR
	sd := Dims{N: d.N, H: hp - (p.KH-1)*p.DH, W: wp, C: p.KH * cin}
	xs := scratch.Get(sd.Len())
	defer scratch.Put(xs)
	s := *xs
	// Pixel (r, px) of the stacked image holds, as channel ky·Cin+ci,
	// channel ci of padded pixel (r + ky·DH, px).
	cpu.For(sd.N*sd.H, max(1, 8192/(wp*sd.C)), func(lo, hi int) {
		for nr := lo; nr < hi; nr++ {
			n, r := nr/sd.H, nr%sd.H
			row := s[nr*wp*sd.C : (nr+1)*wp*sd.C]
			clear(row)
			for ky := 0; ky < p.KH; ky++ {
				iy := r + ky*p.DH - p.PadT
				if iy < 0 || iy >= d.H {
					continue
				}
				src := x[(n*d.H+iy)*d.W*cin : (n*d.H+iy+1)*d.W*cin]
				at := (p.PadL*p.KH + ky) * cin // pixel PadL's channels from ky
				if cin == 1 {
					for _, v := range src {
						row[at] = v
						at += p.KH
					}
					continue
				}
				for ix := 0; ix < d.W; ix++ {
					copy(row[at:at+cin], src[ix*cin:])
					at += p.KH * cin
				}
			}
		}
	})
	q := Conv{KH: 1, KW: p.KW, SH: p.SH, SW: p.SW, DH: 1, DW: 1, Cout: cout}
	wsp := scratch.Get(len(dw))
	defer scratch.Put(wsp)
	ws := *wsp
	Conv2DBackwardFilter(ws, db, s, dy, sd, q)
	// ws is [1, KW, KH·Cin, Cout], dw [KH, KW, Cin, Cout].
	n := cin * cout
	for ky := 0; ky < p.KH; ky++ {
		for kx := 0; kx < p.KW; kx++ {
			copy(dw[(ky*p.KW+kx)*n:(ky*p.KW+kx+1)*n], ws[(kx*p.KH+ky)*n:])
		}
	}
}
