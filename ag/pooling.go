package ag

import "github.com/foveaml/fovea/internal/kern"

// Pool2D is a pooling window over NHWC batches: KH×KW taps moved by SH
// and SW, over the input padded by PadT rows on top, PadB below, PadL
// columns on the left and PadR on the right (padding is never read). The
// output has OH = (H+PadT+PadB−DH·(KH−1)−1)/SH+1 rows, rounded down, or
// up with Ceil (PyTorch's ceil_mode: a last, partial window is kept
// unless it starts in the trailing padding); likewise OW columns.
type Pool2D struct {
	KH, KW int
	// SH and SW are the strides; 0 means the window's size, PyTorch's
	// default, so Pool2D{KH: 2, KW: 2} halves an image.
	SH, SW                 int
	PadT, PadB, PadL, PadR int
	// DH and DW dilate max-pooling windows (0 or 1: none); average
	// pooling does not dilate.
	DH, DW int
	Ceil   bool
	// ExcludePad makes average pooling divide by the number of input
	// pixels under the window (PyTorch's count_include_pad=False). By
	// default it divides by the window's size clipped to the padded
	// input (count_include_pad=True).
	ExcludePad bool
}

// poolWindow returns p as the kernel's window over x, or records an error
// if it is invalid or does not fit.
func (t *Tape) poolWindow(op string, p Pool2D, x *Var) (kern.Pool2D, bool) {
	if p.SH == 0 {
		p.SH = p.KH
	}
	if p.SW == 0 {
		p.SW = p.KW
	}
	k := kern.Pool2D(p)
	if !t.isImage(op, "input", x) {
		return k, false
	}
	if p.KH < 1 || p.KW < 1 || min(p.SH, p.SW) < 1 || min(p.PadT, p.PadB, p.PadL, p.PadR, p.DH, p.DW) < 0 {
		t.fail(op, "invalid window %+v", p)
		return k, false
	}
	if o := k.Out(dims(x.val)); o.H < 1 || o.W < 1 {
		t.fail(op, "window %+v does not fit input %v", p, x.val.Shape())
		return k, false
	}
	return k, true
}

// MaxPool returns the largest value under each window of p, per channel.
// The gradient flows to the first largest value of each window.
func (t *Tape) MaxPool(x *Var, p Pool2D) *Var {
	const op = "MaxPool"
	if !t.ok(op, x) {
		return nil
	}
	k, ok := t.poolWindow(op, p, x)
	if !ok {
		return nil
	}
	d := dims(x.val)
	y := t.newOutput(shapeOf(k.Out(d)), x)
	var argmax []int32
	if y.requires {
		argmax = t.allocInt(y.val.Len())
	}
	kern.MaxPool(y.val.Data(), argmax, x.val.Data(), d, k)
	if t.tracer != nil {
		t.trace(op, p, y, x)
	}
	return t.record(y, func(dy []float32) {
		dx := t.sink(x)
		kern.MaxPoolBackward(dx, dy, argmax, d, k)
		t.flush(x, dx)
	})
}

// AvgPool returns the mean of each window of p, per channel, with the
// divisor p.ExcludePad selects.
func (t *Tape) AvgPool(x *Var, p Pool2D) *Var {
	const op = "AvgPool"
	if !t.ok(op, x) {
		return nil
	}
	k, ok := t.poolWindow(op, p, x)
	if !ok {
		return nil
	}
	if p.DH > 1 || p.DW > 1 {
		return t.fail(op, "average pooling does not dilate (%+v)", p)
	}
	d := dims(x.val)
	y := t.newOutput(shapeOf(k.Out(d)), x)
	kern.AvgPool(y.val.Data(), x.val.Data(), d, k)
	if t.tracer != nil {
		t.trace(op, p, y, x)
	}
	return t.record(y, func(dy []float32) {
		dx := t.sink(x)
		kern.AvgPoolBackward(dx, dy, d, k)
		t.flush(x, dx)
	})
}

// GlobalAvgPool returns the mean of each channel over each image of x:
// [N, H, W, C] becomes [N, C], ready for Dense.
func (t *Tape) GlobalAvgPool(x *Var) *Var {
	const op = "GlobalAvgPool"
	if !t.ok(op, x) || !t.isImage(op, "input", x) {
		return nil
	}
	d := dims(x.val)
	y := t.newOutput([]int{d.N, d.C}, x)
	kern.GlobalAvgPool(y.val.Data(), x.val.Data(), d)
	if t.tracer != nil {
		t.trace(op, nil, y, x)
	}
	return t.record(y, func(dy []float32) {
		dx := t.sink(x)
		kern.GlobalAvgPoolBackward(dx, dy, d)
		t.flush(x, dx)
	})
}
