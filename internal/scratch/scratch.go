// Package scratch is fovea's one buffer recycler: a List of slices keyed
// by size (and Pool, a List with a lock), so that a training step in
// steady state asks the runtime for no buffer anew. The kernels'
// temporary panels and padded images, augmentation's intermediate images,
// the data loader's batches and the autodiff tapes' activations and
// gradients come from the shared Pool Floats; a tape keeps a List of its
// own only for its int32 buffers (pooling indices).
//
//	b := scratch.Floats.Get(n) // len n, contents undefined
//	defer scratch.Floats.Put(b)
//
// Unlike a sync.Pool, a Pool survives garbage collections: a training
// step that needs the same large buffers every time finds them again
// instead of asking the runtime for fresh, unfaulted memory. What a List
// holds can be bounded by its Limit.
package scratch

import (
	"math/bits"
	"sync"
	"unsafe"
)

// List is a free list of slices of E, filed by size: the recycler, for
// buffers that one goroutine alone gets and puts (an autodiff tape's).
// Pool is its form for sharing. By default a List files buffers by exact
// length: the choice for a caller that asks for the same lengths every
// time and holds many buffers at once, where rounding up would cost
// memory and buy no reuse. With Round it rounds lengths up to size
// classes a quarter octave apart, so that a buffer serves every request
// of its class and wastes under a fifth of its capacity, and a request
// that finds its class empty takes an idle buffer up to four times its
// size: the choice for buffers of many sizes, each held briefly.
//
// The zero List is ready to use and keeps everything handed back to it.
// A List is not safe for concurrent use.
type List[E any] struct {
	// Round files buffers by size class rather than by length.
	Round bool
	// Limit bounds the bytes the list keeps; a buffer handed back beyond
	// it is left to the garbage collector. 0 means no bound.
	Limit int64

	// The free lists: by class in an array, or by length in a map,
	// behind pointers so that only the first Put of a length writes it.
	classes *[nClasses][][]E
	lengths map[int]*[][]E
	held    int64 // bytes kept
	made    int
	// live counts the elements of the buffers handed out and not yet put
	// back, peak the most at once (see InUse).
	live, peak int64
}

// Pool is a List that any number of goroutines may share: its methods
// lock around the List's (call those, not the embedded List's). Its
// Round and Limit are the List's; the zero Pool is ready to use.
type Pool[E any] struct {
	List[E]
	mu   sync.Mutex
	refs []*[]E // spare headers for GetRef
}

// Floats is the pool the kernels, augmentation and the data loader
// share. It keeps at most 2 GiB.
var Floats = &Pool[float32]{List: List[float32]{Round: true, Limit: 2 << 30}}

// Float64s is the pool of the kernels' float64 partial sums (batch
// statistics, bias gradients, losses). It keeps at most 64 MiB.
var Float64s = &Pool[float64]{List: List[float64]{Round: true, Limit: 64 << 20}}

// Classes grow by a quarter octave, so a buffer wastes under 20% of its
// capacity.
const stepsPerOctave = 4

// nClasses is the number of size classes of an int's range.
const nClasses = 64*stepsPerOctave + 1

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
func (l *List[E]) key(n int) (int, int) {
	if l.Round {
		return class(n)
	}
	return n, n
}

// list returns the free list of key k, or nil if there is none and not
// make.
func (l *List[E]) list(k int, make bool) *[][]E {
	if l.Round {
		if l.classes == nil {
			if !make {
				return nil
			}
			l.classes = new([nClasses][][]E)
		}
		return &l.classes[k]
	}
	f := l.lengths[k]
	if f == nil && make {
		if l.lengths == nil {
			l.lengths = map[int]*[][]E{}
		}
		f = new([][]E)
		l.lengths[k] = f
	}
	return f
}

// Get returns a buffer of length n whose contents are undefined. Hand it
// back with Put when done.
func (l *List[E]) Get(n int) []E {
	if b, ok := l.take(n, true); ok {
		return b
	}
	return l.make(n)
}

// GetSized is Get without the borrowing of a larger idle buffer: for a
// buffer held long (an activation, kept for the backward pass), which a
// larger one would serve with its excess idle all that time.
func (l *List[E]) GetSized(n int) []E {
	if b, ok := l.take(n, false); ok {
		return b
	}
	return l.make(n)
}

