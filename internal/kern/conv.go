package kern

import (
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/foveaml/fovea/internal/cpu"
	"github.com/foveaml/fovea/internal/gemm"
	"github.com/foveaml/fovea/internal/scratch"
)

// Conv describes a 2-D convolution over NHWC activations with HWIO
// filters: KH×KW taps, strides SH and SW, explicit zero padding on each
// side (all zero is Keras' "valid"), dilations
// DH and DW (0 or 1: none) and Cout output channels.
type Conv struct {
	KH, KW                 int
	SH, SW                 int
	PadT, PadB, PadL, PadR int
	DH, DW                 int
	Cout                   int
}

// Out returns the output dims of convolving an input of dims in.
func (p Conv) Out(in Dims) Dims {
	return Dims{in.N,
		OutSize(in.H, p.KH, max(p.SH, 1), p.PadT, p.PadB, max(p.DH, 1), false),
		OutSize(in.W, p.KW, max(p.SW, 1), p.PadL, p.PadR, max(p.DW, 1), false), p.Cout}
}

// WeightLen returns KH·KW·Cin·Cout, the length of the HWIO filter of a
// convolution over cin input channels.
func (p Conv) WeightLen(cin int) int { return p.KH * p.KW * cin * p.Cout }

// norm fills in the defaults (stride and dilation 1) and panics on
// parameters no layer should produce.
func (p Conv) norm(in Dims) Conv {
	p.SH, p.SW, p.DH, p.DW = max(p.SH, 1), max(p.SW, 1), max(p.DH, 1), max(p.DW, 1)
	if p.KH < 1 || p.KW < 1 || p.Cout < 1 || min(p.PadT, p.PadB, p.PadL, p.PadR) < 0 {
		panic(fmt.Sprintf("kern: bad convolution %+v", p))
	}
	if in.N < 0 || in.H < 1 || in.W < 1 || in.C < 1 {
		panic(fmt.Sprintf("kern: bad convolution input %v", in))
	}
	return p
}

// atLeast returns s cut to n floats, panicking as checkLen does when it
// holds fewer.
func atLeast(what string, s []float32, n int) []float32 {
	if len(s) < n {
		checkLen(what, s, n)
	}
	return s[:n]
}

func checkLen(what string, s []float32, n int) {
	if len(s) != n {
		panic(fmt.Sprintf("kern: %s has %d values, want %d", what, len(s), n))
	}
}

// padded is a zero-padded copy of an NHWC batch, with slack after the
// last image so that a micro-kernel tile may run past the end of a row.
type padded struct {
	buf    *[]float32
	owned  bool // buf is a scratch copy, handed back by release
	h, w   int  // padded height and width
	c      int
	stride int // floats per image
}

// pad copies x (dims d) into a zero buffer of h×w pixels per image,
// pixel (y, x) of the source landing on (t + y·sy, l + x·sx): plain zero
// padding when sy = sx = 1, zero insertion between pixels otherwise (the
// backward pass of a strided convolution). A negative t or l crops.
func pad(x []float32, d Dims, t, l, sy, sx, h, w, slack int) padded {
	return padOrShare(x, d, t, l, sy, sx, h, w, slack, true)
}

// padOrShare is pad, which shares x instead of copying it when nothing
// needs padding if share is set.
func padOrShare(x []float32, d Dims, t, l, sy, sx, h, w, slack int, share bool) padded {
	img := h * w * d.C
	if share && t == 0 && l == 0 && sy == 1 && sx == 1 && h == d.H && w == d.W {
		// Nothing to pad: read x in place; tiles that would run past
		// its end are copied out by tileInput.
		return padded{buf: &x, h: h, w: w, c: d.C, stride: img}
	}
	p := padded{buf: scratch.Get(d.N*img + slack), owned: true, h: h, w: w, c: d.C, stride: img}
	buf := *p.buf
	clear(buf[d.N*img:])
	c := d.C
	cpu.For(d.N*h, max(1, 8192/(w*c+1)), func(lo, hi int) {
		for nr := lo; nr < hi; nr++ {
			n, r := nr/h, nr%h
			row := buf[nr*w*c : (nr+1)*w*c]
			y := (r - t) / sy
			if r < t || (r-t)%sy != 0 || y >= d.H {
				clear(row)
				continue
			}
			// Source columns that land inside the row.
			x0 := max(0, (-l+sx-1)/sx)
			x1 := min(d.W, (w-l+sx-1)/sx)
			src := x[(n*d.H+y)*d.W*c:]
			if x1 <= x0 {
				clear(row)
				continue
			}
			if sx == 1 {
				clear(row[:(x0+l)*c])
				copy(row[(x0+l)*c:], src[x0*c:x1*c])
				clear(row[(x1+l)*c:])
				continue
			}
			clear(row)
			for ix := x0; ix < x1; ix++ {
				copy(row[(l+ix*sx)*c:], src[ix*c:(ix+1)*c])
			}
		}
	})
	return p
}

