package kern

import (
	"bytes"
	"hash/maphash"
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
// only once it has been seen twice unchanged, which a hash of the weights
// tells: a filter that changes at every step (training) costs 8 bytes,
// not a copy of its weights (a copy of every 3×3 filter of a model, twice
// over with the flipped ones of the backward pass, was 75 MiB of a
// CIFAR ResNet-18's training step). A hash that matched weights it was
// not made from would cost only a kept transform: the transform is used
// only while the copy made with it matches. What is held is bounded by
// winoCacheLimit, the oldest entries going first.
var winoCache = &filterCache{entries: map[filterKey]*filterEntry{}}

// winoCacheLimit bounds the bytes of weights and transforms the cache
// holds.
var winoCacheLimit int64 = 512 << 20

// winoCacheEntries bounds the filters the cache knows, kept transform or
// not.
const winoCacheEntries = 4096

type filterKey struct {
	data       *float32
	n          int
	flip       bool
	nr, length int
}

type filterEntry struct {
	key filterKey
	sum uint64    // the hash of the weights as last seen
	src []float32 // with u: the weights u was made from
	u   []float32 // their transform, once seen twice
}

// winoSeed seeds the hash of weights.
var winoSeed = maphash.MakeSeed()

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
	sum := maphash.Bytes(winoSeed, asBytes(w)) // outside the lock: it reads all of w
	c.mu.Lock()
	defer c.mu.Unlock()
	k := c.key(w, flip, nr, len(u))
	e := c.entries[k]
	if e == nil {
		e = &filterEntry{key: k, sum: sum}
		c.entries[k] = e
		c.order = append(c.order, e)
		c.evict(e)
		return false
	}
	if e.sum != sum {
		e.sum = sum // changed since: start counting again
		c.drop(e)
		return false
	}
	// Seen twice unchanged: keep u, and the weights it was made from.
	c.drop(e)
	e.src, e.u = append(e.src[:0], w...), u
	c.held += int64(4 * (len(w) + len(u)))
	c.evict(e)
	return true
}

// seen reports whether the cache keeps a transform of w as it is now or
// saw w unchanged at its last sighting, so that a transform made now
// would be kept; otherwise it records the sighting, as store does.
func (c *filterCache) seen(w []float32, flip bool, nr, n int) bool {
	sum := maphash.Bytes(winoSeed, asBytes(w))
	c.mu.Lock()
	defer c.mu.Unlock()
	k := c.key(w, flip, nr, n)
	e := c.entries[k]
	switch {
	case e == nil:
		e = &filterEntry{key: k, sum: sum}
		c.entries[k] = e
		c.order = append(c.order, e)
		c.evict(e)
		return false
	case e.sum != sum:
		e.sum = sum
		c.drop(e)
		return false
	}
	return true
}

// drop forgets e's transform and the weights it was made from.
func (c *filterCache) drop(e *filterEntry) {
	if e.u != nil {
		c.held -= int64(4 * (len(e.src) + len(e.u)))
		e.src, e.u = nil, nil
	}
}

// evict drops the oldest entries other than keep until the cache is
// within its limits.
func (c *filterCache) evict(keep *filterEntry) {
	for (c.held > winoCacheLimit || len(c.order) > winoCacheEntries) && len(c.order) > 1 {
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
