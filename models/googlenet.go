package models

import (
	"fmt"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/nn"
)

// GoogLeNetConfig chooses a GoogLeNet (Inception v1, Szegedy et al.,
// 2014) in torchvision's form.
type GoogLeNetConfig struct {
	// Classes defaults to 1000.
	Classes int
	// AuxLogits adds the two auxiliary classifiers on inception 4a and 4d
	// (aux1, aux2). They compute only in training, through ForwardAux,
	// where train.Fit adds their losses with weight 0.3; Forward, and so
	// inference, ignores them.
	AuxLogits bool
	// Dropout is the probability of the dropout before fc; default 0.2
	// (torchvision's; the paper's is 0.4; a negative value: none). The
	// auxiliary heads' dropout is the paper's 0.7.
	Dropout float32
	// Input is the side of the square images the auxiliary heads will
	// see; default 224. It is checked only with AuxLogits (see
	// InceptionAux); the main classifier takes any side from about 64.
	Input int
	// Seed seeds the initial weights: torchvision's (convolution and dense
	// weights from N(0, 0.01²) truncated to ±2, batch norms at γ=1, β=0,
	// PyTorch's default dense biases).
	Seed uint64
}

// GoogLeNet is torchvision's Inception v1 for [N, 224, 224, 3] images
// (any side from about 64 works; the auxiliary heads take fewer, see
// GoogLeNetConfig.Input) giving [N, classes] logits: every convolution
// is a BasicConv2d (conv without bias – batch norm with ε 0.001 – ReLU);
// the stem conv1 7×7/2 to 64 – max pool 3×3/2 (ceil mode) – conv2 1×1 to
// 64 – conv3 3×3 to 192 – max pool; inception 3a, 3b – max pool – 4a to
// 4e – max pool 2×2 – 5a, 5b; global average pooling – dropout – fc. Its
// "5×5" branches use 3×3 convolutions, as torchvision's weights do. With
// 1000 classes and no auxiliary heads it has 6,624,904 parameters, named
// as torchvision's (conv1.conv.weight, inception3a.branch2.1.bn.bias,
// aux1.fc2.weight, fc.weight). torchvision's transform_input (used with
// its pretrained weights) is not applied: normalise inputs as those
// weights expect before calling the model.
type GoogLeNet struct {
	nn.Module
	Conv1, Conv2, Conv3 *BasicConv2d
	Inception           []*Inception  // 3a, 3b, 4a–4e, 5a, 5b
	Aux1, Aux2          *InceptionAux // nil without AuxLogits
	Dropout             nn.Dropout
	FC                  *nn.Dense
	Cfg                 GoogLeNetConfig
}

var inceptionNames = []string{"3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b"}

// googLeNetMinInput is the least image side GoogLeNet's pooling chain
// admits.
const googLeNetMinInput = 31

