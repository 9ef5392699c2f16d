package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"image"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/foveaml/fovea/data"
	"github.com/foveaml/fovea/datasets/mnist"
	"github.com/foveaml/fovea/internal/cpu"
	"github.com/foveaml/fovea/models"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/optim"
	"github.com/foveaml/fovea/tensor"
	"github.com/foveaml/fovea/train"
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
	bombPNG := filepath.Join(dir, "bomb.png")
	os.WriteFile(bombPNG, pngClaiming(t, 6000, 6000), 0o644)
	idx := badIDX(t)
	nanWeights := filepath.Join(dir, "nan.safetensors")
	ts := weights.StateDict(nn.State(lenet(t, 10)))
	ts["features.0.bias"].Data()[2] = float32(math.NaN())
	mustSave(t, nanWeights, ts, map[string]string{"model": "lenet5", "classes": "10"})
	fiveClasses := filepath.Join(dir, "five.safetensors")
	mustSave(t, fiveClasses, weights.StateDict(nn.State(lenet(t, 5))), map[string]string{"model": "lenet5", "classes": "10"})
	unknownModel := filepath.Join(dir, "unknown.safetensors")
	mustSave(t, unknownModel, weights.StateDict(nn.State(lenet(t, 10))), map[string]string{"model": "lenet9000"})
	cutWeights := filepath.Join(dir, "cut.safetensors")
	if b, err := os.ReadFile(untrained); err == nil {
		os.WriteFile(cutWeights, b[:len(b)-100], 0o644)
	}
	otherModelCk := filepath.Join(dir, "other-model.ckpt")
	mustCheckpoint(t, otherModelCk, &weights.Checkpoint{Weights: weights.StateDict(nn.State(lenet(t, 5))), Epoch: 1, Step: 10})
	otherOptCk := filepath.Join(dir, "other-opt.ckpt")
	sgd, _ := optim.NewSGD(lenet(t, 10).Params(), optim.SGDConfig{LR: 0.1, Momentum: 0.9})
	sgdState, sgdMeta := sgd.State()
	mustCheckpoint(t, otherOptCk, &weights.Checkpoint{Weights: weights.StateDict(nn.State(lenet(t, 10))), Optim: sgdState, OptimMeta: sgdMeta, Epoch: 1, Step: 10})
	nanCk := filepath.Join(dir, "nan.ckpt")
	ts = weights.StateDict(nn.State(lenet(t, 10)))
	ts["classifier.1.weight"].Data()[0] = float32(math.Inf(1))
	mustCheckpoint(t, nanCk, &weights.Checkpoint{Weights: ts, Epoch: 1, Step: 10})
	cutCk := filepath.Join(dir, "cut.ckpt")
	if b, err := os.ReadFile(otherOptCk); err == nil {
		os.WriteFile(cutCk, b[:len(b)/2], 0o644)
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
		{[]string{"train", "--epochs", "many"}, 2, `invalid value "many" for flag -epochs`},
		{[]string{"train", "--clip-norm", "-1"}, 2, "--clip-norm -1"},
		{[]string{"train", "--checkpoint-every", "-5"}, 2, "--checkpoint-every -5"},
		{[]string{"train", "--model", "resnet18", "--limit", "10", "--input", "exact"}, 1, "--data mnist: the data's images are 28×28×1 but resnet18 takes 224×224×3"},
		{[]string{"train", "--data", idx["mismatch"]}, 1, "holds 4 labels, but images file"},
		{[]string{"eval", "--weights", untrained, "--data", idx["magic"]}, 1, "t10k-images-idx3-ubyte: magic number 0x00000801 is not that of IDX images (0x00000803: unsigned bytes, 3 dimensions); this is a labels file"},
		{[]string{"eval", "--weights", untrained, "--data", idx["truncated"]}, 1, "t10k-images-idx3-ubyte: truncated: the header claims 3920 bytes of pixels (5 images of 28x28), the file has 3919 after the header"},
		{[]string{"eval", "--weights", untrained, "--data", idx["mismatch"]}, 1, "t10k-labels-idx1-ubyte holds 4 labels, but images file"},
		{[]string{"eval", "--weights", untrained, "--data", idx["label"]}, 1, "t10k-labels-idx1-ubyte: label 12 at index 3 is outside [0, 10)"},
		{[]string{"eval", "--weights", untrained, "--data", idx["huge"]}, 1, "t10k-images-idx3-ubyte: truncated: the header claims 1683627180032 bytes of pixels (2147483648 images of 28x28), the file has 100 after the header"},
		{[]string{"eval", "--weights", untrained, "--data", idx["bomb"]}, 1, "t10k-images-idx3-ubyte.gz: the header claims 1073741824 bytes of pixels (1048576 images of 32x32), more than a"},
		{[]string{"eval", "--weights", untrained, "--data", idx["shape"], "--input", "exact"}, 1, "the data's images are 32×32×1 but lenet5 takes 28×28×1"},
		{[]string{"eval", "--weights", nanWeights}, 1, nanWeights + `: tensor "features.0.bias" holds NaN at flat index 2`},
		{[]string{"eval", "--weights", fiveClasses}, 1, fiveClasses + " into lenet5: "},
		{[]string{"eval", "--weights", unknownModel}, 2, unknownModel + `: its metadata names model "lenet9000": unknown model`},
		{[]string{"eval", "--weights", cutWeights}, 1, cutWeights + ": "},
		{[]string{"predict", "--weights", untrained, bombPNG}, 1, bombPNG + ": png image of 6000x6000 pixels would take"},
		{[]string{"train", "--limit", "10", "--resume", otherModelCk}, 1, otherModelCk + ": weights.LoadStateDict: the state dict does not match the model"},
		{[]string{"train", "--limit", "10", "--resume", otherOptCk}, 1, otherOptCk + `: optim.Adam.LoadState: the state is of type "SGD"`},
		{[]string{"train", "--limit", "10", "--resume", nanCk}, 1, nanCk + `: tensor "model.classifier.1.weight" holds +Inf`},
		{[]string{"train", "--limit", "10", "--resume", cutCk}, 1, cutCk + ": "},
		{[]string{"predict", "--weights", untrained, filepath.Join(dir, "two\nlines.png")}, 1, `two\nlines.png: no such file`},
	} {
		// A run that cannot start writes nothing: not its output folder,
		// nor runs/ in the working directory.
		never := filepath.Join(dir, "never", "run")
		if c.args[0] == "train" {
			c.args = append(c.args, "--out", never)
		}
		status, _, stderr := fovea(c.args...)
		t.Logf("fovea %s → %d: %s", strings.Join(c.args, " "), status, strings.TrimSpace(stderr))
		if _, err := os.Stat(filepath.Dir(never)); err == nil {
			t.Errorf("fovea %s wrote %s although it could not start", strings.Join(c.args, " "), filepath.Dir(never))
			os.RemoveAll(filepath.Dir(never))
		}
		if strings.Count(stderr, "\n") != 1 {
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
	return lenetFile(t, filepath.Join(dir, "untrained.safetensors"), 1)
}

// lenetFile saves an untrained 10-class LeNet-5 of the given seed at
// path as fovea train would (trained on mnist) and returns path.
func lenetFile(t *testing.T, path string, seed uint64) string {
	t.Helper()
	m, err := models.NewLeNet5(models.LeNetConfig{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	if err := weights.Save(path, weights.StateDict(nn.State(m)), map[string]string{"model": "lenet5", "classes": "10", "data": "mnist"}); err != nil {
		t.Fatal(err)
	}
	return path
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

// lenet returns a freshly initialised LeNet-5 with classes outputs.
func lenet(t *testing.T, classes int) nn.Layer {
	t.Helper()
	m, err := models.NewLeNet5(models.LeNetConfig{Classes: classes, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mustSave(t *testing.T, path string, ts map[string]*tensor.Tensor, meta map[string]string) {
	t.Helper()
	if err := weights.Save(path, ts, meta); err != nil {
		t.Fatal(err)
	}
}

func mustCheckpoint(t *testing.T, path string, c *weights.Checkpoint) {
	t.Helper()
	if err := weights.SaveCheckpoint(path, c); err != nil {
		t.Fatal(err)
	}
}

// pngClaiming returns a valid 1×1 PNG whose header claims w×h pixels.
func pngClaiming(t *testing.T, w, h uint32) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1))); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	ihdr := b[8+8 : 8+8+13] // after the signature, the chunk's length and type
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	binary.BigEndian.PutUint32(b[8+8+13:], crc32.ChecksumIEEE(b[8+4:8+8+13]))
	return b
}

// idxFile returns an IDX file: the magic number, the dimensions, then
// data.
func idxFile(magic uint32, dims []uint32, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, magic)
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return append(b, data...)
}

// badIDX writes folders of MNIST-named IDX files, each broken in one
// way, and returns them by name.
func badIDX(t *testing.T) map[string]string {
	t.Helper()
	const imagesMagic, labelsMagic = 0x803, 0x801
	images := idxFile(imagesMagic, []uint32{5, 28, 28}, make([]byte, 5*28*28))
	labels := idxFile(labelsMagic, []uint32{5}, []byte{0, 1, 2, 3, 4})
	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	zw.Write(idxFile(imagesMagic, []uint32{1 << 20, 32, 32}, make([]byte, 1<<20)))
	zw.Close()
	sets := map[string][2][]byte{
		"magic":     {labels, labels},
		"truncated": {images[:len(images)-1], labels},
		"mismatch":  {images, idxFile(labelsMagic, []uint32{4}, []byte{0, 1, 2, 3})},
		"label":     {images, idxFile(labelsMagic, []uint32{5}, []byte{0, 1, 2, 12, 4})},
		"huge":      {idxFile(imagesMagic, []uint32{1 << 31, 28, 28}, make([]byte, 100)), labels},
		"bomb":      {bomb.Bytes(), labels},
		"shape":     {idxFile(imagesMagic, []uint32{5, 32, 32}, make([]byte, 5*32*32)), labels},
	}
	out := map[string]string{}
	for name, files := range sets {
		dir := filepath.Join(t.TempDir(), name)
		imagesName := "t10k-images-idx3-ubyte"
		if name == "bomb" {
			imagesName += ".gz"
		}
		for _, f := range []struct {
			name string
			b    []byte
		}{
			{imagesName, files[0]}, {"t10k-labels-idx1-ubyte", files[1]},
			{"train-images-idx3-ubyte", files[0]}, {"train-labels-idx1-ubyte", files[1]},
		} {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, f.name), f.b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		out[name] = dir
	}
	return out
}

// TestNonFiniteLossStops trains with a schedule that multiplies the
// learning rate by 1e9 after the first epoch: the loss becomes NaN early
// in the second, and fovea train must stop there with one line naming
// the step and the learning rate, exit non-zero, and leave the first
// epoch's checkpoint, whole and finite.
func TestNonFiniteLossStops(t *testing.T) {
	dir := t.TempDir()
	status, _, stderr := fovea("train", "--limit", "600", "--epochs", "3", "--batch", "8", "--optimizer", "sgd", "--lr", "0.01",
		"--schedule", "step:1:1e9", "--checkpoint-every", "0", "--quiet", "--out", dir)
	ck := filepath.Join(dir, "checkpoint.safetensors")
	if status != 1 || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("status %d, stderr %q; want status 1 and one line", status, stderr)
	}
	for _, want := range []string{"epoch 2, step ", "is not finite", "learning rate (1e+07) may be too high", "--clip-norm", ck + " holds the last good state"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q does not say %q", stderr, want)
		}
	}
	c, err := weights.LoadCheckpoint(ck) // finite, or it would not load
	if err != nil || c.Epoch != 1 {
		t.Fatalf("the last good checkpoint: %v, %v", c, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "model.safetensors")); err == nil {
		t.Error("a diverged run wrote model.safetensors")
	}
}