// release hands a padded copy's buffer back.
func (p padded) release() {
	if p.owned {
		scratch.Put(p.buf)
	}
}

// tileInput returns the address of element i of the padded batch for a
// tile that reads reach floats from there. When that runs past the
// buffer (an input read in place, at its very end) it copies what is
// left into tail, zero-filled, and points there; tail comes from the
// shared pool, and the caller hands it back with putTail.
func (p padded) tileInput(i, reach int, tail *[]float32) *float32 {
	buf := *p.buf
	if i+reach <= cap(buf) {
		return ptr(buf, i)
	}
	if cap(*tail) < reach {
		putTail(tail)
		*tail = scratch.Floats.Get(reach)
	}
	t := (*tail)[:reach]
	clear(t[copy(t, buf[i:]):])
	return &t[0]
}

// putTail hands tileInput's tail back to the shared pool, if it made one.
func putTail(tail *[]float32) {
	if *tail != nil {
		scratch.Floats.Put(*tail)
		*tail = nil
	}
}

// ptr returns the address of element i of s, which may be the one past
// the end of s's length as long as it is within its capacity.
func ptr(s []float32, i int) *float32 { return &s[:cap(s)][i] }

// Conv2D computes y = x ⋆ w + bias: for every image n, output pixel
// (oy, ox) and output channel co,
//
//	y[n,oy,ox,co] = bias[co] + Σ_{ky,kx,ci} x[n, oy·SH+ky·DH−PadT, ox·SW+kx·DW−PadL, ci] · w[ky,kx,ci,co]
//
// with x zero outside the image. x has dims d, y has dims p.Out(d), w is
// HWIO (KH×KW×d.C×Cout); bias may be nil.
//
// It runs the gemm micro-kernel directly on the (padded) image: a tile is
// MR consecutive output pixels of one row by NR output channels, and the
// reduction runs over the taps as segments, so no im2col matrix is built.
func Conv2D(y, x, w, bias []float32, d Dims, p Conv) {
	Conv2DFused(y, x, w, nil, d, p, Epilogue{Shift: bias})
}

// Epilogue is what a convolution applies to each output value once its
// sum over the filter is complete, while the tile is still in cache:
//
//	y[n,oy,ox,co] = act(sum·Scale[co] + Shift[co] + Res[n,oy,ox,co])
//
// Scale and Shift are per output channel (nil: 1 and 0), Res has y's
// layout (nil: none), and act is ReLU when ReLU is set, else the
// identity. A bias is a Shift alone; a convolution followed by batch
// normalisation with fixed statistics is Scale = γ/√(σ²+ε) and
// Shift = β + (bias − μ)·Scale; a residual block's last convolution adds
// the shortcut as Res.
//
// OutStride, when not 0, is the floats from one output pixel to the next
// in y and in Res, at least Cout: the convolution then writes its Cout
// channels into a wider output from y[0], as one part of a concatenation
// along the channels (GoogLeNet's branches); y and Res may run on past
// the last pixel's channels.
type Epilogue struct {
	Scale, Shift []float32
	Res          []float32
	ReLU         bool
	OutStride    int
}

// ld returns the floats between output pixels of y for cout channels.
func (e Epilogue) ld(cout int) int {
	if e.OutStride > 0 {
		return e.OutStride
	}
	return cout
}

// stridedLen is the length of n pixels of c channels, ld floats apart.
func stridedLen(n, c, ld int) int {
	if n == 0 {
		return 0
	}
	return (n-1)*ld + c
}

