package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/models"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/tensor"
)

// infer times inference (no gradients) of four ImageNet zoo models at
// batch 8 on 224×224×3 random images with random (seeded) weights, in
// fovea, in PyTorch (torch_peer.py infer, the faster of NCHW and
// channels_last) and in ONNX Runtime (ort_peer.sh: the same torchvision
// models exported to ONNX, run from Go through cgo), each with 2 threads.
// One line per model in images per second:
//
//	case  fovea_img/s  torch_best  ratio  ort  ratio_ort  rounds_ort
//
// The sides are measured in turns, model by model, over -rounds rounds
// (see rounds.go). ort_peer.sh runs once per model and round; its first run
// fetches onnxruntime-node with npm, exports the models with torch and
// builds a Go program, which may take minutes (cached after that in
// ~/.cache/fovea-peer). Peak RSS is not reported: getrusage's maxrss is
// per process, and the four models run in one.

// ortFlag is the ONNX Runtime peer script; "" looks for the
// module's own (ortPeer), "off" skips the column.
var ortFlag = flag.String("ort", "", "infer, latency, onnx: path of the ONNX Runtime peer script (default: the module's\nbench/peer/ort_peer.sh), or \"off\" to skip that column")

// ortPeer is the ONNX Runtime peer, relative to the module's root.
var ortPeer = filepath.Join("bench", "peer", "ort_peer.sh")

const (
	inferBatch = 8
	inferSize  = 224
	// ortTimeout bounds the ONNX Runtime peer, its first-run set-up
	// (npm fetch, torch export of the four models, go build) included.
	ortTimeout = 30 * time.Minute
)

// inferModels are fovea's registry names of the models, the same as the
// peers' (googlenet is without its auxiliary heads in all three).
var inferModels = []string{"resnet50", "vgg16", "alexnet", "googlenet"}

func inferCaseName(model string) string {
	return batchCaseName(model, inferBatch)
}

// batchCaseName is the peers' case name of model at batch (224×224).
func batchCaseName(model string, batch int) string {
	return fmt.Sprintf("infer_%s_b%d_%d", model, batch, inferSize)
}

// inferRunner builds the registered model name with seeded random
// weights and returns a function that runs one inference of a fixed batch
// of random images with gradients off, as evaluation does, and returns
// its logits (valid until the next call) or the tape's error.
func inferRunner(name string, batch int) (func() (*tensor.Tensor, error), error) {
	spec, err := models.Lookup(name)
	if err != nil {
		return nil, err
	}
	m, err := spec.New(models.Options{Seed: 1})
	if err != nil {
		return nil, err
	}
	return forwardRunner(m, batch, spec.Input), nil
}

// forwardRunner returns a function that runs m at inference (gradients
// off, filters packed once, as a Predictor does) on a fixed seeded batch
// of random inputs of shape in, and returns its output (valid until the
// next call) or the tape's error.
func forwardRunner(m nn.Layer, batch int, in []int) func() (*tensor.Tensor, error) {
	x := tensor.RandNormal(rand.New(rand.NewPCG(1, 2)), 0, 1, append([]int{batch}, in...)...)
	tp := ag.NewTape()
	tp.SetGradEnabled(false)
	packs := nn.NewPackCache()
	return func() (*tensor.Tensor, error) {
		tp.Reset()
		y := m.Forward(&nn.Ctx{Tape: tp, Packs: packs}, ag.Const(x))
		if err := tp.Err(); err != nil {
			return nil, err
		}
		return y.Value(), nil
	}
}

// ortRun is the outcome of the ONNX Runtime peer: images/s per case name
// (and, at a batch other than 8, single-run latencies), or why there are
// none, and how long the peer took.
type ortRun struct {
	rates   map[string]float64
	lat     map[string]latency
	why     string
	elapsed time.Duration
	version string // the peer's "# onnxruntime ..." line
}

// ortLine is one JSON line of the ONNX Runtime peer; the milliseconds
// are there only when it ran at a batch other than 8.
type ortLine struct {
	Case     string  `json:"case"`
	Value    float64 `json:"value"`
	MsMedian float64 `json:"ms_median"`
	MsP90    float64 `json:"ms_p90"`
	Calls    int     `json:"calls"`
}

