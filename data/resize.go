package data

import (
	"image"
	"image/color"
	"math"
)

// rgbRow writes row y of img (relative to its bounds) as float32 RGB in
// [0, 1] into row, which holds 3*width values. Grey becomes three equal
// channels; alpha is dropped from non-premultiplied colour, as PIL's
// convert("RGB") does.
func rgbRow(img image.Image, y int, row []float32, pal []float32) {
	b := img.Bounds()
	w := b.Dx()
	y += b.Min.Y
	switch m := img.(type) {
	case *image.YCbCr:
		yi := m.YOffset(b.Min.X, y)
		for x := range w {
			ci := m.COffset(b.Min.X+x, y)
			r, g, bl := color.YCbCrToRGB(m.Y[yi+x], m.Cb[ci], m.Cr[ci])
			row[3*x], row[3*x+1], row[3*x+2] = byteScale[r], byteScale[g], byteScale[bl]
		}
	case *image.Gray:
		p := m.Pix[m.PixOffset(b.Min.X, y):]
		for x := range w {
			v := byteScale[p[x]]
			row[3*x], row[3*x+1], row[3*x+2] = v, v, v
		}
	case *image.NRGBA:
		p := m.Pix[m.PixOffset(b.Min.X, y):]
		for x := range w {
			row[3*x], row[3*x+1], row[3*x+2] = byteScale[p[4*x]], byteScale[p[4*x+1]], byteScale[p[4*x+2]]
		}
	case *image.Paletted:
		p := m.Pix[m.PixOffset(b.Min.X, y):]
		for x := range w {
			k := 3 * int(p[x])
			if k+2 >= len(pal) { // an index past the palette reads as black, as in image/draw
				row[3*x], row[3*x+1], row[3*x+2] = 0, 0, 0
				continue
			}
			row[3*x], row[3*x+1], row[3*x+2] = pal[k], pal[k+1], pal[k+2]
		}
	default:
		for x := range w {
			c := color.NRGBA64Model.Convert(img.At(b.Min.X+x, y)).(color.NRGBA64)
			row[3*x] = float32(c.R) / 65535
			row[3*x+1] = float32(c.G) / 65535
			row[3*x+2] = float32(c.B) / 65535
		}
	}
}

// paletteRGB returns p as float32 RGB triples, unpremultiplied.
func paletteRGB(p color.Palette) []float32 {
	out := make([]float32, 3*len(p))
	for i, c := range p {
		n := color.NRGBA64Model.Convert(c).(color.NRGBA64)
		out[3*i] = float32(n.R) / 65535
		out[3*i+1] = float32(n.G) / 65535
		out[3*i+2] = float32(n.B) / 65535
	}
	return out
}

// taps are the weights by which resampling makes each output sample from
// a run of input samples.
type taps struct {
	start []int     // first input sample of output i
	n     int       // inputs per output (the widest run; shorter runs pad with zero weights)
	w     []float32 // n weights per output
}

// triangleTaps returns the taps that resample in samples to out with a
// triangle (bilinear) filter on pixel centres, as align_corners=False;
// when shrinking, the filter widens by the scale so every input pixel
// counts (antialiasing, as PIL and torchvision's antialias=True do).
func triangleTaps(in, out int) taps {
	scale := float64(in) / float64(out)
	support := max(scale, 1)
	n := int(math.Ceil(support))*2 + 1
	t := taps{start: make([]int, out), n: n, w: make([]float32, out*n)}
	for o := range out {
		centre := (float64(o) + 0.5) * scale
		lo := max(int(math.Floor(centre-support)), 0)
		hi := min(int(math.Ceil(centre+support)), in)
		if hi-lo > n {
			hi = lo + n
		}
		var sum float64
		ws := t.w[o*n : (o+1)*n]
		for i := lo; i < hi; i++ {
			d := math.Abs((float64(i) + 0.5 - centre) / support)
			if d < 1 {
				ws[i-lo] = float32(1 - d)
				sum += 1 - d
			}
		}
		if sum == 0 { // cannot happen for in >= 1, but never divide by zero
			lo, ws[0], sum = min(int(centre), in-1), 1, 1
		}
		for k := range ws {
			ws[k] = float32(float64(ws[k]) / sum)
		}
		t.start[o] = lo
	}
	return t
}

// resampleImage writes img, resized to h×w, as float32 RGB HWC into dst
// (len h*w*3): rows are converted and resampled across, then down.
func resampleImage(img image.Image, h, w int, dst []float32) {
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	var pal []float32
	if p, ok := img.(*image.Paletted); ok {
		pal = paletteRGB(p.Palette)
	}
	row := make([]float32, 3*sw)
	if sw == w && sh == h {
		for y := range h {
			rgbRow(img, y, dst[y*w*3:(y+1)*w*3], pal)
		}
		return
	}
	tx := triangleTaps(sw, w)
	ty := triangleTaps(sh, h)
	// tmp holds every source row resampled across: sh × w × 3.
	tmp := make([]float32, sh*w*3)
	for y := range sh {
		rgbRow(img, y, row, pal)
		out := tmp[y*w*3 : (y+1)*w*3]
		for x := range w {
			ws := tx.w[x*tx.n : (x+1)*tx.n]
			s := tx.start[x]
			var r, g, bl float32
			for k, wt := range ws {
				if wt == 0 {
					continue
				}
				p := row[3*(s+k):]
				r += wt * p[0]
				g += wt * p[1]
				bl += wt * p[2]
			}
			out[3*x], out[3*x+1], out[3*x+2] = r, g, bl
		}
	}
	stride := w * 3
	for y := range h {
		ws := ty.w[y*ty.n : (y+1)*ty.n]
		s := ty.start[y]
		out := dst[y*stride : (y+1)*stride]
		clear(out)
		for k, wt := range ws {
			if wt == 0 {
				continue
			}
			in := tmp[(s+k)*stride : (s+k+1)*stride]
			for j, v := range in {
				out[j] += wt * v
			}
		}
	}
}
