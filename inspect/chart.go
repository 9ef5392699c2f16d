package inspect

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/foveaml/fovea/internal/chart"
)

// ChartPoint is one labelled point of a Scatter chart; Size (parameters,
// say) sets the marker's area.
type ChartPoint struct {
	Label      string
	X, Y, Size float64
}

// Scatter is a chart of labelled points whose markers' areas follow
// their sizes, drawn with gonum/plot: models by cost and speed or
// accuracy.
type Scatter struct {
	Title, XLabel, YLabel string
	// LogX and LogY put an axis on a log scale (ticks at 1, 2, 5 times
	// the powers of ten).
	LogX, LogY bool
	Points     []ChartPoint
}

// WritePNG draws the chart, w×h pixels, to path, atomically.
func (s Scatter) WritePNG(path string, w, h int) error {
	if len(s.Points) == 0 {
		return fmt.Errorf("inspect.Scatter: no points to draw")
	}
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = s.Title, s.XLabel, s.YLabel
	p.Title.Padding = vg.Points(8)
	p.Add(plotter.NewGrid())
	xys := make(plotter.XYs, len(s.Points))
	labels := make([]string, len(s.Points))
	var top float64
	for i, pt := range s.Points {
		if (s.LogX && !(pt.X > 0)) || (s.LogY && !(pt.Y > 0)) {
			return fmt.Errorf("inspect.Scatter: %s at (%g, %g) cannot go on a log scale", pt.Label, pt.X, pt.Y)
		}
		xys[i].X, xys[i].Y, labels[i] = pt.X, pt.Y, pt.Label
		top = max(top, pt.Size)
	}
	sc, err := plotter.NewScatter(xys)
	if err != nil {
		return fmt.Errorf("inspect.Scatter: %w", err)
	}
	sc.GlyphStyleFunc = func(i int) draw.GlyphStyle {
		r := vg.Points(4)
		if top > 0 {
			r = vg.Points(3 + 15*math.Sqrt(s.Points[i].Size/top)) // area ∝ size
		}
		return draw.GlyphStyle{Color: withAlpha(chart.Palette[0], 150), Radius: r, Shape: draw.CircleGlyph{}}
	}
	p.Add(sc)
	lb, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
	if err != nil {
		return fmt.Errorf("inspect.Scatter: %w", err)
	}
	lb.Offset = vg.Point{X: vg.Points(6), Y: vg.Points(6)}
	p.Add(lb)
	if s.LogX {
		p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, ticks125{}
	}
	if s.LogY {
		p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, ticks125{}
	}
	pad(&p.X.Min, &p.X.Max, s.LogX)
	pad(&p.Y.Min, &p.Y.Max, s.LogY)
	return chart.Save(path, w, h, p)
}

// pad widens an axis's range so the markers and labels at its ends fit.
func pad(lo, hi *float64, log bool) {
	if log {
		*lo, *hi = *lo/1.6, *hi*1.6
		return
	}
	d := *hi - *lo
	if d == 0 {
		d = math.Max(math.Abs(*hi), 1)
	}
	*lo, *hi = *lo-0.12*d, *hi+0.18*d
}

// ticks125 marks a log axis at 1, 2 and 5 times the powers of ten,
// labelled with SI prefixes (500 M, 1 G, 2 G).
type ticks125 struct{}

func (ticks125) Ticks(lo, hi float64) []plot.Tick {
	var ts []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		for _, m := range []float64{1, 2, 5} {
			v := m * math.Pow(10, e)
			if v >= lo && v <= hi {
				ts = append(ts, plot.Tick{Value: v, Label: shortFloat(v)})
			}
		}
	}
	return ts
}

// shortFloat formats v as Short does, keeping fractions of small values.
func shortFloat(v float64) string {
	if v >= 1000 || v == math.Trunc(v) {
		return Short(int64(math.Round(v)))
	}
	return fmt.Sprintf("%g", v)
}

// withAlpha returns c with alpha a (translucent markers show overlaps).
func withAlpha(c color.Color, a uint8) color.NRGBA {
	r, g, b, _ := c.RGBA()
	return color.NRGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), a}
}
