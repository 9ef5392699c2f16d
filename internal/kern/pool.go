package kern

import (
	"fmt"
	"math"

	"github.com/foveaml/fovea/internal/cpu"
)

// Pool2D is a pooling window over NHWC images: KH×KW taps, moved by SH
// and SW, over an input padded by PadT rows on top, PadB below, PadL
// columns on the left and PadR on the right. Padding is never read: max
// pooling ignores it, average pooling counts it or not (ExcludePad).
//
// The output has OutSize(H, KH, SH, PadT, PadB, DH, Ceil) rows and
// likewise columns (see Out); with Ceil the last partial window is kept
// unless it starts in the trailing padding (PyTorch's ceil_mode). AlexNet's
// overlapping pooling is Pool2D{KH: 3, KW: 3, SH: 2, SW: 2}.
type Pool2D struct {
	KH, KW                 int
	SH, SW                 int
	PadT, PadB, PadL, PadR int
	// DH, DW dilate max-pooling windows (0 or 1: none); tap i of a window
	// starting at h reads row h + i·DH. Average pooling does not dilate.
	DH, DW int
	Ceil   bool
	// ExcludePad makes average pooling divide by the number of input
	// pixels under the window, as PyTorch's count_include_pad=False and
	// ONNX's default. The zero value divides by the window's size clipped
	// to the padded input, as PyTorch's default count_include_pad=True: in
	// ceil mode a window hanging past the bottom padding counts only the
	// part inside it.
	ExcludePad bool
}

// Out returns the output dims of pooling an input of dims in: N and C
// are kept, H and W follow OutSize.
func (p Pool2D) Out(in Dims) Dims {
	return Dims{in.N,
		OutSize(in.H, p.KH, p.SH, p.PadT, p.PadB, max(p.DH, 1), p.Ceil),
		OutSize(in.W, p.KW, p.SW, p.PadL, p.PadR, max(p.DW, 1), p.Ceil), in.C}
}

// span is one axis of a pooling window: input length, taps, stride,
// padding before and after, dilation.
type span struct{ in, k, s, lo, hi, d int }

// axes returns the vertical and horizontal spans of p over d, panicking
// on parameters no layer should produce.
func (p Pool2D) axes(op string, d Dims) (span, span) {
	if p.KH < 1 || p.KW < 1 || p.SH < 1 || p.SW < 1 || p.PadT < 0 || p.PadB < 0 ||
		p.PadL < 0 || p.PadR < 0 || p.DH < 0 || p.DW < 0 {
		panic(fmt.Sprintf("kern.%s: invalid window %+v", op, p))
	}
	return span{d.H, p.KH, p.SH, p.PadT, p.PadB, max(p.DH, 1)},
		span{d.W, p.KW, p.SW, p.PadL, p.PadR, max(p.DW, 1)}
}

// taps returns where output o's window starts (in input coordinates,
// negative inside the leading padding) and the range [t0, t1) of its taps
// that fall inside the input; t0 ≥ t1 when none does.
func (a span) taps(o int) (start, t0, t1 int) {
	start = o*a.s - a.lo
	if start < 0 {
		t0 = (-start + a.d - 1) / a.d
	}
	if a.in > start {
		t1 = min(a.k, (a.in-start+a.d-1)/a.d)
	}
	return start, t0, t1
}

// padded returns how many positions of output o's window lie inside the
// padded input (PyTorch's divisor with count_include_pad).
func (a span) padded(o int) int {
	start := o*a.s - a.lo
	return min(start+a.k, a.in+a.hi) - start
}

// poolLens panics unless x, y (and idx, when not nil) fit dims d and
// output dims o.
func poolLens(op string, d, o Dims, x, y []float32, idx []int32) {
	if len(x) != d.Len() || len(y) != o.Len() || idx != nil && len(idx) != o.Len() {
		panic(fmt.Sprintf("kern.%s: input %v wants %d values and output %v %d, have %d and %d (indices %d)",
			op, d, d.Len(), o, o.Len(), len(x), len(y), len(idx)))
	}
}

