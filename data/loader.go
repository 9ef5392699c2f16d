package data

import (
	"fmt"
	"iter"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/foveaml/fovea/internal/scratch"
	"github.com/foveaml/fovea/tensor"
)

// LoaderOptions configure a Loader. The zero value of each field means
// its default.
type LoaderOptions struct {
	// BatchSize is the number of examples in a batch; default 32.
	BatchSize int
	// Shuffle visits the examples in a new random order each epoch, a
	// pure function of Seed and the epoch number. Without it the order is
	// the dataset's.
	Shuffle bool
	// Seed seeds the shuffle and the random sources handed to Transform.
	Seed uint64
	// DropLast drops a final batch smaller than BatchSize; without it the
	// last batch holds what is left.
	DropLast bool
	// Workers is the number of goroutines decoding and transforming
	// examples; default GOMAXPROCS.
	Workers int
	// Prefetch is the number of batches prepared ahead of the one being
	// used; default 2.
	Prefetch int
	// Transform, if not nil, rewrites every example after it is read: it
	// is where augmentation plugs in.
	Transform Transform
}

// Transform rewrites one example as a batch is assembled. A Loader calls
// Apply from several goroutines at once, so it must not modify shared
// state; its randomness must come from rng alone, which the loader seeds
// from (Seed, epoch, example index) with ExampleSeed, so a transformed
// example does not depend on the number of workers or their timing.
type Transform interface {
	// OutShape returns the shape of a transformed h×w×c example, or an
	// error if the transform cannot take that shape. The loader asks once.
	OutShape(h, w, c int) (oh, ow, oc int, err error)
	// Apply writes the transform of src (h×w×c, HWC) into dst (of
	// OutShape's size), overwriting all of it. It may not keep either.
	Apply(dst, src []float32, h, w, c int, rng *rand.Rand) error
}

// TransformFunc adapts a function to a Transform that keeps the shape.
type TransformFunc func(dst, src []float32, h, w, c int, rng *rand.Rand) error

// OutShape returns its input shape.
func (f TransformFunc) OutShape(h, w, c int) (int, int, int, error) { return h, w, c, nil }

// Apply calls f.
func (f TransformFunc) Apply(dst, src []float32, h, w, c int, rng *rand.Rand) error {
	return f(dst, src, h, w, c, rng)
}

// Batch is one batch of examples. Its slices and tensor belong to the
// loader and are reused: they stay valid until the next call of Next (or
// Close) on the iterator that returned them. Clone what must live longer.
type Batch struct {
	// X holds the images, shape [n, h, w, c] (NHWC).
	X *tensor.Tensor
	// Y holds the n labels.
	Y []int32
	// Indices holds the dataset index of each example.
	Indices []int
}

// Loader turns a Dataset into batches: shuffled from a seed, read and
// transformed by worker goroutines in parallel, prefetched ahead of use
// and delivered in order. The batch buffers are recycled, so iterating
// allocates little. A Loader may run several epochs at once; an Iter is
// for one goroutine.
type Loader struct {
	ds      Dataset
	opts    LoaderOptions
	h, w, c int // example shape
	oh, ow  int // batch image shape, after the transform
	oc      int
	classes int
}

// NewLoader returns a loader of batches from ds. It is an error if an
// option is negative or if the transform cannot take ds's shape.
func NewLoader(ds Dataset, opts LoaderOptions) (*Loader, error) {
	if ds == nil {
		return nil, fmt.Errorf("data.NewLoader: nil dataset")
	}
	if opts.BatchSize < 0 || opts.Workers < 0 || opts.Prefetch < 0 {
		return nil, fmt.Errorf("data.NewLoader: BatchSize %d, Workers %d and Prefetch %d must not be negative (0 means the default)", opts.BatchSize, opts.Workers, opts.Prefetch)
	}
	if opts.BatchSize == 0 {
		opts.BatchSize = 32
	}
	if opts.Workers == 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.Prefetch == 0 {
		opts.Prefetch = 2
	}
	l := &Loader{ds: ds, opts: opts, classes: ds.Classes()}
	l.h, l.w, l.c = ds.Shape()
	if l.h <= 0 || l.w <= 0 || l.c <= 0 {
		return nil, fmt.Errorf("data.NewLoader: dataset shape %dx%dx%d is not positive", l.h, l.w, l.c)
	}
	l.oh, l.ow, l.oc = l.h, l.w, l.c
	if opts.Transform != nil {
		var err error
		l.oh, l.ow, l.oc, err = opts.Transform.OutShape(l.h, l.w, l.c)
		if err != nil {
			return nil, fmt.Errorf("data.NewLoader: transform of %dx%dx%d examples: %w", l.h, l.w, l.c, err)
		}
		if l.oh <= 0 || l.ow <= 0 || l.oc <= 0 {
			return nil, fmt.Errorf("data.NewLoader: transform turns %dx%dx%d examples into %dx%dx%d", l.h, l.w, l.c, l.oh, l.ow, l.oc)
		}
	}
	return l, nil
}

