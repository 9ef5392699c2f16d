package main

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestSummarize(t *testing.T) {
	ms := []float64{9, 1, 8, 2, 7, 3, 6, 4, 5, 10}
	if got, want := summarize(ms), (latency{median: 6, p90: 9, calls: 10}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if got := summarize([]float64{4}); got != (latency{median: 4, p90: 4, calls: 1}) {
		t.Errorf("one call: %+v", got)
	}
	if got := summarize([]float64{3, 1, 2}); got != (latency{median: 2, p90: 3, calls: 3}) {
		t.Errorf("three calls: %+v", got)
	}
	if got := summarize(nil); got != (latency{}) {
		t.Errorf("no calls: %+v", got)
	}
}

// TestMeasureLatency counts calls, not time: two warm-up calls and at
// least one a round, and it stops at the first error.
func TestMeasureLatency(t *testing.T) {
	n := 0
	l, err := measureLatency(func() error { n++; return nil }, 3, 0)
	if err != nil {
		t.Fatal(err)
	}
	if l.calls != 3 || n != 5 {
		t.Errorf("%d timed of %d calls, want 3 of 5", l.calls, n)
	}
	boom := errors.New("boom")
	n = 0
	if _, err := measureLatency(func() error { n++; return boom }, 3, 0); !errors.Is(err, boom) || n != 1 {
		t.Errorf("error %v after %d calls", err, n)
	}
}

func TestORTArgs(t *testing.T) {
	names := []string{"resnet50", "vgg16"}
	// Batch 8 is the peer's default and is not passed: older peers run it.
	if got, want := ortArgs(names, 3, 8), []string{"--threads", "2", "--reps", "3", "--names", "resnet50,vgg16"}; !slices.Equal(got, want) {
		t.Errorf("batch 8: %q", got)
	}
	if got := ortArgs(names, 3, 1); !slices.Equal(got[len(got)-2:], []string{"--batch", "1"}) {
		t.Errorf("batch 1: %q", got)
	}
}

func TestParseORTLatency(t *testing.T) {
	out := `{"case": "infer_resnet50_b1_224", "layout": "onnxruntime", "value": 40.5, "ms_median": 24.1, "ms_p90": 26.5, "calls": 40}` + "\n" +
		`{"case": "infer_vgg16_b8_224", "layout": "onnxruntime", "value": 5.5}` + "\n" +
		"ort_go_noise\n"
	lat := parseORTLatency([]byte(out))
	if len(lat) != 1 || lat["infer_resnet50_b1_224"] != (latency{median: 24.1, p90: 26.5, calls: 40}) {
		t.Errorf("latencies %+v", lat)
	}
	if r := parseORT([]byte(out)); r["infer_resnet50_b1_224"] != 40.5 || r["infer_vgg16_b8_224"] != 5.5 {
		t.Errorf("rates %v", r)
	}
	if n := batchCaseName("alexnet", latencyBatch); n != "infer_alexnet_b1_224" {
		t.Errorf("case name %q", n)
	}
}

// TestLatencyRow checks the table's columns line up with its header and
// the ratios are the peers' medians over fovea's.
func TestLatencyRow(t *testing.T) {
	full := latencyRow{name: "infer_resnet50_b1_224", fovea: latency{median: 20, p90: 25},
		torchMs: 30, torchCol: "cl", ort: latency{median: 25, p90: 27}, ratio: 1.5, ratioORT: 1.25, rounds: []float64{1.2, 1.25, 1.3}}
	f := strings.Fields(full.String())
	want := []string{"infer_resnet50_b1_224", "20.00", "25.00", "30.00", "(cl)", "1.50", "25.00", "27.00", "1.25", "1.20,1.25,1.30"}
	if !slices.Equal(f, want) {
		t.Errorf("full row %q, want %q", f, want)
	}
	if h, row := latencyHeader(), full.String(); strings.Index(h, "rounds_ort") != strings.Index(row, "1.20,") {
		t.Errorf("the rounds column starts at %d in the header, %d in the row:\n%s\n%s",
			strings.Index(h, "rounds_ort"), strings.Index(row, "1.20,"), h, row)
	}
	empty := latencyRow{name: "infer_vgg16_b1_224", fovea: latency{median: 100, p90: 110}, torchCol: "error", ortCol: "missing"}
	f = strings.Fields(empty.String())
	want = []string{"infer_vgg16_b1_224", "100.00", "110.00", "error", "-", "missing", "-", "-", "-"}
	if !slices.Equal(f, want) {
		t.Errorf("row without peers %q, want %q", f, want)
	}
	if f = strings.Fields((latencyRow{name: "x", fovea: latency{median: 1, p90: 1}}).String()); f[3] != "-" || f[5] != "-" {
		t.Errorf("skipped peers: %q", f)
	}
}

func TestModes(t *testing.T) {
	if !slices.Contains(modes, "latency") || !slices.Contains(modes, "infer") {
		t.Errorf("modes %v", modes)
	}
}

func TestInferNames(t *testing.T) {
	if got := inferNames(options{}, latencyBatch); !slices.Equal(got, inferModels) {
		t.Errorf("all: %v", got)
	}
	if got := inferNames(options{only: "b1_224"}, latencyBatch); len(got) != len(inferModels) {
		t.Errorf("-run b1_224 at batch 1: %v", got)
	}
	if got := inferNames(options{only: "b1_224"}, inferBatch); len(got) != 0 {
		t.Errorf("-run b1_224 at batch 8: %v", got)
	}
	if got := inferNames(options{only: "vgg"}, latencyBatch); !slices.Equal(got, []string{"vgg16"}) {
		t.Errorf("-run vgg: %v", got)
	}
}

// TestRoundsFigures checks a case's ratios pair each round's sides and
// skip the rounds a peer missed, and the median of an even count.
func TestRoundsFigures(t *testing.T) {
	var f sideFigures
	f.add(10, 5, 20)
	f.add(12, 0, 10)
	f.add(9, 9, 0)
	if got := f.ratios(f.torch); !slices.Equal(got, []float64{2, 1}) {
		t.Errorf("torch ratios %v, want [2 1]", got)
	}
	if got := f.ratios(f.ort); !slices.Equal(got, []float64{0.5, 1.2}) {
		t.Errorf("ort ratios %v, want [0.5 1.2]", got)
	}
	if m := median([]float64{4, 1, 0, 2}); m != 2 {
		t.Errorf("median of 4,1,2 (0 skipped) = %v, want 2", m)
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median of 1..4 = %v, want 2.5", m)
	}
	if m := median(nil); m != 0 {
		t.Errorf("median of none = %v", m)
	}
	if s := roundList([]float64{1, 1.234}); s != "1.00,1.23" {
		t.Errorf("roundList %q", s)
	}
}
