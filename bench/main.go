// Command bench times fovea next to PyTorch on the same machine in the
// same run. It has two tables.
//
// kernels times the compute kernels, one line per case in GFLOP/s:
//
//	case  fovea_GFLOPs  torch_best_GFLOPs  ratio  torch_nchw  x_nchw
//
// train times whole training steps of zoo models (forward, softmax
// cross-entropy, backward, SGD with momentum 0.9, on one fixed batch of
// random images), one line per case in images per second, with the peak
// resident memory of each case's process, fovea's and PyTorch's (NCHW,
// channels_last) and the ratio of fovea's to PyTorch's NCHW:
//
//	case  fovea_img/s  torch_img/s  ratio  fovea_peak_MiB  torch_nchw_peak  torch_cl_peak  x_peak
//
// infer times inference of resnet50, vgg16, alexnet and googlenet at batch
// 8, 224×224×3, in images per second, next to PyTorch and ONNX Runtime
// (see infer.go):
//
//	case  fovea_img/s  torch_best  ratio  ort  ratio_ort
//
// latency times the same four models at batch 1, the serving case, in
// milliseconds per image (median and 90th percentile of single calls),
// next to PyTorch and ONNX Runtime at batch 1 (see latency.go):
//
//	case  fovea_ms  fovea_p90  torch_ms  ratio  ort_ms  ort_p90  ratio_ort
//
// time99 trains LeNet-5 on MNIST in both, the same way (Adam, batch 64,
// cosine schedule over -epochs), until the test accuracy reaches 99%, and
// prints the wall seconds each took and their ratio (see time99.go):
//
//	case  fovea_s  fovea_ep  fovea_top1  torch_s  torch_ep  torch_top1  ratio
//
// Usage:
//
//	go run ./bench kernels [-reps 5] [-run NAME] [-peer ../shared/peer/torch_peer.py] [-torch=false]
//	go run ./bench train [-reps 5] [-run NAME] [-peer ...] [-torch=false]
//	go run ./bench time99 [-epochs 12] [-peer bench/peer/torch_lenet_mnist.py] [-torch=false]
//	go run ./bench infer [-reps 5] [-run NAME] [-peer ...] [-torch=false] [-ort PATH|off]
//	go run ./bench latency [-reps 5] [-run NAME] [-peer ...] [-torch=false] [-ort PATH|off]
//	go run ./bench serve [-rounds 3] [-model lenet5] [-clients 16] [-requests 400] [-duration 60s] [-max-batch 16]
//
// loader times the data loader as fovea train runs it (workers decoding,
// resizing and augmenting, the decoded images cached) beside training
// steps of the model it feeds, on the same cores one after the other:
// resnet18 at 224 on a folder of photographs (-photos, built by
// datasets/make/photos.py) and resnet18_cifar at 32 on a CIFAR-format
// folder (-cifar, built by datasets/make/fashion_cifar.py; else
// Fashion-MNIST), in images per second (see loader.go):
//
//	case  images  loader_cold  loader  train  loader/train  cold/train
//
//	go run ./bench loader -photos DIR [-cifar DIR] [-reps 3]
//
// serve load-tests `fovea serve`'s handler on the loopback interface
// (see serve.go).
//
//	go run ./bench onnx [-reps 5] [-run NAME] [-ort PATH|off]
//
// onnx times PyTorch's ONNX exports of the same four models imported into
// fovea next to fovea's own build of them, with the import's duration and
// ONNX Runtime's rate (see onnx.go):
//
//	case  onnx_img/s  native_img/s  ratio  import_s  ort  ratio_ort
//
// The PyTorch column comes from the peer script (PyTorch 1.13 from Debian's
// python3-torch, 2 threads, the faster of NCHW and channels_last); when
// python3 or torch is missing it is left empty with a message. fovea's
// figure is the median of -reps timed runs, each at least 0.3 s long.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/foveaml/fovea/internal/cpu"
	"github.com/foveaml/fovea/internal/gemm"
	"github.com/foveaml/fovea/internal/kern"
)

