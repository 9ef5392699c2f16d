package ag

import (
	"testing"

	"github.com/foveaml/fovea/tensor"
)

func TestLRNGrad(t *testing.T) {
	r := newRand(9)
	for _, l := range []LRN{{Size: 5, Alpha: 1e-1, Beta: 0.75, K: 2}, {Size: 2, Alpha: 0.5, Beta: 0.6, K: 1}} {
		x := randn(r, 2, 3, 2, 7)
		checkGrads(t, func(tp *Tape) *Var { return tp.LRN(x, l) }, leaves(x), defaultFD)
	}
	tp := NewTape()
	if tp.LRN(Const(tensor.Zeros(1, 1, 1, 3)), LRN{}) != nil || tp.Err() == nil {
		t.Fatal("LRN of size 0: no error")
	}
}