// parseORTLines returns the peer's JSON lines with a positive rate, by
// case name.
func parseORTLines(out []byte) map[string]ortLine {
	lines := map[string]ortLine{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var l ortLine
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.Case != "" && l.Value > 0 {
			lines[l.Case] = l
		}
	}
	return lines
}

// parseORT returns the rates of the peer's JSON lines, by case name.
func parseORT(out []byte) map[string]float64 {
	rates := map[string]float64{}
	for c, l := range parseORTLines(out) {
		rates[c] = l.Value
	}
	return rates
}

// parseORTLatency returns the single-run latencies of the peer's JSON
// lines that have them, by case name.
func parseORTLatency(out []byte) map[string]latency {
	lat := map[string]latency{}
	for c, l := range parseORTLines(out) {
		if l.MsMedian > 0 {
			lat[c] = latency{median: l.MsMedian, p90: l.MsP90, calls: l.Calls}
		}
	}
	return lat
}

// ortArgs are the ONNX Runtime peer's arguments; batch 8 is its default
// and is not passed, so that a peer without --batch still runs it.
func ortArgs(names []string, reps, batch int) []string {
	args := []string{"--threads", "2", "--reps", strconv.Itoa(reps), "--names", strings.Join(names, ",")}
	if batch != inferBatch {
		args = append(args, "--batch", strconv.Itoa(batch))
	}
	return args
}

// ortScript returns the ONNX Runtime peer's path, or "" and why not.
func ortScript(o options) (string, string) {
	switch *ortFlag {
	case "off":
		return "", "disabled with -ort=off"
	case "":
		p := findUp(ortPeer)
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Sprintf("%s not found from the working directory up (set -ort)", ortPeer)
		}
		return p, ""
	}
	if _, err := os.Stat(*ortFlag); err != nil {
		return "", fmt.Sprintf("ONNX Runtime peer %s not found", *ortFlag)
	}
	return *ortFlag, ""
}

// runORT runs the ONNX Runtime peer once for names at batch.
func runORT(script string, names []string, reps, batch int) ortRun {
	if _, err := exec.LookPath("npm"); err != nil {
		if _, err := os.Stat(ortLib()); err != nil {
			return ortRun{why: "npm is not installed and onnxruntime is not cached (" + ortLib() + ")"}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), ortTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", append([]string{script}, ortArgs(names, reps, batch)...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	out, err := cmd.Output()
	r := ortRun{elapsed: time.Since(start), rates: parseORT(out), lat: parseORTLatency(out)}
	sc := bufio.NewScanner(bytes.NewReader(stderr.Bytes()))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "# onnxruntime") {
			r.version = strings.TrimPrefix(line, "# ")
		}
		if strings.HasPrefix(line, "ort_go_") {
			fmt.Fprintln(os.Stderr, line) // load times, checks against torch, latencies, RSS
		}
	}
	switch {
	case ctx.Err() != nil:
		r.why = fmt.Sprintf("ort_peer.sh timed out after %v", ortTimeout)
	case err != nil:
		r.why = fmt.Sprintf("ort_peer.sh: %v: %s", err, lastLine(stderr.String()))
		if _, serr := os.Stat(ortLib()); serr != nil {
			r.why = "ort_peer.sh could not fetch onnxruntime-node with npm (registry unreachable?): " + err.Error()
		}
	case len(r.rates) == 0:
		r.why = "ort_peer.sh printed no result: " + lastLine(stderr.String())
	}
	if r.why != "" {
		r.rates, r.lat = nil, nil
	}
	return r
}

// ortLib is where ort_peer.sh keeps the ONNX Runtime library.
func ortLib() string {
	c := os.Getenv("FOVEA_PEER_CACHE")
	if c == "" {
		home, _ := os.UserHomeDir()
		c = filepath.Join(home, ".cache", "fovea-peer")
	}
	return filepath.Join(c, "ortpkg", "package", "bin", "napi-v6", "linux", "x64", "libonnxruntime.so.1")
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	l := lines[len(lines)-1]
	if l == "" {
		return "(no message)"
	}
	return l
}

