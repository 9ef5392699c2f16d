package tensor

import "testing"

func TestString(t *testing.T) {
	x, _ := FromSlice([]float32{0, 1, 2, 3, 4, 5, 6, 7}, 2, 2, 2)
	want := "[[[0 1]\n  [2 3]]\n\n [[4 5]\n  [6 7]]]"
	if got := x.String(); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	for _, c := range []struct {
		t    *Tensor
		want string
	}{
		{Full(1.5), "1.5"},
		{Full(-1, 3), "[-1 -1 -1]"},
		{Zeros(0), "[]"},
		{Zeros(16, 17), "Tensor[16 17] (272 values)"},
	} {
		if got := c.t.String(); got != c.want {
			t.Fatalf("got %q, want %q", got, c.want)
		}
	}
}
