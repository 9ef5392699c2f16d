package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/onnx"
	"github.com/foveaml/fovea/tensor"
)

// onnx times inference of torchvision models that fovea imports from
// ONNX files (PyTorch's exporter, constant folding on: batch norms folded
// into the convolutions) next to fovea's own build of the architecture,
// at batch 8, 224×224×3, and how long the import takes. ONNX Runtime on
// its own export of the same models (ort_peer.sh, as in infer) gives the
// last column:
//
//	case  onnx_img/s  native_img/s  ratio  import_s  ort  ratio_ort
//
// The files are made once with onnx/testdata/gen_fixtures.py into
// ~/.cache/fovea/onnx-zoo (needs /usr/bin/python3 with torch and
// torchvision); the zoo's native model gets random weights of its own,
// which does not change its speed.

// onnxCaseName names the table's lines.
func onnxCaseName(model string) string {
	return fmt.Sprintf("onnx_%s_b%d_%d", model, inferBatch, inferSize)
}

// onnxZoo returns the directory holding <name>.onnx for every name,
// exporting the missing ones with PyTorch, or why it cannot.
func onnxZoo(names []string) (string, string) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err.Error()
	}
	dir := filepath.Join(cache, "fovea", "onnx-zoo")
	var missing []string
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(dir, n+".onnx")); err != nil {
			missing = append(missing, n)
		}
	}
	if len(missing) == 0 {
		return dir, ""
	}
	if err := exec.Command(python, "-c", "import torch, torchvision").Run(); err != nil {
		return "", "PyTorch with torchvision is needed to export the models (apt-get install python3-torch python3-torchvision)"
	}
	script := findUp(filepath.Join("onnx", "testdata", "gen_fixtures.py"))
	cmd := exec.Command(python, script, "zoo", dir, strings.Join(missing, ","))
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Sprintf("exporting %v: %v: %s", missing, err, lastLine(string(out)))
	}
	return dir, ""
}

// onnxRunner imports the file and returns a function running it at
// inference on a fixed batch, and the import's duration.
func onnxRunner(path string, batch int) (func() (*tensor.Tensor, error), time.Duration, error) {
	start := time.Now()
	m, err := onnx.Load(path)
	if err != nil {
		return nil, 0, err
	}
	load := time.Since(start)
	in := nn.AboutOf(m).Input
	if in == nil {
		in = []int{inferSize, inferSize, 3}
	}
	return forwardRunner(m, batch, in), load, nil
}

// timeRunner is medianRate of a runner, with its first error.
func timeRunner(run func() (*tensor.Tensor, error), batch, reps int) (float64, error) {
	var runErr error
	f := medianRate(func() {
		if _, err := run(); err != nil && runErr == nil {
			runErr = err
		}
	}, float64(batch), reps)
	return f, runErr
}

// runONNX prints the ONNX import table.
func runONNX(o options) error {
	var names []string
	for _, n := range inferModels {
		if o.only == "" || strings.Contains(onnxCaseName(n), o.only) {
			names = append(names, n)
		}
	}
	fmt.Printf("# fovea running PyTorch's ONNX exports (imported graph, fused units) vs fovea's own model, %d threads, batch %d, %d×%d×3; images/s, median of %d\n",
		o.threads, inferBatch, inferSize, inferSize, o.reps)
	dir, why := onnxZoo(names)
	if why != "" {
		fmt.Printf("# skipped: %s\n", why)
		return nil
	}
	var ort ortRun
	script, ortWhy := ortScript(o)
	if ortWhy == "" && len(names) > 0 {
		ort = runORT(script, names, o.reps, inferBatch)
		ortWhy = ort.why
	}
	if ortWhy != "" {
		fmt.Printf("# ONNX Runtime column skipped: %s\n", ortWhy)
	}
	fmt.Printf("%-24s %11s %13s %6s %9s %10s %9s\n", "case", "onnx_img/s", "native_img/s", "ratio", "import_s", "ort", "ratio_ort")
	for _, n := range names {
		name := onnxCaseName(n)
		run, load, err := onnxRunner(filepath.Join(dir, n+".onnx"), inferBatch)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		f, err := timeRunner(run, inferBatch, o.reps)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		run = nil
		runtime.GC()
		native, err := inferRunner(n, inferBatch)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		g, err := timeRunner(native, inferBatch, o.reps)
		if err != nil {
			return fmt.Errorf("%s native: %w", name, err)
		}
		native = nil
		runtime.GC()
		ortCol, ratioORT := "-", "-"
		if v, ok := ort.rates[inferCaseName(n)]; ok {
			ortCol, ratioORT = fmt.Sprintf("%.2f", v), fmt.Sprintf("%.2f", f/v)
		}
		fmt.Printf("%-24s %11.2f %13.2f %6.2f %9.2f %10s %9s\n", name, f, g, f/g, load.Seconds(), ortCol, ratioORT)
	}
	return nil
}
