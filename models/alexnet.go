package models

import (
	"fmt"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/nn"
)

// AlexNetConfig chooses an AlexNet.
type AlexNetConfig struct {
	// Paper builds the network of Krizhevsky, Sutskever and Hinton (2012)
	// instead of torchvision's variant: 96-256-384-384-256 channels, LRN
	// (size 5, α 1e-4, β 0.75, k 2) after the first two ReLUs, no
	// adaptive pooling, 227×227 input by default. Every convolution is
	// dense across channels, the paper's "one GPU" form, unless TwoGroups.
	Paper bool
	// TwoGroups, with Paper, splits conv2, conv4 and conv5 into two groups
	// of channels, as the paper's network was split across two GPUs: each
	// half of those layers sees only the half of the previous layer's maps
	// on its own GPU (60,965,224 parameters instead of 62,378,344).
	TwoGroups bool
	// Classes defaults to 1000.
	Classes int
	// Input is the side of the square input images: default 224
	// (torchvision) or 227 (Paper). torchvision's variant pools its last
	// map adaptively to 6×6 and so takes any side from 63 whose last map
	// divides, or is a multiple of, 6 (224 and 227 give 6×6); the paper's
	// flattens whatever map its input leaves.
	Input int
	// Dropout is the probability of the classifier's two dropouts;
	// default 0.5 (a negative value: none).
	Dropout float32
	// Seed seeds the initial weights: PyTorch's defaults for torchvision's
	// variant; the paper's N(0, 0.01²) weights with biases 1 in conv2,
	// conv4, conv5 and the hidden dense layers and 0 elsewhere for Paper.
	Seed uint64
}

// AlexNet is a convolutional "features" stack, then a flatten and the
// dense "classifier". torchvision's variant (the default): conv 11×11/4
// pad 2 to 64 – ReLU – max pool 3×3/2 – conv 5×5 pad 2 to 192 – ReLU – max
// pool – conv 3×3 to 384, 256, 256 with ReLUs – max pool – adaptive
// average pool to 6×6 – dropout – dense 9216→4096 – ReLU – dropout – dense
// 4096→4096 – ReLU – dense to the classes; 61,100,840 parameters with
// 1000 classes, named as torchvision's (features.0.weight,
// classifier.1.weight, classifier.6.bias). The paper's (Paper): conv
// 11×11/4 to 96 – ReLU – LRN – overlapping max pool 3×3/2 – conv 5×5 pad 2
// to 256 – ReLU – LRN – max pool – conv 3×3 to 384, 384, 256 with ReLUs –
// max pool – dense 9216→4096 – ReLU – dropout – dense 4096→4096 – ReLU –
// dropout – dense to the classes (62,378,344 parameters). Input [N, side,
// side, 3]; output [N, classes] logits.
type AlexNet struct {
	nn.Module
	Features   *nn.Sequential
	AvgPool    *nn.AdaptiveAvgPool2D // nil for the paper's network
	Classifier *nn.Sequential
	Cfg        AlexNetConfig
	mapSide    int // side of the map the classifier flattens
}

