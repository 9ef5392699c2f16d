package kern

import (
	"fmt"
	"math"

	"github.com/foveaml/fovea/internal/cpu"
	"github.com/foveaml/fovea/internal/scratch"
)

// The functions below work on the rows of a rows×classes matrix stored
// row-major, as a classifier's logits are: every row is one example.

// softmaxLens panics unless every slice holds rows·classes values.
func softmaxLens(op string, rows, classes int, s ...[]float32) {
	for _, v := range s {
		if len(v) != rows*classes {
			panic(fmt.Sprintf("kern.%s: slice of length %d for %d×%d", op, len(v), rows, classes))
		}
	}
}

// expShifted sets e[j] = exp(x[j] − max x) and returns max x and Σ e in
// float64: the stable form, which cannot overflow.
func expShifted(e, x []float32) (m float32, sum float64) {
	m = float32(math.Inf(-1))
	for _, v := range x {
		m = max(m, v)
	}
	for j, v := range x {
		e[j] = exp32(v - m)
		sum += float64(e[j])
	}
	return m, sum
}

// Softmax sets every row of y to the softmax of the row of x:
//
//	y[r,j] = exp(x[r,j] − m) / Σ_k exp(x[r,k] − m),  m = max_k x[r,k]
//
// y may alias x.
func Softmax(y, x []float32, rows, classes int) {
	softmaxLens("Softmax", rows, classes, y, x)
	cpu.For(rows, rowGrain(8*classes), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			yr := y[r*classes : (r+1)*classes]
			_, sum := expShifted(yr, x[r*classes:(r+1)*classes])
			vec.scale(yr, float32(1/sum), yr)
		}
	})
}

// SoftmaxBackward sets dx to the gradient of Softmax from its output y:
//
//	dx[r,j] = y[r,j] · (dy[r,j] − Σ_k dy[r,k]·y[r,k])
//
// dx may alias dy.
func SoftmaxBackward(dx, dy, y []float32, rows, classes int) {
	softmaxLens("SoftmaxBackward", rows, classes, dx, dy, y)
	cpu.For(rows, rowGrain(3*classes), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			yr, dyr, dxr := y[r*classes:(r+1)*classes], dy[r*classes:(r+1)*classes], dx[r*classes:(r+1)*classes]
			dot := 0.0
			for j, v := range yr {
				dot += float64(v) * float64(dyr[j])
			}
			for j, v := range yr {
				dxr[j] = v * (dyr[j] - float32(dot))
			}
		}
	})
}

// LogSoftmax sets every row of y to the log-softmax of the row of x:
//
//	y[r,j] = x[r,j] − m − log Σ_k exp(x[r,k] − m),  m = max_k x[r,k]
//
// y may alias x.
func LogSoftmax(y, x []float32, rows, classes int) {
	softmaxLens("LogSoftmax", rows, classes, y, x)
	cpu.For(rows, rowGrain(8*classes), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xr, yr := x[r*classes:(r+1)*classes], y[r*classes:(r+1)*classes]
			m, sum := expShifted(yr, xr)
			// x − m is exact for the large entries; adding m to the log
			// first would round it at m's magnitude.
			ls := float32(math.Log(sum))
			for j, v := range xr {
				yr[j] = (v - m) - ls
			}
		}
	})
}

// LogSoftmaxBackward sets dx to the gradient of LogSoftmax from its
// output y:
//
//	dx[r,j] = dy[r,j] − exp(y[r,j]) · Σ_k dy[r,k]
//
// dx may alias dy.
func LogSoftmaxBackward(dx, dy, y []float32, rows, classes int) {
	softmaxLens("LogSoftmaxBackward", rows, classes, dx, dy, y)
	cpu.For(rows, rowGrain(8*classes), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			yr, dyr, dxr := y[r*classes:(r+1)*classes], dy[r*classes:(r+1)*classes], dx[r*classes:(r+1)*classes]
			sum := 0.0
			for _, g := range dyr {
				sum += float64(g)
			}
			for j, v := range yr {
				dxr[j] = dyr[j] - exp32(v)*float32(sum)
			}
		}
	})
}

// SoftmaxCrossEntropy returns the mean over the rows of logits (rows =
// len(labels), each of classes values) of the cross-entropy between
// softmax(logits) and the target distribution
//
//	t[j] = (1−ε)·[j = label] + ε/classes
//
// ε being smoothing (PyTorch's label_smoothing; 0 for plain one-hot). The
// loss of a row is −Σ_j t[j]·log softmax(logits)[j]. If dlogits is not
// nil it receives the gradient of the mean loss, (softmax − t)/rows.
//
// Labels come from data, so a label outside [0, classes), a smoothing
// outside [0, 1] or an empty batch is an error, reported before anything
// is written.
func SoftmaxCrossEntropy(dlogits, logits []float32, labels []int32, classes int, smoothing float32) (float32, error) {
	rows := len(labels)
	switch {
	case rows == 0:
		return 0, fmt.Errorf("kern.SoftmaxCrossEntropy: no rows")
	case !(smoothing >= 0 && smoothing <= 1):
		return 0, fmt.Errorf("kern.SoftmaxCrossEntropy: label smoothing %v is outside [0, 1]", smoothing)
	}
	for r, l := range labels {
		if l < 0 || int(l) >= classes {
			return 0, fmt.Errorf("kern.SoftmaxCrossEntropy: label %d of row %d is outside [0, %d)", l, r, classes)
		}
	}
	softmaxLens("SoftmaxCrossEntropy", rows, classes, logits)
	if dlogits != nil {
		softmaxLens("SoftmaxCrossEntropy", rows, classes, dlogits)
	}
	eps := float64(smoothing)
	off := eps / float64(classes) // target of every class but the label's
	loss := sumRows(rows, 8*classes, 1, func(lo, hi int, acc []float64) {
		var e []float32
		if dlogits == nil {
			buf := scratch.Get(classes)
			defer scratch.Put(buf)
			e = *buf
		}
		for r := lo; r < hi; r++ {
			xr := logits[r*classes : (r+1)*classes]
			if dlogits != nil {
				e = dlogits[r*classes : (r+1)*classes]
			}
			m, sum := expShifted(e, xr)
			lse := float64(m) + math.Log(sum)
			label := int(labels[r])
			// −Σ t·(x − lse) = lse − (1−ε)·x[label] − ε/classes·Σ x.
			sx := 0.0
			for _, v := range xr {
				sx += float64(v)
			}
			acc[0] += lse - (1-eps)*float64(xr[label]) - off*sx
			if dlogits != nil {
				inv := 1 / (sum * float64(rows))
				for j := range e {
					e[j] = float32(float64(e[j])*inv - off/float64(rows))
				}
				e[label] -= float32((1 - eps) / float64(rows))
			}
		}
	})
	defer scratch.Float64s.Put(loss)
	return float32(loss[0] / float64(rows)), nil
}
