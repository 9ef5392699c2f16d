package ag

import (
	"testing"

	"github.com/foveaml/fovea/tensor"
)

func TestLeaves(t *testing.T) {
	w, c := Param(tensor.Zeros(2)), Const(tensor.Zeros(2))
	if !w.RequiresGrad() || c.RequiresGrad() || !w.IsLeaf() || !c.IsLeaf() {
		t.Fatal("Param and Const flags")
	}
	c.SetRequiresGrad(true)
	if !c.RequiresGrad() {
		t.Fatal("SetRequiresGrad(true)")
	}
	tp := NewTape()
	y := tp.Add(w, c)
	if y.IsLeaf() || !y.RequiresGrad() {
		t.Fatal("op output flags")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("SetRequiresGrad on an op output did not panic")
		}
	}()
	y.SetRequiresGrad(false)
}

func TestItem(t *testing.T) {
	if v := Const(tensor.Full(4)).Item(); v != 4 {
		t.Fatalf("Item %v", v)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("Item of two values did not panic")
		}
	}()
	Const(tensor.Zeros(2)).Item()
}