// rowGrain returns how many rows of work make a parallel chunk worth
// handing off, when one row costs perRow multiply-adds.
func rowGrain(perRow int) int { return max(1, elemGrain/max(perRow, 1)) }

// MaxPool sets y[n,oh,ow,c] to the largest x[n,h,w,c] under the window of
// output (oh, ow); x has dims d and y dims p.Out(d). A NaN under the
// window wins, as in PyTorch. When argmax is not nil (length of y) it
// receives the winner's spatial index h·W+w within its image, the first
// one on ties (PyTorch's convention), for MaxPoolBackward. A window with
// no input pixel under it (only padding) gives -Inf and index -1.
func MaxPool(y []float32, argmax []int32, x []float32, d Dims, p Pool2D) {
	ah, aw := p.axes("MaxPool", d)
	o := p.Out(d)
	poolLens("MaxPool", d, o, x, y, argmax)
	c := d.C
	if argmax == nil {
		maxPoolRows(y, x, d, o, ah, aw)
		return
	}
	cpu.For(d.N*o.H, rowGrain(o.W*c*p.KH*p.KW), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			n, oh := r/o.H, r%o.H
			hs, h0, h1 := ah.taps(oh)
			for ow := range o.W {
				ws, w0, w1 := aw.taps(ow)
				out := (r*o.W + ow) * c
				ym, ix := y[out:out+c], argmax[out:out+c]
				if h0 >= h1 || w0 >= w1 { // only padding under the window
					for j := range ym {
						ym[j], ix[j] = float32(math.Inf(-1)), -1
					}
					continue
				}
				// The first tap sets the maximum (what maxIdx would make of
				// it after −Inf).
				first := (hs+h0*ah.d)*d.W + ws + w0*aw.d
				copy(ym, x[(n*d.H*d.W+first)*c:][:c])
				for j := range ix {
					ix[j] = int32(first)
				}
				for i := h0; i < h1; i++ {
					for j := w0; j < w1; j++ {
						if i == h0 && j == w0 {
							continue
						}
						pix := (hs+i*ah.d)*d.W + ws + j*aw.d
						vec.maxIdx(ym, ix, x[(n*d.H*d.W+pix)*c:][:c], int32(pix))
					}
				}
			}
		}
	})
}

// maxPoolRows is MaxPool without indices (inference): each output row
// is a few maxWindow calls, one for the run of pixels whose windows lie
// wholly inside the input (their taps move by a stride from pixel to
// pixel) and one for each pixel at the edges with the taps it has, so
// that the kernel, not a call per pixel and tap, does the work.
func maxPoolRows(y, x []float32, d, o Dims, ah, aw span) {
	c := d.C
	// Outputs [in0, in1) of every row have their whole window inside the
	// input across: one run for the kernel.
	in0, in1 := 0, 0
	for ow := range o.W {
		if _, w0, w1 := aw.taps(ow); w0 == 0 && w1 == aw.k {
			if in1 == 0 {
				in0 = ow
			}
			in1 = ow + 1
		}
	}
	cpu.For(d.N*o.H, rowGrain(o.W*c*ah.k*aw.k), func(lo, hi int) {
		taps := getPointers(ah.k * aw.k)
		defer putPointers(taps)
		for r := lo; r < hi; r++ {
			n, oh := r/o.H, r%o.H
			hs, h0, h1 := ah.taps(oh)
			yr := y[r*o.W*c : (r+1)*o.W*c]
			if h0 >= h1 {
				fillNegInf(yr)
				continue
			}
			for ow := 0; ow < o.W; {
				ws, w0, w1 := aw.taps(ow)
				run := 1
				if ow == in0 && in1 > in0 {
					run = in1 - in0
				}
				if w0 >= w1 { // only padding under the window
					fillNegInf(yr[ow*c : (ow+1)*c])
					ow++
					continue
				}
				t := taps[:0]
				for i := h0; i < h1; i++ {
					for j := w0; j < w1; j++ {
						t = append(t, &x[(n*d.H*d.W+(hs+i*ah.d)*d.W+ws+j*aw.d)*c])
					}
				}
				// A run's taps move by the stride from pixel to pixel, and
				// its last pixel's window is inside the input.
				vec.maxWindow(yr[ow*c:(ow+run)*c], t, c, aw.s*c)
				ow += run
			}
		}
	})
}

