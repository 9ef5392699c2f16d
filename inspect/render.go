package inspect

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/foveaml/fovea/internal/atomicfile"
	"github.com/foveaml/fovea/nn"
)

// Picture is an HWC image of floats in [0, 1] with 1 (grey) or 3 (RGB)
// channels, as data.LoadImage returns them.
type Picture struct {
	H, W, C int
	Pix     []float32
}

// Image converts p to an image, each side scaled by the whole factor
// scale (nearest neighbour: pixels stay visible as pixels).
func (p Picture) Image(scale int) *image.RGBA {
	scale = max(scale, 1)
	img := image.NewRGBA(image.Rect(0, 0, p.W*scale, p.H*scale))
	for y := range p.H * scale {
		for x := range p.W * scale {
			i := ((y/scale)*p.W + x/scale) * p.C
			if p.C == 3 {
				img.SetRGBA(x, y, color.RGBA{byte8(p.Pix[i]), byte8(p.Pix[i+1]), byte8(p.Pix[i+2]), 255})
			} else {
				v := byte8(p.Pix[i])
				img.SetRGBA(x, y, color.RGBA{v, v, v, 255})
			}
		}
	}
	return img
}

func byte8(v float32) uint8 {
	return uint8(math.Round(float64(min(max(v, 0), 1)) * 255))
}

// Jet is the colour map of Grad-CAM's figures: blue (0) through cyan,
// yellow to red (1).
func Jet(v float32) color.RGBA {
	v = min(max(v, 0), 1)
	f := func(x float32) uint8 { return byte8(min(max(1.5-float32(math.Abs(float64(4*v-x))), 0), 1)) }
	return color.RGBA{f(3), f(2), f(1), 255}
}

// Overlay returns p with the heat map heat (p.H×p.W values in [0, 1],
// as Map.Upsampled gives) blended over it in the Jet colours at opacity
// alpha, each side scaled by scale.
func Overlay(p Picture, heat []float32, alpha float64, scale int) (*image.RGBA, error) {
	if len(heat) != p.H*p.W {
		return nil, fmt.Errorf("inspect.Overlay: a heat map of %d values for a %d×%d image", len(heat), p.H, p.W)
	}
	img := p.Image(scale)
	scale = max(scale, 1)
	b := img.Bounds()
	for y := range b.Dy() {
		for x := range b.Dx() {
			h := Jet(heat[(y/scale)*p.W+x/scale])
			o := img.RGBAAt(x, y)
			mix := func(a, b uint8) uint8 { return uint8(math.Round((1-alpha)*float64(a) + alpha*float64(b))) }
			img.SetRGBA(x, y, color.RGBA{mix(o.R, h.R), mix(o.G, h.G), mix(o.B, h.B), 255})
		}
	}
	return img, nil
}

// Heat returns the heat map alone in the Jet colours.
func Heat(h, w int, heat []float32, scale int) *image.RGBA {
	scale = max(scale, 1)
	img := image.NewRGBA(image.Rect(0, 0, w*scale, h*scale))
	for y := range h * scale {
		for x := range w * scale {
			img.SetRGBA(x, y, Jet(heat[(y/scale)*w+x/scale]))
		}
	}
	return img
}

// Panel is one row of a Sheet: images side by side with lines of text
// under them.
type Panel struct {
	Images  []image.Image
	Caption []string
}

const (
	gap   = 8
	lineH = 15
)

// Sheet lays the panels out one under another on white, each row's
// images side by side and its caption under them, in a fixed 7×13 font.
func Sheet(panels []Panel) *image.RGBA {
	w, h := 0, gap
	for _, p := range panels {
		rw, rh := gap, 0
		for _, im := range p.Images {
			rw += im.Bounds().Dx() + gap
			rh = max(rh, im.Bounds().Dy())
		}
		for _, line := range p.Caption {
			rw = max(rw, 2*gap+7*len([]rune(line)))
		}
		w, h = max(w, rw), h+rh+len(p.Caption)*lineH+gap
	}
	img := image.NewRGBA(image.Rect(0, 0, max(w, 1), h))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	y := gap
	for _, p := range panels {
		x, rh := gap, 0
		for _, im := range p.Images {
			b := im.Bounds()
			draw.Draw(img, image.Rect(x, y, x+b.Dx(), y+b.Dy()), im, b.Min, draw.Src)
			x += b.Dx() + gap
			rh = max(rh, b.Dy())
		}
		y += rh
		for _, line := range p.Caption {
			y += lineH
			text(img, gap, y-3, line)
		}
		y += gap
	}
	return img
}