// benchCase is one line of the table: how to run it in fovea, and the
// arguments that make the peer script run the same thing.
type benchCase struct {
	name  string
	flops float64
	setup func() func() // returns the timed function
	peer  []string
}

func sgemmCase(m, k, n int) benchCase {
	return benchCase{
		name:  fmt.Sprintf("sgemm_%dx%dx%d", m, k, n),
		flops: 2 * float64(m) * float64(n) * float64(k),
		setup: func() func() {
			a, b, c := randSlice(m*k), randSlice(k*n), make([]float32, m*n)
			return func() { gemm.Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n) }
		},
		peer: []string{"sgemm", "--m", strconv.Itoa(m), "--k", strconv.Itoa(k), "--n", strconv.Itoa(n)},
	}
}

func convCase(batch, hw, cin, cout, ksize, stride, pad int, fwdbwd bool) benchCase {
	d := kern.Dims{N: batch, H: hw, W: hw, C: cin}
	p := kern.Conv{KH: ksize, KW: ksize, SH: stride, SW: stride, PadT: pad, PadB: pad, PadL: pad, PadR: pad, Cout: cout}
	od := p.Out(d)
	flops := 2 * float64(od.Len()) * float64(ksize*ksize*cin)
	mode := "fwd"
	if fwdbwd {
		mode, flops = "fwdbwd", 3*flops
	}
	return benchCase{
		name:  fmt.Sprintf("conv%dx%d_s%d_p%d_b%d_%d_%dto%d_%s", ksize, ksize, stride, pad, batch, hw, cin, cout, mode),
		flops: flops,
		setup: func() func() {
			x, w := randSlice(d.Len()), randSlice(p.WeightLen(cin))
			y, dy := make([]float32, od.Len()), randSlice(od.Len())
			if !fwdbwd {
				return func() { kern.Conv2D(y, x, w, nil, d, p) }
			}
			dx, dw := make([]float32, len(x)), make([]float32, len(w))
			return func() {
				kern.Conv2D(y, x, w, nil, d, p)
				kern.Conv2DBackwardData(dx, dy, w, d, p)
				kern.Conv2DBackwardFilter(dw, nil, x, dy, d, p)
			}
		},
		peer: []string{"conv", "--batch", strconv.Itoa(batch), "--hw", strconv.Itoa(hw), "--cin", strconv.Itoa(cin),
			"--cout", strconv.Itoa(cout), "--kernel", strconv.Itoa(ksize), "--stride", strconv.Itoa(stride),
			"--pad", strconv.Itoa(pad), "--mode", mode},
	}
}

var kernelCases = []benchCase{
	sgemmCase(1024, 1024, 1024),
	sgemmCase(256, 2304, 1024),
	sgemmCase(32768, 576, 64),   // im2col of conv 3×3, 32×32×32 images, 64→64
	sgemmCase(12544, 2304, 256), // im2col of conv 3×3, 8×14×14 images, 256→256
	convCase(32, 32, 64, 64, 3, 1, 1, false),
	convCase(32, 32, 64, 64, 3, 1, 1, true),
	convCase(32, 32, 64, 256, 1, 1, 0, false),
	convCase(32, 32, 64, 256, 1, 1, 0, true),
	convCase(8, 56, 64, 64, 3, 1, 1, false),
	convCase(8, 14, 256, 256, 3, 1, 1, false),
	convCase(8, 224, 3, 64, 7, 2, 3, false),
	convCase(8, 224, 3, 64, 7, 2, 3, true),
}

