package ag

import (
	"math"
	"sync"
	"testing"

	"github.com/foveaml/fovea/tensor"
)

// TestLocalLeafGradsMatchOneTape splits a batch over two tapes that
// backpropagate at once into the same parameters, each loss weighted by
// its share of the batch; after AddLeafGrads the parameters' gradients
// must equal those of one tape on the whole batch.
func TestLocalLeafGradsMatchOneTape(t *testing.T) {
	r := newRand(9)
	const n = 6
	x := tensor.RandNormal(r, 0, 1, n, 8, 8, 2)
	w := param(r, 0.3, 3, 3, 2, 4)
	b := Param(tensor.Zeros(4))
	d := param(r, 0.3, 4*4*4, 3)
	y := labels(n, 3)
	params := []*Var{w, b, d}
	loss := func(tp *Tape, xs *tensor.Tensor, ys []int32) *Var {
		h := tp.MaxPool(tp.ReLU(tp.Conv2D(Const(xs), w, b, Pad(1))), Pool2D{KH: 2, KW: 2})
		return tp.SoftmaxCrossEntropy(tp.Dense(tp.Flatten(h), d, nil), ys, 0)
	}

	tp := NewTape()
	if err := tp.Backward(loss(tp, x, y)); err != nil {
		t.Fatal(err)
	}
	tp.Reset()
	want := make([][]float32, len(params))
	for i, p := range params {
		want[i] = append([]float32(nil), p.Grad().Data()...)
		p.ZeroGrad()
	}

	for step := 0; step < 2; step++ { // the second step reuses the tapes' buffers
		tapes := []*Tape{NewTape(), NewTape()}
		var wg sync.WaitGroup
		for i, part := range [][2]int{{0, 2}, {2, n}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tp := tapes[i]
				tp.SetLocalLeafGrads(true)
				xs, _ := x.Slice(part[0], part[1])
				l := tp.Scale(loss(tp, xs, y[part[0]:part[1]]), float32(part[1]-part[0])/n)
				if err := tp.Backward(l); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		for _, p := range params {
			if p.Grad() != nil {
				for _, v := range p.Grad().Data() {
					if v != 0 {
						t.Fatal("a local-gradient Backward wrote into a parameter")
					}
				}
			}
		}
		for _, tp := range tapes {
			tp.AddLeafGrads()
			tp.Reset()
		}
		for i, p := range params {
			for j, v := range p.Grad().Data() {
				if math.Abs(float64(v-want[i][j])) > 1e-5*(1+math.Abs(float64(want[i][j]))) {
					t.Fatalf("step %d, param %d[%d]: two tapes %v, one tape %v", step, i, j, v, want[i][j])
				}
			}
			p.ZeroGrad()
		}
	}
}
