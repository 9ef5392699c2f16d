package scratch

import "testing"

func TestClasses(t *testing.T) {
	prev := 0
	for n := 1; n < 1<<22; n += 1 + n/7 {
		c, size := class(n)
		if size < n || float64(size) > 1.25*float64(n)+16 {
			t.Fatalf("class(%d) = %d with capacity %d", n, c, size)
		}
		if c2, s2 := class(size); c2 != c || s2 != size {
			t.Fatalf("capacity %d of class %d maps to class %d (%d)", size, c, c2, s2)
		}
		if c < prev {
			t.Fatalf("classes not monotone at %d", n)
		}
		prev = c
	}
}

func TestGetPutReuses(t *testing.T) {
	p := Get(1000)
	if len(*p) != 1000 {
		t.Fatalf("len %d", len(*p))
	}
	(*p)[0] = 42
	Put(p)
	q := Get(999)
	if q != p || len(*q) != 999 {
		t.Fatalf("buffer of the same class not reused")
	}
	Put(q)
	if r := Get(5000); r == p {
		t.Fatalf("a small buffer was handed out for a large request")
	}
}
