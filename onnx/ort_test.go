package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/foveaml/fovea/models"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/tensor"
)

// ONNX Runtime is the independent check of exported files: the
// testdata/ortcheck program (its own module: ONNX Runtime is reached
// through cgo) runs a file and the test compares its output with fovea's.
// It needs libonnxruntime, which npm's onnxruntime-node carries:
//
//	mkdir -p ~/.cache/fovea-peer/ortpkg && cd ~/.cache/fovea-peer/ortpkg &&
//	npm pack onnxruntime-node@1.30.0 && tar xzf onnxruntime-node-1.30.0.tgz
//
// or FOVEA_ORT_LIB naming the library.

var (
	ortOnce sync.Once
	ortBin  string
	ortWhy  string
)

// ortAvailable builds the ortcheck program once and returns it and the
// library, or why they are not there.
func ortAvailable() (bin, lib, why string) {
	lib = os.Getenv("FOVEA_ORT_LIB")
	if lib == "" {
		home, _ := os.UserHomeDir()
		lib = filepath.Join(home, ".cache/fovea-peer/ortpkg/package/bin/napi-v6/linux/x64/libonnxruntime.so.1")
	}
	if _, err := os.Stat(lib); err != nil {
		return "", "", fmt.Sprintf("no libonnxruntime at %s (see ort_test.go, or set FOVEA_ORT_LIB)", lib)
	}
	ortOnce.Do(func() {
		dir, err := os.MkdirTemp("", "fovea-ortcheck")
		if err != nil {
			ortWhy = err.Error()
			return
		}
		bin := filepath.Join(dir, "ortcheck")
		cmd := exec.Command("go", "build", "-o", bin, ".")
		cmd.Dir = "testdata/ortcheck"
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1", "GOFLAGS=")
		if out, err := cmd.CombinedOutput(); err != nil {
			ortWhy = "building testdata/ortcheck (cgo): " + err.Error() + ": " + string(out)
			return
		}
		ortBin = bin
	})
	if ortBin == "" {
		return "", "", ortWhy
	}
	return ortBin, lib, ""
}

// ortRunner returns the built ortcheck program and the library, or
// skips the test saying what is missing.
func ortRunner(t *testing.T) (bin, lib string) {
	t.Helper()
	bin, lib, why := ortAvailable()
	if why != "" {
		t.Skipf("ONNX Runtime check skipped: %s", why)
	}
	return bin, lib
}

func writeF32(path string, d []float32) error {
	b := make([]byte, 4*len(d))
	for i, v := range d {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return os.WriteFile(path, b, 0o644)
}

func readF32(path string) ([]float32, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	d := make([]float32, len(b)/4)
	for i := range d {
		d[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return d, nil
}

// runORTIfThere is runORT, or nil when ONNX Runtime is not there (the
// rest of the calling test goes on).
func runORTIfThere(t *testing.T, path string, x *tensor.Tensor) ([]float32, []int) {
	t.Helper()
	if _, _, why := ortAvailable(); why != "" {
		t.Logf("ONNX Runtime check skipped: %s", why)
		return nil, nil
	}
	return runORT(t, path, x)
}

// ortAccepts reports whether ONNX Runtime, when it is there, runs the
// file at path at all (true when it is not there).
func ortAccepts(t *testing.T, path string, x *tensor.Tensor) bool {
	t.Helper()
	bin, lib, why := ortAvailable()
	if why != "" {
		return true
	}
	in, s := x.Data(), x.Shape()
	if len(s) == 4 {
		in, s = nhwcToNCHW(in, s)
	}
	dir := t.TempDir()
	if err := writeF32(filepath.Join(dir, "x.f32"), in); err != nil {
		t.Fatal(err)
	}
	dims := make([]string, len(s))
	for i, d := range s {
		dims[i] = strconv.Itoa(d)
	}
	return exec.Command(bin, "-lib", lib, "-model", path, "-in", filepath.Join(dir, "x.f32"), "-shape", strings.Join(dims, ","),
		"-out", filepath.Join(dir, "y.f32"), "-output-name", "output").Run() == nil
}

// runORT runs the file at path on x (NHWC, given to ONNX Runtime NCHW)
// and returns its output, NCHW for rank 4 as ONNX has it.
func runORT(t *testing.T, path string, x *tensor.Tensor) ([]float32, []int) {
	t.Helper()
	bin, lib := ortRunner(t)
	in, s := x.Data(), x.Shape()
	if len(s) == 4 {
		in, s = nhwcToNCHW(in, s)
	}
	dir := t.TempDir()
	if err := writeF32(filepath.Join(dir, "x.f32"), in); err != nil {
		t.Fatal(err)
	}
	dims := make([]string, len(s))
	for i, d := range s {
		dims[i] = strconv.Itoa(d)
	}
	out, err := exec.Command(bin, "-lib", lib, "-model", path, "-in", filepath.Join(dir, "x.f32"),
		"-shape", strings.Join(dims, ","), "-out", filepath.Join(dir, "y.f32")).CombinedOutput()
	if err != nil {
		t.Fatalf("ONNX Runtime on %s: %v\n%s", filepath.Base(path), err, out)
	}
	var shape []int
	for _, f := range strings.Split(strings.TrimSpace(string(out)), ",") {
		d, _ := strconv.Atoi(f)
		shape = append(shape, d)
	}
	y, err := readF32(filepath.Join(dir, "y.f32"))
	if err != nil {
		t.Fatal(err)
	}
	return y, shape
}

// ortModels are exported and run in ONNX Runtime on every test run;
// FOVEA_ONNX_ALL=1 takes the whole registry.
var ortModels = []string{"lenet5", "lenet5-classic", "lenet5-tanh", "resnet18", "resnet18_cifar", "resnet50_cifar", "alexnet",
	"alexnet_paper", "alexnet_paper_groups", "googlenet", "vgg11_bn"}

func TestExportRunsInONNXRuntime(t *testing.T) {
	ortRunner(t)
	names := ortModels
	if testing.Short() {
		names = []string{"lenet5", "lenet5-classic", "resnet18_cifar", "googlenet"}
	}
	if os.Getenv("FOVEA_ONNX_ALL") != "" {
		names = models.Names()
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			spec, err := models.Lookup(name)
			if err != nil {
				t.Fatal(err)
			}
			model, err := spec.New(models.Options{Classes: 10, Seed: 3})
			if err != nil {
				t.Fatal(err)
			}
			perturbStats(model, 4)
			path := filepath.Join(t.TempDir(), name+".onnx")
			if err := ExportFile(path, model, ExportOptions{Metadata: map[string]string{"model": name}}); err != nil {
				t.Fatal(err)
			}
			// Batch 2: the file's batch axis is dynamic (it was traced at 3).
			x := tensor.RandNormal(rand.New(rand.NewPCG(7, 8)), 0, 1, append([]int{2}, spec.Input...)...)
			want, err := nn.NewPredictor(model).Logits(x)
			if err != nil {
				t.Fatal(err)
			}
			got, shape := runORT(t, path, x)
			if len(shape) != 2 || shape[0] != 2 || shape[1] != 10 || len(got) != want.Len() {
				t.Fatalf("ONNX Runtime gives shape %v; want [2 10]", shape)
			}
			e := relErr(got, want.Data())
			if e > 1e-4 {
				t.Errorf("ONNX Runtime and fovea differ: relative error %.3g > 1e-4", e)
			}
			t.Logf("ONNX Runtime vs fovea: relative error %.2g", e)
		})
	}
}
