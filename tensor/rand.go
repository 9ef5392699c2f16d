package tensor

import "math/rand/v2"

// RandNormal returns a tensor of the given shape whose values are drawn
// from the normal distribution of the given mean and standard deviation,
// using r (seed it for reproducible values).
func RandNormal(r *rand.Rand, mean, std float64, shape ...int) *Tensor {
	t := Zeros(shape...)
	for i := range t.data {
		t.data[i] = float32(mean + std*r.NormFloat64())
	}
	return t
}

// RandUniform returns a tensor of the given shape whose values are drawn
// uniformly from [lo, hi), using r.
func RandUniform(r *rand.Rand, lo, hi float64, shape ...int) *Tensor {
	t := Zeros(shape...)
	for i := range t.data {
		t.data[i] = float32(lo + (hi-lo)*r.Float64())
	}
	return t
}
