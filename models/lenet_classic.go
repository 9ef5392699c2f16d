package models

import (
	"fmt"
	"math/rand/v2"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/tensor"
)

// c3Inputs is Table I of LeCun et al. (1998): the S2 maps each C3 map
// reads. Maps 0-5 read three neighbouring maps, 6-11 four neighbouring,
// 12-14 four not all neighbouring, and 15 all six: 60 connections.
var c3Inputs = [16][]int{
	{0, 1, 2}, {1, 2, 3}, {2, 3, 4}, {3, 4, 5}, {4, 5, 0}, {5, 0, 1},
	{0, 1, 2, 3}, {1, 2, 3, 4}, {2, 3, 4, 5}, {3, 4, 5, 0}, {4, 5, 0, 1}, {5, 0, 1, 2},
	{0, 1, 3, 4}, {1, 2, 4, 5}, {0, 2, 3, 5},
	{0, 1, 2, 3, 4, 5},
}

// LeNet5Classic is LeNet-5 as LeCun, Bottou, Bengio and Haffner built it
// in 1998, for 28×28 grey digits zero-padded to the paper's 32×32 (C1's
// padding of 2):
//
//	C1 conv 5×5, 6 maps (28×28)
//	S2 2×2 subsampling: sum × trainable coefficient + trainable bias per map, squashed (14×14)
//	C3 conv 5×5, 16 maps, each reading only the S2 maps of the paper's Table I (10×10)
//	S4 subsampling as S2 (5×5)
//	C5 conv 5×5, 120 maps (1×1), squashed
//	F6 dense 84, squashed
//	output dense to the classes (logits)
//
// The squashing function is the paper's scaled tanh 1.7159·tanh(2a/3),
// and weights start uniform in ±2.4/fan-in, as in the paper. The output
// layer is a plain dense layer read through softmax cross-entropy, not the
// paper's Euclidean RBF units with fixed ASCII-bitmap centres.
//
// Trained parameters: 60,850 with 10 classes (C1 156, S2 12, C3 1,516,
// S4 32, C5 48,120, F6 10,164, output 850). C3's filter is stored dense
// (2,400 weights, the 900 outside Table I held at zero by a fixed mask, so
// they get no gradient either); Summary therefore counts 61,750.
type LeNet5Classic struct {
	nn.Module
	C1, C5  *nn.Conv2D
	C3      *tableConv
	S2, S4  *subsampling
	F6, Out *nn.Dense
}

// NewLeNet5Classic builds the 1998 LeNet-5 for cfg.Classes classes
// (default 10) with weights drawn from cfg.Seed; cfg.Act is ignored (the
// network squashes with the scaled tanh).
func NewLeNet5Classic(cfg LeNetConfig) (*LeNet5Classic, error) {
	if err := cfg.defaults("LeNet5Classic"); err != nil {
		return nil, err
	}
	b := newBuilder(cfg.Seed, 0x1998)
	// The paper's initialisation: uniform in ±2.4/fan-in, biases too.
	init := func(w []float32, fanIn, _ int, r *rand.Rand) {
		for i := range w {
			w[i] = float32((2*r.Float64() - 1) * 2.4 / float64(fanIn))
		}
	}
	conv := func(in, out, pad int) *nn.Conv2D {
		return b.conv(nn.Conv2DConfig{In: in, Out: out, Kernel: 5, Pad: pad, Init: init, BiasInit: init})
	}
	dense := func(in, out int) *nn.Dense {
		return b.dense(nn.DenseConfig{In: in, Out: out, Init: init, BiasInit: init})
	}
	m := &LeNet5Classic{}
	c3 := conv(6, 16, 0)
	m.C1, m.C5 = conv(1, 6, 2), conv(16, 120, 0)
	m.F6, m.Out = dense(120, 84), dense(84, cfg.Classes)
	if b.err != nil {
		return nil, fmt.Errorf("models.LeNet5Classic: %w", b.err)
	}
	m.S2, m.S4 = newSubsampling(6), newSubsampling(16)
	mask := tensor.Zeros(5, 5, 6, 16)
	md := mask.Data()
	for co, ins := range c3Inputs {
		for _, ci := range ins {
			for t := 0; t < 25; t++ {
				md[(t*6+ci)*16+co] = 1
			}
		}
	}
	w := c3.Weight.Value().Data()
	for i := range w {
		w[i] *= md[i] // the stored filter agrees with the table from the start
	}
	m.C3 = &tableConv{Conv2D: c3, mask: ag.Const(mask)}
	// Declared in the order of the forward pass (the draws above are in
	// the order the weights were first drawn in).
	nn.Add(&m.Module, "c1", m.C1)
	nn.Add(&m.Module, "s2", m.S2)
	nn.Add(&m.Module, "c3", m.C3)
	nn.Add(&m.Module, "s4", m.S4)
	nn.Add(&m.Module, "c5", m.C5)
	nn.Add(&m.Module, "f6", m.F6)
	nn.Add(&m.Module, "output", m.Out)
	return m, nil
}

