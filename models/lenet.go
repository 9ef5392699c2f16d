package models

import (
	"fmt"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/nn"
)

// LeNetConfig chooses the variant of LeNet5. The zero value is the modern
// form: ReLU, 10 classes, 28×28 grey input padded to 32×32 by the first
// convolution.
type LeNetConfig struct {
	Classes int           // default 10
	Act     nn.Activation // nn.ReLU (default), nn.Tanh, nn.ScaledTanh or nn.Sigmoid
	Seed    uint64
}

// LeNet5 is the modern form of LeCun et al.'s 1998 network for 28×28
// single-channel images: conv 5×5 to 6 maps (padding 2, so the 28×28 input
// is seen as the paper's 32×32) – activation – 2×2 average pooling – conv
// 5×5 to 16 maps – activation – 2×2 average pooling – flatten (16·5·5) –
// dense 120 – activation – dense 84 – activation – dense to the classes
// (logits; the softmax is in the loss). With 10 classes it has 61,706
// parameters. Layers are named by index as in torchvision's Sequential
// models: features.0 and features.3 are the convolutions, classifier.1,
// classifier.3 and classifier.5 the dense layers.
type LeNet5 struct {
	nn.Module
	Features, Classifier *nn.Sequential
}

// defaults sets the default classes and checks them for the model
// called name.
func (cfg *LeNetConfig) defaults(name string) error {
	cfg.Classes = or(cfg.Classes, 10)
	if cfg.Classes < 1 {
		return fmt.Errorf("models.%s: %d classes: want at least 1", name, cfg.Classes)
	}
	return nil
}

// NewLeNet5 builds LeNet-5 with weights drawn from cfg.Seed (PyTorch's
// default initialisation).
func NewLeNet5(cfg LeNetConfig) (*LeNet5, error) {
	if err := cfg.defaults("LeNet5"); err != nil {
		return nil, err
	}
	b := newBuilder(cfg.Seed, 0x1e7e75)
	conv := func(in, out, pad int) *nn.Conv2D {
		return b.conv(nn.Conv2DConfig{In: in, Out: out, Kernel: 5, Pad: pad})
	}
	dense := func(in, out int) *nn.Dense { return b.dense(nn.DenseConfig{In: in, Out: out}) }
	pool := nn.AvgPool2D{KH: 2, KW: 2}
	m := &LeNet5{}
	m.Features = nn.Add(&m.Module, "features", nn.NewSequential(conv(1, 6, 2), cfg.Act, pool, conv(6, 16, 0), cfg.Act, pool))
	m.Classifier = nn.Add(&m.Module, "classifier", nn.NewSequential(nn.Flatten{}, dense(16*5*5, 120), cfg.Act,
		dense(120, 84), cfg.Act, dense(84, cfg.Classes)))
	if b.err != nil {
		return nil, fmt.Errorf("models.LeNet5: %w", b.err)
	}
	return m, nil
}

// Forward implements nn.Layer: [N, 28, 28, 1] images to [N, classes]
// logits.
func (m *LeNet5) Forward(c *nn.Ctx, x *ag.Var) *ag.Var {
	return m.Call(c, m.Classifier, m.Call(c, m.Features, x))
}

// About implements nn.Describer: 28×28 grey digits; classifier.1 reads
// the 5×5×16 map of the features.
func (m *LeNet5) About() nn.About {
	return nn.About{Input: []int{28, 28, 1}, Flattened: map[string][3]int{firstDense(&m.Module, m.Classifier): {5, 5, 16}}}
}
