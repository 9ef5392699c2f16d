package ag

// freeList recycles buffers by exact length: a training step asks for
// the same lengths every time, so each request after the first finds
// its buffer again. A different batch size (a short last batch) adds a
// second set, kept alongside.
type freeList[E float32 | int32] struct {
	free   map[int][][]E
	misses int // buffers made anew, for tests
}

// get returns a buffer of length n with undefined contents.
func (f *freeList[E]) get(n int) []E {
	if l := f.free[n]; len(l) > 0 {
		b := l[len(l)-1]
		f.free[n] = l[:len(l)-1]
		return b
	}
	f.misses++
	return make([]E, n)
}

// put hands b back for a later get.
func (f *freeList[E]) put(b []E) {
	if f.free == nil {
		f.free = map[int][][]E{}
	}
	f.free[len(b)] = append(f.free[len(b)], b)
}
