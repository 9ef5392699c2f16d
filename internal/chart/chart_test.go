package chart

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
