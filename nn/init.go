package nn

import (
	"math"
	"math/rand/v2"
)

// Init fills a new weight w with initial values, given its fan-in and
// fan-out (for a convolution KH·KW·Cin and KH·KW·Cout; for a dense layer
// its input and output widths) and the random source of the model.
type Init func(w []float32, fanIn, fanOut int, rng *rand.Rand)

func uniform(w []float32, bound float64, rng *rand.Rand) {
	for i := range w {
		w[i] = float32((2*rng.Float64() - 1) * bound)
	}
}

func normal(w []float32, std float64, rng *rand.Rand) {
	for i := range w {
		w[i] = float32(rng.NormFloat64() * std)
	}
}

// HeNormal is Kaiming He's initialisation for ReLU networks: normal with
// standard deviation sqrt(2/fanIn).
func HeNormal(w []float32, fanIn, _ int, rng *rand.Rand) { normal(w, math.Sqrt(2/float64(fanIn)), rng) }

// HeUniform is He's initialisation drawn uniformly from ±sqrt(6/fanIn).
func HeUniform(w []float32, fanIn, _ int, rng *rand.Rand) {
	uniform(w, math.Sqrt(6/float64(fanIn)), rng)
}

// GlorotUniform is Xavier Glorot's initialisation (Keras' default):
// uniform on ±sqrt(6/(fanIn+fanOut)).
func GlorotUniform(w []float32, fanIn, fanOut int, rng *rand.Rand) {
	uniform(w, math.Sqrt(6/float64(fanIn+fanOut)), rng)
}

// GlorotNormal is Glorot's initialisation with a normal of standard
// deviation sqrt(2/(fanIn+fanOut)).
func GlorotNormal(w []float32, fanIn, fanOut int, rng *rand.Rand) {
	normal(w, math.Sqrt(2/float64(fanIn+fanOut)), rng)
}

// LeCunNormal is LeCun's initialisation: normal with standard deviation
// sqrt(1/fanIn), for tanh and SELU networks.
func LeCunNormal(w []float32, fanIn, _ int, rng *rand.Rand) {
	normal(w, math.Sqrt(1/float64(fanIn)), rng)
}

// LeCunUniform is LeCun's initialisation drawn uniformly from
// ±sqrt(3/fanIn).
func LeCunUniform(w []float32, fanIn, _ int, rng *rand.Rand) {
	uniform(w, math.Sqrt(3/float64(fanIn)), rng)
}

// TorchDefault is PyTorch's default for Conv2d and Linear weights and
// biases (kaiming_uniform_ with a = √5): uniform on ±1/sqrt(fanIn).
func TorchDefault(w []float32, fanIn, _ int, rng *rand.Rand) {
	uniform(w, 1/math.Sqrt(float64(fanIn)), rng)
}

// Zeros sets every value to 0.
func Zeros(w []float32, _, _ int, _ *rand.Rand) { clear(w) }

// Ones sets every value to 1.
func Ones(w []float32, _, _ int, _ *rand.Rand) {
	for i := range w {
		w[i] = 1
	}
}
