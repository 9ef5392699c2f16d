package tensor

import (
	"slices"
	"strings"
	"testing"
)

func TestReshape(t *testing.T) {
	x := Zeros(2, 3, 4)
	for _, c := range []struct{ in, want []int }{
		{[]int{24}, []int{24}},
		{[]int{-1}, []int{24}},
		{[]int{2, -1}, []int{2, 12}},
		{[]int{-1, 4, 3}, []int{2, 4, 3}},
		{[]int{1, 24, 1}, []int{1, 24, 1}},
	} {
		y, err := x.Reshape(c.in...)
		if err != nil || !slices.Equal(y.Shape(), c.want) {
			t.Fatalf("Reshape(%v) = %v, %v; want %v", c.in, y, err, c.want)
		}
		y.Data()[5] = 1
		if x.Data()[5] != 1 {
			t.Fatal("Reshape copied")
		}
		x.Data()[5] = 0
	}
	for _, bad := range [][]int{{5, -1}, {-1, -1}, {25}, {2, -2, 6}, {0, -1}} {
		if _, err := x.Reshape(bad...); err == nil || !strings.Contains(err.Error(), "[2 3 4]") {
			t.Fatalf("Reshape(%v): err %v", bad, err)
		}
	}
}

func TestSlice(t *testing.T) {
	x, _ := FromSlice([]float32{0, 1, 2, 3, 4, 5, 6, 7}, 4, 2)
	y, err := x.Slice(1, 3)
	if err != nil || !slices.Equal(y.Shape(), []int{2, 2}) || !slices.Equal(y.Data(), []float32{2, 3, 4, 5}) {
		t.Fatalf("Slice(1, 3) = %v, %v", y, err)
	}
	if cap(y.Data()) != 4 {
		t.Fatal("a slice's data can be appended into its neighbour")
	}
	for _, r := range [][2]int{{-1, 2}, {3, 2}, {0, 5}} {
		if _, err := x.Slice(r[0], r[1]); err == nil || !strings.Contains(err.Error(), "[4 2]") {
			t.Fatalf("Slice(%d, %d): err %v", r[0], r[1], err)
		}
	}
	if _, err := Zeros().Slice(0, 0); err == nil {
		t.Fatal("sliced a scalar")
	}
}

func TestAtSet(t *testing.T) {
	x := Zeros(2, 3)
	x.Set(7, 1, 2)
	if x.Data()[5] != 7 || x.At(1, 2) != 7 {
		t.Fatalf("Set(7, 1, 2): %v", x.Data())
	}
	for _, idx := range [][]int{{2, 0}, {0, 3}, {0}, {0, 0, 0}, {-1, 0}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Fatalf("At(%v) did not panic", idx)
				}
			}()
			x.At(idx...)
		}()
	}
}
