package ag

import (
	"strings"
	"testing"

	"github.com/foveaml/fovea/tensor"
)

var poolCases = []struct {
	name string
	x    []int
	p    Pool2D
}{
	{"2x2", []int{2, 4, 6, 3}, Pool2D{KH: 2, KW: 2}},
	{"3x3 stride 2 pad 1", []int{2, 7, 5, 2}, Pool2D{KH: 3, KW: 3, SH: 2, SW: 2, PadT: 1, PadB: 1, PadL: 1, PadR: 1}},
	{"3x3 stride 2 ceil", []int{1, 6, 8, 3}, Pool2D{KH: 3, KW: 3, SH: 2, SW: 2, Ceil: true}},
	{"2x3 stride 1x2 exclude pad", []int{1, 5, 7, 2}, Pool2D{KH: 2, KW: 3, SH: 1, SW: 2, PadL: 1, PadR: 1, ExcludePad: true}},
}

func TestMaxPoolGrad(t *testing.T) {
	r := newRand(5)
	for _, c := range poolCases {
		t.Run(c.name, func(t *testing.T) {
			x := spaced(r, 0.05, c.x...)
			checkGrads(t, func(tp *Tape) *Var { return tp.MaxPool(x, c.p) }, leaves(x), defaultFD)
		})
	}
	x := spaced(r, 0.05, 1, 7, 7, 2)
	dil := Pool2D{KH: 2, KW: 2, SH: 1, SW: 1, DH: 2, DW: 2}
	checkGrads(t, func(tp *Tape) *Var { return tp.MaxPool(x, dil) }, leaves(x), defaultFD)
}

func TestAvgPoolGrad(t *testing.T) {
	r := newRand(6)
	for _, c := range poolCases {
		t.Run(c.name, func(t *testing.T) {
			x := randn(r, c.x...)
			checkGrads(t, func(tp *Tape) *Var { return tp.AvgPool(x, c.p) }, leaves(x), defaultFD)
		})
	}
}

func TestGlobalAvgPoolGrad(t *testing.T) {
	x := randn(newRand(7), 3, 3, 5, 4)
	checkGrads(t, func(tp *Tape) *Var { return tp.GlobalAvgPool(x) }, leaves(x), defaultFD)
	tp := NewTape()
	if y := tp.GlobalAvgPool(x); y.Value().Rank() != 2 || y.Value().Dim(1) != 4 {
		t.Fatalf("GlobalAvgPool shape %v, want [3 4]", y.Shape())
	}
}

func TestPoolErrors(t *testing.T) {
	x := Const(tensor.Zeros(1, 3, 3, 2))
	for _, c := range []struct {
		f    func(tp *Tape) *Var
		want []string
	}{
		{func(tp *Tape) *Var { return tp.MaxPool(x, Pool2D{KH: 4, KW: 4}) }, []string{"[1 3 3 2]", "KH:4"}},
		{func(tp *Tape) *Var { return tp.AvgPool(x, Pool2D{KH: 2, KW: 2, DH: 2}) }, []string{"dilate"}},
		{func(tp *Tape) *Var { return tp.MaxPool(x, Pool2D{KH: 0, KW: 2}) }, []string{"KH:0"}},
		{func(tp *Tape) *Var { return tp.GlobalAvgPool(Const(tensor.Zeros(3, 2))) }, []string{"[3 2]"}},
	} {
		tp := NewTape()
		c.f(tp)
		for _, s := range c.want {
			if err := tp.Err(); err == nil || !strings.Contains(err.Error(), s) {
				t.Fatalf("error %v does not mention %s", err, s)
			}
		}
	}
}
