package chart

import (
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/plot/plotter"
)

// Two plots side by side make one PNG twice as wide, with both series'
// colours drawn; bad series are errors.
func TestLinesAndSave(t *testing.T) {
	a, err := Lines("loss", "epoch", "", []Series{{Name: "train", X: []float64{1, 2, 3}, Y: []float64{1, 0.5, 0.4}},
		{Name: "validation", X: []float64{1, 2, 3}, Y: []float64{1.2, 0.7, 0.6}}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Lines("flat", "", "", []Series{{Name: "one", X: []float64{1}, Y: []float64{3}}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "c.png")
	if err := Save(path, 300, 200, a, b); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if d := img.Bounds().Size(); d.X != 600 || d.Y != 200 {
		t.Errorf("size %v, want 600×200", d)
	}
	seen := map[[3]uint32]bool{}
	for y := range img.Bounds().Dy() {
		for x := range img.Bounds().Dx() {
			r, g, b, _ := img.At(x, y).RGBA()
			seen[[3]uint32{r >> 8, g >> 8, b >> 8}] = true
		}
	}
	for _, c := range Palette[:2] {
		r, g, b, _ := c.RGBA()
		if !seen[[3]uint32{r >> 8, g >> 8, b >> 8}] {
			t.Errorf("colour %v not drawn", c)
		}
	}
	if _, err := Lines("", "", "", []Series{{Name: "odd", X: []float64{1, 2}, Y: []float64{1}}}); err == nil || !strings.Contains(err.Error(), "2 x and 1 y") {
		t.Errorf("mismatched series: %v", err)
	}
	if err := Save(path, 10, 10); err == nil {
		t.Error("Save of no plots succeeded")
	}
}

func TestConfusion(t *testing.T) {
	p, err := Confusion("test", [][]int{{50, 2, 0}, {3, 40, 7}, {0, 0, 9}}, []string{"cat", "dog", "bird"})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "confusion.png")
	if err := Save(path, 420, 400, p); err != nil {
		t.Fatal(err)
	}
	if _, err := Confusion("", [][]int{{1, 2}, {3}}, nil); err == nil {
		t.Error("a ragged matrix was drawn")
	}
	if os.Getenv("FOVEA_CHART_OUT") != "" {
		Save(os.Getenv("FOVEA_CHART_OUT"), 420, 400, p)
	}
}

// A scatter's markers grow with their sizes, its log axes are ticked
// at 1, 2 and 5 times the powers of ten with SI prefixes, and a point
// a log axis cannot hold is an error.
func TestScatter(t *testing.T) {
	pts := []Point{{"small", 7e8, 30, 1e6}, {"large", 4e9, 8, 1e8}}
	p, err := Scatter("t", "MACs", "images/s", true, true, pts)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "s.png")
	if err := Save(path, 400, 300, p); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if cfg, err := png.DecodeConfig(f); err != nil || cfg.Width != 400 || cfg.Height != 300 {
		t.Errorf("scatter %dx%d, %v; want a 400×300 PNG", cfg.Width, cfg.Height, err)
	}
	var ticks []string
	for _, tk := range p.X.Tick.Marker.Ticks(p.X.Min, p.X.Max) {
		ticks = append(ticks, tk.Label)
	}
	if want := []string{"500 M", "1 G", "2 G", "5 G"}; !slices.Equal(ticks, want) {
		t.Errorf("x ticks %q; want %q", ticks, want)
	}
	if got := (ticks125{}).Ticks(0.15, 3); len(got) != 4 || got[0].Label != "0.2" || got[3].Label != "2" {
		t.Errorf("ticks of 0.15..3: %v; want 0.2, 0.5, 1, 2", got)
	}
	if SI(4089184256) != "4.09 G" || SI(999) != "999" || SI(416520) != "417 k" {
		t.Errorf("SI: %s, %s, %s", SI(4089184256), SI(999), SI(416520))
	}
	pts[0].X = 0
	if _, err := Scatter("", "", "", true, false, pts); err == nil || !strings.Contains(err.Error(), "log scale") {
		t.Errorf("a zero on a log axis: error %v", err)
	}
	if _, err := Scatter("", "", "", false, false, nil); err == nil {
		t.Error("a scatter of no points succeeded")
	}
}

// TestLabelsBelow checks that of two points whose labels would overprint
// (GoogLeNet's and ResNet-18's at nearly the same MACs and speed) the
// second label goes below its point, and that labels of points apart
// stay above theirs.
func TestLabelsBelow(t *testing.T) {
	xys := plotter.XYs{{X: 7e8, Y: 248}, {X: 1.5e9, Y: 150}, {X: 1.8e9, Y: 152}, {X: 4e9, Y: 44}, {X: 1.5e10, Y: 26}}
	got := labelsBelow(xys, true, true)
	want := []bool{false, false, true, false, false}
	if !slices.Equal(got, want) {
		t.Errorf("labels below their point: %v, want %v", got, want)
	}
}