// take returns a kept buffer of length n, if there is one (of a larger
// class if borrow is set); if not, it counts the buffer that the caller
// will make.
func (l *List[E]) take(n int, borrow bool) ([]E, bool) {
	k, size := l.key(n)
	f := l.list(k, false)
	if (f == nil || len(*f) == 0) && l.Round && borrow {
		f = l.larger(k)
	}
	if f == nil || len(*f) == 0 {
		l.made++
		l.count(size)
		return nil, false
	}
	b := (*f)[len(*f)-1]
	(*f)[len(*f)-1] = nil
	*f = (*f)[:len(*f)-1]
	l.held -= int64(cap(b)) * elemSize[E]()
	l.count(cap(b))
	return b[:n], true
}

// count adds a buffer of capacity size to what is handed out.
func (l *List[E]) count(size int) {
	l.live += int64(size)
	l.peak = max(l.peak, l.live)
}

// borrowUp is how many size classes above its own a request may take a
// kept buffer from: up to four times its size.
const borrowUp = 2 * stepsPerOctave

// larger returns the free list of the smallest class above k, within
// borrowUp, that holds a buffer, or nil. Taking a somewhat larger idle
// buffer rather than making one keeps what a List holds near the most
// its caller uses at once: the kernels' workspaces come in many sizes
// (padded copies of a batch, transformed filters), one after another,
// and without it each size would keep a buffer of its own.
func (l *List[E]) larger(k int) *[][]E {
	if l.classes == nil {
		return nil
	}
	for j := k + 1; j <= min(k+borrowUp, nClasses-1); j++ {
		if len(l.classes[j]) > 0 {
			return &l.classes[j]
		}
	}
	return nil
}

// make returns a new buffer of length n, with the capacity of its class.
func (l *List[E]) make(n int) []E {
	_, size := l.key(n)
	return make([]E, n, size)
}

// Put hands a buffer from Get back for reuse; the caller must not use it
// afterwards. A buffer Get did not make (its capacity not one Get gives)
// is left to the garbage collector.
func (l *List[E]) Put(b []E) { l.put(b, true) }

// Keep is Put past Limit: for a buffer its caller will ask for again
// soon (an autodiff tape's activations, at every training step), which
// the limit must not hand to the garbage collector only for the step to
// make it anew.
func (l *List[E]) Keep(b []E) { l.put(b, false) }

// put files b, within Limit if limit is set.
func (l *List[E]) put(b []E, limit bool) {
	k, size := l.key(cap(b))
	if size != cap(b) || size == 0 {
		return
	}
	l.live -= int64(size)
	bytes := int64(size) * elemSize[E]()
	if limit && l.Limit != 0 && l.held+bytes > l.Limit {
		return
	}
	f := l.list(k, true)
	*f = append(*f, b[:size])
	l.held += bytes
}

// InUse returns the bytes of the buffers handed out and not yet put
// back, and the most at once since the list was made or ResetPeak was
// called: what a computation drawing on the list needs.
func (l *List[E]) InUse() (now, peak int64) {
	return l.live * elemSize[E](), l.peak * elemSize[E]()
}

// ResetPeak starts a new measure of InUse's peak from what is in use now.
func (l *List[E]) ResetPeak() { l.peak = l.live }

// Made returns the number of buffers Get has made anew rather than
// reused: after a warm-up, a steady state makes none.
func (l *List[E]) Made() int { return l.made }

// Get is List.Get, for any goroutine.
func (p *Pool[E]) Get(n int) []E { return p.get(n, true) }

// GetSized is List.GetSized, for any goroutine.
func (p *Pool[E]) GetSized(n int) []E { return p.get(n, false) }

func (p *Pool[E]) get(n int, borrow bool) []E {
	p.mu.Lock()
	b, ok := p.take(n, borrow)
	p.mu.Unlock()
	if !ok {
		b = p.make(n) // outside the lock: a large make takes long
	}
	return b
}

// Put is List.Put, for any goroutine.
func (p *Pool[E]) Put(b []E) {
	p.mu.Lock()
	p.List.Put(b)
	p.mu.Unlock()
}

// Keep is List.Keep, for any goroutine.
func (p *Pool[E]) Keep(b []E) {
	p.mu.Lock()
	p.List.Keep(b)
	p.mu.Unlock()
}

// Made is List.Made, for any goroutine.
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
	b, ok := p.take(n, true)
	p.mu.Unlock()
	if r == nil {
		r = new([]E)
	}
	if !ok {
		b = p.make(n)
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
	p.mu.Lock()
	p.List.Put(*r)
	*r = nil
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
