// Package scratch recycles the temporary float32 buffers that kernels
// need for one call (packed panels, padded images), so that a training
// step in steady state does not allocate them again.
//
//	p := scratch.Get(n) // len n, contents undefined
//	defer scratch.Put(p)
//	use(*p)
package scratch

import (
	"math/bits"
	"sync"
)

// pools holds one pool per power of two of capacity, so that a small
// buffer never stands in for a large one.
var pools [48]sync.Pool

// Get returns a buffer of length n whose contents are undefined. Hand it
// back with Put when done.
func Get(n int) *[]float32 {
	class := bits.Len(uint(max(n, 1) - 1))
	if p, ok := pools[class].Get().(*[]float32); ok {
		*p = (*p)[:n]
		return p
	}
	s := make([]float32, n, 1<<class)
	return &s
}

// Put hands a buffer from Get back for reuse. The caller must not use it
// afterwards.
func Put(p *[]float32) {
	if c := cap(*p); c > 0 && c&(c-1) == 0 {
		pools[bits.Len(uint(c-1))].Put(p)
	}
}
