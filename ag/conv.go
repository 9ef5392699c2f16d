package ag

import "github.com/foveaml/fovea/internal/kern"

// Conv holds the options of Conv2D; the filter's shape gives the kernel
// size and the channel counts. The zero value is a stride-1, unpadded
// ("valid") convolution.
type Conv struct {
	SH, SW                 int // strides; 0 means 1
	PadT, PadB, PadL, PadR int // zero padding on each side
	DH, DW                 int // dilations; 0 means 1 (none)
	// Groups splits the input and output channels into that many groups
	// (0 means 1), each convolved with its own part of the filter: the
	// filter is [KH KW Cin/Groups Cout], and output channels
	// [g·Cout/G, (g+1)·Cout/G) see only input channels
	// [g·Cin/G, (g+1)·Cin/G) — PyTorch's groups, AlexNet's two GPUs.
	Groups int
}

// Pad returns Conv options of stride 1 with p pixels of zero padding on
// every side: Pad(1) keeps the size of a 3×3 convolution's input.
func Pad(p int) Conv { return Conv{PadT: p, PadB: p, PadL: p, PadR: p} }

// Conv2D convolves x, an NHWC batch [N, H, W, Cin], with the filter w,
// HWIO [KH, KW, Cin, Cout], and adds the bias b [Cout] (nil for none):
//
//	y[n,oy,ox,co] = b[co] + Σ_{ky,kx,ci} x[n, oy·SH+ky·DH−PadT, ox·SW+kx·DW−PadL, ci] · w[ky,kx,ci,co]
//
// The output is [N, OH, OW, Cout] with OH = (H+PadT+PadB−DH·(KH−1)−1)/SH+1
// (floor), likewise OW. Backward skips the input gradient when x requires
// none (an input image) and the filter gradient when w is frozen.
func (t *Tape) Conv2D(x, w, b *Var, o Conv) *Var {
	const op = "Conv2D"
	if !t.ok(op, x, w) || b != nil && !t.ok(op, b) || !t.isImage(op, "input", x) {
		return nil
	}
	p, d, od, ok := t.convShape(op, x, w, o)
	if !ok || !t.isVector(op, "bias", b, p.Cout, "filter", w.val.Shape()) {
		return nil
	}
	ws := w.val
	y := t.newOutput(shapeOf(od), x, w, b)
	y.spare = true // backward reads x, w and dy only
	var bias []float32
	if b != nil {
		bias = b.val.Data()
	}
	if t.tracer != nil {
		defer t.trace(op, o, y, x, w, b)
	}
	if g := max(o.Groups, 1); g > 1 {
		return t.record(y, t.convGroups(y, x, w, bias, b, d, p, g))
	}
	kern.Conv2D(y.val.Data(), x.val.Data(), ws.Data(), bias, d, p)
	return t.record(y, func(dy []float32) {
		if x.requires {
			// An input with a gradient already (a residual block's,
			// read by the shortcut too) has this op's part added in
			// place, needing no buffer for it.
			if dx, beta := t.sinkBeta(x); beta == 0 {
				kern.Conv2DBackwardData(dx, dy, w.val.Data(), d, p)
			} else {
				kern.Conv2DBackwardDataAdd(dx, dy, w.val.Data(), d, p)
			}
		}
		wantB := b != nil && b.requires
		switch {
		case w.requires:
			dw := t.sink(w)
			var db []float32
			if wantB {
				db = t.sink(b)
			}
			kern.Conv2DBackwardFilter(dw, db, x.val.Data(), dy, d, p)
			t.flush(w, dw)
			if wantB {
				t.flush(b, db)
			}
		case wantB:
			db := t.sink(b)
			kern.BiasGrad(db, dy)
			t.flush(b, db)
		}
	})
}

