// Package chart draws fovea's charts with gonum/plot and writes them as
// PNG files, atomically: the training curves, the comparison scatter and
// the confusion matrix all go through it, so they share one look and one
// way to the disk.
//
//	p, _ := chart.Lines("loss", "epoch", "", []chart.Series{{Name: "train", X: x, Y: y}})
//	err := chart.Save("curves.png", 460, 340, p)
package chart

import (
	"fmt"
	"image/color"
	"io"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/foveaml/fovea/internal/atomicfile"
)

// Palette is the colours series take in order (matplotlib's first five).
var Palette = []color.Color{
	color.RGBA{31, 119, 180, 255}, color.RGBA{255, 127, 14, 255}, color.RGBA{44, 160, 44, 255},
	color.RGBA{214, 39, 40, 255}, color.RGBA{148, 103, 189, 255},
}

// Series is one named curve: y against x.
type Series struct {
	Name string
	X, Y []float64
}

// Lines returns a plot of the series as lines with points, a grid and a
// legend.
func Lines(title, xLabel, yLabel string, series []Series) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = title, xLabel, yLabel
	p.Title.Padding = vg.Points(6)
	p.Add(plotter.NewGrid())
	var last, lo, hi float64 // where the curves end, and their range
	n := 0
	for i, s := range series {
		if len(s.X) != len(s.Y) {
			return nil, fmt.Errorf("chart: series %q has %d x and %d y values", s.Name, len(s.X), len(s.Y))
		}
		if len(s.X) == 0 {
			continue
		}
		xys := make(plotter.XYs, len(s.X))
		for j := range s.X {
			xys[j].X, xys[j].Y = s.X[j], s.Y[j]
		}
		l, pts, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, fmt.Errorf("chart: series %q: %w", s.Name, err)
		}
		c := Palette[i%len(Palette)]
		l.Color, l.Width = c, vg.Points(1.5)
		pts.Color, pts.Shape, pts.Radius = c, draw.CircleGlyph{}, vg.Points(2)
		p.Add(l, pts)
		p.Legend.Add(s.Name, l, pts)
		for j, y := range s.Y {
			if n == 0 && j == 0 {
				lo, hi = y, y
			}
			lo, hi = min(lo, y), max(hi, y)
		}
		last += s.Y[len(s.Y)-1]
		n++
	}
	// The legend goes in the right-hand corner the curves end away from,
	// and the range gets a margin so no point sits on the frame.
	if n > 0 {
		p.Legend.Top = last/float64(n) < (lo+hi)/2
		d := hi - lo
		if d == 0 {
			d = max(abs(hi), 1)
		}
		p.Y.Min, p.Y.Max = lo-0.06*d, hi+0.06*d
	}
	p.X.Padding, p.Y.Padding = vg.Points(6), vg.Points(6)
	return p, nil
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

// Save draws the plots side by side, each w×h pixels, and writes them
// to path as a PNG, atomically.
func Save(path string, w, h int, plots ...*plot.Plot) error {
	if len(plots) == 0 {
		return fmt.Errorf("chart: nothing to draw into %s", path)
	}
	px := func(n int) vg.Length { return vg.Length(n) * vg.Inch / 96 }
	img := vgimg.NewWith(vgimg.UseWH(px(w*len(plots)), px(h)), vgimg.UseDPI(96))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: len(plots), PadX: vg.Points(4)}
	canvases := plot.Align([][]*plot.Plot{plots}, tiles, dc)
	for i, p := range plots {
		p.Draw(canvases[0][i])
	}
	return atomicfile.Write(path, func(f io.Writer) error {
		_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(f)
		return err
	})
}
