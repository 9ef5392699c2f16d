package data

import (
	"github.com/foveaml/fovea/internal/resample"
	"image"
	"image/color"
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
	tx := resample.NewTaps(0, sw, w, resample.Bilinear)
	ty := resample.NewTaps(0, sh, h, resample.Bilinear)
	// tmp holds every source row resampled across: sh × w × 3.
	tmp := make([]float32, sh*w*3)
	for y := range sh {
		rgbRow(img, y, row, pal)
		tx.Across(tmp[y*w*3:(y+1)*w*3], row, 3)
	}
	ty.Down(dst, tmp, w*3, 0)
}
