package main

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

func TestAugmentGrid(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "grid.png")
	status, stdout, stderr := fovea("augment", "--out", out, "--n", "5", "--cols", "3", "--images", "2", "--index", "7")
	if status != 0 {
		t.Fatalf("status %d: %s", status, stderr)
	}
	if !strings.Contains(stdout, "wrote "+out) || !strings.Contains(stdout, "examples 7..8") {
		t.Errorf("output %q", stdout)
	}
	// Two images of 1 + 5 cells in rows of 3: 4 rows of 28×4-pixel cells.
	b := decodePNG(t, out).Bounds()
	if want := image.Rect(0, 0, 3*(112+2)+2, 4*(112+2)+2); b != want {
		t.Errorf("grid is %v, want %v", b, want)
	}
	// The same seed draws the same grid; the file is replaced whole.
	first, _ := os.ReadFile(out)
	fovea("augment", "--out", out, "--n", "5", "--cols", "3", "--images", "2", "--index", "7")
	if again, _ := os.ReadFile(out); string(again) != string(first) {
		t.Error("the same seed drew a different grid")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestAugmentColourPresetOnGreyAndFile(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "cifar.png")
	if status, _, stderr := fovea("augment", "--augment", "cifar", "--n", "3", "--out", out); status != 0 {
		t.Fatalf("cifar preset on MNIST: status %d: %s", status, stderr)
	}
	src := filepath.Join(dir, "in.png")
	writePNG(t, src, image.NewRGBA(image.Rect(0, 0, 40, 30)))
	out2 := filepath.Join(dir, "file.png")
	status, _, stderr := fovea("augment", src, "--augment", "imagenet", "--n", "2", "--out", out2)
	if status != 0 {
		t.Fatalf("image file: status %d: %s", status, stderr)
	}
	// Cells of 256×256 (the input; crops are 224), three in a row.
	if b := decodePNG(t, out2).Bounds(); b.Dx() != 3*(256+2)+2 || b.Dy() != 256+2*2 {
		t.Errorf("grid is %v", b)
	}
}

func TestAugmentBadInput(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args   []string
		status int
		want   string
	}{
		{[]string{"augment", "--augment", "nope"}, 2, `unknown preset "nope"`},
		{[]string{"augment", "--n", "0"}, 2, "--n 0"},
		{[]string{"augment", "--cols", "0"}, 2, "--cols 0"},
		{[]string{"augment", "--index", "60000"}, 2, "has 60000 examples"},
		{[]string{"augment", "--index", "-1"}, 2, "--index -1"},
		{[]string{"augment", "a.png", "b.png"}, 2, "at most one IMAGE"},
		{[]string{"augment", filepath.Join(dir, "missing.png"), "--out", filepath.Join(dir, "o.png")}, 1, "missing.png"},
		{[]string{"augment", "--out", filepath.Join(dir, "no", "such", "dir.png"), "--n", "1"}, 1, "dir.png"},
	} {
		status, _, stderr := fovea(c.args...)
		if status != c.status || !strings.Contains(stderr, c.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("fovea %v: status %d, stderr %q; want status %d and one line containing %q", c.args, status, stderr, c.status, c.want)
		}
	}
}