// Conv2DFused computes Conv2D without a bias and applies ep to every
// output value (see Epilogue): one pass over y instead of up to four.
// With f not nil the filter's packed forms are kept in f and taken from
// it (see Filters): f must be w's, as w is now.
func Conv2DFused(y, x, w []float32, f *Filters, d Dims, p Conv, ep Epilogue) {
	p = p.norm(d)
	od := p.Out(d)
	if ep.OutStride != 0 && ep.OutStride < p.Cout {
		panic(fmt.Sprintf("kern: conv output stride %d under its %d channels", ep.OutStride, p.Cout))
	}
	outLen := stridedLen(od.N*od.H*od.W, p.Cout, ep.ld(p.Cout))
	if ep.OutStride != 0 {
		// A part of a wider output: y (and Res) run on past its last
		// channel, as a matrix's rows do past its columns.
		y = atLeast("conv output", y, outLen)
		if ep.Res != nil {
			ep.Res = atLeast("conv residual", ep.Res, outLen)
		}
	}
	checkLen("conv input", x, d.Len())
	checkLen("conv output", y, outLen)
	checkLen("conv weights", w, p.WeightLen(d.C))
	for _, v := range []struct {
		what string
		s    []float32
		n    int
	}{{"conv scale", ep.Scale, p.Cout}, {"conv shift", ep.Shift, p.Cout}, {"conv residual", ep.Res, outLen}} {
		if v.s != nil {
			checkLen(v.what, v.s, v.n)
		}
	}
	if od.Len() == 0 {
		return
	}
	if winoForward(f, d, p) {
		conv2DWinograd(y, x, w, f, d, p, ep)
		return
	}
	conv2DDirect(y, x, w, f, d, p, ep)
}

// conv2DDirect is Conv2DFused on the direct kernel (p normed, the
// arguments checked).
func conv2DDirect(y, x, w []float32, f *Filters, d Dims, p Conv, ep Epilogue) {
	od := p.Out(d)
	k, virtual := convPlan(od, p, d.W+p.PadL+p.PadR)
	slack := (k.MR*p.SW + p.KW*p.DW + 2) * d.C
	xp := pad(x, d, p.PadT, p.PadL, 1, 1, d.H+p.PadT+p.PadB, d.W+p.PadL+p.PadR, slack)
	defer xp.release()
	convCore(k, y, od, xp, w, f, ep, p, virtual)
}

