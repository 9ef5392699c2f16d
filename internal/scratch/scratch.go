// Package scratch is fovea's one buffer recycler: a Pool of slices keyed
// by size, so that a training step in steady state asks the runtime for
// no buffer anew. The kernels' temporary panels and padded images, the
// autodiff tape's activations and gradients, augmentation's intermediate
// images and the data loader's batches all come from Pools.
//
//	b := scratch.Floats.Get(n) // len n, contents undefined
//	defer scratch.Floats.Put(b)
//
// Unlike a sync.Pool, a Pool survives garbage collections: a training
// step that needs the same large buffers every time finds them again
// instead of asking the runtime for fresh, unfaulted memory. What a Pool
// holds can be bounded by its Limit.
package scratch

import (
	"math/bits"
	"sync"
	"unsafe"
)

// Pool recycles slices of E, filed by size. By default it files them by
// exact length: the choice for a caller that asks for the same lengths
// every time and holds many buffers at once (the autodiff tape), where
// rounding up would cost memory and buy no reuse. With Round it rounds
// lengths up to size classes a quarter octave apart, so that a buffer
// serves every request of its class and wastes under a fifth of its
// capacity: the choice for buffers of many sizes, each held briefly.
//
// The zero Pool is ready to use and keeps everything handed back to it.
// A Pool is safe for concurrent use.
type Pool[E any] struct {
	// Round files buffers by size class rather than by length.
	Round bool
	// Limit bounds the bytes the pool keeps; a buffer handed back beyond
	// it is left to the garbage collector. 0 means no bound.
	Limit int64

	mu   sync.Mutex
	free map[int][][]E
	held int64 // bytes kept in free
	made int
	refs []*[]E // spare headers for GetRef
}

// Floats is the pool the kernels, augmentation and the data loader
// share. It keeps at most 2 GiB.
var Floats = &Pool[float32]{Round: true, Limit: 2 << 30}

// Classes grow by a quarter octave, so a buffer wastes under 20% of its
// capacity.
const stepsPerOctave = 4

// class returns the size class of n elements and that class's capacity.
func class(n int) (int, int) {
	if n <= 16 {
		return 0, 16
	}
	e := bits.Len(uint(n-1)) - 1 // 2^e < n <= 2^(e+1)
	step := 1 << e / stepsPerOctave
	q := (n - 1 - 1<<e) / step // 0..stepsPerOctave-1
	return e*stepsPerOctave + q + 1, 1<<e + (q+1)*step
}

// key returns the free list a buffer of length n (by Get) or capacity n
// (by Put) belongs to, and the capacity Get makes it with.
func (p *Pool[E]) key(n int) (int, int) {
	if p.Round {
		return class(n)
	}
	return n, n
}

// Get returns a buffer of length n whose contents are undefined. Hand it
// back with Put when done.
func (p *Pool[E]) Get(n int) []E {
	p.mu.Lock()
	b, ok := p.take(n)
	p.mu.Unlock()
	if !ok {
		_, size := p.key(n)
		b = make([]E, n, size) // outside the lock: a large make takes long
	}
	return b
}

// take returns a kept buffer of length n, if p.mu's holder finds one.
func (p *Pool[E]) take(n int) ([]E, bool) {
	k, _ := p.key(n)
	l := p.free[k]
	if len(l) == 0 {
		p.made++
		return nil, false
	}
	b := l[len(l)-1]
	l[len(l)-1] = nil
	p.free[k] = l[:len(l)-1]
	p.held -= int64(cap(b)) * elemSize[E]()
	return b[:n], true
}

// Put hands a buffer from Get back for reuse; the caller must not use it
// afterwards. A buffer Get did not make (its capacity not one Get gives)
// is left to the garbage collector.
func (p *Pool[E]) Put(b []E) {
	k, size := p.key(cap(b))
	if size != cap(b) || size == 0 {
		return
	}
	bytes := int64(size) * elemSize[E]()
	p.mu.Lock()
	if p.Limit == 0 || p.held+bytes <= p.Limit {
		if p.free == nil {
			p.free = map[int][][]E{}
		}
		p.free[k] = append(p.free[k], b[:size])
		p.held += bytes
	}
	p.mu.Unlock()
}

// Made returns the number of buffers Get has made anew rather than
// reused: after a warm-up, a steady state makes none.
func (p *Pool[E]) Made() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.made
}

// GetRef is Get for callers that hand the buffer around behind a
// pointer, as the kernels do; the pointer is recycled with the buffer,
// so it costs no allocation either.
func (p *Pool[E]) GetRef(n int) *[]E {
	p.mu.Lock()
	var r *[]E
	if k := len(p.refs); k > 0 {
		r = p.refs[k-1]
		p.refs = p.refs[:k-1]
	}
	b, ok := p.take(n)
	p.mu.Unlock()
	if r == nil {
		r = new([]E)
	}
	if !ok {
		_, size := p.key(n)
		b = make([]E, n, size)
	}
	*r = b
	return r
}

// PutRef hands back a buffer from GetRef; it empties r, and ignores an
// r already handed back.
func (p *Pool[E]) PutRef(r *[]E) {
	if *r == nil {
		return // a second PutRef must not file r twice
	}
	p.Put(*r)
	*r = nil
	p.mu.Lock()
	p.refs = append(p.refs, r)
	p.mu.Unlock()
}

// Get returns a buffer of Floats, behind a pointer: Floats.GetRef.
func Get(n int) *[]float32 { return Floats.GetRef(n) }

// Put hands back a buffer from Get: Floats.PutRef.
func Put(p *[]float32) { Floats.PutRef(p) }

// elemSize returns the size of an E in bytes.
func elemSize[E any]() int64 {
	var e E
	return int64(unsafe.Sizeof(e))
}
