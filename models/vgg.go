package models

import (
	"fmt"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/nn"
)

// VGGConfig chooses a VGG network (Simonyan and Zisserman, 2014, in
// torchvision's form).
type VGGConfig struct {
	// Depth is 11, 13, 16 or 19 (configurations A, B, D and E); required.
	Depth int
	// BatchNorm puts a batch norm after every convolution (vgg16_bn).
	BatchNorm bool
	// Classes defaults to 1000.
	Classes int
	// Input is the side of the square input images; default 224. The
	// five poolings leave a map of side Input/32, which the adaptive
	// average pooling takes to 7×7: Input/32 must divide 7 or be a
	// multiple of it (32, 224, 448, ...).
	Input int
	// Width divides every convolution's channels (64-128-256-512-512) and
	// the hidden dense layers' 4096 by it, for small test models; default 1.
	Width int
	// Dropout is the classifier's dropout probability; default 0.5 (a
	// negative value: none).
	Dropout float32
	// Seed seeds the initial weights: torchvision's (He normal, fan-out,
	// for convolutions with zero biases; batch norms at γ=1, β=0; N(0,
	// 0.01²) for dense weights with zero biases).
	Seed uint64
}

var vggConfigs = map[int][]int{ // channels; 0 is a 2×2 max pooling
	11: {64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0},
	13: {64, 64, 0, 128, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0},
	16: {64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0},
	19: {64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512, 512, 512, 512, 0},
}

// VGG is a plain stack of 3×3 convolutions (padding 1) and ReLUs, with
// optional batch norms, halved five times by 2×2 max pooling ("features"),
// then an adaptive average pooling to 7×7 ("avgpool"), a flatten and the
// classifier dense 25088→4096 – ReLU – dropout – dense 4096→4096 – ReLU –
// dropout – dense 4096→classes. Input [N, 224, 224, 3] by default; output
// [N, classes] logits. Parameter names are torchvision's (features.0.weight,
// features.1.running_mean with batch norm, classifier.0/3/6.weight);
// VGG-16 with 1000 classes has 138,357,544 parameters.
type VGG struct {
	nn.Module
	Features   *nn.Sequential
	AvgPool    nn.AdaptiveAvgPool2D
	Classifier *nn.Sequential
	Cfg        VGGConfig
	last       int // channels of the last convolution
}

// NewVGG builds a VGG network, or returns an error naming the bad option.
func NewVGG(cfg VGGConfig) (*VGG, error) {
	cfg.Classes, cfg.Input, cfg.Width = or(cfg.Classes, 1000), or(cfg.Input, 224), or(cfg.Width, 1)
	if cfg.Dropout == 0 {
		cfg.Dropout = 0.5
	}
	layout, ok := vggConfigs[cfg.Depth]
	switch {
	case !ok:
		return nil, fmt.Errorf("models.VGG: depth %d: want 11, 13, 16 or 19", cfg.Depth)
	case cfg.Classes < 1 || cfg.Width < 1 || cfg.Width > 64:
		return nil, fmt.Errorf("models.VGG: classes %d, width divisor %d: want classes ≥ 1 and a divisor from 1 to 64", cfg.Classes, cfg.Width)
	case cfg.Input < 32 || cfg.Input%32 != 0:
		return nil, fmt.Errorf("models.VGG: input %d×%d: want a multiple of 32 (224 is VGG's)", cfg.Input, cfg.Input)
	}
	m := &VGG{Cfg: cfg, AvgPool: nn.AdaptiveAvgPool2D{OutH: 7, OutW: 7}}
	if err := m.AvgPool.Fits(cfg.Input/32, cfg.Input/32); err != nil {
		return nil, fmt.Errorf("models.VGG: input %d×%d leaves a %d×%d map: %w", cfg.Input, cfg.Input, cfg.Input/32, cfg.Input/32, err)
	}
	b := newBuilder(cfg.Seed, 0x1663)
	in, feats := 3, &nn.Sequential{}
	for _, v := range layout {
		if v == 0 {
			feats.Layers = append(feats.Layers, nn.MaxPool2D{KH: 2, KW: 2})
			continue
		}
		out := v / cfg.Width
		feats.Layers = append(feats.Layers, b.conv(nn.Conv2DConfig{In: in, Out: out, Kernel: 3, Pad: 1, Init: heNormalFanOut, BiasInit: nn.Zeros}))
		if cfg.BatchNorm {
			feats.Layers = append(feats.Layers, b.bn(out))
		}
		feats.Layers = append(feats.Layers, nn.ReLU)
		in = out
	}
	m.Features, m.last = nn.Add(&m.Module, "features", feats), in
	hidden, p := 4096/cfg.Width, max(cfg.Dropout, 0)
	dense := func(in, out int) *nn.Dense {
		return b.dense(nn.DenseConfig{In: in, Out: out, Init: normalInit(0.01), BiasInit: nn.Zeros})
	}
	m.Classifier = nn.Add(&m.Module, "classifier", nn.NewSequential(dense(in*7*7, hidden), nn.ReLU, b.dropout(p),
		dense(hidden, hidden), nn.ReLU, b.dropout(p), dense(hidden, cfg.Classes)))
	if b.err != nil {
		return nil, fmt.Errorf("models.VGG: %w", b.err)
	}
	return m, nil
}

// Forward implements nn.Layer.
func (m *VGG) Forward(c *nn.Ctx, x *ag.Var) *ag.Var {
	h := m.Call(c, m.Features, x)
	h = c.Next(h, c.Call("avgpool", m.AvgPool, h))
	return m.Call(c, m.Classifier, c.Call("flatten", nn.Flatten{}, h))
}

// About implements nn.Describer: square RGB images of Cfg.Input;
// classifier.0 reads the 7×7 map, flattened.
func (m *VGG) About() nn.About {
	return nn.About{Input: []int{m.Cfg.Input, m.Cfg.Input, 3}, Flattened: map[string][3]int{firstDense(&m.Module, m.Classifier): {7, 7, m.last}}}
}