// NumBatches returns the number of batches in an epoch.
func (l *Loader) NumBatches() int {
	n, bs := l.ds.Len(), l.opts.BatchSize
	if l.opts.DropLast {
		return n / bs
	}
	return (n + bs - 1) / bs
}

// Shape returns the height, width and channels of the batches' images:
// the dataset's, or what the transform makes of them.
func (l *Loader) Shape() (h, w, c int) { return l.oh, l.ow, l.oc }

// Order returns the order in which epoch visits the dataset's examples: a
// pure function of Seed and epoch when shuffling, else 0, 1, 2, ...
func (l *Loader) Order(epoch int) []int {
	n := l.ds.Len()
	if !l.opts.Shuffle {
		order := make([]int, n)
		for i := range order {
			order[i] = i
		}
		return order
	}
	s1, s2 := epochOrderSeed(l.opts.Seed, epoch)
	return permutation(n, s1, s2)
}

// All returns the batches of epoch (numbered from 0) as a sequence for a
// range loop, ending with a nil Batch and the error if one stops it.
// Leaving the loop early stops the workers.
func (l *Loader) All(epoch int) iter.Seq2[Batch, error] {
	return func(yield func(Batch, error) bool) {
		it := l.Epoch(epoch)
		defer it.Close()
		for {
			b, ok := it.Next()
			if !ok {
				break
			}
			if !yield(b, nil) {
				return
			}
		}
		if err := it.Err(); err != nil {
			yield(Batch{}, err)
		}
	}
}

// slot is one batch's buffers, filled by the workers and lent to the
// consumer.
type slot struct {
	x     []float32
	y     []int32
	idx   []int
	full  *tensor.Tensor // x as [BatchSize, h, w, c]
	part  *tensor.Tensor // x as a short final batch
	n     int
	left  atomic.Int32  // chunks not yet done
	ready chan struct{} // signalled when left reaches 0

	mu     sync.Mutex
	err    error // the error of the earliest failing example
	errPos int
}

func (s *slot) fail(pos int, err error) {
	s.mu.Lock()
	if s.err == nil || pos < s.errPos {
		s.err, s.errPos = err, pos
	}
	s.mu.Unlock()
}

// batch returns the slot's first n examples as a Batch.
func (s *slot) batch(oh, ow, oc int) Batch {
	x := s.full
	if s.n != x.Dim(0) {
		if s.part == nil || s.part.Dim(0) != s.n {
			s.part, _ = tensor.FromSlice(s.x[:s.n*oh*ow*oc], s.n, oh, ow, oc)
		}
		x = s.part
	}
	return Batch{X: x, Y: s.y[:s.n], Indices: s.idx[:s.n]}
}

// job asks a worker for examples [lo, hi) of a slot's batch.
type job struct {
	s      *slot
	lo, hi int
}

// Iter delivers the batches of one epoch in order. Call Close when done
// with it, unless Next has returned false: that stops its goroutines.
type Iter struct {
	l     *Loader
	epoch int
	order []int
	nb    int
	slots []*slot
	free  chan *slot // slots the dispatcher may fill
	queue chan *slot // filled or filling slots, in batch order
	jobs  chan job
	stop  chan struct{}
	wg    sync.WaitGroup
	cur   *slot
	first int // the batch the dispatcher starts at
	next  int
	err   error
	done  bool
}

// Epoch starts reading the batches of epoch (numbered from 0): the
// workers begin at once, Prefetch batches ahead of Next.
func (l *Loader) Epoch(epoch int) *Iter { return l.EpochFrom(epoch, 0) }

// EpochFrom is Epoch from batch first on (numbered from 0; clamped to
// the epoch's batches): the batches before it are skipped unread, and
// the rest are what Epoch would deliver after them. A run that stopped
// part of the way through an epoch resumes with it.
func (l *Loader) EpochFrom(epoch, first int) *Iter {
	it := &Iter{l: l, epoch: epoch, nb: l.NumBatches()}
	it.first = min(max(first, 0), it.nb)
	it.next = it.first
	if it.nb == it.first {
		it.done = true
		return it
	}
	it.order = l.Order(epoch)
	it.slots = l.takeSlots(l.opts.Prefetch + 1)
	it.free = make(chan *slot, len(it.slots))
	it.queue = make(chan *slot, len(it.slots))
	for _, s := range it.slots {
		it.free <- s
	}
	it.jobs = make(chan job, l.opts.Workers)
	it.stop = make(chan struct{})
	it.wg.Add(1 + l.opts.Workers)
	go it.dispatch()
	for range l.opts.Workers {
		go it.work()
	}
	return it
}