// fillNegInf sets every value of v to −Inf.
func fillNegInf(v []float32) {
	if len(v) == 0 {
		return
	}
	v[0] = float32(math.Inf(-1))
	for n := 1; n < len(v); n *= 2 {
		copy(v[n:], v[:n])
	}
}

// MaxPoolBackward sets dx (dims d, the forward input's) to the gradient
// of MaxPool: each dy[n,oh,ow,c] is added to dx[n,h,w,c] at the index
// argmax recorded, h·W+w; every other dx is 0. Indices of -1 are skipped.
func MaxPoolBackward(dx, dy []float32, argmax []int32, d Dims, p Pool2D) {
	p.axes("MaxPoolBackward", d)
	o := p.Out(d)
	poolLens("MaxPoolBackward", d, o, dx, dy, argmax)
	hw, ohw := d.H*d.W, o.H*o.W
	forImageChannels(d.N, d.C, func(n, c0, c1 int) {
		dxn := dx[n*hw*d.C : (n+1)*hw*d.C]
		clearChannels(dxn, d.C, c0, c1)
		for op := range ohw {
			at := (n*ohw + op) * d.C
			for c := c0; c < c1; c++ {
				if k := argmax[at+c]; k >= 0 {
					dxn[int(k)*d.C+c] += dy[at+c]
				}
			}
		}
	})
}

// forImageChannels calls f(n, c0, c1) in parallel for every image n and
// a partition of the channels into blocks [c0, c1), cut finely enough to
// keep every worker busy when the batch is small. Scatter-adding backward
// passes use it: different calls never write the same value.
func forImageChannels(images, channels int, f func(n, c0, c1 int)) {
	blocks := min((4*cpu.Workers()+images-1)/max(images, 1), (channels+15)/16)
	blocks = max(blocks, 1)
	width := (channels + blocks - 1) / blocks
	blocks = (channels + width - 1) / width
	cpu.ForEach(images*blocks, func(u int) {
		b := u % blocks
		f(u/blocks, b*width, min(channels, (b+1)*width))
	})
}

// clearChannels zeroes channels [c0, c1) of every pixel of img (c
// channels a pixel): the whole image in one call when that is all of them.
func clearChannels(img []float32, c, c0, c1 int) {
	if c0 == 0 && c1 == c {
		clear(img)
		return
	}
	for p := 0; p < len(img); p += c {
		clear(img[p+c0 : p+c1])
	}
}

// avgDivisor returns what average pooling divides the sum of output
// (oh, ow)'s window by: the input pixels under it with exclude, else the
// window clipped to the padded input (see Pool2D.ExcludePad).
func avgDivisor(ah, aw span, oh, ow int, exclude bool) int {
	if exclude {
		_, h0, h1 := ah.taps(oh)
		_, w0, w1 := aw.taps(ow)
		return max(h1-h0, 0) * max(w1-w0, 0)
	}
	return ah.padded(oh) * aw.padded(ow)
}

// avgAxes is Pool2D.axes for average pooling, which has no dilation.
func (p Pool2D) avgAxes(op string, d Dims) (span, span) {
	if p.DH > 1 || p.DW > 1 {
		panic(fmt.Sprintf("kern.%s: average pooling does not dilate (%+v)", op, p))
	}
	return p.axes(op, d)
}

