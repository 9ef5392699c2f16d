package main

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/foveaml/fovea/models"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/onnx"
	"github.com/foveaml/fovea/tensor"
	"github.com/foveaml/fovea/weights"
)

// TestExportAndRun: fovea export writes a file that fovea run (and the
// onnx package) reads back to the same logits as the weights it came
// from, in either layout, and --layer gives a layer's output.
func TestExportAndRun(t *testing.T) {
	dir := t.TempDir()
	w := untrainedWeights(t, dir)
	out := filepath.Join(dir, "lenet5.onnx")
	if st, o, e := fovea("export", "--weights", w, "--out", out); st != 0 {
		t.Fatalf("export: status %d: %s%s", st, o, e)
	}
	m, err := onnx.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if md := m.Metadata(); md["model"] != "lenet5" || md["classes"] != "10" || md["data"] != "mnist" {
		t.Errorf("metadata_props %v; want the weights file's", md)
	}
	x := tensor.RandNormal(rand.New(rand.NewPCG(1, 2)), 0, 1, 3, 1, 28, 28) // NCHW
	logits := func(weightsFile string, extra ...string) *tensor.Tensor {
		return runOutput(t, dir, weightsFile, x, extra...)
	}
	a, b := logits(w), logits(out)
	if !a.SameShape(b) || a.Dim(0) != 3 || a.Dim(1) != 10 {
		t.Fatalf("logits %v and %v; want [3 10]", a.Shape(), b.Shape())
	}
	for i := range a.Data() {
		if d := math.Abs(float64(a.Data()[i] - b.Data()[i])); d > 1e-5 {
			t.Fatalf("weights and exported file differ by %g at %d", d, i)
		}
	}
	// The same input given NHWC gives the same logits.
	x = permute4(x, [4]int{0, 2, 3, 1})
	c := logits(out, "--layout", "nhwc")
	for i := range a.Data() {
		if c.Data()[i] != b.Data()[i] {
			t.Fatalf("--layout nhwc gives other logits")
		}
	}
	// A layer's output: the first convolution's, NHWC as asked.
	f := logits(w, "--layout", "nhwc", "--layer", "features.0")
	if s := f.Shape(); len(s) != 4 || s[0] != 3 || s[3] != 6 {
		t.Fatalf("features.0 output %v; want [3 H W 6]", s)
	}
}

// TestExportCheckpointAndStateDict: a checkpoint exports with its model
// metadata; a bare state dict needs --model.
func TestExportCheckpointAndStateDict(t *testing.T) {
	dir := t.TempDir()
	m, err := models.NewLeNet5(models.LeNetConfig{Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	ck := filepath.Join(dir, "ck.safetensors")
	if err := weights.SaveCheckpoint(ck, &weights.Checkpoint{Weights: weights.StateDict(nn.State(m)), Epoch: 1, Step: 10,
		Meta: map[string]string{"model": "lenet5", "classes": "10"}}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "ck.onnx")
	if st, o, e := fovea("export", "--weights", ck, "--out", out); st != 0 {
		t.Fatalf("export of a checkpoint: status %d: %s%s", st, o, e)
	}
	back, err := onnx.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if md := back.Metadata(); md["model"] != "lenet5" || md["epoch"] != "" {
		t.Errorf("metadata_props %v: want the model's, not the training state", md)
	}
	bare := filepath.Join(dir, "bare.safetensors")
	if err := weights.Save(bare, weights.StateDict(nn.State(m)), nil); err != nil {
		t.Fatal(err)
	}
	if st, _, e := fovea("export", "--weights", bare, "--out", out); st != 2 || !strings.Contains(e, "--model") {
		t.Errorf("bare state dict without --model: status %d, %q", st, e)
	}
	if st, o, e := fovea("export", "--weights", bare, "--model", "lenet5", "--out", out); st != 0 {
		t.Errorf("bare state dict with --model: status %d: %s%s", st, o, e)
	}
}

// TestRunBadInput: mistakes give one line and a non-zero status.
func TestRunBadInput(t *testing.T) {
	dir := t.TempDir()
	w := untrainedWeights(t, dir)
	junk := filepath.Join(dir, "junk.onnx")
	os.WriteFile(junk, []byte("\x08\x07\x12\x05not a model at all"), 0o644)
	in := filepath.Join(dir, "x.safetensors")
	weights.Save(in, map[string]*tensor.Tensor{"image": tensor.Zeros(1, 1, 28, 28)}, nil)
	wrong := filepath.Join(dir, "wrong.safetensors")
	weights.Save(wrong, map[string]*tensor.Tensor{"input": tensor.Zeros(1, 3, 28, 28)}, nil)
	o := filepath.Join(dir, "y.safetensors")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--weights", w, "--input", in}, "want --weights"},
		{[]string{"run", "--weights", w, "--input", in, "--output", o}, `no tensor named "input"`},
		{[]string{"run", "--weights", w, "--input", wrong, "--output", o}, "Conv2D"},
		{[]string{"run", "--weights", w, "--input", in, "--output", o, "--layout", "chw"}, "--layout"},
		{[]string{"run", "--weights", junk, "--input", wrong, "--output", o}, "onnx"},
		{[]string{"export", "--weights", junk, "--out", o}, "onnx"},
		{[]string{"export", "--weights", w}, "want --weights"},
	} {
		st, _, e := fovea(c.args...)
		if st == 0 || !strings.Contains(e, c.want) || strings.Count(strings.TrimSpace(e), "\n") > 0 {
			t.Errorf("%v: status %d, stderr %q; want one line with %q", c.args, st, e, c.want)
		}
	}
}
