package nn

import (
	"fmt"

	"github.com/foveaml/fovea/ag"
)

// AdaptiveAvgPool2D averages an NHWC batch [N, H, W, C] down (or up) to
// a fixed [N, OutH, OutW, C], as PyTorch's AdaptiveAvgPool2d: output
// pixel i along an axis of input size I and output size O averages input
// pixels ⌊i·I/O⌋ to ⌈(i+1)·I/O⌉−1. fovea computes it exactly when, on each
// axis, I is a multiple of O (an average pooling of window and stride
// I/O) or O is a multiple of I (each input pixel repeated O/I times; a 1×1
// map becomes an O×O one); equal sizes pass through unchanged. That covers
// VGG's and AlexNet's classifiers at their natural inputs (224×224 gives
// 7×7 and 6×6 maps: the identity) and at small ones (a 1×1 map spread to
// 7×7). Other sizes are a programming error and panic: the models that use
// this layer check their input size when they are built (see Fits).
type AdaptiveAvgPool2D struct {
	OutH, OutW int
}

// Fits reports whether the layer can map an h×w map to its output size,
// and if not, an error saying why.
func (p AdaptiveAvgPool2D) Fits(h, w int) error {
	if p.OutH < 1 || p.OutW < 1 {
		return fmt.Errorf("nn.AdaptiveAvgPool2D: output %d×%d: both sides must be at least 1", p.OutH, p.OutW)
	}
	if !adaptiveAxisOK(h, p.OutH) || !adaptiveAxisOK(w, p.OutW) {
		return fmt.Errorf("nn.AdaptiveAvgPool2D: cannot map %d×%d to %d×%d: each side must divide, or be a multiple of, its output", h, w, p.OutH, p.OutW)
	}
	return nil
}

func adaptiveAxisOK(in, out int) bool { return in >= 1 && (in%out == 0 || out%in == 0) }

// Forward implements Layer.
func (p AdaptiveAvgPool2D) Forward(c *Ctx, x *ag.Var) *ag.Var {
	if x == nil || c.Tape.Err() != nil {
		return nil
	}
	s := x.Shape()
	if len(s) != 4 {
		// Let the pooling op record the shape error.
		return c.Tape.AvgPool(x, ag.Pool2D{KH: 1, KW: 1})
	}
	n, h, w, ch := s[0], s[1], s[2], s[3]
	if err := p.Fits(h, w); err != nil {
		panic(err)
	}
	// Shrink by average pooling where the input is a multiple.
	kh, kw := 1, 1
	if h%p.OutH == 0 {
		kh = h / p.OutH
	}
	if w%p.OutW == 0 {
		kw = w / p.OutW
	}
	if kh > 1 || kw > 1 {
		x = c.Tape.AvgPool(x, ag.Pool2D{KH: kh, KW: kw})
		h, w = h/kh, w/kw
	}
	// Grow by repetition where the output is a multiple: copies joined
	// along the channels and reshaped land next to each other in memory.
	if f := p.OutW / w; f > 1 {
		x = c.Tape.Reshape(c.Tape.Concat(repeat(x, f)...), n, h, w*f, ch)
		w *= f
	}
	if f := p.OutH / h; f > 1 {
		row := c.Tape.Reshape(x, n, h, 1, w*ch)
		x = c.Tape.Reshape(c.Tape.Concat(repeat(row, f)...), n, h*f, w, ch)
	}
	return x
}

func repeat(x *ag.Var, n int) []*ag.Var {
	xs := make([]*ag.Var, n)
	for i := range xs {
		xs[i] = x
	}
	return xs
}

// Params implements Layer: it has none.
func (AdaptiveAvgPool2D) Params() []Param { return nil }
