package train

import (
	"fmt"
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

// tally accumulates the metrics of batches of logits.
type tally struct {
	classes          int
	lossSum          float64
	top1, top5, seen int
	confusion        [][]int
}

func newTally(classes int) *tally {
	t := &tally{classes: classes, confusion: make([][]int, classes)}
	for i := range t.confusion {
		t.confusion[i] = make([]int, classes)
	}
	return t
}

// add counts a batch: its logits [n × classes], labels and summed loss.
func (t *tally) add(logits []float32, labels []int32, lossSum float64) {
	t.lossSum += lossSum
	for i, y := range labels {
		row := logits[i*t.classes : (i+1)*t.classes]
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

func (t *tally) metrics() Metrics {
	m := Metrics{Count: t.seen, Confusion: t.confusion, PerClass: make([]float64, t.classes)}
	if t.seen > 0 {
		n := float64(t.seen)
		m.Loss, m.Top1, m.Top5 = t.lossSum/n, float64(t.top1)/n, float64(t.top5)/n
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
// accuracies and the confusion matrix.
func (m Metrics) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "examples %d  loss %.4f  top-1 %.4f  top-5 %.4f\n", m.Count, m.Loss, m.Top1, m.Top5)
	if len(m.PerClass) > 0 && len(m.PerClass) <= 20 {
		b.WriteString("per-class accuracy:")
		for c, a := range m.PerClass {
			fmt.Fprintf(&b, " %d:%.3f", c, a)
		}
		b.WriteString("\nconfusion (rows: true class, columns: predicted):\n")
		for _, row := range m.Confusion {
			for _, v := range row {
				fmt.Fprintf(&b, "%6d", v)
			}
			b.WriteByte('\n')
		}
	}
	return b.String()
}