// convPlan picks the micro-kernel for a convolution to output dims od
// whose padded input is wp pixels wide, and whether its tiles run across
// row ends ("virtual" pixels, at unit strides only): of the kernels that
// differ only in their rows, and both ways of tiling, the one that
// computes the fewest output pixels, those thrown away included. A
// 12-row tile wastes 5 of 12 on a 7-pixel row and 10 of 24 on a 14-pixel
// row; 7- and 14-row tiles waste nothing there.
func convPlan(od Dims, p Conv, wp int) (k *gemm.Kernel, virtual bool) {
	base := kernelFor(p.Cout)
	bands, _ := convBands(od, ceilDiv(p.Cout, base.NR))
	best := math.Inf(1)
	for _, c := range gemm.Siblings(base) {
		// A 7-row tile does fewer multiply-adds per load of the filter.
		eff := 1.0
		if c.MR < 12 {
			eff = 0.92
		}
		rows := float64(od.H * ceilDiv(od.W, c.MR) * c.MR)
		if cost := rows / eff; cost < best {
			best, k, virtual = cost, c, false
		}
		if p.SH == 1 && p.SW == 1 {
			v := 0
			for b := 0; b < bands; b++ {
				h := cutLen(b, bands, od.H)
				v += ceilDiv((h-1)*wp+od.W, c.MR) * c.MR
			}
			// On a tie the virtual tiling wins: fewer, longer runs.
			if cost := float64(v) / eff; cost <= best {
				best, k, virtual = cost, c, true
			}
		}
	}
	return k, virtual
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// convBands cuts the work of convCore into tasks: bands of output rows
// (bands per image; see cutAt), and the panels of output channels into
// groups, each task one band of one image for one group of panels.
// There are enough tasks for every worker even when the batch is small;
// a band keeps at least convBandPixels pixels where it can (a shorter
// one leaves the micro-kernel short tiles), and the panels are split
// only when bands alone give too few tasks (a batch of one small
// image). Of the cuts that give enough tasks, it takes the one whose
// busiest worker has the least to do, as cpu.For hands out the tasks:
// cutting 28 rows into 8 bands of 3 or 4 for two workers, or 10 bands
// that For hands out in 5 runs of 2, leaves one worker idle for up to a
// seventh of the layer; 4 bands of 7 rows for each of 2 groups of
// panels does not.
func convBands(od Dims, panels int) (bands, groups int) {
	w := cpu.Workers()
	key := bandKey{od.N, od.H, od.W, panels, w}
	bandCuts.Lock()
	cut, ok := bandCuts.m[key]
	bandCuts.Unlock()
	if ok {
		return cut[0], cut[1]
	}
	defer func() {
		bandCuts.Lock()
		if len(bandCuts.m) >= bandCutsMax {
			clear(bandCuts.m)
		}
		bandCuts.m[key] = [2]int{bands, groups}
		bandCuts.Unlock()
	}()
	want := max(1, ceilDiv(4*w, od.N)) // tasks per image
	most := max(1, min(od.H, od.H*od.W/convBandPixels))
	if w > bandSearchWorkers {
		// The search costs workers² per cut: past a few workers, as many
		// bands as may be, then groups for the tasks still wanted.
		bands = min(want, most)
		return bands, max(1, min(panels, ceilDiv(want, bands)))
	}
	enough := min(want, most*min(panels, want))
	bands, groups = 1, 1
	best := math.MaxInt
	for g := 1; g <= min(panels, want); g++ {
		for b := min(most, want); b >= 1; b-- {
			if b*g < enough {
				break
			}
			if l := busiestLoad(od, b, g, panels); l < best {
				best, bands, groups = l, b, g
			}
		}
	}
	return bands, groups
}

// bandSearchWorkers is the most workers for which convBands searches
// its cut (measured on two; with 16 a cut takes about a millisecond to
// find, with 64 a fifth of a second).
const bandSearchWorkers = 16

// busiestLoad returns the rows × panels that the busiest worker computes
// when convCore cuts od into bands × groups tasks per image and cpu.For
// hands out their runs, each run to the worker that has done the least
// so far.
func busiestLoad(od Dims, bands, groups, panels int) int {
	runs, size := cpu.Split(od.N*bands*groups, 1)
	var load [bandSearchWorkers]int
	w := min(cpu.Workers(), len(load))
	for r := range runs {
		work := 0
		for t := r * size; t < min((r+1)*size, od.N*bands*groups); t++ {
			g, b := t%groups, t/groups%bands
			work += cutLen(b, bands, od.H) * cutLen(g, groups, panels)
		}
		least := 0
		for i := 1; i < w; i++ {
			if load[i] < load[least] {
				least = i
			}
		}
		load[least] += work
	}
	return slices.Max(load[:w])
}

// bandCuts keeps convBands' cuts, which cost microseconds to search, a
// good part of a small layer at batch 1: a network runs the same few
// shapes again and again. It forgets them all past bandCutsMax.
var bandCuts = struct {
	sync.Mutex
	m map[bandKey][2]int
}{m: map[bandKey][2]int{}}

// bandKey is what convBands' cut depends on.
type bandKey struct{ n, h, w, panels, workers int }

const bandCutsMax = 4096

// cutAt returns the first of n items (output rows, panels) in part i of
// an even cut into parts (i = parts: n): the parts' sizes differ by at
// most one; cutLen returns part i's size.
func cutAt(i, parts, n int) int  { return i * n / parts }
func cutLen(i, parts, n int) int { return cutAt(i+1, parts, n) - cutAt(i, parts, n) }

// convBandPixels is the fewest output pixels convBands gives a band when
// the image has them: over four tiles of the widest kernel.
const convBandPixels = 64

// active reports whether the epilogue changes anything.
func (e Epilogue) active() bool {
	return e.Scale != nil || e.Shift != nil || e.Res != nil || e.ReLU
}

// ones and zeros stand for a missing scale, shift or residual in a
// micro-kernel's epilogue; 32 is the widest tile.
var ones, zeros = func() (o, z [32]float32) {
	for i := range o {
		o[i] = 1
	}
	return o, z
}()

// panel returns the micro-kernel's form of the epilogue for the panel
// of output channels from j0, rows ld apart; each tile sets Res to its
// first row of the residual (when there is one).
func (e Epilogue) panel(j0, ld int) gemm.Epilogue {
	g := gemm.Epilogue{Scale: &ones[0], Shift: &zeros[0], Res: &zeros[0], Floor: float32(math.Inf(-1))}
	if e.Scale != nil {
		g.Scale = &e.Scale[j0]
	}
	if e.Shift != nil {
		g.Shift = &e.Shift[j0]
	}
	if e.Res != nil {
		g.LdRes = ld
	}
	if e.ReLU {
		g.Floor = 0
	}
	return g
}

// run applies the epilogue to rows rows of cols values, ld apart, read
// from src and written to dst (which may be the same); the first row is
// at index i of y (and of the residual), output channels from j0.
func (e Epilogue) run(dst, src []float32, i, ld, rows, j0, cols int) {
	var s, b, r []float32
	if e.Scale != nil {
		s = e.Scale[j0 : j0+cols]
	}
	if e.Shift != nil {
		b = e.Shift[j0 : j0+cols]
	}
	n := (rows-1)*ld + cols
	if e.Res != nil {
		r = e.Res[i : i+n]
	}
	vec.epilogueRows(dst[:n], src[:n], ld, rows, cols, s, b, r, e.ReLU)
}

// convCore runs the convolution of the padded batch xp, given its output
// dims od, applying ep as each output tile is completed; with virtual set
// (unit strides only) tiles run across row ends. It is shared by the
// forward pass and by backward-data, which is a forward convolution of
// the output gradient.
func convCore(k *gemm.Kernel, y []float32, od Dims, xp padded, w []float32, f *Filters, ep Epilogue, p Conv, virtual bool) {
	cin := xp.c
	taps := p.KH * p.KW
	// Cut the input channels into chunks whose packed filter panel stays
	// in L2 while the image streams past it.
	chunk := max(1, min(cin, (512<<10)/(4*taps*k.NR)))
	chunks := (cin + chunk - 1) / chunk
	chunk = (cin + chunks - 1) / chunks
	panels := (p.Cout + k.NR - 1) / k.NR
	kAll := taps * cin
	packed, release := f.get(filterForm{nr: k.NR, chunk: chunk, n: kAll * panels * k.NR}, func(u []float32) {
		packFilter(u, w, cin, taps, p.Cout, chunk, k.NR)
	})
	defer release()
	bp := &packed

	// Each task is a band of output rows of one image. With unit strides
	// consecutive input pixels sit one after another across row ends, so
	// a tile may run on into the next output row: the pixels it computes
	// for the padding columns in between are thrown away. That wastes
	// (Wp−Wo)/Wp of the work instead of up to MR−1 pixels a row.
	// Without horizontal padding or width lost to the filter (a 1×1
	// filter), the padded rows are the output rows, and a virtual tile's
	// pixels are consecutive in y even across row ends.
	flat := virtual && xp.w == od.W
	ldy := ep.ld(p.Cout)
	bands, groups := convBands(od, panels)
	rowBytes := 4 * xp.w * cin
	rs := 4 * p.SW * cin // bytes between the input pixels of a tile's rows
	epi := ep.active()
	chunkOffs := make([][]int, 0, chunks)
	for c0 := 0; c0 < cin; c0 += chunk {
		chunkOffs = append(chunkOffs, tapOffsets(nil, p, cin, c0, min(chunk, cin-c0), rowBytes))
	}
	// Workers take runs of tasks and set up once per run: a small
	// convolution (LeNet's) has tasks of a few microseconds, and what
	// they set up would cost allocations per task. Each task writes its
	// own output rows, so the cut does not change the result.
	cpu.For(od.N*bands*groups, 1, func(lo, hi int) {
		ep2 := scratch.Get(tileLen) // not a local array: it would escape through Tile
		defer scratch.Put(ep2)
		edge := *ep2
		ge := new(gemm.Epilogue) // one per run: it escapes through TileEpilogue
		var pix [16]int
		var tail []float32
		defer putTail(&tail)
		var offs []int
		var reach int // floats a tile may read past its first input pixel
		var n, oy0, oy1, jp0, jp1 int
		// The panel's scale and shift padded to NR, for an epilogue on
		// a whole edge tile (see below), for the panel from edgeJ0.
		edgeEp := scratch.Get(2 * k.NR)
		defer scratch.Put(edgeEp)
		edgeJ0 := -1
		// tile runs one tile whose first input pixel is at aIdx; pixel
		// r of it is output pixel pix[r] of the image (−1: discard), and
		// when direct the MR pixels are consecutive from pix[0]. The
		// epilogue runs on the tile of the last chunk of channels, when
		// the sums are complete.
		tile := func(aIdx int, direct bool, b *float32, kc, j0, cols int, beta float32, last bool, pf int) {
			a := xp.tileInput(aIdx, reach, &tail)
			ci := (n*od.H*od.W+pix[0])*ldy + j0
			if direct && cols == k.NR {
				if epi && last && k.HasEpilogue() {
					if ep.Res != nil {
						ge.Res = &ep.Res[ci]
					}
					k.TileEpilogue(a, offs, kc, rs, 4, b, 4*k.NR, &y[ci], ldy, beta, pf, ge)
					return
				}
				k.Tile(a, offs, kc, rs, 4, b, 4*k.NR, &y[ci], ldy, 1, beta, pf)
				if epi && last {
					ep.run(y[ci:], y[ci:], ci, ldy, k.MR, j0, cols)
				}
				return
			}
			k.Tile(a, offs, kc, rs, 4, b, 4*k.NR, &edge[0], k.NR, 1, 0, pf)
			// When the tile's sums are complete and the epilogue needs
			// nothing of y's, it runs on the whole edge tile, whose rows
			// are NR apart: rows of a few channels (LeNet's 6), a few
			// floats apart in y, make the vector kernel slow.
			whole := epi && last && beta == 0 && ep.Res == nil
			if whole {
				if edgeJ0 != j0 {
					edgeJ0 = j0
					es, eb := (*edgeEp)[:k.NR], (*edgeEp)[k.NR:]
					for j := range es {
						es[j], eb[j] = 1, 0
						if j < cols && ep.Scale != nil {
							es[j] = ep.Scale[j0+j]
						}
						if j < cols && ep.Shift != nil {
							eb[j] = ep.Shift[j0+j]
						}
					}
				}
				var es, eb []float32
				if ep.Scale != nil {
					es = (*edgeEp)[:k.NR]
				}
				if ep.Shift != nil {
					eb = (*edgeEp)[k.NR:]
				}
				t := edge[:k.MR*k.NR]
				vec.epilogueRows(t, t, k.NR, k.MR, k.NR, es, eb, nil, ep.ReLU)
			}
			// Rows whose pixels are consecutive in y go into it, and
			// through the epilogue, as one block: a narrow output (a
			// few channels, as LeNet's) would otherwise pay a call per
			// pixel.
			for r := 0; r < k.MR; {
				if pix[r] < 0 {
					r++
					continue
				}
				r1 := r + 1
				for r1 < k.MR && pix[r1] == pix[r1-1]+1 {
					r1++
				}
				ci := (n*od.H*od.W+pix[r])*ldy + j0
				gemm.AddTile(y[ci:], ldy, edge[r*k.NR:], k.NR, r1-r, cols, beta)
				if epi && last && !whole {
					ep.run(y[ci:], y[ci:], ci, ldy, r1-r, j0, cols)
				}
				r = r1
			}
		}
		// panelAt is where panel jp of chunk c0 starts in the packed
		// filter; nextPanel is where the panel this run reads after it,
		// in task t, starts (−1: none). As the first tile of a panel
		// reads it, the kernel asks L2 for the next one: at a batch of
		// one small image, a layer's filter comes from memory, and each
		// panel serves only a few tiles.
		panelAt := func(c0, jp int) int { return c0*taps*panels*k.NR + jp*taps*min(chunk, cin-c0)*k.NR }
		nextPanel := func(t, c0, jp int) int {
			switch {
			case jp+1 < cutAt(t%groups+1, groups, panels):
				return panelAt(c0, jp+1)
			case c0+chunk < cin:
				return panelAt(c0+chunk, cutAt(t%groups, groups, panels))
			case t+1 < hi:
				return panelAt(0, cutAt((t+1)%groups, groups, panels))
			}
			return -1
		}
		for t := lo; t < hi; t++ {
			g, b := t%groups, t/groups
			n, oy0, oy1 = b/bands, cutAt(b%bands, bands, od.H), cutAt(b%bands+1, bands, od.H)
			jp0, jp1 = cutAt(g, groups, panels), cutAt(g+1, groups, panels)
			for c0 := 0; c0 < cin; c0 += chunk {
				cc := min(chunk, cin-c0)
				last := c0+cc == cin
				offs = chunkOffs[c0/chunk]
				kc := cc
				if cc == cin && p.DW == 1 {
					kc = p.KW * cin // each filter row is one run of floats
				}
				reach = (slices.Max(offs) + 4*kc + (k.MR-1)*rs) / 4
				beta := float32(0)
				if c0 > 0 {
					beta = 1
				}
				for jp := jp0; jp < jp1; jp++ {
					j0 := jp * k.NR
					cols := min(k.NR, p.Cout-j0)
					at := panelAt(c0, jp)
					b := &(*bp)[at]
					pf := 0 // for the panel's first tile
					if next := nextPanel(t, c0, jp); next >= 0 {
						pf = 4 * (next - at)
					}
					if epi && last && cols == k.NR {
						*ge = ep.panel(j0, ldy) // the tiles set Res
					}
					if virtual {
						// v counts pixels of the padded input from row oy0.
						end := (oy1-oy0-1)*xp.w + od.W
						for v := 0; v < end; v += k.MR {
							oy, ox := oy0+v/xp.w, v%xp.w
							direct := ox+k.MR <= od.W || flat && v+k.MR <= end
							pix[0] = oy*od.W + ox
							if !direct || cols < k.NR { // the tile goes through edge
								for r := range k.MR {
									pix[r] = -1
									if v+r < end && ox < od.W {
										pix[r] = oy*od.W + ox
									}
									if ox++; ox == xp.w {
										oy, ox = oy+1, 0
									}
								}
							}
							tile(n*xp.stride+(oy0*xp.w+v)*cin, direct, b, kc, j0, cols, beta, last, pf)
							pf = 0
						}
						continue
					}
					for oy := oy0; oy < oy1; oy++ {
						for ox := 0; ox < od.W; ox += k.MR {
							direct := ox+k.MR <= od.W
							pix[0] = oy*od.W + ox
							for r := 1; r < k.MR && (!direct || cols < k.NR); r++ {
								pix[r] = -1
								if ox+r < od.W {
									pix[r] = oy*od.W + ox + r
								}
							}
							tile(n*xp.stride+(oy*p.SH*xp.w+ox*p.SW)*cin, direct, b, kc, j0, cols, beta, last, pf)
							pf = 0
						}
					}
				}
			}
		}
	})
}

// kernelFor returns the micro-kernel for a product with cols columns: the
// default, or its narrow sibling when the default is wider than 16 and
// cols would fill under half of its tile.
func kernelFor(cols int) *gemm.Kernel {
	if k := gemm.Default(); cols > 16 || k.NR <= 16 {
		return k
	}
	return gemm.Narrow()
}

// tileLen is the size of a scratch tile: the largest MR·NR of gemm's
// kernels.
const tileLen = 16 * 32

// tapOffsets lists, relative to a tile's first input pixel, the byte
// offset of each run of the reduction for input channels [c0, c0+cc): one
// per filter row when the chunk is all channels and there is no
// horizontal dilation (the row's taps are then contiguous), else one per
// tap. Their order is the order packFilter lays out the filter in.
func tapOffsets(offs []int, p Conv, cin, c0, cc, rowBytes int) []int {
	for ky := 0; ky < p.KH; ky++ {
		if cc == cin && p.DW == 1 {
			offs = append(offs, ky*p.DH*rowBytes)
			continue
		}
		for kx := 0; kx < p.KW; kx++ {
			offs = append(offs, ky*p.DH*rowBytes+4*(kx*p.DW*cin+c0))
		}
	}
	return offs
}

// packFilter lays out an HWIO filter as the kernel's B: for each chunk of
// input channels (from c0), for each NR-wide panel of output channels,
// the rows (tap, ci) in tap-major order, NR floats each, zero past Cout.
func packFilter(dst, w []float32, cin, taps, cout, chunk, nr int) {
	panels := (cout + nr - 1) / nr
	for c0 := 0; c0 < cin; c0 += chunk {
		cc := min(chunk, cin-c0)
		base := c0 * taps * panels * nr
		for jp := 0; jp < panels; jp++ {
			j0 := jp * nr
			cols := min(nr, cout-j0)
			panel := dst[base+jp*taps*cc*nr : base+(jp+1)*taps*cc*nr]
			for t := 0; t < taps; t++ {
				for ci := 0; ci < cc; ci++ {
					row := panel[(t*cc+ci)*nr : (t*cc+ci+1)*nr]
					src := w[(t*cin+c0+ci)*cout+j0:]
					copy(row, src[:cols])
					clear(row[cols:])
				}
			}
		}
	}
}
