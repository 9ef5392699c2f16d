package chart

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Point is one labelled point of a Scatter plot; Size (parameters, say)
// sets the marker's area.
type Point struct {
	Label      string
	X, Y, Size float64
}

// Scatter returns a plot of labelled points whose markers' areas follow
// their sizes: models by cost and speed or accuracy. logX and logY put
// an axis on a log scale, ticked at 1, 2 and 5 times the powers of ten.
func Scatter(title, xLabel, yLabel string, logX, logY bool, pts []Point) (*plot.Plot, error) {
	if len(pts) == 0 {
		return nil, fmt.Errorf("chart: no points to draw")
	}
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = title, xLabel, yLabel
	p.Title.Padding = vg.Points(8)
	p.Add(plotter.NewGrid())
	xys := make(plotter.XYs, len(pts))
	labels := make([]string, len(pts))
	var top float64
	for i, pt := range pts {
		if (logX && !(pt.X > 0)) || (logY && !(pt.Y > 0)) {
			return nil, fmt.Errorf("chart: %s at (%g, %g) cannot go on a log scale", pt.Label, pt.X, pt.Y)
		}
		xys[i].X, xys[i].Y, labels[i] = pt.X, pt.Y, pt.Label
		top = max(top, pt.Size)
	}
	sc, err := plotter.NewScatter(xys)
	if err != nil {
		return nil, fmt.Errorf("chart: %w", err)
	}
	sc.GlyphStyleFunc = func(i int) draw.GlyphStyle {
		r := vg.Points(4)
		if top > 0 {
			r = vg.Points(3 + 15*math.Sqrt(pts[i].Size/top)) // area ∝ size
		}
		return draw.GlyphStyle{Color: withAlpha(Palette[0], 150), Radius: r, Shape: draw.CircleGlyph{}}
	}
	p.Add(sc)
	// Labels go above and to the right of their point; one that would
	// overprint an earlier one goes below its point instead.
	below := labelsBelow(xys, logX, logY)
	for _, down := range []bool{false, true} {
		var at plotter.XYLabels
		for i := range xys {
			if below[i] == down {
				at.XYs, at.Labels = append(at.XYs, xys[i]), append(at.Labels, labels[i])
			}
		}
		if len(at.XYs) == 0 {
			continue
		}
		lb, err := plotter.NewLabels(at)
		if err != nil {
			return nil, fmt.Errorf("chart: %w", err)
		}
		lb.Offset = vg.Point{X: vg.Points(6), Y: vg.Points(6)}
		if down {
			lb.Offset.Y = -vg.Points(6) - lb.TextStyle[0].Font.Size
		}
		p.Add(lb)
	}
	if logX {
		p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, ticks125{}
	}
	if logY {
		p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, ticks125{}
	}
	pad(&p.X.Min, &p.X.Max, logX)
	pad(&p.Y.Min, &p.Y.Max, logY)
	return p, nil
}

// labelsBelow marks the points whose label would overprint the label of
// an earlier point placed the same way (within an eighth of the plot's
// width and a twentieth of its height, on the axes' scales), to be put
// below their point.
func labelsBelow(xys plotter.XYs, logX, logY bool) []bool {
	scale := func(v float64, log bool) float64 {
		if log {
			return math.Log10(v)
		}
		return v
	}
	u, v := make([]float64, len(xys)), make([]float64, len(xys))
	for i, xy := range xys {
		u[i], v[i] = scale(xy.X, logX), scale(xy.Y, logY)
	}
	span := func(a []float64) float64 {
		lo, hi := slices.Min(a), slices.Max(a)
		return math.Max(hi-lo, 1e-12)
	}
	du, dv := span(u), span(v)
	below := make([]bool, len(xys))
	for i := range xys {
		for j := range i {
			if below[j] == below[i] && math.Abs(u[i]-u[j]) < du/8 && math.Abs(v[i]-v[j]) < dv/20 {
				below[i] = !below[i]
			}
		}
	}
	return below
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

// shortFloat formats v as SI does, keeping fractions of small values.
func shortFloat(v float64) string {
	if v >= 1000 || v == math.Trunc(v) {
		return SI(int64(math.Round(v)))
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// SI formats a count with three significant digits and an SI prefix:
// 4.09 G, 714 M, 417 k.
func SI(n int64) string {
	v, p := float64(n), ""
	for _, u := range []string{"k", "M", "G", "T"} {
		if v < 999.5 {
			break
		}
		v, p = v/1000, u
	}
	if p == "" {
		return strconv.FormatInt(n, 10)
	}
	return strconv.FormatFloat(v, 'g', 3, 64) + " " + p
}

// withAlpha returns c with alpha a (translucent markers show overlaps).
func withAlpha(c color.Color, a uint8) color.NRGBA {
	r, g, b, _ := c.RGBA()
	return color.NRGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), a}
}