// NewGoogLeNet builds a GoogLeNet, or returns an error naming the bad
// option.
func NewGoogLeNet(cfg GoogLeNetConfig) (*GoogLeNet, error) {
	cfg.Classes = or(cfg.Classes, 1000)
	if cfg.Dropout == 0 {
		cfg.Dropout = 0.2
	}
	cfg.Input = or(cfg.Input, 224)
	if cfg.Classes < 1 {
		return nil, fmt.Errorf("models.GoogLeNet: %d classes: want at least 1", cfg.Classes)
	}
	if cfg.Input < googLeNetMinInput {
		// Below this the map after inception 4e is smaller than the 2×2
		// pooling that follows it.
		return nil, fmt.Errorf("models.GoogLeNet: input %d×%d: want at least %d×%d", cfg.Input, cfg.Input, googLeNetMinInput, googLeNetMinInput)
	}
	if s := auxMapSide(cfg.Input); cfg.AuxLogits && !auxPaperPool(s) {
		if err := (nn.AdaptiveAvgPool2D{OutH: 4, OutW: 4}).Fits(s, s); err != nil {
			return nil, fmt.Errorf("models.GoogLeNet: the auxiliary heads at input %d×%d see a %d×%d map: %w", cfg.Input, cfg.Input, s, s, err)
		}
	}
	b := newBuilder(cfg.Seed, 0x600913)
	m := &GoogLeNet{Cfg: cfg}
	m.Conv1 = nn.Add(&m.Module, "conv1", newBasicConv2d(b, 3, 64, 7, 2, 3))
	m.Conv2 = nn.Add(&m.Module, "conv2", newBasicConv2d(b, 64, 64, 1, 1, 0))
	m.Conv3 = nn.Add(&m.Module, "conv3", newBasicConv2d(b, 64, 192, 3, 1, 1))
	for _, v := range [][7]int{
		{192, 64, 96, 128, 16, 32, 32},
		{256, 128, 128, 192, 32, 96, 64},
		{480, 192, 96, 208, 16, 48, 64},
		{512, 160, 112, 224, 24, 64, 64},
		{512, 128, 128, 256, 24, 64, 64},
		{512, 112, 144, 288, 32, 64, 64},
		{528, 256, 160, 320, 32, 128, 128},
		{832, 256, 160, 320, 32, 128, 128},
		{832, 384, 192, 384, 48, 128, 128},
	} {
		m.Inception = append(m.Inception, newInception(b, v[0], v[1], v[2], v[3], v[4], v[5], v[6]))
	}
	for i, inc := range m.Inception {
		nn.Add(&m.Module, "inception"+inceptionNames[i], inc)
	}
	if cfg.AuxLogits {
		m.Aux1 = nn.Add(&m.Module, "aux1", newInceptionAux(b, 512, cfg.Classes))
		m.Aux2 = nn.Add(&m.Module, "aux2", newInceptionAux(b, 528, cfg.Classes))
	}
	m.Dropout = b.dropout(max(cfg.Dropout, 0))
	m.FC = nn.Add(&m.Module, "fc", b.dense(nn.DenseConfig{In: 1024, Out: cfg.Classes, Init: normalInit(0.01)}))
	if b.err != nil {
		return nil, fmt.Errorf("models.GoogLeNet: %w", b.err)
	}
	return m, nil
}

// Forward implements nn.Layer: the main classifier's logits.
func (m *GoogLeNet) Forward(c *nn.Ctx, x *ag.Var) *ag.Var {
	y, _ := m.forward(c, x, false)
	return y
}

// ForwardAux implements nn.AuxModel: the main logits and, while
// training with AuxLogits, the two auxiliary heads' logits (aux1 on
// inception 4a, aux2 on 4d); otherwise aux is nil.
func (m *GoogLeNet) ForwardAux(c *nn.Ctx, x *ag.Var) (main *ag.Var, aux []*ag.Var) {
	return m.forward(c, x, c.Train && m.Aux1 != nil)
}

func (m *GoogLeNet) forward(c *nn.Ctx, x *ag.Var, withAux bool) (*ag.Var, []*ag.Var) {
	pool := nn.MaxPool2D{KH: 3, KW: 3, SH: 2, SW: 2, Ceil: true}
	// h is the model's own value between layers (x is the caller's).
	h := m.Call(c, m.Conv1, x)
	h = c.Next(h, c.Call("maxpool1", pool, h))
	h = c.Next(h, m.Call(c, m.Conv2, h))
	h = c.Next(h, m.Call(c, m.Conv3, h))
	h = c.Next(h, c.Call("maxpool2", pool, h))
	var aux []*ag.Var
	for i, inc := range m.Inception {
		h = c.Next(h, m.Call(c, inc, h))
		switch {
		case i == 1:
			h = c.Next(h, c.Call("maxpool3", pool, h))
		case i == 6:
			h = c.Next(h, c.Call("maxpool4", nn.MaxPool2D{KH: 2, KW: 2, Ceil: true}, h))
		case i == 2 && withAux:
			aux = append(aux, m.Call(c, m.Aux1, h))
		case i == 5 && withAux:
			aux = append(aux, m.Call(c, m.Aux2, h))
		}
	}
	h = c.Next(h, c.Call("avgpool", nn.GlobalAvgPool{}, h))
	h = c.Next(h, c.Call("dropout", m.Dropout, h))
	return c.Next(h, m.Call(c, m.FC, h)), aux
}

