package train

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/foveaml/fovea/internal/chart"
)

func TestHistoryPlotPNG(t *testing.T) {
	h := &History{}
	for e := 0; e < 5; e++ {
		h.Epochs = append(h.Epochs, EpochMetrics{Epoch: e, Loss: 1 / float64(e+1), Acc: 0.5 + 0.1*float64(e),
			HasVal: true, ValLoss: 1.2 / float64(e+1), ValAcc: 0.45 + 0.1*float64(e)})
	}
	p := filepath.Join(t.TempDir(), "curves.png")
	if err := h.PlotPNG(p); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	// Both series colours must appear: the curves were drawn.
	found := map[[3]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			found[[3]uint32{r >> 8, g >> 8, bl >> 8}] = true
		}
	}
	for _, c := range chart.Palette[:2] {
		r, g, bl, _ := c.RGBA()
		if !found[[3]uint32{r >> 8, g >> 8, bl >> 8}] {
			t.Fatalf("colour %v missing from the plot", c)
		}
	}
	if b.Dx() != 920 {
		t.Fatalf("width %d, want two panels", b.Dx())
	}
}