// TestClipNorm checks that train.Config.MaxGradNorm, which --clip-norm
// sets, bounds the norm of a plain SGD step (learning rate 1, so the
// step is the gradient) to the limit, and that without it the same step
// is larger.
func TestClipNorm(t *testing.T) {
	ds, err := mnist.Test()
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 16*28*28)
	y := make([]int32, 16)
	for i := range y {
		l, err := ds.Example(i, x[i*28*28:(i+1)*28*28])
		if err != nil {
			t.Fatal(err)
		}
		y[i] = int32(l)
	}
	xt, err := tensor.FromSlice(x, 16, 28, 28, 1)
	if err != nil {
		t.Fatal(err)
	}
	stepNorm := func(maxNorm float64) float64 {
		m := lenet(t, 10)
		before := weights.StateDict(nn.State(m))
		for k, v := range before {
			before[k] = v.Clone()
		}
		o, err := optim.NewSGD(m.Params(), optim.SGDConfig{LR: 1})
		if err != nil {
			t.Fatal(err)
		}
		s, err := train.NewStepper(m, train.Config{Optimizer: o, MaxGradNorm: maxNorm, DataParallel: 1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Step(xt, y); err != nil {
			t.Fatal(err)
		}
		var ss float64
		for k, v := range weights.StateDict(nn.State(m)) {
			for i, w := range v.Data() {
				d := float64(w - before[k].Data()[i])
				ss += d * d
			}
		}
		return math.Sqrt(ss)
	}
	free, clipped := stepNorm(0), stepNorm(0.05)
	if free < 0.1 || math.Abs(clipped-0.05) > 1e-3 {
		t.Errorf("a step's norm is %v unclipped and %v clipped to 0.05", free, clipped)
	}
}

// TestCancelStopsPromptly cancels a training run part of the way through
// an epoch, with the loader's workers and the data-parallel steps busy:
// Fit must return promptly with the context's error, having saved a
// checkpoint that resumes, and leave no goroutine behind. Run it with
// -race too.
func TestCancelStopsPromptly(t *testing.T) {
	test, err := mnist.Test()
	if err != nil {
		t.Fatal(err)
	}
	ds := limit(test, 2000)
	cpu.ForEach(4, func(int) {}) // start the kernel pool's workers, which stay
	before := runtime.NumGoroutine()
	m := lenet(t, 10)
	o, err := optim.NewAdam(m.Params(), optim.AdamConfig{LR: 1e-3})
	if err != nil {
		t.Fatal(err)
	}
	ck := filepath.Join(t.TempDir(), "checkpoint.safetensors")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var cancelled time.Time
	cfg := train.Config{Epochs: 100, BatchSize: 16, Optimizer: o, Workers: 2, DataParallel: 2,
		Hooks: []train.Hook{&train.ModelCheckpoint{Path: ck, OnStop: true},
			// Cancelled in the middle of the first epoch (a timer could
			// land between two epochs).
			train.HookFuncs{Step: func(s *train.State) error {
				if s.Step == 40 {
					cancelled = time.Now()
					cancel()
				}
				return nil
			}}},
		Transform: data.TransformFunc(func(dst, src []float32, h, w, c int, rng *rand.Rand) error {
			copy(dst, src)
			return nil
		})}
	_, err = train.Fit(ctx, m, ds, cfg)
	took := time.Since(cancelled)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), ck) {
		t.Fatalf("cancelled Fit returned %v", err)
	}
	if took > 2*time.Second {
		t.Errorf("Fit took %v to stop", took)
	}
	c, err := weights.LoadCheckpoint(ck)
	if err != nil || c.Step == 0 || c.Meta["batch"] == "0" {
		t.Fatalf("the checkpoint saved on cancelling: %v, %v", c, err)
	}
	for range 100 {
		if runtime.NumGoroutine() <= before {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after the cancelled Fit, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
	// It resumes, part of the way through the epoch.
	m2 := lenet(t, 10)
	o2, _ := optim.NewAdam(m2.Params(), optim.AdamConfig{LR: 1e-3})
	cfg.Optimizer, cfg.Resume, cfg.Epochs = o2, c, c.Epoch+1
	h, err := train.Fit(context.Background(), m2, ds, cfg)
	batch, _ := strconv.Atoi(c.Meta["batch"])
	if left := ds.Len() - 16*batch; err != nil || len(h.Epochs) != 1 || h.Epochs[0].Images != left {
		t.Fatalf("resumed: %v, %+v; want the %d images left of the epoch", err, h, left)
	}
}

// TestResumeModelFileKeepsTheRun: a new run from a model file's weights
// does not write over the run that made it, in the default folder.
func TestResumeModelFileKeepsTheRun(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	run := filepath.Join("runs", "lenet5")
	if err := os.MkdirAll(run, 0o755); err != nil {
		t.Fatal(err)
	}
	model := lenetFile(t, filepath.Join(run, "model.safetensors"), 1)
	ck := filepath.Join(run, "checkpoint.safetensors")
	if err := os.WriteFile(ck, []byte("the earlier run's"), 0o644); err != nil {
		t.Fatal(err)
	}
	status, _, stderr := fovea("train", "--resume", model, "--epochs", "1", "--limit", "100", "--quiet")
	if status != 2 || !strings.Contains(stderr, "--out") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("status %d, stderr %q: want 2 and one line asking for --out", status, stderr)
	}
	if b, err := os.ReadFile(ck); err != nil || string(b) != "the earlier run's" {
		t.Errorf("the earlier run's checkpoint: %q, %v", b, err)
	}
}
