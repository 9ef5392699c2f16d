package train

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/foveaml/fovea/internal/atomicfile"
)

// Series is one named curve of a chart: y against x.
type Series struct {
	Name string
	X, Y []float64
}

// Chart is one panel: a title and the curves drawn in it.
type Chart struct {
	Title  string
	Series []Series
}

var seriesColors = []color.RGBA{{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255}, {148, 103, 189, 255}}

// PlotPNG draws the charts side by side (each with axes, ticks and a
// legend) and writes them to path as a PNG, atomically.
func PlotPNG(path string, charts ...Chart) error {
	const pw, ph = 460, 340
	img := image.NewRGBA(image.Rect(0, 0, pw*max(1, len(charts)), ph))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	for i, c := range charts {
		drawChart(img, image.Rect(i*pw, 0, (i+1)*pw, ph), c)
	}
	return atomicfile.Write(path, func(w io.Writer) error { return png.Encode(w, img) })
}

// History charts: the loss and the accuracy per epoch, training and
// validation.
func (h *History) Charts() []Chart {
	var x, loss, acc, vloss, vacc []float64
	for _, e := range h.Epochs {
		x = append(x, float64(e.Epoch+1))
		loss, acc = append(loss, e.Loss), append(acc, e.Acc)
		if e.HasVal {
			vloss, vacc = append(vloss, e.ValLoss), append(vacc, e.ValAcc)
		}
	}
	l := Chart{Title: "loss", Series: []Series{{"train", x, loss}}}
	a := Chart{Title: "accuracy", Series: []Series{{"train", x, acc}}}
	if len(vloss) == len(x) && len(x) > 0 {
		l.Series = append(l.Series, Series{"validation", x, vloss})
		a.Series = append(a.Series, Series{"validation", x, vacc})
	}
	return []Chart{l, a}
}

// PlotPNG writes the training curves (loss and accuracy per epoch) to path.
func (h *History) PlotPNG(path string) error { return PlotPNG(path, h.Charts()...) }

func drawChart(img *image.RGBA, r image.Rectangle, c Chart) {
	// The legend runs in rows under the title, above the plot, so that it
	// never hides a curve.
	type entry struct{ x, y int }
	legend := make([]entry, len(c.Series))
	lx, ly := r.Min.X+60, r.Min.Y+36
	for i, s := range c.Series {
		w := 24 + 7*len(s.Name) + 18 // swatch, name (7 px a letter), gap
		if lx+w > r.Max.X-15 && lx > r.Min.X+60 {
			lx, ly = r.Min.X+60, ly+16
		}
		legend[i] = entry{lx, ly}
		lx += w
	}
	plot := image.Rect(r.Min.X+60, ly+12, r.Max.X-15, r.Max.Y-45)
	x0, x1, y0, y1 := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, s := range c.Series {
		for i := range s.X {
			if i < len(s.Y) && !math.IsNaN(s.Y[i]) && !math.IsInf(s.Y[i], 0) {
				x0, x1 = math.Min(x0, s.X[i]), math.Max(x1, s.X[i])
				y0, y1 = math.Min(y0, s.Y[i]), math.Max(y1, s.Y[i])
			}
		}
	}
	if x0 > x1 {
		x0, x1, y0, y1 = 0, 1, 0, 1
	}
	if x1 == x0 {
		x1 = x0 + 1
	}
	if y1 == y0 {
		y0, y1 = y0-0.5, y1+0.5
	}
	pad := (y1 - y0) * 0.05
	y0, y1 = y0-pad, y1+pad
	px := func(x float64) int { return plot.Min.X + int((x-x0)/(x1-x0)*float64(plot.Dx()-1)+0.5) }
	py := func(y float64) int { return plot.Max.Y - 1 - int((y-y0)/(y1-y0)*float64(plot.Dy()-1)+0.5) }
	grey, black := color.RGBA{220, 220, 220, 255}, color.RGBA{0, 0, 0, 255}
	for i := 0; i <= 4; i++ { // grid and y ticks
		y := y0 + (y1-y0)*float64(i)/4
		hline(img, plot.Min.X, plot.Max.X, py(y), grey)
		label(img, r.Min.X+4, py(y)+4, fmt.Sprintf("%.3g", y), black)
	}
	// x ticks: whole epochs, at most five.
	step := math.Max(1, math.Ceil((x1-x0)/4))
	for x := math.Ceil(x0); x <= x1; x += step {
		label(img, px(x)-4, plot.Max.Y+16, fmt.Sprintf("%.0f", x), black)
	}
	hline(img, plot.Min.X, plot.Max.X, plot.Max.Y, black)
	vline(img, plot.Min.X, plot.Min.Y, plot.Max.Y, black)
	label(img, plot.Min.X+plot.Dx()/2-20, r.Min.Y+18, c.Title, black)
	label(img, plot.Min.X+plot.Dx()/2-15, r.Max.Y-8, "epoch", black)
	for si, s := range c.Series {
		col := seriesColors[si%len(seriesColors)]
		for i := 1; i < len(s.X) && i < len(s.Y); i++ {
			line(img, px(s.X[i-1]), py(s.Y[i-1]), px(s.X[i]), py(s.Y[i]), col)
		}
		for i := range s.X {
			if i < len(s.Y) {
				dot(img, px(s.X[i]), py(s.Y[i]), col)
			}
		}
		e := legend[si]
		hline(img, e.x, e.x+18, e.y-4, col)
		label(img, e.x+24, e.y, s.Name, black)
	}
}

func hline(img *image.RGBA, xa, xb, y int, c color.RGBA) {
	for x := xa; x <= xb; x++ {
		img.SetRGBA(x, y, c)
	}
}

func vline(img *image.RGBA, x, ya, yb int, c color.RGBA) {
	for y := ya; y <= yb; y++ {
		img.SetRGBA(x, y, c)
	}
}

// line draws a two-pixel-thick segment (Bresenham).
func line(img *image.RGBA, xa, ya, xb, yb int, c color.RGBA) {
	dx, dy := abs(xb-xa), -abs(yb-ya)
	sx, sy := sign(xb-xa), sign(yb-ya)
	e := dx + dy
	for {
		img.SetRGBA(xa, ya, c)
		img.SetRGBA(xa, ya+1, c)
		if xa == xb && ya == yb {
			return
		}
		e2 := 2 * e
		if e2 >= dy {
			e += dy
			xa += sx
		}
		if e2 <= dx {
			e += dx
			ya += sy
		}
	}
}

func dot(img *image.RGBA, x, y int, c color.RGBA) {
	for i := -2; i <= 2; i++ {
		for j := -2; j <= 2; j++ {
			img.SetRGBA(x+i, y+j, c)
		}
	}
}

func label(img *image.RGBA, x, y int, s string, c color.RGBA) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

func abs(a int) int {
	if a < 0 {
		return -a
	}
	return a
}

func sign(a int) int {
	switch {
	case a < 0:
		return -1
	case a > 0:
		return 1
	}
	return 0
}
