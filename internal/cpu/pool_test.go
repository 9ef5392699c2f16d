package cpu

import (
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestForCoversOnce checks that every index is visited exactly once, for
// sizes around the chunking thresholds and several worker counts.
func TestForCoversOnce(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{1, 2, 3, 8} {
		runtime.GOMAXPROCS(procs)
		for _, n := range []int{0, 1, 2, 7, 31, 32, 33, 1000, 4097} {
			for _, grain := range []int{0, 1, 3, 64, 5000} {
				seen := make([]int32, n)
				For(n, grain, func(lo, hi int) {
					if lo >= hi || (grain > 0 && hi-lo < grain && hi != n) {
						t.Errorf("procs=%d n=%d grain=%d: bad range [%d,%d)", procs, n, grain, lo, hi)
					}
					for i := lo; i < hi; i++ {
						atomic.AddInt32(&seen[i], 1)
					}
				})
				for i, s := range seen {
					if s != 1 {
						t.Fatalf("procs=%d n=%d grain=%d: index %d visited %d times", procs, n, grain, i, s)
					}
				}
			}
		}
	}
}

// TestForNested runs parallel loops inside parallel loops, deeper than
// there are workers: it must neither deadlock nor miss an index.
func TestForNested(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	runtime.GOMAXPROCS(4)
	var total atomic.Int64
	For(16, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			For(16, 1, func(lo, hi int) {
				for j := lo; j < hi; j++ {
					ForEach(4, func(int) { total.Add(1) })
				}
			})
		}
	})
	if got := total.Load(); got != 16*16*4 {
		t.Fatalf("nested loops ran %d bodies, want %d", got, 16*16*4)
	}
}

// TestForUsesWorkers checks that a loop does run on more than one
// goroutine when there are several workers, which is what the kernels'
// speed rests on.
func TestForUsesWorkers(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	runtime.GOMAXPROCS(4)
	var inside, most atomic.Int32
	release := make(chan struct{})
	go func() {
		for most.Load() < 2 {
			runtime.Gosched()
		}
		close(release)
	}()
	For(8, 1, func(lo, hi int) {
		n := inside.Add(1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		select { // every chunk waits until two ran at once
		case <-release:
		case <-time.After(10 * time.Second):
			t.Error("For never ran two chunks at once on 4 workers")
		}
		inside.Add(-1)
	})
}

func TestISA(t *testing.T) {
	switch ISA() {
	case "avx512", "avx2+fma", "generic":
	default:
		t.Fatalf("ISA() = %q", ISA())
	}
	if HasAVX512 && ISA() != "avx512" {
		t.Fatal("AVX-512 present but not reported")
	}
}

// A panic in a chunk run by a worker reaches the caller of For, where a
// recover can catch it, instead of ending the process.
func TestForPanicReachesCaller(t *testing.T) {
	if Workers() < 2 {
		t.Skip("one worker: chunks run on the caller anyway")
	}
	for range 20 {
		got := func() (v any) {
			defer func() { v = recover() }()
			For(1000, 1, func(lo, hi int) {
				if lo <= 999 && 999 < hi {
					panic("boom")
				}
			})
			return nil
		}()
		if got != "boom" {
			t.Fatalf("recovered %v, want boom", got)
		}
	}
	// The pool still works afterwards.
	var n atomic.Int64
	For(1000, 1, func(lo, hi int) { n.Add(int64(hi - lo)) })
	if n.Load() != 1000 {
		t.Fatalf("covered %d of 1000 after a panic", n.Load())
	}
}

// TestForHelpedAfterBusyWorkers starts a loop while every worker is busy
// and many other loops have started and finished without help: once a
// worker is free it must still join the loop, however many hand-offs
// went unanswered before (a bounded queue of them once dropped the new
// loop's, and it ran on its caller alone).
func TestForHelpedAfterBusyWorkers(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	poolMu.Lock()
	w := max(2, started+1) // every worker an earlier test started
	poolMu.Unlock()
	runtime.GOMAXPROCS(w)
	hold := make(chan struct{})
	busy := make(chan struct{})
	go For(w, 1, func(lo, hi int) { // occupies its caller and every worker
		busy <- struct{}{}
		<-hold
	})
	for range w {
		<-busy
	}
	for range 5000 { // loops nobody helps: their callers run every chunk
		For(4, 1, func(lo, hi int) {})
	}
	var inside, most atomic.Int32
	done := make(chan struct{})
	go func() {
		For(2, 1, func(lo, hi int) {
			n := inside.Add(1)
			for {
				m := most.Load()
				if n <= m || most.CompareAndSwap(m, n) {
					break
				}
			}
			deadline := time.Now().Add(10 * time.Second)
			for most.Load() < 2 && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			inside.Add(-1)
		})
		close(done)
	}()
	time.Sleep(10 * time.Millisecond)
	close(hold)
	<-done
	if most.Load() < 2 {
		t.Fatal("a loop started while the workers were busy never got a worker's help")
	}
}

// BenchmarkForAfterPause times a short loop (8 chunks of about 5 µs)
// that follows 150 µs of the caller working alone, as a network's layer
// at a batch of one image follows the serial work before it: with every
// worker awake and joining at once, a loop takes its work divided by the
// workers; a worker that fell asleep in the pause costs its wake-up.
func BenchmarkForAfterPause(b *testing.B) {
	busy := func(d time.Duration) {
		for t0 := time.Now(); time.Since(t0) < d; {
		}
	}
	var loop time.Duration
	for b.Loop() {
		busy(150 * time.Microsecond)
		t0 := time.Now()
		For(8, 1, func(lo, hi int) {
			for range hi - lo {
				busy(5 * time.Microsecond)
			}
		})
		loop += time.Since(t0)
	}
	b.ReportMetric(float64(loop.Microseconds())/float64(b.N), "µs/loop")
}

// TestForCallerTakesTheFront checks that the goroutine calling For runs
// a leading run of the chunks and the workers the rest, whatever the
// timing: consecutive loops over the same rows then give each core
// mostly the rows it wrote last.
func TestForCallerTakesTheFront(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	caller := goroutineID()
	for range 20 {
		chunks, size := Split(64, 1)
		onCaller := make([]bool, chunks)
		For(64, 1, func(lo, hi int) {
			onCaller[lo/size] = goroutineID() == caller
			time.Sleep(50 * time.Microsecond) // time for the worker to join
		})
		k := 0
		for k < chunks && onCaller[k] {
			k++
		}
		if k == 0 || slices.Contains(onCaller[k:], true) {
			t.Fatalf("chunks run by the caller: %v; want a leading run of them", onCaller)
		}
	}
}

// goroutineID returns the running goroutine's number, from its stack
// header ("goroutine 7 [running]:").
func goroutineID() string {
	b := make([]byte, 64)
	b = b[:runtime.Stack(b, false)]
	f := strings.Fields(string(b))
	return f[1]
}