// About implements nn.Describer: square RGB images of Cfg.Input; the
// heads are fc and, with AuxLogits, the auxiliary classifiers' last
// layers, whose fc1 read a 4×4×128 map.
func (m *GoogLeNet) About() nn.About {
	fc := m.NameOf(m.FC)
	a := nn.About{Input: []int{m.Cfg.Input, m.Cfg.Input, 3}, Heads: []string{fc}}
	if m.Aux1 != nil {
		a.Aux = []string{m.NameOf(m.Aux1), m.NameOf(m.Aux2)}
		a.Heads, a.Flattened = nil, map[string][3]int{}
		for i, aux := range []*InceptionAux{m.Aux1, m.Aux2} {
			a.Heads = append(a.Heads, a.Aux[i]+"."+aux.NameOf(aux.FC2))
			a.Flattened[a.Aux[i]+"."+aux.NameOf(aux.FC1)] = [3]int{4, 4, 128}
		}
		a.Heads = append(a.Heads, fc)
	}
	return a
}

// BasicConv2d is torchvision's Inception convolution: conv (no bias) –
// batch norm (ε 0.001) – ReLU, with parameters conv.weight and bn.*.
type BasicConv2d struct {
	nn.Module
	Conv *nn.Conv2D
	BN   *nn.BatchNorm
}

func newBasicConv2d(b *builder, in, out, k, stride, pad int) *BasicConv2d {
	bc := &BasicConv2d{}
	bc.Conv = nn.Add(&bc.Module, "conv", b.conv(nn.Conv2DConfig{In: in, Out: out, Kernel: k, Stride: stride, Pad: pad, NoBias: true, Init: normalInit(0.01)}))
	bc.BN = nn.Add(&bc.Module, "bn", b.bn(out))
	if bc.BN != nil {
		bc.BN.Stats.Eps = 1e-3
	}
	return bc
}

// Forward implements nn.Layer.
func (bc *BasicConv2d) Forward(c *nn.Ctx, x *ag.Var) *ag.Var {
	return bc.Unit(c, x, bc.unit(), nil)
}

// unit is the BasicConv2d as the unit it runs as.
func (bc *BasicConv2d) unit() nn.Unit { return nn.Unit{Conv: bc.Conv, BN: bc.BN, ReLU: true} }

// Inception is GoogLeNet's module: four branches over the same input,
// joined along the channels: branch1 a 1×1 convolution; branch2 1×1 then
// 3×3; branch3 1×1 then the "5×5" (3×3 in torchvision's weights); branch4
// 3×3 max pooling (stride 1, pad 1) then a 1×1 projection.
type Inception struct {
	nn.Module
	Branch1                   *BasicConv2d
	Branch2, Branch3, Branch4 *nn.Sequential
}

func newInception(b *builder, in, ch1, ch3red, ch3, ch5red, ch5, poolProj int) *Inception {
	m := &Inception{}
	m.Branch1 = nn.Add(&m.Module, "branch1", newBasicConv2d(b, in, ch1, 1, 1, 0))
	m.Branch2 = nn.Add(&m.Module, "branch2", nn.NewSequential(newBasicConv2d(b, in, ch3red, 1, 1, 0), newBasicConv2d(b, ch3red, ch3, 3, 1, 1)))
	m.Branch3 = nn.Add(&m.Module, "branch3", nn.NewSequential(newBasicConv2d(b, in, ch5red, 1, 1, 0), newBasicConv2d(b, ch5red, ch5, 3, 1, 1)))
	m.Branch4 = nn.Add(&m.Module, "branch4", nn.NewSequential(nn.MaxPool2D{KH: 3, KW: 3, SH: 1, SW: 1, PadT: 1, PadB: 1, PadL: 1, PadR: 1, Ceil: true},
		newBasicConv2d(b, in, poolProj, 1, 1, 0)))
	return m
}

// Forward implements nn.Layer.
func (m *Inception) Forward(c *nn.Ctx, x *ag.Var) *ag.Var {
	if y := m.joined(c, x); y != nil {
		return y
	}
	b := []*ag.Var{m.Call(c, m.Branch1, x), m.Call(c, m.Branch2, x), m.Call(c, m.Branch3, x), m.Call(c, m.Branch4, x)}
	y := c.Tape.Concat(b...)
	for _, v := range b {
		if v != x {
			c.Done(v) // Concat has copied them
		}
	}
	return y
}

