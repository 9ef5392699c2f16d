package main

import (
	"bytes"
	"encoding/json"
	"image"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/foveaml/fovea/datasets/mnist"
	"github.com/foveaml/fovea/models"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/weights"
)

// fovea runs one command line in-process and returns its exit status,
// standard output and standard error.
func fovea(args ...string) (int, string, string) {
	var out, errw bytes.Buffer
	status := run(args, &out, &errw)
	return status, out.String(), errw.String()
}

// TestBadInput is the table of user mistakes: each gives one line on
// standard error naming the problem, a non-zero status, and no panic.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	notWeights := filepath.Join(dir, "junk.safetensors")
	os.WriteFile(notWeights, []byte("this is not a safetensors file"), 0o644)
	notDir := filepath.Join(dir, "file.txt")
	os.WriteFile(notDir, []byte("x"), 0o644)
	emptyDir := t.TempDir()
	untrained := untrainedWeights(t, dir)
	okPNG := filepath.Join(dir, "ok.png")
	writePNG(t, okPNG, image.NewGray(image.Rect(0, 0, 28, 28)))
	notImage := filepath.Join(dir, "notes.png")
	os.WriteFile(notImage, []byte("not an image"), 0o644)
	cutPNG := filepath.Join(dir, "cut.png")
	if b, err := os.ReadFile(okPNG); err == nil {
		os.WriteFile(cutPNG, b[:len(b)/2], 0o644)
	}
	for _, c := range []struct {
		args   []string
		status int
		want   string
	}{
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"train", "--epochs", "0"}, 2, "--epochs 0"},
		{[]string{"train", "--batch", "-3"}, 2, "--batch -3"},
		{[]string{"train", "--lr", "-1"}, 2, "--lr -1"},
		{[]string{"train", "--val-split", "1.5"}, 2, "--val-split 1.5"},
		{[]string{"train", "--no-such-flag"}, 2, "no-such-flag"},
		{[]string{"train", "--model", "resnet9000"}, 2, `unknown model "resnet9000"`},
		{[]string{"train", "--optimizer", "magic", "--limit", "10", "--epochs", "1"}, 2, `--optimizer "magic"`},
		{[]string{"train", "--schedule", "zigzag", "--limit", "10"}, 2, `--schedule "zigzag"`},
		{[]string{"train", "--classes", "0"}, 2, "--classes 0"},
		{[]string{"train", "--classes", "5", "--limit", "10"}, 1, "10 classes but the model has 5 outputs"},
		{[]string{"train", "--data", filepath.Join(dir, "nowhere")}, 1, "nowhere"},
		{[]string{"train", "--data", notDir}, 1, "a file"},
		{[]string{"train", "--data", emptyDir}, 1, emptyDir},
		{[]string{"train", "--threads", "-1"}, 2, "--threads -1"},
		{[]string{"train", "--limit", "10", "--resume", notWeights}, 1, notWeights},
		{[]string{"eval"}, 2, "--weights is required"},
		{[]string{"eval", "--weights", filepath.Join(dir, "missing.safetensors")}, 1, "missing.safetensors"},
		{[]string{"eval", "--weights", notWeights}, 1, notWeights},
		{[]string{"predict", "--weights", notWeights, "--n", "0"}, 2, "--n and --k"},
		{[]string{"predict", okPNG}, 2, "--weights is required"},
		{[]string{"predict", "--weights", untrained, "--k", "0", okPNG}, 2, "--n and --k"},
		{[]string{"predict", okPNG, "--no-such-flag"}, 2, "no-such-flag"},
		{[]string{"predict", "--weights", untrained, filepath.Join(dir, "nowhere.png")}, 1, "nowhere.png"},
		{[]string{"predict", "--weights", untrained, okPNG, notImage}, 1, notImage + ": not a JPEG, PNG or GIF image"},
		{[]string{"predict", "--weights", untrained, cutPNG}, 1, cutPNG + ": truncated png image"},
		{[]string{"predict", "--weights", untrained, emptyDir}, 1, emptyDir + ": a folder"},
		{[]string{"predict", "--weights", untrained, "--data", filepath.Join(dir, "nowhere"), okPNG}, 1, "nowhere"},
		{[]string{"predict", "--weights", notWeights, okPNG}, 1, notWeights},
		{[]string{"summary"}, 2, "want one model name"},
		{[]string{"summary", "alexnet9"}, 2, `unknown model "alexnet9"`},
	} {
		status, _, stderr := fovea(c.args...)
		if strings.Count(stderr, "\n") != 1 && c.status == 1 {
			t.Errorf("fovea %s: want one line on standard error, got %q", strings.Join(c.args, " "), stderr)
		}
		if status != c.status || !strings.Contains(stderr, c.want) {
			t.Errorf("fovea %s: status %d, stderr %q; want status %d and %q", strings.Join(c.args, " "), status, stderr, c.status, c.want)
		}
		if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "internal error") {
			t.Errorf("fovea %s: a panic reached the user:\n%s", strings.Join(c.args, " "), stderr)
		}
	}
}

