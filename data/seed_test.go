package data

import (
	"math/rand/v2"
	"testing"
)

// TestPCGMatchesStdlib checks that the package's generator is
// math/rand/v2's PCG, as its comment says.
func TestPCGMatchesStdlib(t *testing.T) {
	p := pcg{hi: 123, lo: 456}
	std := rand.NewPCG(123, 456)
	for i := range 100 {
		if a, b := p.next(), std.Uint64(); a != b {
			t.Fatalf("value %d: %#x, rand/v2 %#x", i, a, b)
		}
	}
}

func TestPermutation(t *testing.T) {
	for _, n := range []int{0, 1, 2, 17, 1000} {
		p := permutation(n, 1, 2)
		seen := make([]bool, n)
		for _, v := range p {
			if seen[v] {
				t.Fatalf("n=%d: %d twice", n, v)
			}
			seen[v] = true
		}
	}
	// Pinned, so a change to the shuffle (which would break exact resumes
	// of earlier runs) is seen.
	if got, want := permutation(8, 1, 2), []int{1, 2, 5, 0, 3, 7, 4, 6}; !equal(got, want) {
		t.Errorf("permutation(8, 1, 2) = %v, was %v", got, want)
	}
	// Each of 3 items lands first about a third of the time.
	var first [3]int
	for s := range uint64(3000) {
		first[permutation(3, s, 0)[0]]++
	}
	for v, c := range first {
		if c < 900 || c > 1100 {
			t.Errorf("%d came first %d times in 3000", v, c)
		}
	}
}

func TestBelow(t *testing.T) {
	p := pcg{hi: 1}
	for _, n := range []uint64{1, 2, 3, 1<<63 + 1} {
		for range 100 {
			if v := p.below(n); v >= n {
				t.Fatalf("below(%d) = %d", n, v)
			}
		}
	}
}

func TestExampleSeed(t *testing.T) {
	seen := map[[2]uint64]bool{}
	for _, seed := range []uint64{0, 1} {
		for epoch := range 3 {
			for i := range 50 {
				a, b := ExampleSeed(seed, epoch, i)
				if seen[[2]uint64{a, b}] {
					t.Fatalf("seed %d epoch %d index %d repeats a seed", seed, epoch, i)
				}
				seen[[2]uint64{a, b}] = true
			}
		}
	}
}
