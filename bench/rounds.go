package main

import (
	"fmt"
	"os"
	"slices"
	"strings"
)

// Rounds: the infer and latency tables measure fovea and its peers in
// turns rather than in phases. Each of -rounds rounds measures every
// model with ONNX Runtime, PyTorch and fovea one after the other (fovea
// last in even rounds, first in odd ones), and a row's ratio is the
// median of its rounds' ratios. On a shared machine a slow minute then
// falls on both sides of one round's ratio instead of on one side of the
// table, and the spread of the rounds' ratios shows how much the machine
// moved.

// sideFigures are one case's figures over the rounds: a rate (images/s,
// or calls/s for latency) per round per side, 0 where a side did not
// run that round.
type sideFigures struct {
	fovea, torch, ort []float64
}

// add records one round.
func (s *sideFigures) add(fovea, torch, ort float64) {
	s.fovea = append(s.fovea, fovea)
	s.torch = append(s.torch, torch)
	s.ort = append(s.ort, ort)
}

// ratios returns fovea's rate over the peer's for each round in which
// both ran (above 1, fovea is faster).
func (s *sideFigures) ratios(peer []float64) []float64 {
	var r []float64
	for i, p := range peer {
		if p > 0 && s.fovea[i] > 0 {
			r = append(r, s.fovea[i]/p)
		}
	}
	return r
}

// median returns the median of xs (the mean of the middle two when
// their number is even), or 0 for none; xs is not changed.
func median(xs []float64) float64 {
	var v []float64
	for _, x := range xs {
		if x > 0 {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// roundList formats the rounds' ratios for the table's last column.
func roundList(r []float64) string {
	if len(r) == 0 {
		return "-"
	}
	s := make([]string, len(r))
	for i, x := range r {
		s[i] = fmt.Sprintf("%.2f", x)
	}
	return strings.Join(s, ",")
}

// sides measure one model of names (by index) for inTurns: fovea's
// rate, PyTorch's (0 when it is not run or failed) and ONNX Runtime's
// read from that model's run (0 when missing).
type sides struct {
	fovea func(i int) (float64, error)
	torch func(i int) float64
	ort   func(i int, r ortRun) float64
}

// inTurns runs o.rounds rounds over names at batch and returns each
// name's figures. In each round, for each name, ONNX Runtime measures
// that model alone (when its peer is there and has not failed), then
// PyTorch, then fovea; odd rounds run them in the opposite order. It
// prints ONNX Runtime's version once, and returns why its column is
// empty ("" when it is not), which it prints too.
func inTurns(o options, names []string, batch int, m sides) ([]sideFigures, string, error) {
	script, why := ortScript(o)
	figs := make([]sideFigures, len(names))
	version := ""
	for r := range o.rounds {
		for i, n := range names {
			var f, t, ort float64
			var err error
			steps := []func(){
				func() {
					if why != "" {
						return
					}
					run := runORT(script, []string{n}, o.reps, batch)
					if run.why != "" {
						why = run.why
						return
					}
					if version == "" && run.version != "" {
						version = run.version
						fmt.Printf("# %s\n", version)
					}
					ort = m.ort(i, run)
				},
				func() { t = m.torch(i) },
				func() { f, err = m.fovea(i) },
			}
			if r%2 == 1 {
				slices.Reverse(steps)
			}
			for _, step := range steps {
				step()
			}
			if err != nil {
				return nil, why, err
			}
			figs[i].add(f, t, ort)
			fmt.Fprintf(os.Stderr, "round %d/%d %s: fovea %.2f, torch %.2f, ort %.2f per second\n", r+1, o.rounds, n, f, t, ort)
		}
	}
	if why != "" {
		fmt.Printf("# ONNX Runtime column skipped: %s\n", why)
	}
	return figs, why, nil
}
