package models

import (
	"slices"
	"testing"
)

// TestPreprocessingOf checks the field's defaults by input size and
// that a file's own preparation wins for the input it was written for.
func TestPreprocessingOf(t *testing.T) {
	for _, c := range []struct {
		info   FileInfo
		input  []int
		resize int
		mean   []float32
		norm   string
	}{
		{FileInfo{}, []int{224, 224, 3}, 256, ImageNetMean, "imagenet"},
		{FileInfo{}, []int{227, 227, 3}, 259, ImageNetMean, "imagenet"},
		{FileInfo{}, []int{64, 64, 3}, 73, ImageNetMean, "imagenet"},
		{FileInfo{}, []int{32, 32, 3}, 0, nil, "data"},
		{FileInfo{}, []int{28, 28, 1}, 0, nil, "none"},
		// A file of this input: its resize (none) and statistics.
		{FileInfo{Input: []int{224, 224, 3}, Normalize: "data", Mean: []float32{1, 2, 3}, Std: []float32{4, 5, 6}}, []int{224, 224, 3}, 0, []float32{1, 2, 3}, "imagenet"},
		{FileInfo{Input: []int{32, 32, 3}, Resize: 40, Normalize: "none"}, []int{32, 32, 3}, 40, nil, "data"},
		// A file of another input says nothing about this one.
		{FileInfo{Input: []int{32, 32, 3}, Resize: 40, Normalize: "data", Mean: []float32{1, 2, 3}, Std: []float32{4, 5, 6}}, []int{224, 224, 3}, 256, ImageNetMean, "imagenet"},
	} {
		p := PreprocessingOf(c.info, c.input)
		if p.Resize != c.resize || !slices.Equal(p.Mean, c.mean) || !slices.Equal(p.Input, c.input) {
			t.Errorf("PreprocessingOf(%+v, %v) = %+v; want resize %d, mean %v", c.info, c.input, p, c.resize, c.mean)
		}
		if n := DefaultNormalization(c.input); n != c.norm {
			t.Errorf("DefaultNormalization(%v) = %q; want %q", c.input, n, c.norm)
		}
	}
	if !slices.Equal(ImageNetStd, []float32{0.229, 0.224, 0.225}) {
		t.Errorf("ImageNetStd %v", ImageNetStd)
	}
}
