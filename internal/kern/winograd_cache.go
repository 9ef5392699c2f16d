package kern

import (
	"bytes"
	"sync"
	"unsafe"
)

// winoCache keeps the transformed filters of the convolutions that run
// again and again with the same weights (inference), so that each pays
// its filter transform (36/9 times the filter, written) once. A filter is
// known by where it lies and how long it is, and recognised by its
// contents: the cache keeps a copy of the weights each transform was
// made from and compares it with the weights handed in, so an update in
// place (a training step) is never missed. A filter's transform is kept
// only once it has been seen twice unchanged: a filter that changes at
// every step (training) costs a copy of its weights, never a kept
// transform. What is held is bounded by winoCacheLimit, the oldest
// entries going first.
var winoCache = &filterCache{entries: map[filterKey]*filterEntry{}}

// winoCacheLimit bounds the bytes of weights and transforms the cache
// holds.
var winoCacheLimit int64 = 512 << 20

type filterKey struct {
	data       *float32
	n          int
	flip       bool
	nr, length int
}

type filterEntry struct {
	key filterKey
	src []float32 // the weights, as last seen
	u   []float32 // their transform, once seen twice
}

type filterCache struct {
	mu      sync.Mutex
	entries map[filterKey]*filterEntry
	order   []*filterEntry // oldest first
	held    int64
}

func (c *filterCache) key(w []float32, flip bool, nr, n int) filterKey {
	return filterKey{unsafe.SliceData(w), len(w), flip, nr, n}
}

func asBytes(s []float32) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), 4*len(s))
}

// lookup returns the kept transform of w, if its weights are unchanged.
func (c *filterCache) lookup(w []float32, flip bool, nr, n int) []float32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[c.key(w, flip, nr, n)]
	if e == nil || e.u == nil || !bytes.Equal(asBytes(e.src), asBytes(w)) {
		return nil
	}
	return e.u
}

// kept reports whether the cache holds a transform for w, without
// checking that w is unchanged since: for the cost model.
func (c *filterCache) kept(w []float32, flip bool, nr, n int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[c.key(w, flip, nr, n)]
	return e != nil && e.u != nil
}

// store records that u is the transform of w as it is now, and reports
// whether the cache kept u itself (the caller must then not reuse it).
func (c *filterCache) store(w []float32, flip bool, nr int, u []float32) bool {
	if int64(4*(len(w)+len(u))) > winoCacheLimit/4 {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k := c.key(w, flip, nr, len(u))
	e := c.entries[k]
	if e == nil {
		e = &filterEntry{key: k, src: append([]float32(nil), w...)}
		c.entries[k] = e
		c.order = append(c.order, e)
		c.held += int64(4 * len(w))
		c.evict(e)
		return false
	}
	if !bytes.Equal(asBytes(e.src), asBytes(w)) {
		copy(e.src, w) // changed since: start counting again
		if e.u != nil {
			c.held -= int64(4 * len(e.u))
			e.u = nil
		}
		return false
	}
	// Seen twice unchanged: keep u.
	if e.u != nil {
		c.held -= int64(4 * len(e.u))
	}
	e.u = u
	c.held += int64(4 * len(u))
	c.evict(e)
	return true
}

// evict drops the oldest entries other than keep until the cache is
// within its limit.
func (c *filterCache) evict(keep *filterEntry) {
	for c.held > winoCacheLimit && len(c.order) > 1 {
		e := c.order[0]
		if e == keep {
			c.order = append(c.order[1:], e)
			continue
		}
		c.order = c.order[1:]
		delete(c.entries, e.key)
		c.held -= int64(4 * (len(e.src) + len(e.u)))
	}
}

// reset empties the cache (tests).
func (c *filterCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.entries)
	c.order, c.held = nil, 0
}
