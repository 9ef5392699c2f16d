package inspect

import (
	"fmt"

	"github.com/foveaml/fovea/internal/chart"
)

// ChartPoint is one labelled point of a Scatter chart; Size (parameters,
// say) sets the marker's area.
type ChartPoint = chart.Point

// Scatter is a chart of labelled points whose markers' areas follow
// their sizes, drawn with gonum/plot as fovea's other charts are: models
// by cost and speed or accuracy.
type Scatter struct {
	Title, XLabel, YLabel string
	// LogX and LogY put an axis on a log scale (ticks at 1, 2, 5 times
	// the powers of ten).
	LogX, LogY bool
	Points     []ChartPoint
}

// WritePNG draws the chart, w×h pixels, to path, atomically.
func (s Scatter) WritePNG(path string, w, h int) error {
	p, err := chart.Scatter(s.Title, s.XLabel, s.YLabel, s.LogX, s.LogY, s.Points)
	if err != nil {
		return fmt.Errorf("inspect.Scatter: %w", err)
	}
	return chart.Save(path, w, h, p)
}
