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
	first := &(*p)[0]
	Put(p)
	q := Get(999)
	if &(*q)[0] != first || len(*q) != 999 {
		t.Fatalf("buffer of the same class not reused")
	}
	Put(q)
	if r := Get(5000); &(*r)[0] == first {
		t.Fatalf("a small buffer was handed out for a large request")
	}
}

func TestListClasses(t *testing.T) {
	p := List[int32]{Round: true}
	a := p.Get(1000)
	if len(a) != 1000 || p.Made() != 1 {
		t.Fatalf("Get(1000): length %d, %d made", len(a), p.Made())
	}
	p.Put(a[:3]) // a shortened buffer goes back whole
	b := p.Get(999)
	if &b[0] != &a[0] || len(b) != 999 || p.Made() != 1 {
		t.Fatal("a buffer of the same class was not reused")
	}
	if c := p.Get(999); &c[0] == &a[0] || p.Made() != 2 {
		t.Fatal("one buffer handed out twice")
	}
	p.Put(make([]int32, 1000)) // not a class's capacity: dropped
	if d := p.Get(1000); p.Made() != 3 || cap(d) == 1000 {
		t.Fatal("a foreign buffer was kept")
	}
}

func TestListExact(t *testing.T) {
	var p List[float32]
	a := p.Get(1000)
	if cap(a) != 1000 {
		t.Fatalf("a pool by length rounded 1000 up to %d", cap(a))
	}
	p.Put(a)
	if b := p.Get(999); &b[0] == &a[0] {
		t.Fatal("a pool by length handed out a buffer of another length")
	}
	if b := p.Get(1000); &b[0] != &a[0] || p.Made() != 2 {
		t.Fatal("a pool by length did not reuse a buffer of the length")
	}
}

func TestPoolLimit(t *testing.T) {
	p := Pool[float32]{List: List[float32]{Round: true, Limit: 4 * 1024}}
	a, b := p.Get(1024), p.Get(1024)
	p.Put(a)
	p.Put(b) // beyond the limit: dropped
	if x := p.Get(1024); &x[0] != &a[0] {
		t.Fatal("a buffer within the limit was not kept")
	}
	if y := p.Get(1024); &y[0] == &b[0] || p.Made() != 3 {
		t.Fatal("a buffer beyond the limit was kept")
	}
	c, d := p.Get(1024), p.Get(1024)
	p.Keep(c)
	p.Keep(d) // beyond the limit, but Keep keeps it
	if z := p.Get(1024); &z[0] != &d[0] {
		t.Fatal("Keep dropped a buffer beyond the limit")
	}
}

func TestRefsAllocateNothing(t *testing.T) {
	var p Pool[float32]
	p.PutRef(p.GetRef(100)) // warm up
	if n := testing.AllocsPerRun(100, func() { p.PutRef(p.GetRef(100)) }); n != 0 {
		t.Errorf("GetRef and PutRef: %v allocations", n)
	}
	if n := testing.AllocsPerRun(100, func() { p.Put(p.Get(100)) }); n != 0 {
		t.Errorf("Get and Put: %v allocations", n)
	}
}

func TestPutRefTwice(t *testing.T) {
	var p Pool[float32]
	r := p.GetRef(10)
	p.PutRef(r)
	p.PutRef(r)
	if a, b := p.GetRef(10), p.GetRef(10); a == b {
		t.Fatal("a pointer handed back twice was handed out twice")
	}
}

// TestPoolShared has goroutines share a Pool: each buffer it hands out
// is held by one goroutine at a time (run with -race).
func TestPoolShared(t *testing.T) {
	p := Pool[float32]{List: List[float32]{Round: true}}
	done := make(chan bool)
	for g := range 4 {
		go func() {
			ok := true
			for i := range 500 {
				b := p.Get(100 + i%7)
				for k := range b {
					b[k] = float32(g)
				}
				for _, v := range b {
					ok = ok && v == float32(g)
				}
				p.Put(b)
				r := p.GetRef(50)
				(*r)[0] = float32(g)
				ok = ok && (*r)[0] == float32(g)
				p.PutRef(r)
			}
			done <- ok
		}()
	}
	for range 4 {
		if !<-done {
			t.Error("a buffer was written by two goroutines at once")
		}
	}
}

// TestListBorrowsLarger checks that a request whose class is empty takes
// a kept buffer up to four times its size, the smallest there is, and
// not a larger one; and that the buffer goes back to its own class.
func TestListBorrowsLarger(t *testing.T) {
	p := List[float32]{Round: true}
	big, huge := p.Get(3500), p.Get(5000)
	p.Put(huge)
	p.Put(big)
	a := p.Get(1000)
	if &a[0] != &big[0] || len(a) != 1000 || p.Made() != 2 {
		t.Fatalf("Get(1000) with buffers of 3500 and 5000 kept: made %d, took the 3500 one %v", p.Made(), &a[0] == &big[0])
	}
	if now, _ := p.InUse(); now != int64(4*cap(big)) {
		t.Fatalf("in use %d bytes; want the borrowed buffer's %d", now, 4*cap(big))
	}
	p.Put(a)
	if b := p.Get(3500); &b[0] != &big[0] {
		t.Fatal("a borrowed buffer did not go back to its own class")
	}
	if c := p.Get(1000); &c[0] == &huge[0] || p.Made() != 3 {
		t.Fatal("Get(1000) took a buffer more than four times its size")
	}
	var exact List[float32]
	exact.Put(exact.Get(2000))
	if exact.Get(1000); exact.Made() != 2 {
		t.Fatal("a list by length borrowed a buffer of another length")
	}
}

// TestGetSizedBorrowsNothing checks that GetSized takes a buffer of its
// own class only.
func TestGetSizedBorrowsNothing(t *testing.T) {
	p := Pool[float32]{List: List[float32]{Round: true}}
	big := p.Get(1500)
	p.Put(big)
	if a := p.GetSized(1000); &a[0] == &big[0] || p.Made() != 2 {
		t.Fatal("GetSized(1000) took an idle buffer of a larger class")
	}
	if b := p.GetSized(1500); &b[0] != &big[0] {
		t.Fatal("GetSized(1500) did not take the idle buffer of its class")
	}
}
