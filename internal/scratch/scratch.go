// Package scratch recycles the temporary float32 buffers that kernels
// need for one call (packed panels, padded images), so that a training
// step in steady state allocates none of them anew.
//
//	p := scratch.Get(n) // len n, contents undefined
//	defer scratch.Put(p)
//	use(*p)
//
// Unlike a sync.Pool, the free lists survive garbage collections: a
// training step that needs the same large buffers every time finds them
// again instead of asking the runtime for fresh, unfaulted memory.
// What is held is bounded by Limit.
package scratch

import (
	"math/bits"
	"sync"
)

// Limit bounds the bytes the free lists keep; a buffer handed back beyond
// it is left to the garbage collector.
var Limit int64 = 2 << 30

// Classes grow by a quarter octave, so a buffer wastes under 19% of its
// capacity.
const stepsPerOctave = 4

var (
	mu   sync.Mutex
	free [64 * stepsPerOctave][]*[]float32
	held int64
)

// class returns the size class of n floats and that class's capacity.
func class(n int) (int, int) {
	if n <= 16 {
		return 0, 16
	}
	e := bits.Len(uint(n-1)) - 1 // 2^e < n <= 2^(e+1)
	step := 1 << e / stepsPerOctave
	q := (n - 1 - 1<<e) / step // 0..stepsPerOctave-1
	return e*stepsPerOctave + q + 1, 1<<e + (q+1)*step
}

// Get returns a buffer of length n whose contents are undefined. Hand it
// back with Put when done.
func Get(n int) *[]float32 {
	c, size := class(n)
	mu.Lock()
	if l := free[c]; len(l) > 0 {
		p := l[len(l)-1]
		free[c] = l[:len(l)-1]
		held -= int64(4 * cap(*p))
		mu.Unlock()
		*p = (*p)[:n]
		return p
	}
	mu.Unlock()
	s := make([]float32, n, size)
	return &s
}

// Put hands a buffer from Get back for reuse. The caller must not use it
// afterwards.
func Put(p *[]float32) {
	c, size := class(cap(*p))
	if size != cap(*p) {
		return // not from Get
	}
	mu.Lock()
	if held+int64(4*size) <= Limit {
		free[c] = append(free[c], p)
		held += int64(4 * size)
	}
	mu.Unlock()
}
