package ag

import (
	"testing"

	"github.com/foveaml/fovea/tensor"
)

func TestDropoutGrad(t *testing.T) {
	x := randn(newRand(11), 4, 50)
	checkGrads(t, func(tp *Tape) *Var { return tp.Dropout(x, 0.3, 42, true) }, leaves(x), defaultFD)
}

func TestDropoutModes(t *testing.T) {
	x := Param(tensor.Full(1, 10000))
	tp := NewTape()
	if tp.Dropout(x, 0.5, 1, false) != x || tp.Dropout(x, 0, 1, true) != x {
		t.Fatal("inference dropout is not the identity")
	}
	y := tp.Dropout(x, 0.25, 1, true)
	kept := 0
	for _, v := range y.Value().Data() {
		switch v {
		case 0:
		case 1 / 0.75:
			kept++
		default:
			t.Fatalf("dropout value %v", v)
		}
	}
	if kept < 7300 || kept > 7700 {
		t.Fatalf("kept %d of 10000 with p = 0.25", kept)
	}
	if tp.Dropout(x, 1.5, 1, true) != nil || tp.Err() == nil {
		t.Fatal("probability 1.5: no error")
	}
}
