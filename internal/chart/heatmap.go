package chart

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Confusion returns a heat map of a confusion matrix: counts[i][j]
// examples of true class i predicted as j, each row shaded by its share
// of the row (so rare classes read as well as common ones), with the
// count written in every non-empty cell when there are at most 20
// classes. names label the axes (nil: the indices).
func Confusion(title string, counts [][]int, names []string) (*plot.Plot, error) {
	n := len(counts)
	if n == 0 {
		return nil, fmt.Errorf("chart: an empty confusion matrix")
	}
	g := &grid{n: n, z: make([]float64, n*n)}
	for i, row := range counts {
		if len(row) != n {
			return nil, fmt.Errorf("chart: confusion row %d has %d counts; want %d", i, len(row), n)
		}
		total := 0
		for _, c := range row {
			total += c
		}
		for j, c := range row {
			if total > 0 {
				g.z[i*n+j] = float64(c) / float64(total)
			}
		}
	}
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = title, "predicted", "true"
	hm := plotter.NewHeatMap(g, blues{})
	hm.Min, hm.Max = 0, 1
	p.Add(hm)
	label := func(i int) string {
		if i < len(names) && names[i] != "" {
			return names[i]
		}
		return fmt.Sprint(i)
	}
	ticks := make([]plot.Tick, n)
	for i := range ticks {
		ticks[i] = plot.Tick{Value: float64(i), Label: label(i)}
	}
	yticks := make([]plot.Tick, n)
	for i := range yticks {
		yticks[i] = plot.Tick{Value: g.Y(g.row(i)), Label: label(i)}
	}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.ConstantTicks(ticks), plot.ConstantTicks(yticks)
	p.Y.Tick.Label.XAlign = -1 // names run leftwards from the axis
	if n <= 20 {
		var xys plotter.XYs
		var texts []string
		for i, row := range counts {
			for j, c := range row {
				if c > 0 {
					xys = append(xys, plotter.XY{X: g.X(j), Y: g.Y(g.row(i))})
					texts = append(texts, fmt.Sprint(c))
				}
			}
		}
		if len(xys) > 0 {
			lb, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: texts})
			if err != nil {
				return nil, err
			}
			for i := range lb.TextStyle {
				v := g.z[g.row(int(xys[i].Y))*n+int(xys[i].X)]
				lb.TextStyle[i].XAlign, lb.TextStyle[i].YAlign = -0.5, -0.5
				lb.TextStyle[i].Font.Size = vg.Points(7)
				if v > 0.5 {
					lb.TextStyle[i].Color = color.White
				} else {
					lb.TextStyle[i].Color = color.Black
				}
			}
			p.Add(lb)
		}
	}
	return p, nil
}

// grid is a square of values for a heat map, row 0 at the top.
type grid struct {
	n int
	z []float64
}

func (g *grid) Dims() (c, r int)   { return g.n, g.n }
func (g *grid) Z(c, r int) float64 { return g.z[g.row(r)*g.n+c] }
func (g *grid) X(c int) float64    { return float64(c) }
func (g *grid) Y(r int) float64    { return float64(r) }

// row returns the true class of grid row r, and the grid row of class
// r: rows run upwards, classes downwards.
func (g *grid) row(r int) int { return g.n - 1 - r }

// blues is a sequential palette from near-white to dark blue.
type blues struct{}

func (blues) Colors() []color.Color {
	const steps = 64
	lo, hi := [3]float64{247, 251, 255}, [3]float64{8, 48, 107}
	cs := make([]color.Color, steps)
	for i := range cs {
		t := float64(i) / (steps - 1)
		cs[i] = color.RGBA{uint8(lo[0] + t*(hi[0]-lo[0])), uint8(lo[1] + t*(hi[1]-lo[1])), uint8(lo[2] + t*(hi[2]-lo[2])), 255}
	}
	return cs
}

var _ palette.Palette = blues{}