// AvgPool sets y[n,oh,ow,c] to the sum of x[n,h,w,c] under the window of
// output (oh, ow) divided by the divisor p.ExcludePad selects; x has dims
// d and y dims p.Out(d). A window with nothing to divide by gives 0.
func AvgPool(y, x []float32, d Dims, p Pool2D) {
	ah, aw := p.avgAxes("AvgPool", d)
	o := p.Out(d)
	poolLens("AvgPool", d, o, x, y, nil)
	if p.tiles(d) {
		avgPoolTiled(y, x, d, p)
		return
	}
	c := d.C
	cpu.For(d.N*o.H, rowGrain(o.W*c*p.KH*p.KW), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			n, oh := r/o.H, r%o.H
			hs, h0, h1 := ah.taps(oh)
			for ow := range o.W {
				ws, w0, w1 := aw.taps(ow)
				ym := y[(r*o.W+ow)*c:][:c]
				clear(ym)
				for i := h0; i < h1; i++ {
					for j := w0; j < w1; j++ {
						xm := x[((n*d.H+hs+i)*d.W+ws+j)*c:][:c]
						if c < 32 { // a vector call costs more than a few adds
							for k, v := range xm {
								ym[k] += v
							}
						} else {
							vec.add(ym, ym, xm)
						}
					}
				}
				if div := avgDivisor(ah, aw, oh, ow, p.ExcludePad); div > 0 {
					inv := 1 / float32(div)
					for k := range ym {
						ym[k] *= inv
					}
				}
			}
		}
	})
}

// AvgPoolBackward sets dx (dims d, the forward input's) to the gradient
// of AvgPool: every dx[n,h,w,c] is the sum of dy[n,oh,ow,c]/divisor over
// the outputs whose windows cover (h, w); pixels no window covers get 0.
func AvgPoolBackward(dx, dy []float32, d Dims, p Pool2D) {
	ah, aw := p.avgAxes("AvgPoolBackward", d)
	o := p.Out(d)
	poolLens("AvgPoolBackward", d, o, dx, dy, nil)
	if p.tiles(d) {
		avgPoolBackwardTiled(dx, dy, d, p)
		return
	}
	hw := d.H * d.W
	forImageChannels(d.N, d.C, func(n, c0, c1 int) {
		dxn := dx[n*hw*d.C : (n+1)*hw*d.C]
		clearChannels(dxn, d.C, c0, c1)
		for oh := range o.H {
			hs, h0, h1 := ah.taps(oh)
			for ow := range o.W {
				ws, w0, w1 := aw.taps(ow)
				div := avgDivisor(ah, aw, oh, ow, p.ExcludePad)
				if div == 0 {
					continue
				}
				g := dy[((n*o.H+oh)*o.W+ow)*d.C:][c0:c1]
				inv := 1 / float32(div)
				for i := h0; i < h1; i++ {
					for j := w0; j < w1; j++ {
						dm := dxn[((hs+i)*d.W+ws+j)*d.C:][c0:c1]
						if len(g) < 32 {
							for k, v := range g {
								dm[k] += inv * v
							}
						} else {
							vec.axpy(dm, inv, g)
						}
					}
				}
			}
		}
	})
}

// GlobalAvgPool sets y[n,c] (an N×C matrix) to the mean of x[n,h,w,c]
// over h and w; x has dims d.
func GlobalAvgPool(y, x []float32, d Dims) {
	if len(x) != d.Len() || len(y) != d.N*d.C {
		panic(fmt.Sprintf("kern.GlobalAvgPool: input %v wants %d values and output %d, have %d and %d",
			d, d.Len(), d.N*d.C, len(x), len(y)))
	}
	hw := d.H * d.W
	forImageChannels(d.N, d.C, func(n, c0, c1 int) {
		ym := y[n*d.C+c0 : n*d.C+c1]
		clear(ym)
		for pix := range hw {
			vec.add(ym, ym, x[(n*hw+pix)*d.C:][c0:c1])
		}
		if hw > 0 {
			vec.scale(ym, 1/float32(hw), ym)
		}
	})
}

// GlobalAvgPoolBackward sets dx[n,h,w,c] = dy[n,c]/(H·W), the gradient of
// GlobalAvgPool; dx has dims d and dy is N×C.
func GlobalAvgPoolBackward(dx, dy []float32, d Dims) {
	if len(dx) != d.Len() || len(dy) != d.N*d.C {
		panic(fmt.Sprintf("kern.GlobalAvgPoolBackward: input %v wants %d values and output %d, have %d and %d",
			d, d.Len(), d.N*d.C, len(dx), len(dy)))
	}
	hw := d.H * d.W
	cpu.For(d.N*hw, rowGrain(d.C), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			n := r / hw
			vec.scale(dx[r*d.C:(r+1)*d.C], 1/float32(hw), dy[n*d.C:(n+1)*d.C])
		}
	})
}
