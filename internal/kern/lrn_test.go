package kern

import (
	"fmt"
	"math"
	"testing"
)

// refLRN is LRN in float64, written from PyTorch's formulation: pad the
// squares with Size/2 zero channels before and (Size−1)/2 after, then
// average Size consecutive ones.
func refLRN(x []float64, d Dims, l LRN) []float64 {
	y := make([]float64, len(x))
	c := d.C
	before := l.Size / 2
	for r := 0; r < len(x); r += c {
		sq := make([]float64, c+l.Size)
		for j := range c {
			sq[before+j] = x[r+j] * x[r+j]
		}
		for j := range c {
			avg := 0.0
			for k := range l.Size {
				avg += sq[j+k]
			}
			avg /= float64(l.Size)
			y[r+j] = x[r+j] * math.Pow(float64(l.K)+float64(l.Alpha)*avg, -float64(l.Beta))
		}
	}
	return y
}

func TestLRN(t *testing.T) {
	forEachVec(t, func(t *testing.T) {
		lrns := []LRN{
			{5, 1e-4, 0.75, 2}, // AlexNet
			{3, 0.5, 0.5, 1},
			{4, 0.3, 0.6, 1.5}, // even size: the extra channel before
			{1, 1, 1, 1},
			{7, 2, 0.9, 0.5},
		}
		for i, l := range lrns {
			for j, d := range []Dims{{1, 1, 1, 1}, {2, 3, 5, 7}, {1, 2, 3, 16}, {3, 1, 2, 33}} {
				r := newRand(uint64(10*i + j))
				x := randSlice(r, d.Len(), -2, 2)
				name := fmt.Sprintf("LRN %+v %v", l, d)
				y, checkY := guardedFill(t, d.Len(), nan32)
				l.Forward(y, x, d)
				checkY()
				x64 := to64(x)
				assertClose(t, name, y, refLRN(x64, d, l), 2e-6)

				dy := randSlice(r, d.Len(), -1, 1)
				dx, checkDX := guardedFill(t, d.Len(), nan32)
				l.Backward(dx, dy, x, d)
				checkDX()
				g := numGrad(x64, 1e-5, func() float64 { return dot64(refLRN(x64, d, l), dy) })
				assertClose(t, name+" backward", dx, g, 1e-5)
			}
		}
	})
}
