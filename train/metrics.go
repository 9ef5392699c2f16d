package train

import (
	"fmt"
	"strconv"
	"strings"
)

// Metrics are the results of Evaluate: mean loss, top-1 and top-5
// accuracy, accuracy per class and the confusion matrix
// (Confusion[true][predicted] counts examples).
type Metrics struct {
	Loss      float64
	Top1      float64
	Top5      float64
	Count     int
	PerClass  []float64
	Confusion [][]int
}

// Tally accumulates Evaluate's metrics batch by batch, for evaluation
// loops of one's own (test-time augmentation, say). The zero value is not
// ready: use NewTally.
type Tally struct {
	classes          int
	lossSum          float64
	top1, top5, seen int
	confusion        [][]int
}

// NewTally returns an empty tally for a dataset of classes classes.
func NewTally(classes int) *Tally {
	t := &Tally{}
	t.grow(classes)
	return t
}

// grow makes the confusion matrix at least n×n: a model may have more
// outputs than the dataset has classes.
func (t *Tally) grow(n int) {
	if n <= t.classes {
		return
	}
	for i := range t.confusion {
		t.confusion[i] = append(t.confusion[i], make([]int, n-t.classes)...)
	}
	for len(t.confusion) < n {
		t.confusion = append(t.confusion, make([]int, n))
	}
	t.classes = n
}

// Add counts a batch: scores holds one row per label (logits or
// probabilities: only their order matters), and lossSum is the batch's
// summed loss. Every label must index its row.
func (t *Tally) Add(scores []float32, labels []int32, lossSum float64) {
	if len(labels) == 0 {
		return
	}
	w := len(scores) / len(labels)
	t.grow(w)
	t.lossSum += lossSum
	for i, y := range labels {
		row := scores[i*w : (i+1)*w]
		pred, rank := argmax(row), 0
		for _, v := range row {
			if v > row[y] {
				rank++
			}
		}
		if rank == 0 {
			t.top1++
		}
		if rank < 5 {
			t.top5++
		}
		t.confusion[y][pred]++
		t.seen++
	}
}

// running returns the mean loss and top-1 accuracy so far, cheaply: what
// the progress bar shows after every batch.
func (t *Tally) running() (loss, top1 float64) {
	if t.seen == 0 {
		return 0, 0
	}
	return t.lossSum / float64(t.seen), float64(t.top1) / float64(t.seen)
}

// Metrics returns the metrics of everything added so far.
func (t *Tally) Metrics() Metrics {
	m := Metrics{Count: t.seen, Confusion: t.confusion, PerClass: make([]float64, t.classes)}
	m.Loss, m.Top1 = t.running()
	if t.seen > 0 {
		m.Top5 = float64(t.top5) / float64(t.seen)
	}
	for c, row := range t.confusion {
		total := 0
		for _, v := range row {
			total += v
		}
		if total > 0 {
			m.PerClass[c] = float64(row[c]) / float64(total)
		}
	}
	return m
}

func argmax(row []float32) int {
	best := 0
	for i, v := range row {
		if v > row[best] {
			best = i
		}
	}
	return best
}

// String formats the metrics as a short report with the per-class
// accuracies and the confusion matrix, classes by index (Report names
// them).
func (m Metrics) String() string { return m.Report(nil) }

// Report formats the metrics as String does, each class called by its
// entry in names (by its index where names has none): the per-class
// accuracies, and the confusion matrix with its rows labelled. Data of
// more than 20 classes gets the totals only.
func (m Metrics) Report(names []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "examples %d  loss %.4f  top-1 %.4f  top-5 %.4f\n", m.Count, m.Loss, m.Top1, m.Top5)
	if len(m.PerClass) == 0 || len(m.PerClass) > 20 {
		return b.String()
	}
	label := func(c int) string {
		if c < len(names) && names[c] != "" {
			return names[c]
		}
		return strconv.Itoa(c)
	}
	width := 0
	b.WriteString("per-class accuracy:")
	for c, a := range m.PerClass {
		sep := "  "
		if c == 0 {
			sep = " "
		}
		fmt.Fprintf(&b, "%s%s %.3f", sep, label(c), a)
		width = max(width, len([]rune(label(c))))
	}
	b.WriteString("\nconfusion (rows: true class, columns: predicted, in the same order):\n")
	for c, row := range m.Confusion {
		fmt.Fprintf(&b, "%-*s", width, label(c))
		for _, v := range row {
			fmt.Fprintf(&b, "%6d", v)
		}
		b.WriteByte('\n')
	}
	return b.String()
}
