package ag

import "github.com/foveaml/fovea/internal/kern"

// Conv holds the options of Conv2D; the filter's shape gives the kernel
// size and the channel counts. The zero value is a stride-1, unpadded
// ("valid") convolution.
type Conv struct {
	SH, SW                 int // strides; 0 means 1
	PadT, PadB, PadL, PadR int // zero padding on each side
	DH, DW                 int // dilations; 0 means 1 (none)
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
	var bias []float32
	if b != nil {
		bias = b.val.Data()
	}
	kern.Conv2D(y.val.Data(), x.val.Data(), ws.Data(), bias, d, p)
	return t.record(y, func(dy []float32) {
		if x.requires {
			dx := t.sink(x)
			kern.Conv2DBackwardData(dx, dy, w.val.Data(), d, p)
			t.flush(x, dx)
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
	if ws.Rank() != 4 || ws.Dim(2) != x.val.Dim(3) {
		t.fail(op, "filter has shape %v; want [KH KW %d Cout] for input %v", ws.Shape(), x.val.Dim(3), x.val.Shape())
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
