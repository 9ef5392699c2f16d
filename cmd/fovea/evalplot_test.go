package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// fovea eval --plot writes the confusion matrix as a heat map.
func TestEvalPlot(t *testing.T) {
	dir := t.TempDir()
	w := untrainedWeights(t, dir)
	plot := filepath.Join(dir, "confusion.png")
	status, out, errs := fovea("eval", "--weights", w, "--plot", plot)
	if status != 0 || !strings.Contains(out, "wrote "+plot) {
		t.Fatalf("status %d: %s %s", status, out, errs)
	}
	pngSize(t, plot)
}
