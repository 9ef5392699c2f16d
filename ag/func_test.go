package ag

import (
	"strings"
	"testing"

	"github.com/foveaml/fovea/tensor"
)

// cube is x³ with its derivative, a Func to test Apply with.
var cube = Func{
	Name: "Cube",
	Forward: func(y []float32, xs [][]float32) {
		for i, v := range xs[0] {
			y[i] = v * v * v
		}
	},
	Backward: func(dxs [][]float32, dy, _ []float32, xs [][]float32) {
		for i, v := range xs[0] {
			dxs[0][i] = 3 * v * v * dy[i]
		}
	},
}

// weighted is a·x + b·y of two inputs of one shape.
var weighted = Func{
	Name: "Weighted",
	Forward: func(y []float32, xs [][]float32) {
		for i := range y {
			y[i] = 2*xs[0][i] - 3*xs[1][i]
		}
	},
	Backward: func(dxs [][]float32, dy, _ []float32, _ [][]float32) {
		for i, g := range dy {
			if dxs[0] != nil {
				dxs[0][i] = 2 * g
			}
			if dxs[1] != nil {
				dxs[1][i] = -3 * g
			}
		}
	},
}

func TestApplyGradients(t *testing.T) {
	r := newRand(1)
	a, b := randn(r, 3, 4), randn(r, 3, 4)
	// a is used twice: its gradient must add the two contributions.
	checkGrads(t, func(tp *Tape) *Var {
		return tp.Apply(weighted, []int{3, 4}, tp.Apply(cube, []int{3, 4}, a), tp.Add(a, b))
	}, []*Var{a, b}, defaultFD)
}

func TestApplyFrozenAndConstant(t *testing.T) {
	r := newRand(2)
	a, b := randn(r, 5), randn(r, 5)
	b.SetRequiresGrad(false)
	tp := NewTape()
	y := tp.Apply(weighted, []int{5}, a, b)
	loss := tp.SoftmaxCrossEntropy(tp.Reshape(y, 1, 5), []int32{0}, 0)
	if err := tp.Backward(loss); err != nil {
		t.Fatal(err)
	}
	if b.Grad() != nil {
		t.Fatalf("a frozen input got a gradient")
	}
	if a.Grad() == nil {
		t.Fatalf("the trainable input got no gradient")
	}
	tp.Reset()
	// A Func without Backward is a constant of its inputs.
	c := Func{Name: "Stop", Forward: func(y []float32, xs [][]float32) { copy(y, xs[0]) }}
	z := tp.Apply(c, []int{5}, a)
	if z.RequiresGrad() {
		t.Fatalf("a Func without Backward requires a gradient")
	}
	if !slicesEqual(z.Value().Data(), a.Value().Data()) {
		t.Fatalf("Stop changed its input")
	}
}

func slicesEqual(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestApplyErrors(t *testing.T) {
	tp := NewTape()
	x := Const(tensor.Zeros(2))
	if y := tp.Apply(cube, []int{-1}, x); y != nil || tp.Err() == nil || !strings.Contains(tp.Err().Error(), "Cube") {
		t.Fatalf("negative shape: got %v, error %v", y, tp.Err())
	}
	tp.Reset()
	tp.Fail("onnx.Run", errString("node n7 (Foo) failed"))
	if tp.Apply(cube, []int{2}, x) != nil || !strings.Contains(tp.Err().Error(), "onnx.Run: node n7") {
		t.Fatalf("Fail did not stick: %v", tp.Err())
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func TestTracerSeesOps(t *testing.T) {
	r := newRand(3)
	x := Const(tensor.RandNormal(r, 0, 1, 2, 6, 6, 3))
	w, b := randn(r, 3, 3, 3, 4), randn(r, 4)
	var ops []Op
	tp := NewTape()
	tp.SetTracer(func(o Op) { ops = append(ops, o) })
	conv := Conv{SH: 2, SW: 2, PadT: 1, PadB: 1, PadL: 1, PadR: 1}
	y := tp.Conv2D(x, w, b, conv)
	z := tp.Add(tp.ReLU(y), y)
	p := tp.MaxPool(z, Pool2D{KH: 2, KW: 2})
	f := tp.Flatten(p)
	tp.Dropout(f, 0.5, 1, false) // the identity: no op
	c := tp.Apply(cube, f.Shape(), f)
	if tp.Err() != nil {
		t.Fatal(tp.Err())
	}
	want := []string{"Conv2D", "ReLU", "Add", "MaxPool", "Reshape", "Cube"}
	if len(ops) != len(want) {
		t.Fatalf("traced %d ops, want %v", len(ops), want)
	}
	for i, o := range ops {
		if o.Name != want[i] {
			t.Fatalf("op %d is %s, want %s", i, o.Name, want[i])
		}
	}
	if ops[0].Attrs.(Conv) != conv || ops[0].Inputs[0] != x || ops[0].Inputs[1] != w || ops[0].Inputs[2] != b || ops[0].Output != y {
		t.Fatalf("Conv2D op recorded wrongly: %+v", ops[0])
	}
	if ops[2].Inputs[0] != ops[1].Output || ops[2].Inputs[1] != y || ops[2].Output != z {
		t.Fatalf("Add op recorded wrongly")
	}
	if s := ops[4].Attrs.([]int); len(s) != 2 || s[1] != f.Shape()[1] {
		t.Fatalf("Reshape attrs %v, want the new shape %v", s, f.Shape())
	}
	if ops[5].Output != c {
		t.Fatalf("Apply's op has the wrong output")
	}
	tp.SetTracer(nil)
	tp.ReLU(c)
	if len(ops) != len(want) {
		t.Fatalf("the tracer was called after SetTracer(nil)")
	}
}
