package inspect

import (
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/foveaml/fovea/nn"
)

func TestJet(t *testing.T) {
	for v, want := range map[float32]color.RGBA{0: {0, 0, 128, 255}, 0.5: {128, 255, 128, 255}, 1: {128, 0, 0, 255}, -3: {0, 0, 128, 255}} {
		if got := Jet(v); got != want {
			t.Errorf("Jet(%v) = %v; want %v", v, got, want)
		}
	}
}

func TestOverlay(t *testing.T) {
	p := Picture{H: 1, W: 2, C: 3, Pix: []float32{1, 1, 1, 0, 0, 0}}
	img, err := Overlay(p, []float32{0, 1}, 0.5, 2)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 4 || b.Dy() != 2 {
		t.Fatalf("size %v; want 4×2", b)
	}
	// White under Jet(0) = (0, 0, 128); black under Jet(1) = (128, 0, 0).
	if got := img.RGBAAt(1, 1); got != (color.RGBA{128, 128, 192, 255}) {
		t.Errorf("pixel (1, 1) %v; want (128, 128, 192)", got)
	}
	if got := img.RGBAAt(2, 0); got != (color.RGBA{64, 0, 0, 255}) {
		t.Errorf("pixel (2, 0) %v; want (64, 0, 0)", got)
	}
	if _, err := Overlay(p, []float32{1}, 0.5, 1); err == nil {
		t.Error("a heat map of the wrong size: no error")
	}
}

func TestFilterAndMapTiles(t *testing.T) {
	conv, err := nn.NewConv2D(nn.Conv2DConfig{In: 3, Out: 5, Kernel: 3}, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	w := conv.Weight.Value().Data()
	for i := range w {
		if i%5 == 4 {
			w[i] = 0 // filter 4 is all zeros: mid grey
		}
	}
	tiles := FilterTiles(conv)
	if len(tiles) != 5 || tiles[0].Bounds().Dx() != 3 {
		t.Fatalf("%d tiles of %v; want 5 of 3×3", len(tiles), tiles[0].Bounds())
	}
	if r, _, _, _ := tiles[4].At(1, 1).RGBA(); r>>8 != 128 {
		t.Errorf("a zero filter shows %d; want grey 128", r>>8)
	}
	grid := Tiles(tiles, 0, 4) // 3 columns, 2 rows of 12×12 tiles
	if b := grid.Bounds(); b.Dx() != 3*14+2 || b.Dy() != 2*14+2 {
		t.Errorf("grid %v; want 44×30", b)
	}
	// The border between tiles stands out from a zero filter's grey.
	if border, zero := grid.RGBAAt(14, 8), grid.RGBAAt(2+14+6, 2+14+6); border == zero || zero != (color.RGBA{128, 128, 128, 255}) {
		t.Errorf("border %v, zero filter %v; want the border to differ from grey 128", border, zero)
	}
	maps := MapTiles(1, 2, 2, []float32{1, 5, 3, 5}, 0)
	if g := maps[0].(*image.Gray); g.Pix[0] != 0 || g.Pix[1] != 255 {
		t.Errorf("channel 0 %v; want black then white", g.Pix)
	}
	if g := maps[1].(*image.Gray); g.Pix[0] != 0 || g.Pix[1] != 0 {
		t.Errorf("a constant channel %v; want black", g.Pix)
	}
	if n := len(MapTiles(1, 2, 2, make([]float32, 4), 1)); n != 1 {
		t.Errorf("limit 1 gave %d tiles", n)
	}
}

func TestSheetAndScatterPNG(t *testing.T) {
	dir := t.TempDir()
	sheet := Sheet([]Panel{{Images: []image.Image{image.NewRGBA(image.Rect(0, 0, 20, 10))}, Caption: []string{"a caption longer than the image"}}})
	if b := sheet.Bounds(); b.Dx() != 2*gap+7*31 || b.Dy() != gap+10+lineH+gap {
		t.Errorf("sheet %v", b)
	}
	path := filepath.Join(dir, "chart.png")
	s := Scatter{Title: "t", XLabel: "MACs", YLabel: "images/s", LogX: true, Points: []ChartPoint{{Label: "a", X: 7e8, Y: 30, Size: 6e7}, {Label: "b", X: 4e9, Y: 8, Size: 2.5e7}}}
	if err := s.WritePNG(path, 640, 480); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil || cfg.Width != 640 || cfg.Height != 480 {
		t.Errorf("chart %dx%d, %v; want a 640×480 PNG", cfg.Width, cfg.Height, err)
	}
	s.Points[0].X = 0
	if err := s.WritePNG(path, 640, 480); err == nil || !strings.Contains(err.Error(), "log scale") {
		t.Errorf("a zero on a log axis: error %v", err)
	}
}
