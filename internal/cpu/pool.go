package cpu

import (
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// job is one parallel loop: the goroutine that called For claims its
// chunks in order from the front, the pool's workers from the back, until
// they meet (see run).
type job struct {
	fn     func(lo, hi int)
	n      int
	chunk  int
	chunks int
	// span holds the unclaimed chunks [front, back): front in its low
	// 32 bits, back in its high 32.
	span atomic.Uint64
	done atomic.Int64 // chunks finished, for a caller spinning on them
	wg   sync.WaitGroup
	// panicked holds the first panic of a chunk, re-raised on the
	// goroutine that called For once every chunk is done: a worker's
	// panic would otherwise end the process, past any recover of the
	// caller's.
	panicked atomic.Pointer[chunkPanic]
}

// chunkPanic is a recovered panic value.
type chunkPanic struct{ v any }

// claim takes the first unclaimed chunk, or the last one when fromBack
// is set, and reports false when none is left.
func (j *job) claim(fromBack bool) (int, bool) {
	for {
		s := j.span.Load()
		f, b := uint32(s), uint32(s>>32)
		if f >= b {
			return 0, false
		}
		c, ns := f, uint64(f+1)|uint64(b)<<32
		if fromBack {
			c, ns = b-1, uint64(f)|uint64(b-1)<<32
		}
		if j.span.CompareAndSwap(s, ns) {
			return int(c), true
		}
	}
}

// unclaimed reports whether some chunk is left to claim.
func (j *job) unclaimed() bool {
	s := j.span.Load()
	return uint32(s) < uint32(s>>32)
}

// run takes chunks until none are left.
func (j *job) run(fromBack bool) {
	for {
		c, ok := j.claim(fromBack)
		if !ok {
			return
		}
		lo := c * j.chunk
		hi := min(lo+j.chunk, j.n)
		j.call(lo, hi)
	}
}

// call runs one chunk, keeping its panic for the caller of For.
func (j *job) call(lo, hi int) {
	defer j.wg.Done()
	defer j.done.Add(1)
	defer func() {
		if v := recover(); v != nil {
			j.panicked.CompareAndSwap(nil, &chunkPanic{v})
		}
	}()
	j.fn(lo, hi)
}

// The pool: workers that sleep until a loop has chunks nobody has
// claimed yet. A loop is listed in active while it has such chunks; an
// idle worker takes the newest listed loop (in nested loops, the
// innermost, whose caller is waiting on it) and claims chunks until none
// are left. A listing, unlike a queued token, is never lost or stale: a
// worker busy when a loop starts finds it when it next looks.
var (
	poolMu   sync.Mutex
	poolWake = sync.NewCond(&poolMu)
	started  int
	active   []*job
)

// ensureWorkers starts workers until w-1 of them exist (the caller of For
// is the w-th). Workers live for the life of the process. poolMu is held.
func ensureWorkers(w int) {
	for started < w-1 {
		started++
		go worker()
	}
}

// worker claims chunks of listed loops for the life of the process.
// With nothing to claim it first watches for a new listing for spinTime
// before it sleeps: a network's next layer usually starts within
// microseconds, and waking a sleeping goroutine costs tens of them, which
// at a batch of one image is a good part of a layer (see spinTime).
func worker() {
	poolMu.Lock()
	for {
		j := claimable()
		if j == nil {
			gen := listings.Load()
			poolMu.Unlock()
			if spinUntil(func() bool { return listings.Load() != gen }) {
				poolMu.Lock()
				continue
			}
			poolMu.Lock()
			if j = claimable(); j == nil {
				poolWake.Wait()
				continue
			}
		}
		poolMu.Unlock()
		j.run(true)
		poolMu.Lock()
	}
}

// listings counts the loops ever listed, for spinning workers to watch.
var listings atomic.Int64

// spinTime is how long a worker or a caller waiting for its loop's last
// chunks watches before it sleeps. Between two layers of a network at a
// batch of one image the caller works alone for up to a few hundred
// microseconds (checks, the next output, a small serial op), and on a
// virtual machine a sleeping worker takes tens of microseconds to wake,
// its core halted: with 50 µs the worker slept 14 times a GoogLeNet
// call and joined a loop 10 µs late on average; with 500 µs it does not
// sleep within a call and joins within 2 µs (BenchmarkForAfterPause),
// and calls take 5–9% less time. An idle process burns at most this
// long of each core after its last loop.
const spinTime = 500 * time.Microsecond

// spinUntil polls cond for up to spinTime, yielding the processor between
// polls, and reports whether it became true.
func spinUntil(cond func() bool) bool {
	start := time.Now()
	for i := 0; ; i++ {
		if cond() {
			return true
		}
		if i%64 == 63 {
			if time.Since(start) > spinTime {
				return false
			}
			runtime.Gosched()
		}
	}
}

// claimable drops the loops whose chunks are all claimed from active and
// returns the newest one left, or nil. poolMu is held.
func claimable() *job {
	keep := active[:0]
	for _, j := range active {
		if j.unclaimed() {
			keep = append(keep, j)
		}
	}
	clear(active[len(keep):])
	active = keep
	if len(active) == 0 {
		return nil
	}
	return active[len(active)-1]
}

// For calls fn on consecutive sub-ranges [lo, hi) that together cover
// [0, n) exactly once, in parallel on the pool. Each range holds at least
// grain items (except possibly the last), so callers choose grain to make a
// chunk worth a goroutine hand-off (tens of microseconds of work). Work is
// cut into up to four chunks per worker so that a slow core does not hold
// the others up. For returns when every call of fn has returned.
//
// The cut depends only on n, grain and Workers() (see Split), never on
// timing: which goroutine runs a chunk, and when, is what varies.
//
// fn must be safe to call from several goroutines at once. If a call of
// fn panics, For panics with the same value on the calling goroutine
// once the other chunks are done. For may be
// called from inside fn: nested loops share the same workers, and the
// waiting goroutine takes on chunks itself, so nesting cannot deadlock.
func For(n, grain int, fn func(lo, hi int)) {
	chunks, size := Split(n, grain)
	switch {
	case chunks == 0:
	case chunks == 1:
		fn(0, n)
	default:
		run(n, size, fn, Workers())
	}
}

// Split returns how For(n, grain, fn) cuts [0, n): into chunks ranges,
// range c being [c·size, min((c+1)·size, n)). It is 0 chunks when n ≤ 0
// and 1 chunk of n items when the loop is not worth splitting.
func Split(n, grain int) (chunks, size int) {
	if n <= 0 {
		return 0, 0
	}
	grain = max(grain, 1)
	w := Workers()
	if w == 1 || n <= grain {
		return 1, n
	}
	size = max(grain, (n+4*w-1)/(4*w))
	if size >= n {
		return 1, n
	}
	return (n + size - 1) / size, size
}

// ForChunks is For with each call of fn also told the index c of its
// range in Split's cut (lo = c·size). A reduction keeps one partial
// result per chunk and combines them by index (see Ordered), so that its
// result is the same from run to run whatever order the chunks finish
// in; it depends on the number of workers, which decides the cut.
func ForChunks(n, grain int, fn func(c, lo, hi int)) {
	chunks, size := Split(n, grain)
	switch {
	case chunks == 0:
	case chunks == 1:
		fn(0, 0, n)
	default:
		run(n, size, func(lo, hi int) { fn(lo/size, lo, hi) }, Workers())
	}
}

// run lists the chunks of [0, n) for the pool, wakes up to w-1 workers
// and takes its share. The caller claims from the front and the workers
// from the back: a network's consecutive layers each cut their output
// rows in order, so each core mostly reads the rows it wrote itself in
// the layer before, and they stay in its own cache. Claimed from one end
// by whoever asked next, the rows of one layer landed on the cores
// interleaved, and a core read from the other's cache what it needed
// next: batch-1 calls took 2–7% longer (ResNet-50, GoogLeNet, AlexNet,
// VGG-16). Both ends still balance the load: a core that falls behind
// claims fewer chunks.
func run(n, chunk int, fn func(lo, hi int), w int) {
	chunks := (n + chunk - 1) / chunk
	for chunks > math.MaxUint32 { // span counts chunks in 32 bits
		chunk *= 2
		chunks = (n + chunk - 1) / chunk
	}
	j := &job{fn: fn, n: n, chunk: chunk, chunks: chunks}
	j.span.Store(uint64(chunks) << 32)
	j.wg.Add(chunks)
	poolMu.Lock()
	ensureWorkers(w)
	active = append(active, j)
	listings.Add(1)
	for range min(w, chunks) - 1 {
		poolWake.Signal()
	}
	poolMu.Unlock()
	j.run(false)
	// Every chunk is claimed: unlist the loop now rather than when a
	// worker next looks, so that its closure (and what it holds) is not
	// kept alive by the list.
	poolMu.Lock()
	if i := slices.Index(active, j); i >= 0 {
		active = slices.Delete(active, i, i+1)
	}
	poolMu.Unlock()
	spinUntil(func() bool { return j.done.Load() == int64(j.chunks) })
	j.wg.Wait()
	if p := j.panicked.Load(); p != nil {
		panic(p.v)
	}
}

// ForEach calls fn(i) for every i in [0, n) in parallel on the pool, one
// index per hand-off: for coarse tasks of similar size (a block of a
// matrix product, an image of a batch), where finer balancing than one
// task is not possible and coarser would leave a core idle at the end.
func ForEach(n int, fn func(i int)) {
	if n <= 0 {
		return
	}
	w := Workers()
	if w == 1 || n == 1 {
		for i := 0; i < n; i++ {
			fn(i)
		}
		return
	}
	run(n, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			fn(i)
		}
	}, w)
}
