package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/tensor"
)

// Conv2DConfig describes a 2-D convolution layer. In and Out are the
// input and output channels, Kernel the size of a square window (KH, KW
// for a rectangular one). Stride defaults to 1; Pad is zero padding on
// every side (Same pads to keep the size at stride 1); Dilation defaults
// to 1. Groups (0 or 1: none) splits the channels into groups convolved
// separately, as PyTorch's groups; In and Out must be multiples of it. A
// bias is added unless NoBias. Weights default to PyTorch's
// initialisation (TorchDefault) and biases likewise; Init and BiasInit
// choose others.
type Conv2DConfig struct {
	In, Out        int
	Kernel, KH, KW int
	Stride, Pad    int
	Same           bool
	Dilation       int
	Groups         int
	NoBias         bool
	Init, BiasInit Init
}

// Conv2D is a convolution over NHWC batches [N, H, W, In] giving
// [N, OH, OW, Out]. Its parameters are "weight", HWIO [KH, KW, In/Groups,
// Out], and "bias", [Out].
type Conv2D struct {
	Cfg          Conv2DConfig
	Weight, Bias *ag.Var
}

// NewConv2D returns a convolution layer initialised from rng, or an error
// naming what is wrong with cfg.
func NewConv2D(cfg Conv2DConfig, rng *rand.Rand) (*Conv2D, error) {
	if cfg.KH == 0 && cfg.KW == 0 {
		cfg.KH, cfg.KW = cfg.Kernel, cfg.Kernel
	}
	cfg.Stride, cfg.Dilation, cfg.Groups = max(cfg.Stride, 1), max(cfg.Dilation, 1), max(cfg.Groups, 1)
	switch {
	case cfg.In%cfg.Groups != 0 || cfg.Out%cfg.Groups != 0:
		return nil, fmt.Errorf("nn.Conv2D: %d groups must divide both the %d input and the %d output channels", cfg.Groups, cfg.In, cfg.Out)
	case cfg.In < 1 || cfg.Out < 1:
		return nil, fmt.Errorf("nn.Conv2D: channels in %d, out %d: both must be at least 1", cfg.In, cfg.Out)
	case cfg.KH < 1 || cfg.KW < 1:
		return nil, fmt.Errorf("nn.Conv2D: kernel %d×%d: set Kernel (or KH and KW) to at least 1", cfg.KH, cfg.KW)
	case cfg.Pad < 0:
		return nil, fmt.Errorf("nn.Conv2D: padding %d is negative", cfg.Pad)
	case cfg.Same && cfg.Stride != 1:
		return nil, fmt.Errorf("nn.Conv2D: Same padding needs stride 1, have %d; set Pad instead", cfg.Stride)
	}
	c := &Conv2D{Cfg: cfg}
	init, binit := orDefault(cfg.Init), orDefault(cfg.BiasInit)
	// PyTorch's fans of a [Out, In/Groups, KH, KW] filter.
	fanIn, fanOut := cfg.KH*cfg.KW*cfg.In/cfg.Groups, cfg.KH*cfg.KW*cfg.Out
	w := tensor.Zeros(cfg.KH, cfg.KW, cfg.In/cfg.Groups, cfg.Out)
	init(w.Data(), fanIn, fanOut, rng)
	c.Weight = ag.Param(w)
	if !cfg.NoBias {
		b := tensor.Zeros(cfg.Out)
		binit(b.Data(), fanIn, fanOut, rng)
		c.Bias = ag.Param(b)
	}
	return c, nil
}

func orDefault(i Init) Init {
	if i == nil {
		return TorchDefault
	}
	return i
}

// options returns the ag options of the convolution.
func (c *Conv2D) options() ag.Conv {
	o := ag.Conv{SH: c.Cfg.Stride, SW: c.Cfg.Stride, DH: c.Cfg.Dilation, DW: c.Cfg.Dilation,
		PadT: c.Cfg.Pad, PadB: c.Cfg.Pad, PadL: c.Cfg.Pad, PadR: c.Cfg.Pad, Groups: c.Cfg.Groups}
	if c.Cfg.Same {
		eh, ew := c.Cfg.Dilation*(c.Cfg.KH-1), c.Cfg.Dilation*(c.Cfg.KW-1)
		o.PadT, o.PadB, o.PadL, o.PadR = eh/2, eh-eh/2, ew/2, ew-ew/2
	}
	return o
}

// Forward implements Layer.
func (c *Conv2D) Forward(ctx *Ctx, x *ag.Var) *ag.Var {
	return ctx.Tape.Conv2D(x, c.Weight, c.Bias, c.options())
}

// Params implements Layer.
func (c *Conv2D) Params() []Param {
	ps := []Param{{"weight", c.Weight}}
	if c.Bias != nil {
		ps = append(ps, Param{"bias", c.Bias})
	}
	return ps
}
