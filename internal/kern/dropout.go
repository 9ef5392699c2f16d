package kern

import "fmt"

// Dropout is inverted dropout (Srivastava et al. 2014): in training every
// activation is kept with probability 1−p and scaled by 1/(1−p), so that
// nothing changes at inference. The scaling lives in the mask, which
// DropoutMask draws once per step and forward and backward then share:
//
//	y = x · mask,  dx = dy · mask,  mask[i] ∈ {0, 1/(1−p)}

// DropoutMask fills mask for drop probability p in [0, 1]: mask[i] is 0
// with probability p and 1/(1−p) otherwise (all 0 for p = 1). Whether i is
// dropped is a pure function of seed and i (SplitMix64 of seed and i
// against p·2⁵³), so a mask is reproducible from its seed, whatever the
// number of workers. Callers draw a fresh seed per step from their own
// seeded source.
func DropoutMask(mask []float32, p float32, seed uint64) {
	if !(p >= 0 && p <= 1) {
		panic(fmt.Sprintf("kern.DropoutMask: probability %v outside [0, 1]", p))
	}
	threshold := uint64(float64(p) * (1 << 53))
	keep := float32(0)
	if p < 1 {
		keep = 1 / (1 - p)
	}
	forElems(len(mask), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			v := float32(0)
			if splitMix64(seed+uint64(i)*0x9e3779b97f4a7c15)>>11 >= threshold {
				v = keep
			}
			mask[i] = v
		}
	})
}

// splitMix64 is the finaliser of Steele et al.'s SplitMix64 generator: a
// bijective mix whose outputs on consecutive multiples of the golden gamma
// pass BigCrush.
func splitMix64(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// Dropout sets y[i] = x[i]·mask[i], with mask from DropoutMask. y may
// alias x.
func Dropout(y, x, mask []float32) { Mul(y, x, mask) }

// DropoutBackward sets dx[i] = dy[i]·mask[i], the gradient of Dropout
// with the same mask. dx may alias dy.
func DropoutBackward(dx, dy, mask []float32) { Mul(dx, dy, mask) }
