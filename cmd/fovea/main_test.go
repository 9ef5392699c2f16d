package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
		{[]string{"summary"}, 2, "want one model name"},
		{[]string{"summary", "alexnet9"}, 2, `unknown model "alexnet9"`},
	} {
		status, _, stderr := fovea(c.args...)
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
		TestTop1 float64 `json:"test_top1"`
		Weights  string
		Epochs   int
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("train --json printed %q: %v", out, err)
	}
	if res.Epochs != 1 || res.TestTop1 < 0.5 || res.Weights != filepath.Join(dir, "model.safetensors") {
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
	// A checkpoint resumes; asking for no more epochs than it has run
	// trains no further.
	status, _, stderr = fovea("train", "--limit", "2000", "--epochs", "2", "--out", dir, "--quiet",
		"--resume", filepath.Join(dir, "checkpoint.safetensors"))
	if status != 0 {
		t.Fatalf("resume: status %d: %s", status, stderr)
	}
}