// Forward implements nn.Layer: [N, 28, 28, 1] images to [N, classes]
// logits.
func (m *LeNet5Classic) Forward(c *nn.Ctx, x *ag.Var) *ag.Var {
	tp := c.Tape
	h := m.Call(c, m.S2, m.Call(c, m.C1, x))
	h = m.Call(c, m.S4, m.Call(c, m.C3, h))
	h = c.Call("c5_act", nn.ScaledTanh, m.Call(c, m.C5, h))
	h = c.Call("f6_act", nn.ScaledTanh, m.Call(c, m.F6, tp.Flatten(h)))
	return m.Call(c, m.Out, h)
}

// About implements nn.Describer: 28×28 grey digits.
func (m *LeNet5Classic) About() nn.About { return nn.About{Input: []int{28, 28, 1}} }

// tableConv is a convolution whose filter is multiplied by a fixed 0/1
// mask on every forward pass: C3's partial connections.
type tableConv struct {
	*nn.Conv2D
	mask *ag.Var
}

// Forward implements nn.Layer.
func (t *tableConv) Forward(c *nn.Ctx, x *ag.Var) *ag.Var {
	tp := c.Tape
	return tp.Conv2D(x, tp.Mul(t.Weight, t.mask), t.Bias, ag.Conv{})
}

// Kind names the layer in summaries.
func (t *tableConv) Kind() string { return "Conv2D, Table I" }

// subsampling is LeNet's trainable subsampling: each map's 2×2 windows
// averaged, times a trainable coefficient, plus a trainable bias, then
// squashed by the scaled tanh. (The paper sums the four inputs; the mean
// only rescales the coefficient.) The per-map affine runs as a batch
// normalisation with fixed unit statistics: y = x·weight + bias exactly.
type subsampling struct {
	Weight, Bias *ag.Var
	unit         *ag.BatchNormStats
}

func newSubsampling(c int) *subsampling {
	s := &subsampling{Weight: ag.Param(tensor.Full(1, c)), Bias: ag.Param(tensor.Zeros(c)), unit: ag.NewBatchNormStats(c)}
	// Mean 0 and variance 1−eps: the normalisation divides by exactly 1.
	for i := range s.unit.Var.Data() {
		s.unit.Var.Data()[i] = 1 - s.unit.Eps
	}
	return s
}

// Forward implements nn.Layer.
func (s *subsampling) Forward(c *nn.Ctx, x *ag.Var) *ag.Var {
	tp := c.Tape
	h := tp.AvgPool(x, ag.Pool2D{KH: 2, KW: 2})
	return tp.ScaledTanh(tp.BatchNorm(h, s.Weight, s.Bias, s.unit, false))
}

// Params implements nn.Layer.
func (s *subsampling) Params() []nn.Param {
	return []nn.Param{{Name: "weight", Var: s.Weight}, {Name: "bias", Var: s.Bias}}
}

// Kind names the layer in summaries.
func (s *subsampling) Kind() string { return "Subsampling" }