// joined runs the module at inference with the four branches' last
// convolutions as one op that writes each into its channels of the
// output (nn.Ctx.ConcatFused), which spares the copy of a Concat (a
// GoogLeNet call takes 1–2.5% less time). It returns nil, having done nothing, when the
// units would not run fused or a branch does not end in a BasicConv2d.
func (m *Inception) joined(c *nn.Ctx, x *ag.Var) *ag.Var {
	branches := []*nn.Sequential{m.Branch2, m.Branch3, m.Branch4}
	units := []nn.Unit{m.Branch1.unit()}
	for _, s := range branches {
		if len(s.Layers) < 2 {
			return nil
		}
		last, ok := s.Layers[len(s.Layers)-1].(*BasicConv2d)
		if !ok {
			return nil
		}
		units = append(units, last.unit())
	}
	if !c.FusesUnits(units...) {
		return nil
	}
	on := []nn.UnitOn{{Unit: units[0], X: x}}
	for i, s := range branches {
		// The branch's layers before its last, under the branch's name.
		h := c.Call(m.NameOf(s), nn.NewSequential(s.Layers[:len(s.Layers)-1]...), x)
		on = append(on, nn.UnitOn{Unit: units[i+1], X: h})
	}
	y := c.ConcatFused(on...)
	for _, u := range on[1:] {
		c.Done(u.X)
	}
	return y
}

// InceptionAux is an auxiliary classifier of GoogLeNet, as in the paper:
// average pooling 5×5 stride 3 (the 14×14 map of a 224×224 input becomes
// 4×4) – conv 1×1 to 128 (a BasicConv2d) – flatten – fc1 to 1024 – ReLU –
// dropout 0.7 – fc2 to the classes. torchvision pools adaptively to 4×4
// instead, which averages slightly different windows at 14×14; the
// parameters (conv.*, fc1.*, fc2.*) are the same. Maps whose 5×5/3
// pooling is not 4×4 (other inputs than about 224×224) are pooled
// adaptively to 4×4 as torchvision does, which fovea computes for sides
// that are multiples of 4 or divide 4 (inputs of 128 or 256 pixels, say);
// NewGoogLeNet checks its Input.
type InceptionAux struct {
	nn.Module
	Conv     *BasicConv2d
	FC1, FC2 *nn.Dense
	Dropout  nn.Dropout
}

func newInceptionAux(b *builder, in, classes int) *InceptionAux {
	a := &InceptionAux{}
	a.Conv = nn.Add(&a.Module, "conv", newBasicConv2d(b, in, 128, 1, 1, 0))
	a.FC1 = nn.Add(&a.Module, "fc1", b.dense(nn.DenseConfig{In: 2048, Out: 1024, Init: normalInit(0.01)}))
	a.FC2 = nn.Add(&a.Module, "fc2", b.dense(nn.DenseConfig{In: 1024, Out: classes, Init: normalInit(0.01)}))
	a.Dropout = b.dropout(0.7)
	return a
}

// Forward implements nn.Layer.
func (a *InceptionAux) Forward(c *nn.Ctx, x *ag.Var) *ag.Var {
	var pool nn.Layer = nn.AdaptiveAvgPool2D{OutH: 4, OutW: 4}
	if s := x.Shape(); len(s) == 4 && auxPaperPool(s[1]) && auxPaperPool(s[2]) {
		pool = nn.AvgPool2D{KH: 5, KW: 5, SH: 3, SW: 3}
	}
	x = c.Call("avgpool", pool, x)
	x = c.Call("flatten", nn.Flatten{}, a.Call(c, a.Conv, x))
	x = c.Call("dropout", a.Dropout, c.Call("relu", nn.ReLU, a.Call(c, a.FC1, x)))
	return a.Call(c, a.FC2, x)
}

// auxPaperPool reports whether the paper's 5×5 stride-3 pooling takes a
// side of size s to 4.
func auxPaperPool(s int) bool { return s >= 5 && (s-5)/3+1 == 4 }

// auxMapSide is the side of inception 4a's and 4d's map for an input of
// the given side.
func auxMapSide(side int) int {
	side = (side-1)/2 + 1 // conv1, 7×7 stride 2 pad 3
	for range 3 {         // max pools 3×3 stride 2, ceil mode
		side = (side-3+1)/2 + 1
	}
	return side
}
