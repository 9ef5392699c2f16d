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
	return keep(b, func() (*nn.Conv2D, error) { return nn.NewConv2D(cfg, b.rng) })
}

func (b *builder) dense(cfg nn.DenseConfig) *nn.Dense {
	return keep(b, func() (*nn.Dense, error) { return nn.NewDense(cfg, b.rng) })
}

func (b *builder) bn(c int) *nn.BatchNorm {
	return keep(b, func() (*nn.BatchNorm, error) { return nn.NewBatchNorm(c) })
}

// keep makes a layer with newLayer unless b has failed already, and keeps
// newLayer's error.
func keep[L any](b *builder, newLayer func() (L, error)) L {
	var l L
	if b.err != nil {
		return l
	}
	l, b.err = newLayer()
	return l
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
