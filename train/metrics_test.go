package train

import (
	"math"
	"strings"
	"testing"
)

func TestTally(t *testing.T) {
	tl := NewTally(6)
	logits := []float32{
		5, 1, 0, 0, 0, 0, // true 0: top-1
		0, 1, 2, 3, 4, 5, // true 1: rank 4 → top-5 only
		0, 1, 2, 3, 4, 5, // true 0: rank 5 → neither
	}
	tl.Add(logits, []int32{0, 1, 0}, 3)
	m := tl.Metrics()
	if m.Count != 3 || math.Abs(m.Loss-1) > 1e-12 {
		t.Fatalf("count %d loss %v", m.Count, m.Loss)
	}
	if math.Abs(m.Top1-1.0/3) > 1e-12 || math.Abs(m.Top5-2.0/3) > 1e-12 {
		t.Fatalf("top-1 %v top-5 %v", m.Top1, m.Top5)
	}
	if m.Confusion[0][0] != 1 || m.Confusion[0][5] != 1 || m.Confusion[1][5] != 1 {
		t.Fatalf("confusion %v", m.Confusion)
	}
	if m.PerClass[0] != 0.5 || m.PerClass[1] != 0 {
		t.Fatalf("per class %v", m.PerClass)
	}
}

// TestTallyWiderScores checks rows wider than the dataset's classes (a
// model with spare outputs): rows are read at their own width and the
// confusion matrix grows to cover every prediction.
func TestTallyWiderScores(t *testing.T) {
	tl := NewTally(2)
	scores := []float32{
		0, 9, 1, 2, // true 1, predicted 1
		3, 0, 1, 7, // true 0, predicted 3
	}
	tl.Add(scores, []int32{1, 0}, 1)
	m := tl.Metrics()
	if m.Top1 != 0.5 || len(m.Confusion) != 4 || m.Confusion[1][1] != 1 || m.Confusion[0][3] != 1 {
		t.Fatalf("metrics %+v", m)
	}
}

// A bar left mid-line by a stopped epoch is ended by finish; a finished
// epoch's line is not ended twice.
func TestProgressFinish(t *testing.T) {
	var b strings.Builder
	p := &progress{w: &b, tty: true, epochs: 2}
	p.beginEpoch(0, 10)
	p.update(3, 96, 1.5, 0.4)
	p.finish()
	if !strings.HasSuffix(b.String(), "\x1b[K\n") {
		t.Fatalf("bar not ended: %q", b.String())
	}
	p.beginEpoch(1, 10)
	p.update(10, 320, 1.0, 0.6)
	p.endEpoch(320, EpochMetrics{Loss: 1, Acc: 0.6, Seconds: 1})
	n := len(b.String())
	p.finish()
	if len(b.String()) != n {
		t.Fatalf("finish after a finished epoch wrote %q", b.String()[n:])
	}
}

// TestReportNames checks that the report calls classes by name, by
// index where no name is given, and labels each row of the confusion
// matrix.
func TestReportNames(t *testing.T) {
	m := Metrics{Count: 4, Top1: 0.5, PerClass: []float64{1, 0, 0.5},
		Confusion: [][]int{{2, 0, 0}, {1, 0, 0}, {0, 0, 1}}}
	r := m.Report([]string{"cat", "tiger_cat"})
	for _, want := range []string{"per-class accuracy: cat 1.000  tiger_cat 0.000  2 0.500\n",
		"\ncat           2     0     0\n", "\ntiger_cat     1     0     0\n", "\n2             0     0     1\n"} {
		if !strings.Contains(r, want) {
			t.Errorf("Report lacks %q:\n%s", want, r)
		}
	}
	if s := m.String(); !strings.Contains(s, "per-class accuracy: 0 1.000  1 0.000  2 0.500\n") {
		t.Errorf("String:\n%s", s)
	}
}
