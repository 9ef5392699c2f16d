package cpu

import (
	"runtime"
	"slices"
	"sync"
	"testing"
)

// TestOrderedRunsInIndexOrder hands steps in from many goroutines in a
// scrambled order: they must run one at a time, in index order.
func TestOrderedRunsInIndexOrder(t *testing.T) {
	const n = 200
	for trial := range 20 {
		var o Ordered
		var ran []int
		running := 0
		var wg sync.WaitGroup
		for k := range n {
			i := (k*7 + trial) % n // a permutation of [0, n)
			wg.Add(1)
			go func() {
				defer wg.Done()
				o.Do(i, func() {
					running++
					if running != 1 {
						t.Errorf("steps ran concurrently")
					}
					ran = append(ran, i)
					running--
				})
			}()
		}
		wg.Wait()
		want := make([]int, n)
		for i := range want {
			want[i] = i
		}
		if !slices.Equal(ran, want) {
			t.Fatalf("trial %d: steps ran in order %v", trial, ran)
		}
	}
}

// TestOrderedTwice checks that a step handed in twice is a panic, not a
// silent double addition.
func TestOrderedTwice(t *testing.T) {
	for _, seq := range [][]int{{0, 0}, {2, 2}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("steps %v: no panic", seq)
				}
			}()
			var o Ordered
			for _, i := range seq {
				o.Do(i, func() {})
			}
		}()
	}
}

// TestForChunksMatchesSplit checks that ForChunks calls fn once per range
// of Split's cut, with that range's index, and that the cut is For's.
func TestForChunksMatchesSplit(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{1, 2, 3, 8} {
		runtime.GOMAXPROCS(procs)
		for _, n := range []int{0, 1, 2, 7, 31, 32, 33, 1000, 4097} {
			for _, grain := range []int{0, 1, 3, 64, 5000} {
				chunks, size := Split(n, grain)
				var mu sync.Mutex
				got := map[int][2]int{}
				ForChunks(n, grain, func(c, lo, hi int) {
					mu.Lock()
					defer mu.Unlock()
					if _, dup := got[c]; dup {
						t.Errorf("procs=%d n=%d grain=%d: chunk %d twice", procs, n, grain, c)
					}
					got[c] = [2]int{lo, hi}
				})
				var forRanges [][2]int
				For(n, grain, func(lo, hi int) {
					mu.Lock()
					defer mu.Unlock()
					forRanges = append(forRanges, [2]int{lo, hi})
				})
				if len(got) != chunks || len(forRanges) != chunks {
					t.Fatalf("procs=%d n=%d grain=%d: %d chunks by ForChunks, %d by For, Split says %d", procs, n, grain, len(got), len(forRanges), chunks)
				}
				for c := range chunks {
					want := [2]int{c * size, min((c+1)*size, n)}
					if got[c] != want || !slices.Contains(forRanges, want) {
						t.Fatalf("procs=%d n=%d grain=%d: chunk %d is %v (For has %v), want %v", procs, n, grain, c, got[c], forRanges, want)
					}
				}
			}
		}
	}
}
