package data

import "math/bits"

// The loader's randomness is a pure function of its seed, the epoch and
// the example index, so training resumes exactly and results do not
// depend on how work was scheduled. The functions here are written out,
// not borrowed from math/rand, so the sequences they produce are fixed by
// this package, whatever a future Go release does to rand's methods.

// mix64 is the splitmix64 finaliser: a bijection of uint64 whose output
// bits each depend on all input bits.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// pcg is a 128-bit LCG with the DXSM output function, the generator of
// math/rand/v2's PCG, copied so that permutations are this package's own.
type pcg struct{ hi, lo uint64 }

func (p *pcg) next() uint64 {
	const (
		mulHi = 2549297995355413924
		mulLo = 4865540595714422341
		incHi = 6364136223846793005
		incLo = 1442695040888963407
	)
	hi, lo := bits.Mul64(p.lo, mulLo)
	hi += p.hi*mulLo + p.lo*mulHi
	lo, c := bits.Add64(lo, incLo, 0)
	hi, _ = bits.Add64(hi, incHi, c)
	p.lo, p.hi = lo, hi
	const cheapMul = 0xda942042e4dd58b5
	hi ^= hi >> 32
	hi *= cheapMul
	hi ^= hi >> 48
	return hi * (lo | 1)
}

// below returns a uniform value in [0, n), n > 0, by Lemire's
// multiply-and-reject method.
func (p *pcg) below(n uint64) uint64 {
	hi, lo := bits.Mul64(p.next(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(p.next(), n)
		}
	}
	return hi
}

// permutation returns a uniformly random permutation of [0, n) drawn
// from a generator seeded with (s1, s2), by Fisher-Yates.
func permutation(n int, s1, s2 uint64) []int {
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	p := pcg{hi: s1, lo: s2}
	for i := n - 1; i > 0; i-- {
		j := int(p.below(uint64(i + 1)))
		perm[i], perm[j] = perm[j], perm[i]
	}
	return perm
}

// epochOrderSeed returns the generator seed of the shuffle for epoch.
func epochOrderSeed(seed uint64, epoch int) (uint64, uint64) {
	a := mix64(seed ^ 0x6a09e667f3bcc908)
	return a, mix64(a ^ mix64(uint64(epoch)))
}

// ExampleSeed returns the seed of the random source a Loader hands its
// Transform for example index in the given epoch. It is a pure function of
// its arguments, so an augmentation can be replayed outside the loader
// (on a label map or a box, say) with rand.New(rand.NewPCG(ExampleSeed(...))).
func ExampleSeed(seed uint64, epoch, index int) (uint64, uint64) {
	a := mix64(seed ^ 0xbb67ae8584caa73b ^ mix64(uint64(epoch)))
	return a, mix64(a + 0x3c6ef372fe94f82b*uint64(index+1))
}
