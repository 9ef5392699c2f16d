package ag

import (
	"strings"
	"testing"

	"github.com/foveaml/fovea/tensor"
)

// A Var read by two branches (an inception block's input, a residual
// shortcut) gets the sum of their gradients.
func TestTwoBranches(t *testing.T) {
	r := newRand(20)
	x := randn(r, 2, 5, 5, 3)
	w1, w2 := randn(r, 3, 3, 3, 4), randn(r, 1, 1, 3, 4)
	w3 := randn(r, 3, 3, 8, 3)
	checkGrads(t, func(tp *Tape) *Var {
		a := tp.Tanh(tp.Conv2D(x, w1, nil, Pad(1))) // smooth: no kink for a step to straddle
		b := tp.Conv2D(x, w2, nil, Conv{})
		y := tp.Conv2D(tp.Concat(a, b), w3, nil, Pad(1))
		return tp.Add(y, x) // and a shortcut
	}, leaves(x, w1, w2, w3), defaultFD)
}

func TestNoGrad(t *testing.T) {
	x, w := Const(tensor.Full(1, 2, 3)), Param(tensor.Full(1, 3, 2))
	tp := NewTape()
	if !tp.SetGradEnabled(false) || tp.GradEnabled() {
		t.Fatal("SetGradEnabled did not report or change the mode")
	}
	y := tp.Dense(x, w, nil)
	if y.RequiresGrad() || tp.nodes[0].back != nil {
		t.Fatal("no-grad mode recorded a backward")
	}
	if err := tp.Backward(tp.SoftmaxCrossEntropy(y, []int32{0, 1}, 0)); err == nil {
		t.Fatal("Backward of a no-grad loss: no error")
	}
	if w.Grad() != nil {
		t.Fatal("no-grad mode computed a gradient")
	}
}

func TestStickyError(t *testing.T) {
	tp := NewTape()
	x := Param(tensor.Zeros(2, 3))
	bad := tp.Add(x, Const(tensor.Zeros(3, 2)))
	y := tp.ReLU(bad)
	if bad != nil || y != nil {
		t.Fatal("ops after an error returned Vars")
	}
	err := tp.Backward(tp.SoftmaxCrossEntropy(y, []int32{0, 0}, 0))
	if err == nil || !strings.Contains(err.Error(), "ag.Add") || err != tp.Err() {
		t.Fatalf("Backward returned %v, want the first error (ag.Add)", err)
	}
	tp.Reset()
	if tp.Err() != nil || tp.ReLU(x) == nil {
		t.Fatal("Reset did not clear the error")
	}
	tp.ReLU(nil)
	if err := tp.Err(); err == nil || !strings.Contains(err.Error(), "nil") {
		t.Fatalf("nil input: %v", err)
	}
}

func TestBackwardErrors(t *testing.T) {
	x := Param(tensor.Full(1, 2, 3))
	tp := NewTape()
	y := tp.ReLU(x)
	if err := tp.Backward(y); err == nil || !strings.Contains(err.Error(), "[2 3]") {
		t.Fatalf("Backward of a [2 3] Var: %v", err)
	}
	if err := tp.Backward(x); err == nil {
		t.Fatal("Backward of a leaf: no error")
	}
	loss := tp.SoftmaxCrossEntropy(y, []int32{0, 1}, 0)
	if err := tp.Backward(loss); err != nil {
		t.Fatal(err)
	}
	if err := tp.Backward(loss); err == nil || !strings.Contains(err.Error(), "Reset") {
		t.Fatalf("second Backward: %v", err)
	}
	other := NewTape()
	other.ReLU(y)
	if err := other.Err(); err == nil || !strings.Contains(err.Error(), "another tape") {
		t.Fatalf("Var of another tape: %v", err)
	}
}

func TestReset(t *testing.T) {
	x := Param(tensor.Full(1, 2, 3))
	tp := NewTape()
	y := tp.ReLU(x)
	buf := &y.Value().Data()[0]
	tp.Reset()
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("Value after Reset did not panic")
			}
		}()
		y.Value()
	}()
	if tp.ReLU(y) != nil || !strings.Contains(tp.Err().Error(), "Reset") {
		t.Fatalf("op on a released Var: %v", tp.Err())
	}
	tp.Reset()
	if z := tp.ReLU(x); &z.Value().Data()[0] != buf {
		t.Fatal("the buffer of the last step was not reused")
	}
	if x.Value() == nil {
		t.Fatal("Reset released a leaf")
	}
}

// Gradients accumulate across steps until ZeroGrad; op outputs keep
// none.
func TestGradAccumulation(t *testing.T) {
	x := Param(tensor.Full(2, 3))
	tp := NewTape()
	step := func() *Var {
		y := tp.Scale(x, 3)
		if err := tp.Backward(tp.SoftmaxCrossEntropy(tp.Reshape(y, 1, 3), []int32{0}, 0)); err != nil {
			t.Fatal(err)
		}
		return y
	}
	y := step()
	if y.Grad() != nil {
		t.Fatal("an op output kept its gradient")
	}
	g := x.Grad().Clone()
	tp.Reset()
	step()
	tp.Reset()
	for i, v := range x.Grad().Data() {
		if v != 2*g.Data()[i] {
			t.Fatalf("grad %v after two steps, want twice %v", x.Grad(), g)
		}
	}
	x.ZeroGrad()
	step()
	tp.Reset()
	for i, v := range x.Grad().Data() {
		if v != g.Data()[i] {
			t.Fatalf("grad %v after ZeroGrad and a step, want %v", x.Grad(), g)
		}
	}
}
