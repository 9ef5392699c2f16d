package models

import (
	"math"
	"math/rand/v2"

	"github.com/foveaml/fovea/nn"
)

// builder makes the layers of one model from one random source and keeps
// the first error, so that a constructor reads as the architecture and
// checks once at the end.
type builder struct {
	rng  *rand.Rand
	err  error
	seed uint64
	drop uint64 // dropout layers made so far, to give each its own seed
}

func newBuilder(seed, stream uint64) *builder {
	return &builder{rng: rand.New(rand.NewPCG(seed, stream)), seed: seed}
}

func (b *builder) conv(cfg nn.Conv2DConfig) *nn.Conv2D {
	if b.err != nil {
		return nil
	}
	c, err := nn.NewConv2D(cfg, b.rng)
	b.err = err
	return c
}

func (b *builder) dense(cfg nn.DenseConfig) *nn.Dense {
	if b.err != nil {
		return nil
	}
	d, err := nn.NewDense(cfg, b.rng)
	b.err = err
	return d
}

func (b *builder) bn(c int) *nn.BatchNorm {
	if b.err != nil {
		return nil
	}
	n, err := nn.NewBatchNorm(c)
	b.err = err
	return n
}

func (b *builder) dropout(p float32) nn.Dropout {
	b.drop++
	return nn.Dropout{P: p, Seed: b.seed*0x9e3779b97f4a7c15 + b.drop}
}

// heNormalFanOut is torchvision's kaiming_normal_(mode="fan_out",
// nonlinearity="relu") for ResNet's and VGG's convolutions.
func heNormalFanOut(w []float32, _, fanOut int, rng *rand.Rand) {
	std := math.Sqrt(2 / float64(fanOut))
	for i := range w {
		w[i] = float32(rng.NormFloat64() * std)
	}
}

// normalInit returns an initialiser drawing from N(0, std²), truncated
// to ±2 (torchvision's trunc_normal_(std=0.01, a=−2, b=2) for GoogLeNet,
// and its normal_(0, 0.01) for VGG's dense layers, whose draws never reach
// the bounds).
func normalInit(std float64) nn.Init {
	return func(w []float32, _, _ int, rng *rand.Rand) {
		for i := range w {
			v := rng.NormFloat64() * std
			for v < -2 || v > 2 {
				v = rng.NormFloat64() * std
			}
			w[i] = float32(v)
		}
	}
}

// firstDense returns the dotted name of the first dense layer of
// classifier, a child of m: the layer that reads the flattened features.
func firstDense(m *nn.Module, classifier *nn.Sequential) string {
	for _, c := range classifier.Children() {
		if _, ok := c.Layer.(*nn.Dense); ok {
			return m.NameOf(classifier) + "." + c.Name
		}
	}
	return ""
}
