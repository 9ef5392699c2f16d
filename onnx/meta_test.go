package onnx

import (
	"maps"
	"os"
	"path/filepath"
	"testing"

	"github.com/foveaml/fovea/models"
)

// TestLoadMetadata checks that the metadata read from a file's headers
// is the metadata the whole model holds, and that a cut or foreign file
// is an error, not a description.
func TestLoadMetadata(t *testing.T) {
	spec, _ := models.Lookup("resnet18_cifar")
	model, err := spec.New(models.Options{Classes: 10, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "m.onnx")
	meta := map[string]string{"model": "resnet18_cifar", "classes": "10", "class_names": `["a","b"]`}
	if err := ExportFile(path, model, ExportOptions{Input: spec.Input, Metadata: meta}); err != nil {
		t.Fatal(err)
	}
	m, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := LoadMetadata(path)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(got, m.Metadata()) || got["class_names"] != meta["class_names"] || got["onnx.producer"] == "" {
		t.Errorf("LoadMetadata: %v; the loaded model's: %v", got, m.Metadata())
	}
	b, _ := os.ReadFile(path)
	cut := filepath.Join(dir, "cut.onnx")
	os.WriteFile(cut, b[:len(b)/2], 0o644)
	notONNX := filepath.Join(dir, "text.onnx")
	os.WriteFile(notONNX, []byte("this is not a model"), 0o644)
	empty := filepath.Join(dir, "empty.onnx")
	os.WriteFile(empty, nil, 0o644)
	for _, p := range []string{cut, notONNX, empty, dir, filepath.Join(dir, "missing.onnx")} {
		if md, err := LoadMetadata(p); err == nil {
			t.Errorf("LoadMetadata(%s) = %v, want an error", filepath.Base(p), md)
		}
	}
}
