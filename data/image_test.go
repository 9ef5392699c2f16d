package data

import (
	"image"
	"image/color"
	"path/filepath"
	"testing"
)

func TestLoadImage(t *testing.T) {
	dir := t.TempDir()
	// A grey 4×2 ramp, read at its own size, comes back exactly.
	ramp := image.NewGray(image.Rect(0, 0, 4, 2))
	for i := range ramp.Pix {
		ramp.Pix[i] = uint8(i * 30)
	}
	p := writeFile(t, dir, "ramp.png", encode(t, ramp, "png"))
	got, err := LoadImage(p, 2, 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float32, 8)
	for i := range want {
		want[i] = float32(i*30) / 255
	}
	if !near(got, want, 1e-7) {
		t.Errorf("grey ramp read as %v, want %v", got, want)
	}
	// As RGB, each grey value is three equal channels.
	got, err = LoadImage(p, 2, 4, 3)
	if err != nil || len(got) != 24 || got[3*5] != want[5] || got[3*5+1] != want[5] || got[3*5+2] != want[5] {
		t.Errorf("grey ramp as RGB: %v, %v", got, err)
	}
	// Colour to grey is the luma; resizing a uniform image keeps it.
	red := writeFile(t, dir, "red.gif", encode(t, uniform(9, 5, color.NRGBA{255, 0, 0, 255}), "gif"))
	got, err = LoadImage(red, 3, 3, 1)
	if err != nil || !near(got, []float32{0.299, 0.299, 0.299, 0.299, 0.299, 0.299, 0.299, 0.299, 0.299}, 1e-6) {
		t.Errorf("red GIF as grey: %v, %v", got, err)
	}
	// A JPEG shrinks to 28×28.
	jpg := writeFile(t, dir, "big.jpg", encode(t, uniform(100, 60, color.White), "jpeg"))
	if got, err = LoadImage(jpg, 28, 28, 1); err != nil || len(got) != 28*28 || !near(got[:1], []float32{1}, 0.02) {
		t.Errorf("white JPEG at 28×28: len %d, %v", len(got), err)
	}
}

func TestLoadImageErrors(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "ok.png", encode(t, uniform(4, 4, color.White), "png"))
	text := writeFile(t, dir, "notes.png", []byte("not an image"))
	cut := writeFile(t, dir, "cut.png", encode(t, uniform(4, 4, color.White), "png")[:30])
	for _, c := range []struct {
		path    string
		h, w, c int
		want    []string
	}{
		{filepath.Join(dir, "missing.png"), 28, 28, 1, []string{"missing.png", "no such file"}},
		{dir, 28, 28, 1, []string{dir, "a folder"}},
		{text, 28, 28, 1, []string{text, "not a JPEG, PNG or GIF image"}},
		{cut, 28, 28, 1, []string{cut, "png image"}},
		{good, 0, 28, 1, []string{"size 0x28"}},
		{good, 28, 28, 2, []string{"2 channels"}},
	} {
		_, err := LoadImage(c.path, c.h, c.w, c.c)
		wantErr(t, err, c.want...)
	}
}
