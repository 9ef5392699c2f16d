package ag

import "testing"

func TestFreeList(t *testing.T) {
	var f freeList[int32]
	a := f.get(5)
	if len(a) != 5 {
		t.Fatalf("get(5) has length %d", len(a))
	}
	f.put(a)
	if b := f.get(5); &b[0] != &a[0] {
		t.Fatal("a buffer put back was not reused")
	}
	if c := f.get(5); &c[0] == &a[0] {
		t.Fatal("one buffer handed out twice")
	}
}