func randSlice(n int) []float32 {
	r := rand.New(rand.NewPCG(1, uint64(n)))
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

// timeFovea returns the median rate in GFLOP/s of reps runs of fn, each
// repeating it for at least minRun.
func timeFovea(fn func(), flops float64, reps int) float64 {
	return medianRate(fn, flops, reps) / 1e9
}

// medianRate returns the median of reps measurements of work units (FLOPs,
// images) per second done by fn, each repeating fn for at least 0.3 s,
// after one untimed call.
func medianRate(fn func(), work float64, reps int) float64 {
	fn() // warm up: scratch buffers, page faults
	const minRun = 300 * time.Millisecond
	rates := make([]float64, max(reps, 1))
	for i := range rates {
		start, n := time.Now(), 0
		for time.Since(start) < minRun {
			fn()
			n++
		}
		rates[i] = work * float64(n) / time.Since(start).Seconds()
	}
	slices.Sort(rates)
	return rates[len(rates)/2]
}

// peerLine is one line the peer script prints.
type peerLine struct {
	Value   float64 `json:"value"`
	Layout  string  `json:"layout"`
	BestOf  string  `json:"best_of"`
	PeakRSS float64 `json:"peak_rss_mib"`
}

// peerResult is the peer's best rate and layout, its rate in PyTorch's
// default NCHW layout (0 when the case has no layouts), and the peak
// resident memory in MiB of the process that ran each layout (by the
// peer's layout name; empty if it reported none).
type peerResult struct {
	Best    float64
	Layout  string
	NCHW    float64
	PeakRSS map[string]float64
}

// python is the interpreter Debian's python3-torch is installed for.
const python = "/usr/bin/python3"

// peerCommand returns the command that runs a peer script with args, in
// this process's environment less the OpenBLAS overrides.
func peerCommand(script string, args ...string) *exec.Cmd {
	cmd := exec.Command(python, append([]string{script}, args...)...)
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
		// OPENBLAS_CORETYPE pins OpenBLAS to its AVX2 kernel; the
		// peer deserves its best.
		return strings.HasPrefix(kv, "OPENBLAS_CORETYPE=") || strings.HasPrefix(kv, "OPENBLAS_L2_SIZE=")
	})
	return cmd
}

// timeTorch runs the peer script on one case.
func timeTorch(script string, args []string, reps int) (peerResult, error) {
	cmd := peerCommand(script, slices.Concat(args, []string{"--threads", "2", "--reps", strconv.Itoa(reps)})...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return peerResult{}, fmt.Errorf("%v: %s", err, strings.TrimSpace(stderr.String()))
	}
	var res peerResult
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var l peerLine
		if json.Unmarshal(sc.Bytes(), &l) != nil || l.Value <= 0 {
			continue
		}
		if l.PeakRSS > 0 && l.BestOf == "" {
			if res.PeakRSS == nil {
				res.PeakRSS = map[string]float64{}
			}
			res.PeakRSS[l.Layout] = l.PeakRSS
		}
		switch {
		case l.Layout == "nchw":
			res.NCHW = l.Value
		case l.BestOf != "":
			res.Best, res.Layout = l.Value, l.BestOf
		case res.Best == 0 || l.Layout != "cl":
			res.Best, res.Layout = l.Value, l.Layout
		}
	}
	if res.Best == 0 {
		return peerResult{}, errors.New("peer printed no result")
	}
	return res, nil
}

// torchAvailable says why the PyTorch column must be skipped, or "".
func torchAvailable(script string) string {
	if _, err := os.Stat(script); err != nil {
		return fmt.Sprintf("peer script %s not found (set -peer)", script)
	}
	if err := exec.Command(python, "-c", "import torch").Run(); err != nil {
		return "PyTorch is not installed (apt-get install python3-torch python3-torchvision libopenblas0-openmp)"
	}
	return ""
}

func defaultPeer() string {
	// The peer scripts live in shared/, beside the checkout.
	return findUp(filepath.Join("..", "shared", "peer", "torch_peer.py"))
}

