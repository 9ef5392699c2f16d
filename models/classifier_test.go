package models

import (
	"image"
	"image/color"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/weights"
)

// TestClassifier loads a model file and classifies images in one call:
// the file's preprocessing and class names are the classifier's, a batch
// of images gives each image the probabilities it gets alone, and what
// cannot be classified is an error.
func TestClassifier(t *testing.T) {
	m, err := NewLeNet5(LeNetConfig{Classes: 3, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	info := FileInfo{Model: "lenet5", Classes: 3, ClassNames: []string{"a", "b", "c"}, Input: []int{28, 28, 1},
		Normalize: "data", Mean: []float32{0.25}, Std: []float32{0.5}}
	path := filepath.Join(t.TempDir(), "model.safetensors")
	if err := weights.Save(path, weights.StateDict(nn.State(m)), info.Meta()); err != nil {
		t.Fatal(err)
	}
	c, err := LoadClassifier("", path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Spec.Name != "lenet5" || !slices.Equal(c.Classes, info.ClassNames) ||
		!slices.Equal(c.Preprocessing.Mean, info.Mean) || !slices.Equal(c.Preprocessing.Std, info.Std) {
		t.Fatalf("classifier %s, classes %v, preprocessing %+v; want the file's", c.Spec.Name, c.Classes, c.Preprocessing)
	}
	imgs := []image.Image{disc(40, 30, 8), disc(28, 28, 12), disc(50, 60, 20)}
	all, err := c.Probabilities(imgs...)
	if err != nil {
		t.Fatal(err)
	}
	if s := all.Shape(); !slices.Equal(s, []int{3, 3}) {
		t.Fatalf("probabilities of shape %v; want [3 3]", s)
	}
	for i, img := range imgs {
		one, err := c.Probabilities(img)
		if err != nil {
			t.Fatal(err)
		}
		sum := 0.0
		for j, p := range one.Data() {
			sum += float64(p)
			if q := all.Data()[i*3+j]; math.Abs(float64(p-q)) > 1e-5 {
				t.Errorf("image %d class %d: %v alone, %v in the batch", i, j, p, q)
			}
		}
		if math.Abs(sum-1) > 1e-5 {
			t.Errorf("image %d: probabilities sum to %v", i, sum)
		}
	}
	if _, err := c.Probabilities(); err == nil || !strings.Contains(err.Error(), "no images") {
		t.Errorf("no images: %v", err)
	}
	if _, err := c.Probabilities(imgs[0], nil); err == nil || !strings.Contains(err.Error(), "image 1 is nil") {
		t.Errorf("a nil image: %v", err)
	}
	if _, err := LoadClassifier("", filepath.Join(t.TempDir(), "none.safetensors")); err == nil {
		t.Error("a missing file: no error")
	}
}

// disc returns a w×h grey image of a white disc of radius r on black.
func disc(w, h, r int) image.Image {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			if dx, dy := x-w/2, y-h/2; dx*dx+dy*dy <= r*r {
				img.SetGray(x, y, color.Gray{Y: 255})
			}
		}
	}
	return img
}
