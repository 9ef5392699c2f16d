// Command ortpeer is fovea's ONNX Runtime peer: it times torchvision
// models exported to ONNX (export_onnx.py) with ONNX Runtime, called from
// Go through github.com/yalue/onnxruntime_go (cgo and dlopen). It is its
// own module, outside fovea's build; ort_peer.sh fetches the library,
// exports the models and builds it.
//
// For each model it loads <models>/<name>.onnx (batch 8) or
// <name>.b<N>.onnx (-batch N), checks the output against PyTorch's
// (<name>.ref.f32, the first N rows at another batch), and prints one JSON
// line on stdout:
//
//	{"case": "infer_<name>_b<N>_224", "layout": "onnxruntime", "value": img/s, ...}
//
// At batch 8 the value is the median of -reps timed runs of two calls
// (one for vgg16). At any other batch it times single calls as fovea's
// bench latency does (-reps runs of calls, each at least 0.3 s, after the
// warm-up) and adds their median and 90th percentile (nearest rank) in
// milliseconds; the value is then images/s at the median.
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	ort "github.com/yalue/onnxruntime_go"
)

func readF32(path string) []float32 {
	b, err := os.ReadFile(path)
	check(err)
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// median returns the median of sorted (the mean of the middle two when
// their number is even).
func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 0 {
		return (sorted[n/2-1] + sorted[n/2]) / 2
	}
	return sorted[n/2]
}

// singleCalls times single runs: reps runs of calls, each at least
// 0.3 s, and returns the calls' milliseconds, sorted.
func singleCalls(run func() error, reps int) []float64 {
	var ms []float64
	for range max(reps, 1) {
		for start := time.Now(); ; {
			t := time.Now()
			check(run())
			ms = append(ms, float64(time.Since(t).Nanoseconds())/1e6)
			if time.Since(start) >= 300*time.Millisecond {
				break
			}
		}
	}
	sort.Float64s(ms)
	return ms
}

func main() {
	lib := flag.String("lib", "", "libonnxruntime.so path")
	dir := flag.String("models", "", "dir with <name>.onnx (or <name>.b<N>.onnx), input.f32, <name>.ref.f32")
	names := flag.String("names", "resnet50,vgg16,alexnet,googlenet", "comma-separated models")
	threads := flag.Int("threads", 2, "intra-op threads (inter-op = 1, sequential executor)")
	reps := flag.Int("reps", 5, "timed repetitions")
	warmup := flag.Int("warmup", 2, "untimed warm-up runs")
	batch := flag.Int("batch", 8, "batch the models were exported at (1..8)")
	spin := flag.String("spin", "", "session.intra_op.allow_spinning: \"\" = ORT default (1), or 0/1")
	flag.Parse()
	if *batch < 1 || *batch > 8 {
		check(fmt.Errorf("-batch %d: want 1 to 8 (input.f32 holds 8 images)", *batch))
	}

	ort.SetSharedLibraryPath(*lib)
	check(ort.InitializeEnvironment())
	defer ort.DestroyEnvironment()
	fmt.Fprintf(os.Stderr, "# onnxruntime %s, go-binding yalue/onnxruntime_go v1.27.0, intra_op_threads=%d inter_op=1 sequential, graph_opt=ALL, spinning=%q\n",
		ort.GetVersion(), *threads, *spin)

	bs := *batch
	in := readF32(filepath.Join(*dir, "input.f32"))[:bs*3*224*224]
	input, err := ort.NewTensor(ort.NewShape(int64(bs), 3, 224, 224), in)
	check(err)
	defer input.Destroy()
	output, err := ort.NewEmptyTensor[float32](ort.NewShape(int64(bs), 1000))
	check(err)
	defer output.Destroy()

	for _, name := range strings.Split(*names, ",") {
		opts, err := ort.NewSessionOptions()
		check(err)
		check(opts.SetIntraOpNumThreads(*threads))
		check(opts.SetInterOpNumThreads(1))
		check(opts.SetExecutionMode(ort.ExecutionModeSequential))
		check(opts.SetGraphOptimizationLevel(ort.GraphOptimizationLevelEnableAll))
		if *spin != "" {
			check(opts.AddSessionConfigEntry("session.intra_op.allow_spinning", *spin))
		}
		file := name + ".onnx"
		if bs != 8 {
			file = fmt.Sprintf("%s.b%d.onnx", name, bs)
		}
		t0 := time.Now()
		sess, err := ort.NewAdvancedSession(filepath.Join(*dir, file), []string{"input"}, []string{"output"},
			[]ort.Value{input}, []ort.Value{output}, opts)
		check(err)
		load := time.Since(t0)
		opts.Destroy()

		for i := 0; i < *warmup; i++ {
			check(sess.Run())
		}
		// maxd: worst |ort - torch|; spread: how much the torch logits
		// vary with the input (image b vs image 0), so maxd/spread says
		// whether the check means anything (random-init googlenet and
		// alexnet logits are close to the classifier's bias).
		ref := readF32(filepath.Join(*dir, name+".ref.f32"))[:bs*1000]
		got := output.GetData()
		maxd, spread := 0.0, 0.0
		for i := range ref {
			maxd = math.Max(maxd, math.Abs(float64(got[i]-ref[i])))
			spread = math.Max(spread, math.Abs(float64(ref[i]-ref[i%1000])))
		}
		if bs != 8 {
			ms := singleCalls(sess.Run, *reps)
			sess.Destroy()
			med := median(ms)
			p90 := ms[min(len(ms)-1, int(math.Ceil(0.9*float64(len(ms))))-1)]
			fmt.Printf("{\"case\": \"infer_%s_b%d_224\", \"layout\": \"onnxruntime\", \"value\": %.3f, \"ms_median\": %.3f, \"ms_p90\": %.3f, \"calls\": %d, \"unit\": \"img/s\", \"threads\": %d}\n",
				name, bs, 1000*float64(bs)/med, med, p90, len(ms), *threads)
			fmt.Fprintf(os.Stderr, "ort_go_infer_%s_b%d_t%d_ms %8.2f ms median, p90 %.2f (%d calls; load %.2fs; max|ort-torch| %.2g vs input-dependent logit spread %.2g)\n",
				name, bs, *threads, med, p90, len(ms), load.Seconds(), maxd, spread)
			continue
		}
		inner := 2
		if name == "vgg16" {
			inner = 1
		}
		rates := make([]float64, *reps)
		for r := range rates {
			t := time.Now()
			for range inner {
				check(sess.Run())
			}
			rates[r] = float64(bs*inner) / time.Since(t).Seconds()
		}
		sess.Destroy()
		sort.Float64s(rates)
		med := median(rates)
		fmt.Printf("{\"case\": \"infer_%s_b%d_224\", \"layout\": \"onnxruntime\", \"value\": %.3f, \"min\": %.3f, \"max\": %.3f, \"unit\": \"img/s\", \"threads\": %d}\n",
			name, bs, med, rates[0], rates[len(rates)-1], *threads)
		fmt.Fprintf(os.Stderr, "ort_go_infer_%s_b%d_t%d_img_per_s %10.2f img/s (min %.2f max %.2f, n=%d) (%.3f s/batch median; load %.2fs; max|ort-torch| %.2g vs input-dependent logit spread %.2g)\n",
			name, bs, *threads, med, rates[0], rates[len(rates)-1], len(rates), float64(bs)/med, load.Seconds(), maxd, spread)
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	fmt.Fprintf(os.Stderr, "ort_go_peak_rss_MiB %.1f\n", float64(ru.Maxrss)/1024)
}
