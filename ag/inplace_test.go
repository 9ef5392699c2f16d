package ag

import (
	"slices"
	"strings"
	"testing"

	"github.com/foveaml/fovea/tensor"
)

// gradsOf backpropagates a fixed random projection of f's output on a
// fresh tape and returns copies of the leaves' gradients.
func gradsOf(t *testing.T, f func(tp *Tape) *Var, leaves []*Var) [][]float32 {
	t.Helper()
	ZeroGrads(leaves...)
	tp := NewTape()
	backpropRandom(t, tp, f, newRand(7))
	gs := make([][]float32, len(leaves))
	for i, v := range leaves {
		gs[i] = slices.Clone(v.Grad().Data())
	}
	tp.Reset()
	return gs
}

// residualUnit is a residual block's second half on x: conv – batch norm
// – x added – ReLU, x also feeding the convolution (fan-out), with the
// in-place ops or the plain ones.
func residualUnit(x, w, g, b *Var, s *BatchNormStats, inPlace bool) func(tp *Tape) *Var {
	return func(tp *Tape) *Var {
		h := tp.BatchNorm(tp.Conv2D(x, w, nil, Pad(1)), g, b, s, true)
		if inPlace {
			return tp.Scale(tp.ReLUInPlace(tp.AddInPlace(h, x)), 1)
		}
		return tp.Scale(tp.ReLU(tp.Add(h, x)), 1)
	}
}

// TestInPlaceGrads checks the in-place ops against finite differences
// and against their plain forms, bit for bit.
func TestInPlaceGrads(t *testing.T) {
	r := newRand(21)
	x, w := spaced(r, 0.05, 2, 4, 4, 3), randn(r, 3, 3, 3, 3)
	g, b := randn(r, 3), randn(r, 3)
	s := NewBatchNormStats(3)
	ls := leaves(x, w, g, b)
	checkGrads(t, residualUnit(x, w, g, b, s, true), ls, defaultFD)
	plain, inPlace := gradsOf(t, residualUnit(x, w, g, b, s, false), ls), gradsOf(t, residualUnit(x, w, g, b, s, true), ls)
	for i := range plain {
		if !slices.Equal(plain[i], inPlace[i]) {
			t.Errorf("leaf %d: the in-place ops' gradient differs from the plain ops'", i)
		}
	}
}

// TestInPlaceWritesOver checks when the in-place ops write over their
// input: only an op output that nothing has read and whose op does not
// read it in backward. A Var written over is dead.
func TestInPlaceWritesOver(t *testing.T) {
	x := Param(tensor.Full(-1, 2, 3))
	tp := NewTape()
	shares := func(a, b *Var) bool { return &a.Value().Data()[0] == &b.Value().Data()[0] }

	h := tp.Scale(x, 2)
	y := tp.ReLUInPlace(h)
	if y.Value().Data()[0] != 0 {
		t.Fatalf("ReLUInPlace(-2) = %v", y.Value().Data()[0])
	}
	if &y.val.Data()[0] != &h.val.Data()[0] {
		t.Errorf("ReLUInPlace did not write over a Scale's unread output")
	}
	if tp.Add(h, y) != nil || !strings.Contains(tp.Err().Error(), "by ReLUInPlace") {
		t.Errorf("using a Var written over: error %v; want one naming ReLUInPlace", tp.Err())
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Errorf("Value of a Var written over did not panic")
			}
		}()
		h.Value()
	}()
	tp.Reset()

	// Not written over: a leaf, an output another op has read, an
	// activation's output (its backward reads it).
	if y := tp.ReLUInPlace(x); shares(y, x) {
		t.Errorf("ReLUInPlace wrote over a leaf")
	}
	h = tp.Scale(x, 2)
	tp.Scale(h, 3)
	if y := tp.ReLUInPlace(h); shares(y, h) {
		t.Errorf("ReLUInPlace wrote over a value another op had read")
	}
	a := tp.Sigmoid(x)
	if y := tp.AddInPlace(a, x); shares(y, a) {
		t.Errorf("AddInPlace wrote over a Sigmoid's output, which its backward reads")
	}
	h = tp.Scale(x, 2)
	if y := tp.AddInPlace(h, h); shares(y, h) {
		t.Errorf("AddInPlace(h, h) wrote over h")
	}
	if err := tp.Err(); err != nil {
		t.Fatal(err)
	}

	// AddInPlace hands back b's buffer when nothing else reads b, and
	// only then.
	h, b, kept := tp.Scale(x, 2), tp.Scale(x, 3), tp.Scale(x, 4)
	tp.Scale(kept, 1)
	now, _ := tp.Memory()
	tp.AddInPlace(h, kept)
	if after, _ := tp.Memory(); after != now {
		t.Errorf("AddInPlace(a, b) with b read by another op: %d bytes in use, was %d; want the same (a written over, b kept)", after, now)
	}
	h = tp.Scale(x, 2)
	before, _ := tp.Memory()
	tp.AddInPlace(h, b)
	if after, _ := tp.Memory(); after != before-4*6 {
		t.Errorf("AddInPlace(a, b) with b read by nothing else: %d bytes in use, was %d; want b's 24 handed back", after, before)
	}
	if tp.Scale(b, 1) != nil || !strings.Contains(tp.Err().Error(), "by AddInPlace") {
		t.Errorf("using a b that AddInPlace handed back: error %v", tp.Err())
	}
}
