package kern

import (
	"fmt"

	"github.com/foveaml/fovea/internal/scratch"
)

// The bias of a dense layer is one row vector added to every row of its
// rows×cols output; its gradient is the column sums of the output's
// gradient. Convolutions fold both into their own kernels.

// biasLens panics unless m holds a whole number of rows of len(bias)
// values, and returns that number.
func biasLens(op string, m, bias []float32) int {
	c := len(bias)
	if c == 0 || len(m)%c != 0 {
		panic(fmt.Sprintf("kern.%s: %d values are not rows of %d", op, len(m), c))
	}
	return len(m) / c
}

// AddBias adds bias to every row of the matrix y, in place:
// y[r,c] += bias[c], with len(bias) columns.
func AddBias(y, bias []float32) {
	c := len(bias)
	forRows(biasLens("AddBias", y, bias), c, func(lo, hi int) { addRows(y[lo*c:hi*c], bias) })
}

// addRows adds bias to every row of y (rows of len(bias) values). Short
// rows are added in Go: a vector call per row of a few channels costs
// more than the adds.
func addRows(y, bias []float32) {
	c := len(bias)
	if c >= 32 {
		for r := 0; r+c <= len(y); r += c {
			row := y[r : r+c]
			vec.add(row, row, bias)
		}
		return
	}
	for r := 0; r+c <= len(y); r += c {
		row := y[r : r+c : r+c]
		for j, b := range bias {
			row[j] += b
		}
	}
}

// BiasGrad sets db[c] = Σ_r dy[r,c], the gradient of AddBias with respect
// to the bias, summing in float64; dy has len(db) columns. db is
// overwritten.
func BiasGrad(db, dy []float32) {
	c := len(db)
	sums := sumRows(biasLens("BiasGrad", dy, db), c, c, func(lo, hi int, acc []float64) {
		for r := lo; r < hi; r++ {
			for j, v := range dy[r*c : (r+1)*c] {
				acc[j] += float64(v)
			}
		}
	})
	defer scratch.Float64s.Put(sums)
	for j, s := range sums {
		db[j] = float32(s)
	}
}