// inferNames returns the infer models whose case name at batch
// contains -run.
func inferNames(o options, batch int) []string {
	var names []string
	for _, n := range inferModels {
		if o.only == "" || strings.Contains(batchCaseName(n, batch), o.only) {
			names = append(names, n)
		}
	}
	return names
}

// inferRate builds the registered model name and returns fovea's
// median images/s of reps runs at batch, freeing the model before it
// returns so that the next side measured has the memory.
func inferRate(name string, batch, reps int) (float64, error) {
	run, err := inferRunner(name, batch)
	if err != nil {
		return 0, err
	}
	var runErr error
	f := medianRate(func() {
		if _, err := run(); err != nil && runErr == nil {
			runErr = err
		}
	}, float64(batch), reps)
	run = nil
	runtime.GC()
	return f, runErr
}

// torchInfer returns PyTorch's best images/s for model at batch, and its
// layout, or 0 (with the error on stderr) when it fails.
func torchInfer(o options, model string, batch, reps int) (float64, string) {
	args := []string{"infer", "--model", model, "--batch", strconv.Itoa(batch), "--size", strconv.Itoa(inferSize)}
	r, err := timeTorch(o.peer, args, reps)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: torch: %v\n", batchCaseName(model, batch), err)
		return 0, ""
	}
	return r.Best, r.Layout
}

// runInfer prints the inference table.
func runInfer(o options) error {
	names := inferNames(o, inferBatch)
	fmt.Printf("# fovea inference (no-grad tape), %d threads (GOMAXPROCS), batch %d, %d×%d×3, random weights; images/s,\n"+
		"# median of %d rounds, each the median of %d runs; the peers measured in turn with fovea in each round\n",
		o.threads, inferBatch, inferSize, inferSize, o.rounds, o.reps)
	fmt.Printf("# ratio = fovea / peer, the median of the rounds' ratios (rounds_ort lists ONNX Runtime's)\n")
	if o.why != "" {
		fmt.Printf("# PyTorch column skipped: %s\n", o.why)
	}
	layouts := make([]string, len(names))
	figs, why, err := inTurns(o, names, inferBatch, sides{
		fovea: func(i int) (float64, error) {
			f, err := inferRate(names[i], inferBatch, o.reps)
			if err != nil {
				return 0, fmt.Errorf("%s: %w", inferCaseName(names[i]), err)
			}
			return f, nil
		},
		torch: func(i int) float64 {
			if o.why != "" {
				return 0
			}
			v, layout := torchInfer(o, names[i], inferBatch, o.reps)
			if v > 0 {
				layouts[i] = layout
			}
			return v
		},
		ort: func(i int, r ortRun) float64 { return r.rates[inferCaseName(names[i])] },
	})
	if err != nil {
		return err
	}
	fmt.Printf("%-24s %12s %18s %6s %10s %9s  %s\n", "case", "fovea_img/s", "torch_best", "ratio", "ort", "ratio_ort", "rounds_ort")
	for i, n := range names {
		f := figs[i]
		torchCol, ratio := "-", "-"
		if o.why == "" {
			torchCol = "error"
		}
		if t := median(f.torch); t > 0 {
			torchCol = fmt.Sprintf("%.2f (%s)", t, layouts[i])
			ratio = fmt.Sprintf("%.2f", median(f.ratios(f.torch)))
		}
		ortCol, ratioORT := "-", "-"
		if why == "" {
			ortCol = "missing"
		}
		if v := median(f.ort); v > 0 {
			ortCol, ratioORT = fmt.Sprintf("%.2f", v), fmt.Sprintf("%.2f", median(f.ratios(f.ort)))
		}
		fmt.Printf("%-24s %12.2f %18s %6s %10s %9s  %s\n", inferCaseName(n), median(f.fovea), torchCol, ratio, ortCol, ratioORT, roundList(f.ratios(f.ort)))
	}
	return nil
}