// TestTrainEvalPredict runs the main job on a slice of the bundled MNIST
// and uses what it wrote.
func TestTrainEvalPredict(t *testing.T) {
	dir := t.TempDir()
	status, out, stderr := fovea("train", "--limit", "2000", "--epochs", "1", "--out", dir, "--json", "--quiet")
	if status != 0 {
		t.Fatalf("train: status %d: %s", status, stderr)
	}
	var res struct {
		TestTop1   float64 `json:"test_top1"`
		Rate       float64 `json:"images_per_second"`
		Weights    string
		Checkpoint string
		Best       string
		HistoryCSV string `json:"history_csv"`
		Curves     string
		Epochs     int
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("train --json printed %q: %v", out, err)
	}
	if res.Epochs != 1 || res.TestTop1 < 0.5 || res.Rate <= 0 || res.Weights != filepath.Join(dir, "model.safetensors") ||
		res.Checkpoint != filepath.Join(dir, "checkpoint.safetensors") || res.Best != filepath.Join(dir, "best.safetensors") ||
		res.HistoryCSV != filepath.Join(dir, "history.csv") || res.Curves != filepath.Join(dir, "curves.png") {
		t.Fatalf("train result %+v", res)
	}
	for _, f := range []string{"model.safetensors", "checkpoint.safetensors", "best.safetensors", "history.csv", "curves.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("train did not write %s: %v", f, err)
		}
	}
	status, out, stderr = fovea("eval", "--weights", res.Weights)
	if status != 0 || !strings.Contains(out, "examples 10000") {
		t.Fatalf("eval: status %d, out %q, stderr %q", status, out, stderr)
	}
	status, out, stderr = fovea("predict", "--weights", res.Weights, "--n", "3", "--k", "2")
	if status != 0 || strings.Count(out, "example ") != 3 {
		t.Fatalf("predict: status %d, out %q, stderr %q", status, out, stderr)
	}
	// A test digit written as a PNG file is predicted as it is from the
	// test set: PNG keeps MNIST's bytes exactly, and flags may follow the
	// file names.
	digit := filepath.Join(t.TempDir(), "digit.png")
	writeTestDigit(t, digit, 0)
	status, fromSet, stderr := fovea("predict", "--weights", res.Weights, "--n", "1", "--k", "3")
	if status != 0 {
		t.Fatalf("predict: status %d: %s", status, stderr)
	}
	status, fromFile, stderr := fovea("predict", "--weights", res.Weights, digit, "--k", "3")
	if status != 0 {
		t.Fatalf("predict %s: status %d: %s", digit, status, stderr)
	}
	_, wantTop, _ := strings.Cut(fromSet, ":")
	if fromFile != digit+":"+wantTop || !strings.HasPrefix(wantTop, "  7 ") {
		t.Fatalf("predict %s printed %q; the test set's example 0 (a 7) gave %q", digit, fromFile, fromSet)
	}
	// A colour JPEG of another size is resized and made grey.
	big := filepath.Join(t.TempDir(), "big.jpg")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(f, image.NewRGBA(image.Rect(0, 0, 90, 60)), nil); err != nil {
		t.Fatal(err)
	}
	f.Close()
	status, out, stderr = fovea("predict", "--weights", res.Weights, "--k", "2", big, digit)
	if status != 0 || strings.Count(out, "\n") != 2 || !strings.HasPrefix(out, big+":") || strings.Count(strings.Split(out, "\n")[0], " 0.") != 2 {
		t.Fatalf("predict two files: status %d, out %q, stderr %q", status, out, stderr)
	}

	// A checkpoint resumes; asking for no more epochs than it has run
	// trains no further.
	status, _, stderr = fovea("train", "--limit", "2000", "--epochs", "2", "--out", dir, "--quiet",
		"--resume", filepath.Join(dir, "checkpoint.safetensors"))
	if status != 0 {
		t.Fatalf("resume: status %d: %s", status, stderr)
	}
}

// untrainedWeights writes the weights of a freshly initialised LeNet-5,
// as fovea train would name them, into dir.
func untrainedWeights(t *testing.T, dir string) string {
	t.Helper()
	m, err := models.NewLeNet5(models.LeNetConfig{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "untrained.safetensors")
	if err := weights.Save(p, weights.StateDict(nn.State(m)), map[string]string{"model": "lenet5", "classes": "10", "data": "mnist"}); err != nil {
		t.Fatal(err)
	}
	return p
}

func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}

// writeTestDigit writes example i of the MNIST test set as a grey PNG.
func writeTestDigit(t *testing.T, path string, i int) {
	t.Helper()
	ds, err := mnist.Test()
	if err != nil {
		t.Fatal(err)
	}
	h, w, _ := ds.Shape()
	px := make([]float32, h*w)
	if _, err := ds.Example(i, px); err != nil {
		t.Fatal(err)
	}
	img := image.NewGray(image.Rect(0, 0, w, h))
	for j, v := range px {
		img.Pix[j] = uint8(math.Round(float64(v) * 255))
	}
	writePNG(t, path, img)
}