// text draws s at (x, y); the fixed font has ASCII only, so × is
// written x and anything else outside ASCII ?.
func text(img draw.Image, x, y int, s string) {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '×':
			return 'x'
		case r > '~':
			return '?'
		}
		return r
	}, s)
	d := font.Drawer{Dst: img, Src: image.NewUniform(color.Black), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

// Tiles lays small images out in a grid of cols columns (0: about
// square), each scaled by scale, with a two-pixel white border between:
// white, not grey, because grey is a filter's zero weight and the tiles
// of a filter grid would run into each other.
func Tiles(tiles []image.Image, cols, scale int) *image.RGBA {
	if len(tiles) == 0 {
		return image.NewRGBA(image.Rect(0, 0, 1, 1))
	}
	if cols < 1 {
		cols = int(math.Ceil(math.Sqrt(float64(len(tiles)))))
	}
	scale = max(scale, 1)
	tw, th := 0, 0
	for _, t := range tiles {
		tw, th = max(tw, t.Bounds().Dx()*scale), max(th, t.Bounds().Dy()*scale)
	}
	rows := (len(tiles) + cols - 1) / cols
	img := image.NewRGBA(image.Rect(0, 0, cols*(tw+2)+2, rows*(th+2)+2))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	for i, t := range tiles {
		x0, y0 := 2+(i%cols)*(tw+2), 2+(i/cols)*(th+2)
		b := t.Bounds()
		for y := range b.Dy() * scale {
			for x := range b.Dx() * scale {
				img.Set(x0+x, y0+y, t.At(b.Min.X+x/scale, b.Min.Y+y/scale))
			}
		}
	}
	return img
}

// FilterTiles returns one image per output channel of a convolution's
// filters: in colour when it reads three channels (the first layer of an
// RGB model), each filter's own range mapped to [0, 1] (grey 0.5 is a
// zero weight); otherwise the filter's mean over its input channels, in
// grey.
func FilterTiles(conv *nn.Conv2D) []image.Image {
	w := conv.Weight.Value() // [KH, KW, In/Groups, Out]
	kh, kw, in, out := w.Dim(0), w.Dim(1), w.Dim(2), w.Dim(3)
	d := w.Data()
	tiles := make([]image.Image, out)
	for o := range out {
		var top float32
		for i := o; i < len(d); i += out {
			top = max(top, float32(math.Abs(float64(d[i]))))
		}
		if top == 0 {
			top = 1
		}
		img := image.NewRGBA(image.Rect(0, 0, kw, kh))
		at := func(y, x, c int) uint8 { return byte8(0.5 + 0.5*d[((y*kw+x)*in+c)*out+o]/top) }
		for y := range kh {
			for x := range kw {
				if in == 3 {
					img.SetRGBA(x, y, color.RGBA{at(y, x, 0), at(y, x, 1), at(y, x, 2), 255})
					continue
				}
				var s float32
				for c := range in {
					s += d[((y*kw+x)*in+c)*out+o]
				}
				v := byte8(0.5 + 0.5*s/float32(in)/top)
				img.SetRGBA(x, y, color.RGBA{v, v, v, 255})
			}
		}
		tiles[o] = img
	}
	return tiles
}

// MapTiles returns one grey image per channel of a feature map [H, W,
// C] (one example's), at most limit of them (0: all), each scaled to
// its own minimum (black) and maximum (white), as feature maps are
// usually shown.
func MapTiles(h, w, c int, data []float32, limit int) []image.Image {
	if limit <= 0 || limit > c {
		limit = c
	}
	tiles := make([]image.Image, limit)
	for k := range limit {
		lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
		for p := range h * w {
			lo, hi = min(lo, data[p*c+k]), max(hi, data[p*c+k])
		}
		img := image.NewGray(image.Rect(0, 0, w, h))
		for p := range h * w {
			v := float32(0)
			if hi > lo {
				v = (data[p*c+k] - lo) / (hi - lo)
			}
			img.Pix[p] = byte8(v)
		}
		tiles[k] = img
	}
	return tiles
}

// WritePNG writes img to path as a PNG, atomically: a killed run leaves
// the old file or the new one, never half of one.
func WritePNG(path string, img image.Image) error {
	return atomicfile.Write(path, func(w io.Writer) error { return png.Encode(w, img) })
}
