package scratch

import "testing"

func TestGetPut(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 1000, 1 << 20, 1<<20 + 1} {
		p := Get(n)
		if len(*p) != n || cap(*p) < n {
			t.Fatalf("Get(%d): len %d cap %d", n, len(*p), cap(*p))
		}
		Put(p)
	}
	// A recycled buffer of the right class is reused, whatever its length.
	p := Get(700)
	(*p)[0] = 42
	Put(p)
	q := Get(1000)
	if len(*q) != 1000 {
		t.Fatalf("len %d", len(*q))
	}
}
