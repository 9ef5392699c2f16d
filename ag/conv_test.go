package ag

import (
	"strings"
	"testing"

	"github.com/foveaml/fovea/tensor"
)

func TestConv2DGrad(t *testing.T) {
	r := newRand(1)
	for _, c := range []struct {
		name   string
		x, w   []int
		o      Conv
		noBias bool
	}{
		{"3x3 same", []int{2, 5, 5, 3}, []int{3, 3, 3, 4}, Pad(1), false},
		{"3x3 stride 2 odd", []int{2, 7, 5, 3}, []int{3, 3, 3, 5}, Conv{SH: 2, SW: 2, PadT: 1, PadB: 0, PadL: 1, PadR: 1}, false},
		{"1x1 no bias", []int{1, 4, 3, 6}, []int{1, 1, 6, 2}, Conv{}, true},
		{"2x3 stride 2x1", []int{2, 6, 7, 2}, []int{2, 3, 2, 3}, Conv{SH: 2, SW: 1, PadL: 2}, false},
		{"dilated", []int{1, 7, 7, 2}, []int{3, 3, 2, 3}, Conv{DH: 2, DW: 2, PadT: 1, PadB: 1, PadL: 2, PadR: 2}, false},
		{"5x5 stride 3 valid", []int{2, 11, 9, 1}, []int{5, 5, 1, 7}, Conv{SH: 3, SW: 3}, false},
		{"two groups", []int{2, 5, 6, 4}, []int{3, 3, 2, 6}, Conv{PadT: 1, PadB: 1, PadL: 1, PadR: 1, Groups: 2}, false},
		{"three groups strided", []int{1, 7, 7, 6}, []int{3, 3, 2, 3}, Conv{SH: 2, SW: 2, Groups: 3}, false},
		{"depthwise no bias", []int{1, 5, 5, 3}, []int{3, 3, 1, 3}, Conv{Groups: 3}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			x, w := randn(r, c.x...), randn(r, c.w...)
			var b *Var
			ls := leaves(x, w)
			if !c.noBias {
				b = randn(r, c.w[3])
				ls = append(ls, b)
			}
			checkGrads(t, func(tp *Tape) *Var { return tp.Conv2D(x, w, b, c.o) }, ls, defaultFD)
		})
	}
}

// A frozen filter gets no gradient, and neither does a constant input;
// the bias still does.
func TestConv2DFrozen(t *testing.T) {
	r := newRand(2)
	x := Const(tensor.RandNormal(r, 0, 1, 2, 5, 5, 2))
	w, b := randn(r, 3, 3, 2, 3), randn(r, 3)
	w.SetRequiresGrad(false)
	checkGrads(t, func(tp *Tape) *Var { return tp.Conv2D(x, w, b, Conv{SH: 2, SW: 2}) }, leaves(x, w, b), defaultFD)
	if w.Grad() != nil || x.Grad() != nil {
		t.Fatal("frozen filter or constant input got a gradient buffer")
	}
	b.SetRequiresGrad(false)
	w.SetRequiresGrad(true)
	checkGrads(t, func(tp *Tape) *Var { return tp.Conv2D(x, w, b, Conv{SH: 2, SW: 2}) }, leaves(x, w, b), defaultFD)
}

func TestConv2DErrors(t *testing.T) {
	x := Const(tensor.Zeros(1, 5, 5, 3))
	for _, c := range []struct {
		w, b []int
		o    Conv
		want []string
	}{
		{[]int{3, 3, 4, 8}, nil, Conv{}, []string{"[3 3 4 8]", "[1 5 5 3]"}},
		{[]int{3, 3, 3}, nil, Conv{}, []string{"[3 3 3]", "[1 5 5 3]"}},
		{[]int{3, 3, 3, 8}, []int{7}, Conv{}, []string{"[7]", "[3 3 3 8]"}},
		{[]int{7, 7, 3, 8}, nil, Conv{}, []string{"[7 7 3 8]", "[1 5 5 3]"}},
		{[]int{3, 3, 3, 8}, nil, Conv{PadT: -1}, []string{"negative"}},
	} {
		tp := NewTape()
		var b *Var
		if c.b != nil {
			b = Const(tensor.Zeros(c.b...))
		}
		if y := tp.Conv2D(x, Const(tensor.Zeros(c.w...)), b, c.o); y != nil {
			t.Fatalf("filter %v: no error", c.w)
		}
		for _, s := range c.want {
			if err := tp.Err(); err == nil || !strings.Contains(err.Error(), s) {
				t.Fatalf("filter %v: error %v does not mention %s", c.w, err, s)
			}
		}
	}
	tp := NewTape()
	if tp.Conv2D(Const(tensor.Zeros(5, 5, 3)), Const(tensor.Zeros(3, 3, 3, 1)), nil, Conv{}) != nil ||
		!strings.Contains(tp.Err().Error(), "[5 5 3]") {
		t.Fatalf("rank-3 input: %v", tp.Err())
	}
}

// A grouped convolution equals a dense one whose filter is zero between
// groups: output channel block g sees only input channel block g.
func TestConv2DGroupsBlockDiagonal(t *testing.T) {
	r := newRand(9)
	const g, cin, cout, k = 3, 6, 9, 3
	x, wg, b := randn(r, 2, 6, 5, cin), randn(r, k, k, cin/g, cout), randn(r, cout)
	full := tensor.Zeros(k, k, cin, cout)
	for tap := range k * k {
		for ci := range cin {
			for co := range cout {
				if ci/(cin/g) == co/(cout/g) {
					full.Data()[(tap*cin+ci)*cout+co] = wg.Value().Data()[(tap*(cin/g)+ci%(cin/g))*cout+co]
				}
			}
		}
	}
	tp := NewTape()
	o := Conv{SH: 2, SW: 1, PadT: 1, PadB: 1, PadL: 1, PadR: 1}
	want := tp.Conv2D(x, Param(full), b, o)
	o.Groups = g
	got := tp.Conv2D(x, wg, b, o)
	if err := tp.Err(); err != nil {
		t.Fatal(err)
	}
	for i, v := range want.Value().Data() {
		if d := got.Value().Data()[i] - v; d > 1e-5 || d < -1e-5 {
			t.Fatalf("[%d] = %v, want %v", i, got.Value().Data()[i], v)
		}
	}
	for _, bad := range []struct {
		w    *Var
		o    Conv
		want string
	}{
		{wg, Conv{Groups: 4}, "4 groups do not divide the input's 6 channels"},
		{randn(r, 3, 3, 6, 9), Conv{Groups: 3}, "want [KH KW 2 Cout]"},
		{randn(r, 3, 3, 2, 8), Conv{Groups: 3}, "Cout a multiple of 3 groups"},
	} {
		tp := NewTape()
		if tp.Conv2D(x, bad.w, nil, bad.o); tp.Err() == nil || !strings.Contains(tp.Err().Error(), bad.want) {
			t.Errorf("groups %d filter %v: error %v, want %q", bad.o.Groups, bad.w.Shape(), tp.Err(), bad.want)
		}
	}
}