// Next returns the next batch, valid until the following call of Next or
// Close, and false when the epoch is over or an error has stopped it.
func (it *Iter) Next() (Batch, bool) {
	if it.done {
		return Batch{}, false
	}
	if it.cur != nil {
		it.free <- it.cur // never blocks: free holds every slot
		it.cur = nil
	}
	if it.next == it.nb {
		it.finish()
		return Batch{}, false
	}
	s := <-it.queue
	<-s.ready
	if s.err != nil {
		it.err = s.err
		it.finish()
		return Batch{}, false
	}
	it.cur = s
	it.next++
	l := it.l
	return s.batch(l.oh, l.ow, l.oc), true
}

// Err returns the error that stopped the epoch early, or nil.
func (it *Iter) Err() error { return it.err }

// Close stops the workers, waits for them to finish what they are
// decoding and recycles the buffers. The last batch is invalid after it.
// Close may be called more than once.
func (it *Iter) Close() {
	if !it.done {
		it.finish()
	}
}

func (it *Iter) finish() {
	it.done = true
	it.cur = nil
	if it.stop == nil {
		return
	}
	close(it.stop)
	it.wg.Wait()
	for _, s := range it.slots {
		select {
		case <-s.ready: // a signal the consumer did not take
		default:
		}
	}
	putSlots(it.slots)
	it.slots = nil
}

// dispatch hands out the epoch's batches, a slot at a time, as chunks of
// examples for the workers.
func (it *Iter) dispatch() {
	defer it.wg.Done()
	defer close(it.jobs)
	bs := it.l.opts.BatchSize
	chunk := max(1, (bs+2*it.l.opts.Workers-1)/(2*it.l.opts.Workers))
	for b := it.first; b < it.nb; b++ {
		var s *slot
		select {
		case s = <-it.free:
		case <-it.stop:
			return
		}
		lo := b * bs
		s.n = min(bs, len(it.order)-lo)
		copy(s.idx, it.order[lo:lo+s.n])
		s.err, s.errPos = nil, 0
		s.left.Store(int32((s.n + chunk - 1) / chunk))
		it.queue <- s // never blocks: queue holds every slot
		for p := 0; p < s.n; p += chunk {
			select {
			case it.jobs <- job{s: s, lo: p, hi: min(p+chunk, s.n)}:
			case <-it.stop:
				return
			}
		}
	}
}

// work reads and transforms examples until the jobs run out or the
// iterator stops.
func (it *Iter) work() {
	defer it.wg.Done()
	l := it.l
	src := rand.NewPCG(0, 0)
	rng := rand.New(src)
	var tmp []float32
	if l.opts.Transform != nil {
		tmp = scratch.Floats.Get(l.h * l.w * l.c)
		defer scratch.Floats.Put(tmp)
	}
	size := l.oh * l.ow * l.oc
	for {
		var j job
		select {
		case <-it.stop:
			return
		case jj, ok := <-it.jobs:
			if !ok {
				return
			}
			j = jj
		}
		s := j.s
		for p := j.lo; p < j.hi; p++ {
			i := s.idx[p]
			out := s.x[p*size : (p+1)*size]
			label, err := it.example(i, out, tmp, src, rng)
			if err == nil && (label < 0 || label >= l.classes) {
				err = fmt.Errorf("data: example %d has label %d, outside [0, %d)", i, label, l.classes)
			}
			if err != nil {
				s.fail(p, err)
				break
			}
			s.y[p] = int32(label)
		}
		if s.left.Add(-1) == 0 {
			s.ready <- struct{}{}
		}
	}
}

// example reads example i into out, through tmp and the transform if
// there is one. A panic in the dataset or the transform (a bug, or a
// decoder tripped by a file) becomes an error naming the example, which
// stops the epoch, rather than a crash of the program from a worker
// goroutine.
func (it *Iter) example(i int, out, tmp []float32, src *rand.PCG, rng *rand.Rand) (label int, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("data: example %d: panic while reading it: %v", i, r)
		}
	}()
	l := it.l
	if tmp == nil {
		return l.ds.Example(i, out)
	}
	if label, err = l.ds.Example(i, tmp); err != nil {
		return label, err
	}
	src.Seed(ExampleSeed(l.opts.Seed, it.epoch, i))
	if err = l.opts.Transform.Apply(out, tmp, l.h, l.w, l.c, rng); err != nil {
		err = fmt.Errorf("data: transform of example %d: %w", i, err)
	}
	return label, err
}

// takeSlots returns n batch buffers, their images from the shared pool.
func (l *Loader) takeSlots(n int) []*slot {
	bs := l.opts.BatchSize
	slots := make([]*slot, n)
	for i := range slots {
		s := &slot{
			x:     scratch.Floats.Get(bs * l.oh * l.ow * l.oc),
			y:     make([]int32, bs),
			idx:   make([]int, bs),
			ready: make(chan struct{}, 1),
		}
		s.full, _ = tensor.FromSlice(s.x, bs, l.oh, l.ow, l.oc)
		slots[i] = s
	}
	return slots
}

// putSlots hands the slots' images back to the pool.
func putSlots(slots []*slot) {
	for _, s := range slots {
		scratch.Floats.Put(s.x)
		s.x, s.full, s.part = nil, nil, nil
	}
}
