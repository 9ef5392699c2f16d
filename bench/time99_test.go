package main

import (
	"strings"
	"testing"
	"time"

	"github.com/foveaml/fovea/train"
)

func TestParseTime99(t *testing.T) {
	out := "warming up\n{\"seconds_to_99\": 41.5, \"epoch\": 4, \"final_top1\": 0.9903, \"epochs_run\": 4}\n"
	r, err := parseTime99([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if r.Seconds == nil || *r.Seconds != 41.5 || r.Epoch != 4 || r.FinalTop1 != 0.9903 || r.EpochsRun != 4 {
		t.Errorf("got %+v", r)
	}
	r, err = parseTime99([]byte(`{"seconds_to_99": null, "epoch": null, "final_top1": 0.985, "epochs_run": 12}`))
	if err != nil {
		t.Fatal(err)
	}
	if r.Seconds != nil || r.Epoch != 0 || r.EpochsRun != 12 {
		t.Errorf("not reached: got %+v", r)
	}
	for _, bad := range []string{"", "Traceback ...\n", `{"case": "x", "value": 3}`} {
		if _, err := parseTime99([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestStopAtTarget feeds the callback three epochs of test accuracies and
// checks that it times and stops at the first that reaches the target.
func TestStopAtTarget(t *testing.T) {
	start := time.Unix(1000, 0)
	now := start
	cb := &stopAtTarget{target: 0.99, start: start, now: func() time.Time { return now }}
	for i, acc := range []float64{0.97, 0.9899, 0.99} {
		now = now.Add(10 * time.Second)
		s := &train.State{Epoch: i + 1, Metrics: train.EpochMetrics{ValAcc: acc, HasVal: true}}
		if err := cb.OnEpochEnd(s); err != nil {
			t.Fatal(err)
		}
	}
	r := cb.res
	if r.Seconds == nil || *r.Seconds != 30 || r.Epoch != 3 || r.EpochsRun != 3 || r.FinalTop1 != 0.99 {
		t.Errorf("got %+v", r)
	}
	row := time99Row(r, nil)
	if f := strings.Fields(row); len(f) != 8 || f[0] != time99Name || f[1] != "30.0" || f[2] != "3" || f[4] != "-" || f[7] != "-" {
		t.Errorf("row %q", row)
	}
	secs := 45.0
	row = time99Row(r, &time99Result{Seconds: &secs, Epoch: 5, FinalTop1: 0.9901, EpochsRun: 5})
	if f := strings.Fields(row); f[4] != "45.0" || f[5] != "5" || f[6] != "0.9901" || f[7] != "1.50" {
		t.Errorf("row %q", row)
	}
	row = time99Row(time99Result{FinalTop1: 0.98, EpochsRun: 12}, nil)
	if f := strings.Fields(row); f[1] != "-" || f[2] != ">12" {
		t.Errorf("not reached: row %q", row)
	}
}
