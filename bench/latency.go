package main

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"time"
)

// latency times batch-1 inference, the serving case, of the infer
// table's four models (224×224×3, random seeded weights), in fovea, in
// PyTorch (torch_peer.py infer --batch 1, the faster layout) and in ONNX
// Runtime (ort_peer.sh --batch 1, a second export of the torchvision
// models fixed at batch 1), each with 2 threads. One line per model in
// milliseconds per image:
//
//	case  fovea_ms  fovea_p90  torch_ms  ratio  ort_ms  ort_p90  ratio_ort  rounds_ort
//
// In each turn, fovea's and ONNX Runtime's figures are the median and the
// 90th percentile of single calls, -reps runs of calls each at least
// 0.3 s long, after two untimed calls; PyTorch's is the median of
// 10×-reps single calls (the peer times one call a repetition). The
// sides take -rounds turns model by model (see rounds.go); a column is
// the median of its turns, and a ratio (the peer's ms over fovea's:
// above 1 fovea answers sooner) the median of the turns' ratios.

// latencyBatch is the batch the latency table times.
const latencyBatch = 1

// latency is a summary of single-call times, in milliseconds.
type latency struct {
	median, p90 float64
	calls       int
}

// summarize returns the median and the 90th percentile (nearest rank)
// of ms, which it sorts; ort/main.go takes the same ranks.
func summarize(ms []float64) latency {
	if len(ms) == 0 {
		return latency{}
	}
	slices.Sort(ms)
	n := len(ms)
	p90 := min(n-1, int(math.Ceil(0.9*float64(n)))-1)
	return latency{median: ms[n/2], p90: ms[p90], calls: n}
}

// measureLatency times single calls of fn: two untimed, then reps
// rounds of calls, each at least one call and minRun long. It stops at fn's first
// error.
func measureLatency(fn func() error, reps int, minRun time.Duration) (latency, error) {
	for range 2 {
		if err := fn(); err != nil {
			return latency{}, err
		}
	}
	var ms []float64
	for range max(reps, 1) {
		for start := time.Now(); ; {
			t := time.Now()
			if err := fn(); err != nil {
				return latency{}, err
			}
			ms = append(ms, float64(time.Since(t).Nanoseconds())/1e6)
			if time.Since(start) >= minRun {
				break
			}
		}
	}
	return summarize(ms), nil
}

// latencyRow is one line of the latency table. A peer's empty column
// holds "-" (not run) or a word saying why (torchCol, ortCol). The
// ratios are the median of the rounds' (peer's ms over fovea's), and
// rounds lists ONNX Runtime's.
type latencyRow struct {
	name            string
	fovea           latency
	torchMs         float64 // 0: see torchCol
	torchCol        string
	ort             latency // median 0: see ortCol
	ortCol          string
	ratio, ratioORT float64
	rounds          []float64
}

// latencyHeader is the latency table's column line.
func latencyHeader() string {
	return fmt.Sprintf("%-24s %9s %9s %17s %6s %8s %8s %9s  %s",
		"case", "fovea_ms", "fovea_p90", "torch_ms", "ratio", "ort_ms", "ort_p90", "ratio_ort", "rounds_ort")
}

// String formats the row under latencyHeader.
func (r latencyRow) String() string {
	torch, ratio := r.torchCol, "-"
	if torch == "" {
		torch = "-"
	}
	if r.torchMs > 0 {
		torch = fmt.Sprintf("%.2f", r.torchMs)
		if r.torchCol != "" {
			torch += " (" + r.torchCol + ")"
		}
		ratio = fmt.Sprintf("%.2f", r.ratio)
	}
	ort, ortP90, ratioORT := r.ortCol, "-", "-"
	if ort == "" {
		ort = "-"
	}
	if r.ort.median > 0 {
		ort, ortP90 = fmt.Sprintf("%.2f", r.ort.median), fmt.Sprintf("%.2f", r.ort.p90)
		ratioORT = fmt.Sprintf("%.2f", r.ratioORT)
	}
	return fmt.Sprintf("%-24s %9.2f %9.2f %17s %6s %8s %8s %9s  %s",
		r.name, r.fovea.median, r.fovea.p90, torch, ratio, ort, ortP90, ratioORT, roundList(r.rounds))
}

// torchLatencyReps is how many single calls the PyTorch peer times for
// the latency table's -reps.
func torchLatencyReps(reps int) int { return 10 * reps }

// runLatency prints the batch-1 latency table.
func runLatency(o options) error {
	names := inferNames(o, latencyBatch)
	fmt.Printf("# fovea batch-%d inference latency (no-grad tape), %d threads (GOMAXPROCS), %d×%d×3, random weights; ms per image,\n"+
		"# median and p90 of single calls over %d runs of ≥0.3 s, the median of %d turns with the peers\n",
		latencyBatch, o.threads, inferSize, inferSize, o.reps, o.rounds)
	fmt.Printf("# ratio = torch_ms / fovea_ms, ratio_ort = ort_ms / fovea_ms, medians of the turns' ratios: above 1 fovea answers sooner\n")
	if o.why != "" {
		fmt.Printf("# PyTorch column skipped: %s\n", o.why)
	}
	// The turns compare rates (calls a second); the p90s are kept aside.
	foveaP90, ortP90 := make([][]float64, len(names)), make([][]float64, len(names))
	layouts := make([]string, len(names))
	figs, why, err := inTurns(o, names, latencyBatch, sides{
		fovea: func(i int) (float64, error) {
			run, err := inferRunner(names[i], latencyBatch)
			if err != nil {
				return 0, fmt.Errorf("%s: %w", batchCaseName(names[i], latencyBatch), err)
			}
			l, err := measureLatency(func() error { _, err := run(); return err }, o.reps, 300*time.Millisecond)
			run = nil
			runtime.GC() // free this model's weights and buffers before a peer runs
			if err != nil {
				return 0, fmt.Errorf("%s: %w", batchCaseName(names[i], latencyBatch), err)
			}
			foveaP90[i] = append(foveaP90[i], l.p90)
			return 1000 / l.median, nil
		},
		torch: func(i int) float64 {
			if o.why != "" {
				return 0
			}
			v, layout := torchInfer(o, names[i], latencyBatch, torchLatencyReps(o.reps))
			if v > 0 {
				layouts[i] = layout
			}
			return v * latencyBatch
		},
		ort: func(i int, r ortRun) float64 {
			l, ok := r.lat[batchCaseName(names[i], latencyBatch)]
			if !ok {
				return 0
			}
			ortP90[i] = append(ortP90[i], l.p90)
			return 1000 / l.median
		},
	})
	if err != nil {
		return err
	}
	ms := func(rates []float64) float64 {
		if m := median(rates); m > 0 {
			return 1000 / m
		}
		return 0
	}
	fmt.Println(latencyHeader())
	for i, n := range names {
		f := figs[i]
		row := latencyRow{name: batchCaseName(n, latencyBatch),
			fovea:   latency{median: ms(f.fovea), p90: median(foveaP90[i])},
			torchMs: ms(f.torch), torchCol: layouts[i],
			ort:   latency{median: ms(f.ort), p90: median(ortP90[i])},
			ratio: median(f.ratios(f.torch)), ratioORT: median(f.ratios(f.ort)), rounds: f.ratios(f.ort)}
		if o.why == "" && row.torchMs == 0 {
			row.torchCol = "error"
		}
		if why == "" && row.ort.median == 0 {
			row.ortCol = "missing"
		}
		fmt.Println(row)
	}
	return nil
}
