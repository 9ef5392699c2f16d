package tensor

import (
	"slices"
	"strings"
	"testing"
)

func TestConstructors(t *testing.T) {
	z := Zeros(2, 3)
	if z.Len() != 6 || z.Rank() != 2 || z.Dim(0) != 2 || z.Dim(-1) != 3 {
		t.Fatalf("Zeros(2, 3): len %d rank %d shape %v", z.Len(), z.Rank(), z.Shape())
	}
	for _, v := range z.Data() {
		if v != 0 {
			t.Fatalf("Zeros holds %v", v)
		}
	}
	s := Zeros()
	if s.Len() != 1 || s.Rank() != 0 {
		t.Fatalf("scalar: len %d rank %d", s.Len(), s.Rank())
	}
	f := Full(2.5, 4)
	if !slices.Equal(f.Data(), []float32{2.5, 2.5, 2.5, 2.5}) {
		t.Fatalf("Full: %v", f.Data())
	}
	data := []float32{1, 2, 3, 4, 5, 6}
	x, err := FromSlice(data, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	data[0] = 9
	if x.At(0, 0) != 9 {
		t.Fatal("FromSlice copied its data")
	}
	if _, err := FromSlice(data, 4, 2); err == nil || !strings.Contains(err.Error(), "[4 2]") {
		t.Fatalf("FromSlice with 6 values for [4 2]: err %v", err)
	}
}

func TestShapeIsACopy(t *testing.T) {
	x := Zeros(2, 3)
	x.Shape()[0] = 7
	if x.Dim(0) != 2 {
		t.Fatal("Shape returned the tensor's own slice")
	}
}

func TestNegativeDimensionPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Zeros(-1) did not panic")
		}
	}()
	Zeros(2, -1)
}

func TestCloneAndCopyFrom(t *testing.T) {
	x := Full(1, 2, 2)
	y := x.Clone()
	y.Set(5, 1, 1)
	if x.At(1, 1) != 1 {
		t.Fatal("Clone shares data")
	}
	if err := x.CopyFrom(y); err != nil || x.At(1, 1) != 5 {
		t.Fatalf("CopyFrom: %v, x = %v", err, x)
	}
	err := x.CopyFrom(Zeros(4))
	if err == nil || !strings.Contains(err.Error(), "[4]") || !strings.Contains(err.Error(), "[2 2]") {
		t.Fatalf("CopyFrom of another shape: %v", err)
	}
	if x.SameShape(Zeros(4)) || !x.SameShape(Zeros(2, 2)) {
		t.Fatal("SameShape")
	}
}