// findUp returns the first of rel joined to the working directory and to
// each of its parents that exists, or rel itself if none does.
func findUp(rel string) string {
	if wd, err := os.Getwd(); err == nil {
		for dir := wd; ; dir = filepath.Dir(dir) {
			p := filepath.Join(dir, rel)
			if _, err := os.Stat(p); err == nil {
				return filepath.Clean(p)
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	return rel
}

// modes are the tables bench prints, its first argument.
var modes = []string{"kernels", "train", "time99", "infer", "latency", "onnx", "serve", "loader"}

// options are the flags every table takes, and why the PyTorch column is
// skipped ("" when it is not).
type options struct {
	reps    int
	rounds  int // infer, latency: turns of the peers and fovea (see rounds.go)
	peer    string
	only    string
	why     string
	threads int
	epochs  int // time99's epochs (the cosine schedule's length)
}

func main() {
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./bench kernels|train|time99|infer|latency|onnx|serve|loader [flags]\n\n"+
			"kernels times fovea's kernels next to PyTorch's (GFLOP/s); train times training\n"+
			"steps of zoo models next to PyTorch's (images/s); time99 times LeNet-5 on MNIST to\n"+
			"99%% test accuracy in both (seconds); infer times inference of ImageNet zoo models\n"+
			"next to PyTorch's and ONNX Runtime's (images/s); latency times them at batch 1\n"+
			"(ms per image, median and p90); onnx times PyTorch's ONNX exports\n"+
			"of them imported into fovea next to fovea's own (images/s); each in the same run. serve\n"+
			"load-tests the HTTP inference handler on 127.0.0.1 (requests/s, latency, memory). loader\n"+
			"times the data loader beside the training it feeds (images/s).\n\n")
		flag.PrintDefaults()
	}
	reps := flag.Int("reps", 5, "timed runs per case; the median is reported")
	rounds := flag.Int("rounds", 3, "infer, latency: rounds in which the peers and fovea measure each model in turn;\nthe ratios are the medians of the rounds'. serve: rounds of a pass with batching and one without")
	peer := flag.String("peer", "", "path of the PyTorch peer script (default: ../shared/peer/torch_peer.py for kernels\nand train, bench/peer/torch_lenet_mnist.py for time99, looked for from here upwards)")
	epochs := flag.Int("epochs", 12, "time99: epochs of the cosine schedule, the most it trains")
	torch := flag.Bool("torch", true, "time PyTorch too")
	only := flag.String("run", "", "only cases whose name contains this")
	serveModel := flag.String("model", "lenet5", "serve: the zoo model served (random weights)")
	clients := flag.Int("clients", 16, "serve: concurrent clients")
	requests := flag.Int("requests", 400, "serve: requests per client, at most")
	duration := flag.Duration("duration", time.Minute, "serve: the most one pass may take")
	maxBatch := flag.Int("max-batch", 16, "serve: the batching pass's largest batch (the other pass uses 1)")
	photos := flag.String("photos", os.Getenv("FOVEA_PHOTOS"), "loader: the image folder of photographs (datasets/make/photos.py DIR builds one)")
	cifar := flag.String("cifar", os.Getenv("FOVEA_CIFAR"), "loader: the CIFAR-format folder (datasets/make/fashion_cifar.py DIR; default: Fashion-MNIST at 32×32×3)")
	if len(os.Args) < 2 || !slices.Contains(modes, os.Args[1]) {
		flag.Usage()
		os.Exit(2)
	}
	flag.CommandLine.Parse(os.Args[2:])
	if *reps < 1 {
		fmt.Fprintf(os.Stderr, "bench: -reps %d: want at least 1\n", *reps)
		os.Exit(2)
	}
	if *rounds < 1 {
		fmt.Fprintf(os.Stderr, "bench: -rounds %d: want at least 1\n", *rounds)
		os.Exit(2)
	}
	if *epochs < 1 {
		fmt.Fprintf(os.Stderr, "bench: -epochs %d: want at least 1\n", *epochs)
		os.Exit(2)
	}
	if *peer == "" {
		*peer = defaultPeer()
		if os.Args[1] == "time99" {
			*peer = findUp(time99Peer)
		}
	}
	o := options{reps: *reps, rounds: *rounds, peer: *peer, only: *only, threads: cpu.Workers(), epochs: *epochs}
	if *torch {
		o.why = torchAvailable(*peer)
	} else {
		o.why = "disabled with -torch=false"
	}
	if os.Args[1] == "serve" {
		if *clients < 1 || *requests < 1 || *maxBatch < 1 || *duration <= 0 {
			fmt.Fprintf(os.Stderr, "bench serve: -clients, -requests, -max-batch and -duration must be positive\n")
			os.Exit(2)
		}
		if err := runServe(serveOptions{model: *serveModel, clients: *clients, requests: *requests, duration: *duration, maxBatch: *maxBatch, rounds: *rounds}); err != nil {
			fmt.Fprintf(os.Stderr, "bench serve: %v\n", err)
			os.Exit(1)
		}
		return
	}
	if os.Args[1] == "loader" {
		if err := runLoader(o, *photos, *cifar); err != nil {
			fmt.Fprintf(os.Stderr, "bench loader: %v\n", err)
			os.Exit(1)
		}
		return
	}
	if os.Args[1] == "train" {
		if err := runTrain(o); err != nil {
			fmt.Fprintf(os.Stderr, "bench train: %v\n", err)
			os.Exit(1)
		}
		return
	}
	if os.Args[1] == "infer" {
		if err := runInfer(o); err != nil {
			fmt.Fprintf(os.Stderr, "bench infer: %v\n", err)
			os.Exit(1)
		}
		return
	}
	if os.Args[1] == "latency" {
		if err := runLatency(o); err != nil {
			fmt.Fprintf(os.Stderr, "bench latency: %v\n", err)
			os.Exit(1)
		}
		return
	}
	if os.Args[1] == "onnx" {
		if err := runONNX(o); err != nil {
			fmt.Fprintf(os.Stderr, "bench onnx: %v\n", err)
			os.Exit(1)
		}
		return
	}
	if os.Args[1] == "time99" {
		if err := runTime99(o); err != nil {
			fmt.Fprintf(os.Stderr, "bench time99: %v\n", err)
			os.Exit(1)
		}
		return
	}
	runKernels(o)
}

// runKernels prints the kernel table.
func runKernels(o options) {
	fmt.Printf("# fovea kernels on %s, %d threads (GOMAXPROCS), micro-kernel %s; GFLOP/s, median of %d\n",
		cpu.ISA(), o.threads, gemm.Default().Name, o.reps)
	why := o.why
	if why != "" {
		fmt.Printf("# PyTorch column skipped: %s\n", why)
	}
	fmt.Printf("%-38s %12s %18s %6s %11s %7s\n", "case", "fovea_GFLOPs", "torch_best_GFLOPs", "ratio", "torch_nchw", "x_nchw")
	for _, c := range kernelCases {
		if o.only != "" && !strings.Contains(c.name, o.only) {
			continue
		}
		fn := c.setup()
		f := timeFovea(fn, c.flops, o.reps)
		runtime.GC()
		torchCol, ratio, nchw, xNCHW := "-", "-", "-", "-"
		if why == "" {
			r, err := timeTorch(o.peer, c.peer, o.reps)
			if err != nil {
				torchCol = "error"
				fmt.Fprintf(os.Stderr, "%s: torch: %v\n", c.name, err)
			} else {
				torchCol = fmt.Sprintf("%.1f (%s)", r.Best, r.Layout)
				ratio = fmt.Sprintf("%.2f", f/r.Best)
				if r.NCHW > 0 {
					nchw, xNCHW = fmt.Sprintf("%.1f", r.NCHW), fmt.Sprintf("%.2f", f/r.NCHW)
				}
			}
		}
		fmt.Printf("%-38s %12.1f %18s %6s %11s %7s\n", c.name, f, torchCol, ratio, nchw, xNCHW)
	}
}
