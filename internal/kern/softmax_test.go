package kern

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// refLogSoftmax is log-softmax of one row in float64.
func refLogSoftmax(x []float64) []float64 {
	m := math.Inf(-1)
	for _, v := range x {
		m = max(m, v)
	}
	s := 0.0
	for _, v := range x {
		s += math.Exp(v - m)
	}
	y := make([]float64, len(x))
	for j, v := range x {
		y[j] = v - m - math.Log(s)
	}
	return y
}

// refRows applies a row function to every row of a rows×classes matrix.
func refRows(x []float64, classes int, f func([]float64) []float64) []float64 {
	var y []float64
	for r := 0; r < len(x); r += classes {
		y = append(y, f(x[r:r+classes])...)
	}
	return y
}

func refSoftmax(x []float64) []float64 {
	y := refLogSoftmax(x)
	for j, v := range y {
		y[j] = math.Exp(v)
	}
	return y
}

var softmaxShapes = [][2]int{{1, 1}, {1, 2}, {3, 7}, {5, 10}, {2, 31}, {4, 100}, {2, 1000}, {300, 3}}

func TestSoftmax(t *testing.T) {
	forEachVec(t, func(t *testing.T) {
		for i, sh := range softmaxShapes {
			rows, classes := sh[0], sh[1]
			r := newRand(uint64(i))
			x := randSlice(r, rows*classes, -5, 5)
			if i%2 == 1 {
				for j := range x {
					x[j] += 1000 // large logits: the shift must keep exp finite
				}
			}
			dy := randSlice(r, rows*classes, -1, 1)
			x64 := to64(x)
			for _, c := range []struct {
				name string
				fwd  func(y, x []float32, rows, classes int)
				bwd  func(dx, dy, y []float32, rows, classes int)
				ref  func([]float64) []float64
			}{
				{"Softmax", Softmax, SoftmaxBackward, refSoftmax},
				{"LogSoftmax", LogSoftmax, LogSoftmaxBackward, refLogSoftmax},
			} {
				name := fmt.Sprintf("%s %d×%d", c.name, rows, classes)
				y, checkY := guardedFill(t, rows*classes, nan32)
				c.fwd(y, x, rows, classes)
				checkY()
				assertClose(t, name, y, refRows(x64, classes, c.ref), 1e-6)

				dx, checkDX := guardedFill(t, rows*classes, nan32)
				c.bwd(dx, dy, y, rows, classes)
				checkDX()
				if rows*classes > 500 {
					continue
				}
				g := numGrad(x64, 1e-5, func() float64 { return dot64(refRows(x64, classes, c.ref), dy) })
				assertClose(t, name+" backward", dx, g, 1e-5)
			}
		}
	})
}

// refCrossEntropy is the mean smoothed cross-entropy in float64.
func refCrossEntropy(x []float64, labels []int32, classes int, eps float64) float64 {
	loss := 0.0
	for r, l := range labels {
		lp := refLogSoftmax(x[r*classes : (r+1)*classes])
		for j, v := range lp {
			t := eps / float64(classes)
			if j == int(l) {
				t += 1 - eps
			}
			loss -= t * v
		}
	}
	return loss / float64(len(labels))
}

func TestSoftmaxCrossEntropy(t *testing.T) {
	for i, sh := range softmaxShapes {
		rows, classes := sh[0], sh[1]
		r := newRand(uint64(i))
		x := randSlice(r, rows*classes, -5, 5)
		labels := make([]int32, rows)
		for j := range labels {
			labels[j] = int32(r.IntN(classes))
		}
		for _, eps := range []float32{0, 0.1, 1} {
			name := fmt.Sprintf("SoftmaxCrossEntropy %d×%d ε=%v", rows, classes, eps)
			dx, check := guardedFill(t, rows*classes, nan32)
			loss, err := SoftmaxCrossEntropy(dx, x, labels, classes, eps)
			check()
			if err != nil {
				t.Fatal(err)
			}
			x64 := to64(x)
			want := refCrossEntropy(x64, labels, classes, float64(eps))
			if !closeTo(float64(loss), want, 1e-6) {
				t.Fatalf("%s: loss %v, want %v", name, loss, want)
			}
			noGrad, err := SoftmaxCrossEntropy(nil, x, labels, classes, eps)
			if err != nil || noGrad != loss {
				t.Fatalf("%s: without gradient %v, %v; want %v", name, noGrad, err, loss)
			}
			if rows*classes > 500 {
				continue
			}
			g := numGrad(x64, 1e-5, func() float64 { return refCrossEntropy(x64, labels, classes, float64(eps)) })
			assertClose(t, name+" gradient", dx, g, 1e-6)
		}
	}
}

func TestSoftmaxCrossEntropyErrors(t *testing.T) {
	x := make([]float32, 6)
	for _, c := range []struct {
		labels []int32
		eps    float32
		want   string
	}{
		{[]int32{0, 3}, 0, "label 3 of row 1 is outside [0, 3)"},
		{[]int32{-1, 0}, 0, "label -1 of row 0"},
		{[]int32{0, 1}, 1.5, "smoothing 1.5"},
		{[]int32{0, 1}, nan32, "smoothing NaN"},
		{nil, 0, "no rows"},
	} {
		dx := []float32{7, 7, 7, 7, 7, 7}
		_, err := SoftmaxCrossEntropy(dx, x[:3*len(c.labels)], c.labels, 3, c.eps)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("labels %v ε %v: error %v, want one saying %q", c.labels, c.eps, err, c.want)
		}
		for _, v := range dx {
			if v != 7 {
				t.Fatalf("labels %v: dlogits written before the error", c.labels)
			}
		}
	}
}
