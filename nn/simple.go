package nn

import (
	"fmt"

	"github.com/foveaml/fovea/ag"
)

// MaxPool2D takes the maximum over windows of an NHWC batch; the window,
// stride (0: the window's size), padding and ceil mode are ag.Pool2D's.
// AlexNet's overlapping pooling is MaxPool2D{KH: 3, KW: 3, SH: 2, SW: 2}.
type MaxPool2D ag.Pool2D

// Forward implements Layer.
func (p MaxPool2D) Forward(c *Ctx, x *ag.Var) *ag.Var { return c.Tape.MaxPool(x, ag.Pool2D(p)) }

// Params implements Layer: pooling has none.
func (MaxPool2D) Params() []Param { return nil }

// AvgPool2D averages over windows of an NHWC batch, as MaxPool2D; by
// default padding counts in the divisor (PyTorch's count_include_pad).
type AvgPool2D ag.Pool2D

// Forward implements Layer.
func (p AvgPool2D) Forward(c *Ctx, x *ag.Var) *ag.Var { return c.Tape.AvgPool(x, ag.Pool2D(p)) }

// Params implements Layer: pooling has none.
func (AvgPool2D) Params() []Param { return nil }

// GlobalAvgPool averages each channel over the image: [N, H, W, C] →
// [N, C].
type GlobalAvgPool struct{}

// Forward implements Layer.
func (GlobalAvgPool) Forward(c *Ctx, x *ag.Var) *ag.Var { return c.Tape.GlobalAvgPool(x) }

// Params implements Layer: it has none.
func (GlobalAvgPool) Params() []Param { return nil }

// Flatten turns [N, ...] into [N, rest] in memory order: for an NHWC
// image, (h, w, c) order, not PyTorch's (c, h, w).
type Flatten struct{}

// Forward implements Layer.
func (Flatten) Forward(c *Ctx, x *ag.Var) *ag.Var { return c.Tape.Flatten(x) }

// Params implements Layer: it has none.
func (Flatten) Params() []Param { return nil }

// LRN is local response normalisation across channels (AlexNet's is
// LRN{Size: 5, Alpha: 1e-4, Beta: 0.75, K: 2}).
type LRN ag.LRN

// Forward implements Layer.
func (l LRN) Forward(c *Ctx, x *ag.Var) *ag.Var { return c.Tape.LRN(x, ag.LRN(l)) }

// Params implements Layer: it has none.
func (LRN) Params() []Param { return nil }

// Activation is an element-wise function as a layer.
type Activation int

// The activations.
const (
	ReLU       Activation = iota // max(0, x)
	Sigmoid                      // 1 / (1 + e^−x)
	Tanh                         // tanh x
	ScaledTanh                   // LeNet's 1.7159 · tanh(2x/3)
)

var activationNames = [...]string{"ReLU", "Sigmoid", "Tanh", "ScaledTanh"}

// Kind names the activation in Summary.
func (a Activation) Kind() string {
	if int(a) < len(activationNames) {
		return activationNames[a]
	}
	return fmt.Sprintf("Activation(%d)", int(a))
}

// Forward implements Layer.
func (a Activation) Forward(c *Ctx, x *ag.Var) *ag.Var {
	switch a {
	case Sigmoid:
		return c.Tape.Sigmoid(x)
	case Tanh:
		return c.Tape.Tanh(x)
	case ScaledTanh:
		return c.Tape.ScaledTanh(x)
	}
	return c.Tape.ReLU(x)
}

// Params implements Layer: it has none.
func (Activation) Params() []Param { return nil }

// Dropout zeroes each value with probability P while training and scales
// the rest by 1/(1−P); at inference it is the identity. Its random draws
// depend on Seed and the step, so a resumed run draws the same masks.
type Dropout struct {
	P    float32
	Seed uint64
}

// Forward implements Layer.
func (d Dropout) Forward(c *Ctx, x *ag.Var) *ag.Var {
	return c.Tape.Dropout(x, d.P, mix(d.Seed, uint64(c.Step)), c.Train)
}

// Params implements Layer: it has none.
func (Dropout) Params() []Param { return nil }

// mix hashes two words into a seed (SplitMix64's finaliser).
func mix(a, b uint64) uint64 {
	z := a ^ (b+0x9e3779b97f4a7c15)*0xbf58476d1ce4e5b9
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}
