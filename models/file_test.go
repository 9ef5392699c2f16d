package models

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/tensor"
	"github.com/foveaml/fovea/weights"
)

// fileAndCheckpoint writes ts with info's metadata as a model file and as
// a checkpoint, and returns their paths.
func fileAndCheckpoint(t *testing.T, ts map[string]*tensor.Tensor, info FileInfo) []string {
	t.Helper()
	dir := t.TempDir()
	model := filepath.Join(dir, "model.safetensors")
	if err := weights.Save(model, ts, info.Meta()); err != nil {
		t.Fatal(err)
	}
	ck := filepath.Join(dir, "checkpoint.safetensors")
	if err := weights.SaveCheckpoint(ck, &weights.Checkpoint{Weights: ts, Meta: info.Meta()}); err != nil {
		t.Fatal(err)
	}
	return []string{model, ck}
}

// TestFileInfoRoundTrip writes a FileInfo into a model file and a
// checkpoint and reads it back from each header.
func TestFileInfoRoundTrip(t *testing.T) {
	in := FileInfo{Model: "resnet18", Classes: 3, ClassNames: []string{"cat", "dog", "tiger cat"}, Data: "photos/",
		Input: []int{224, 224, 3}, Resize: 256, Normalize: "imagenet", Mean: []float32{0.485, 0.456, 0.406}, Std: []float32{0.229, 0.224, 0.225}}
	for _, p := range fileAndCheckpoint(t, map[string]*tensor.Tensor{"w": tensor.Zeros(2)}, in) {
		got, err := ReadFileInfo(p)
		if err != nil {
			t.Fatal(err)
		}
		if got.Model != in.Model || got.Classes != 3 || !slices.Equal(got.ClassNames, in.ClassNames) || !slices.Equal(got.Input, in.Input) ||
			got.Resize != 256 || got.Normalize != "imagenet" || !slices.Equal(got.Mean, in.Mean) || !slices.Equal(got.Std, in.Std) {
			t.Errorf("%s: read %+v, wrote %+v", p, got, in)
		}
	}
	// Names that do not match the classes are dropped, not trusted.
	m := in.Meta()
	m["classes"] = "4"
	if got := ParseFileInfo(m); got.ClassNames != nil {
		t.Errorf("3 names for 4 classes kept: %v", got.ClassNames)
	}
}

// TestPretrainedReadsCheckpoint builds the model a checkpoint names.
func TestPretrainedReadsCheckpoint(t *testing.T) {
	m, err := NewLeNet5(LeNetConfig{Classes: 4, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	ck := filepath.Join(t.TempDir(), "checkpoint.safetensors")
	meta := FileInfo{Model: "lenet5", Classes: 4}.Meta()
	if err := weights.SaveCheckpoint(ck, &weights.Checkpoint{Weights: weights.StateDict(nn.State(m)), Meta: meta}); err != nil {
		t.Fatal(err)
	}
	got, spec, _, err := Pretrained("", ck)
	if err != nil || spec.Name != "lenet5" || nn.Classes(got) != 4 {
		t.Fatalf("Pretrained of a checkpoint: %v, %s", err, spec.Name)
	}
}

func TestImageNetClasses(t *testing.T) {
	n := ImageNetClasses()
	if len(n) != 1000 || n[0] != "tench" || n[281] != "tabby" || n[282] != "tiger_cat" {
		t.Errorf("%d names: %q ... %q %q", len(n), n[0], n[281], n[282])
	}
}

// TestFileInfoGraph: an imported graph's bytes go through a file and a
// checkpoint whole (base64 under "onnx_graph"); a value that is not
// base64 reads as no graph; and without package onnx linked (as in this
// package's tests), Pretrained says what the file needs.
func TestFileInfoGraph(t *testing.T) {
	graph := []byte{0x08, 0x07, 0x00, 0xff, '{', '"'}
	in := FileInfo{Model: ONNXModel, Classes: 2, Graph: graph}
	for _, p := range fileAndCheckpoint(t, map[string]*tensor.Tensor{"fc.bias": tensor.Zeros(2)}, in) {
		got, err := ReadFileInfo(p)
		if err != nil {
			t.Fatal(err)
		}
		if got.Model != ONNXModel || !slices.Equal(got.Graph, graph) {
			t.Errorf("%s: read %+v", p, got)
		}
		if _, _, _, err := Pretrained("", p); err == nil || !strings.Contains(err.Error(), "import github.com/foveaml/fovea/onnx") {
			t.Errorf("%s without package onnx: %v", p, err)
		}
	}
	m := in.Meta()
	m["onnx_graph"] = "not base64!"
	if got := ParseFileInfo(m); got.Graph != nil {
		t.Errorf("a graph that is not base64 read as %v", got.Graph)
	}
}