// convShape checks the shapes and options of a convolution of x by w and
// returns the kernel's parameters and the input and output dims.
func (t *Tape) convShape(op string, x, w *Var, o Conv) (p kern.Conv, d, od kern.Dims, ok bool) {
	ws := w.val
	g := max(o.Groups, 1)
	if cin := x.val.Dim(3); o.Groups < 0 || cin%g != 0 {
		t.fail(op, "%d groups do not divide the input's %d channels", o.Groups, cin)
		return p, d, od, false
	}
	if ws.Rank() != 4 || ws.Dim(2) != x.val.Dim(3)/g || ws.Dim(3)%g != 0 {
		t.fail(op, "filter has shape %v; want [KH KW %d Cout] with Cout a multiple of %d groups for input %v",
			ws.Shape(), x.val.Dim(3)/g, g, x.val.Shape())
		return p, d, od, false
	}
	if min(o.SH, o.SW, o.DH, o.DW, o.PadT, o.PadB, o.PadL, o.PadR) < 0 {
		t.fail(op, "negative stride, dilation or padding in %+v", o)
		return p, d, od, false
	}
	p = kern.Conv{KH: ws.Dim(0), KW: ws.Dim(1), SH: max(o.SH, 1), SW: max(o.SW, 1),
		PadT: o.PadT, PadB: o.PadB, PadL: o.PadL, PadR: o.PadR,
		DH: max(o.DH, 1), DW: max(o.DW, 1), Cout: ws.Dim(3)}
	d = dims(x.val)
	od = p.Out(d)
	if od.H < 1 || od.W < 1 || p.KH < 1 || p.KW < 1 || p.Cout < 1 {
		t.fail(op, "filter %v with %+v does not fit input %v", ws.Shape(), o, x.val.Shape())
		return p, d, od, false
	}
	return p, d, od, true
}

// convGroups runs a grouped convolution into y, one group at a time on
// copies of its channels, and returns its backward closure.
func (t *Tape) convGroups(y, x, w *Var, bias []float32, b *Var, d kern.Dims, p kern.Conv, g int) func(dy []float32) {
	cig, cog := d.C/g, p.Cout/g
	taps := p.KH * p.KW
	gd, gp := d, p
	gd.C, gp.Cout = cig, cog
	od := p.Out(d)
	pix, opix := d.N*d.H*d.W, od.N*od.H*od.W
	// parts cuts a whole tensor of rows×(g·c) into g buffers of rows×c.
	parts := func(whole []float32, rows, c int, split bool) [][]float32 {
		ps := make([][]float32, g)
		for i := range ps {
			ps[i] = t.floats.Get(rows * c)
		}
		if split {
			kern.SplitChannels(ps, whole, rows)
		}
		return ps
	}
	release := func(ps [][]float32) {
		for _, b := range ps {
			t.floats.Put(b)
		}
	}
	xs, ws, ys := parts(x.val.Data(), pix, cig, true), parts(w.val.Data(), taps*cig, cog, true), parts(nil, opix, cog, false)
	for i := range g {
		var bg []float32
		if bias != nil {
			bg = bias[i*cog : (i+1)*cog]
		}
		kern.Conv2D(ys[i], xs[i], ws[i], bg, gd, gp)
	}
	kern.ConcatChannels(y.val.Data(), ys, opix)
	release(xs)
	release(ws)
	release(ys)
	return func(dy []float32) {
		dys := parts(dy, opix, cog, true)
		defer release(dys)
		ws := parts(w.val.Data(), taps*cig, cog, true)
		defer release(ws)
		if x.requires {
			dxs := parts(nil, pix, cig, false)
			for i := range g {
				kern.Conv2DBackwardData(dxs[i], dys[i], ws[i], gd, gp)
			}
			dx := t.sink(x)
			kern.ConcatChannels(dx, dxs, pix)
			t.flush(x, dx)
			release(dxs)
		}
		if w.requires {
			xs, dws := parts(x.val.Data(), pix, cig, true), parts(nil, taps*cig, cog, false)
			for i := range g {
				kern.Conv2DBackwardFilter(dws[i], nil, xs[i], dys[i], gd, gp)
			}
			dw := t.sink(w)
			kern.ConcatChannels(dw, dws, taps*cig)
			t.flush(w, dw)
			release(xs)
			release(dws)
		}
		if b != nil && b.requires {
			db := t.sink(b)
			kern.BiasGrad(db, dy)
			t.flush(b, db)
		}
	}
}
