package train

import (
	"github.com/foveaml/fovea/internal/chart"
	"gonum.org/v1/plot"
)

// Series is one named curve of a chart: y against x.
type Series = chart.Series

// Chart is one panel: a title, the axes' labels and the curves drawn in
// it.
type Chart struct {
	Title          string
	XLabel, YLabel string
	Series         []Series
}

// PlotPNG draws the charts side by side, each 460×340 pixels with axes,
// ticks, a grid and a legend (gonum/plot), and writes them to path as a
// PNG, atomically.
func PlotPNG(path string, charts ...Chart) error {
	plots := make([]*plot.Plot, len(charts))
	for i, c := range charts {
		p, err := chart.Lines(c.Title, c.XLabel, c.YLabel, c.Series)
		if err != nil {
			return err
		}
		plots[i] = p
	}
	return chart.Save(path, 460, 340, plots...)
}

// Charts returns the training curves: the loss and the accuracy per
// epoch, training and validation.
func (h *History) Charts() []Chart {
	var x, loss, acc, vloss, vacc []float64
	for _, e := range h.Epochs {
		x = append(x, float64(e.Epoch+1))
		loss, acc = append(loss, e.Loss), append(acc, e.Acc)
		if e.HasVal {
			vloss, vacc = append(vloss, e.ValLoss), append(vacc, e.ValAcc)
		}
	}
	l := Chart{Title: "loss", XLabel: "epoch", Series: []Series{{Name: "train", X: x, Y: loss}}}
	a := Chart{Title: "accuracy", XLabel: "epoch", Series: []Series{{Name: "train", X: x, Y: acc}}}
	if len(vloss) == len(x) && len(x) > 0 {
		l.Series = append(l.Series, Series{Name: "validation", X: x, Y: vloss})
		a.Series = append(a.Series, Series{Name: "validation", X: x, Y: vacc})
	}
	return []Chart{l, a}
}

// PlotPNG writes the training curves (loss and accuracy per epoch) to path.
func (h *History) PlotPNG(path string) error { return PlotPNG(path, h.Charts()...) }