// NewAlexNet builds an AlexNet, or returns an error naming the bad option.
func NewAlexNet(cfg AlexNetConfig) (*AlexNet, error) {
	cfg.Classes = or(cfg.Classes, 1000)
	if cfg.Paper {
		cfg.Input = or(cfg.Input, 227)
	} else {
		cfg.Input = or(cfg.Input, 224)
	}
	if cfg.Dropout == 0 {
		cfg.Dropout = 0.5
	}
	if cfg.Classes < 1 {
		return nil, fmt.Errorf("models.AlexNet: %d classes: want at least 1", cfg.Classes)
	}
	if cfg.TwoGroups && !cfg.Paper {
		return nil, fmt.Errorf("models.AlexNet: TwoGroups is an option of the paper's network; set Paper too")
	}
	// The side of the last map: conv 11×11/4 (pad 2 in torchvision's) and
	// three 3×3/2 poolings; the other convolutions keep the size.
	pad := 2
	if cfg.Paper {
		pad = 0
	}
	side := (cfg.Input+2*pad-11)/4 + 1
	for range 3 {
		side = (side-3)/2 + 1
	}
	if cfg.Input < 11 || side < 1 {
		return nil, fmt.Errorf("models.AlexNet: input %d×%d is too small: the last pooling needs at least 63×63", cfg.Input, cfg.Input)
	}
	m := &AlexNet{Cfg: cfg, mapSide: side}
	if !cfg.Paper {
		m.AvgPool = &nn.AdaptiveAvgPool2D{OutH: 6, OutW: 6}
		if err := m.AvgPool.Fits(side, side); err != nil {
			return nil, fmt.Errorf("models.AlexNet: input %d×%d leaves a %d×%d map: %w", cfg.Input, cfg.Input, side, side, err)
		}
		m.mapSide = 6
	}
	b := newBuilder(cfg.Seed, 0xa1e7)
	pool := nn.MaxPool2D{KH: 3, KW: 3, SH: 2, SW: 2}
	p := max(cfg.Dropout, 0)
	if !cfg.Paper {
		conv := func(in, out, k, s, pad int) *nn.Conv2D {
			return b.conv(nn.Conv2DConfig{In: in, Out: out, Kernel: k, Stride: s, Pad: pad})
		}
		dense := func(in, out int) *nn.Dense { return b.dense(nn.DenseConfig{In: in, Out: out}) }
		m.Features = nn.NewSequential(conv(3, 64, 11, 4, 2), nn.ReLU, pool, conv(64, 192, 5, 1, 2), nn.ReLU, pool,
			conv(192, 384, 3, 1, 1), nn.ReLU, conv(384, 256, 3, 1, 1), nn.ReLU, conv(256, 256, 3, 1, 1), nn.ReLU, pool)
		m.Classifier = nn.NewSequential(b.dropout(p), dense(256*6*6, 4096), nn.ReLU, b.dropout(p), dense(4096, 4096), nn.ReLU,
			dense(4096, cfg.Classes))
	} else {
		w := normalInit(0.01)
		bias := func(one bool) nn.Init {
			if one {
				return nn.Ones
			}
			return nn.Zeros
		}
		groups := 1
		if cfg.TwoGroups {
			groups = 2
		}
		// conv2, conv4 and conv5 (those with bias 1) are the grouped ones.
		conv := func(in, out, k, s, pad int, one bool) *nn.Conv2D {
			c := nn.Conv2DConfig{In: in, Out: out, Kernel: k, Stride: s, Pad: pad, Init: w, BiasInit: bias(one)}
			if one {
				c.Groups = groups
			}
			return b.conv(c)
		}
		dense := func(in, out int, one bool) *nn.Dense {
			return b.dense(nn.DenseConfig{In: in, Out: out, Init: w, BiasInit: bias(one)})
		}
		lrn := nn.LRN{Size: 5, Alpha: 1e-4, Beta: 0.75, K: 2}
		m.Features = nn.NewSequential(conv(3, 96, 11, 4, 0, false), nn.ReLU, lrn, pool,
			conv(96, 256, 5, 1, 2, true), nn.ReLU, lrn, pool,
			conv(256, 384, 3, 1, 1, false), nn.ReLU, conv(384, 384, 3, 1, 1, true), nn.ReLU,
			conv(384, 256, 3, 1, 1, true), nn.ReLU, pool)
		m.Classifier = nn.NewSequential(dense(256*side*side, 4096, true), nn.ReLU, b.dropout(p),
			dense(4096, 4096, true), nn.ReLU, b.dropout(p), dense(4096, cfg.Classes, false))
	}
	if b.err != nil {
		return nil, fmt.Errorf("models.AlexNet: %w", b.err)
	}
	nn.Add(&m.Module, "features", m.Features)
	nn.Add(&m.Module, "classifier", m.Classifier)
	return m, nil
}

// Forward implements nn.Layer.
func (m *AlexNet) Forward(c *nn.Ctx, x *ag.Var) *ag.Var {
	h := m.Call(c, m.Features, x)
	if m.AvgPool != nil {
		h = c.Next(h, c.Call("avgpool", *m.AvgPool, h))
	}
	return m.Call(c, m.Classifier, c.Call("flatten", nn.Flatten{}, h))
}

// About implements nn.Describer: square RGB images of Cfg.Input; the
// first dense layer reads the last map, flattened.
func (m *AlexNet) About() nn.About {
	return nn.About{Input: []int{m.Cfg.Input, m.Cfg.Input, 3}, Flattened: map[string][3]int{
		firstDense(&m.Module, m.Classifier): {m.mapSide, m.mapSide, 256}}}
}
