package models

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/nn"
)

// ResNetConfig chooses a ResNet (He et al., 2015, in torchvision's form,
// "ResNet v1.5": a bottleneck block strides in its 3×3 convolution).
type ResNetConfig struct {
	// Depth is 18 or 34 (basic blocks) or 50, 101 or 152 (bottleneck
	// blocks); required.
	Depth int
	// Classes defaults to 1000.
	Classes int
	// CIFAR swaps the ImageNet stem (7×7 stride-2 convolution, 3×3
	// stride-2 max pooling) for a 3×3 stride-1 convolution and no pooling,
	// for 32×32 inputs. The parameter names stay torchvision's.
	CIFAR bool
	// Width is the channels of the first stage, doubled at each of the
	// next three; default 64 (torchvision's). Smaller widths make small
	// test models.
	Width int
	// Blocks overrides the number of blocks in each of the four stages
	// (Depth's by default: [2 2 2 2] for 18, [3 4 6 3] for 34 and 50,
	// [3 4 23 3] for 101, [3 8 36 3] for 152).
	Blocks []int
	// InChannels is the input's channels; default 3.
	InChannels int
	// Seed seeds the initial weights: torchvision's (He normal, fan-out,
	// for convolutions; batch norms at γ=1, β=0; PyTorch's default for the
	// dense layer).
	Seed uint64
}

var resnetBlocks = map[int][]int{
	18: {2, 2, 2, 2}, 34: {3, 4, 6, 3}, 50: {3, 4, 6, 3}, 101: {3, 4, 23, 3}, 152: {3, 8, 36, 3},
}

// ResNet is a residual network for NHWC images [N, H, W, C] giving
// [N, classes] logits: a stem (conv1, bn1, ReLU, max pooling), four stages
// layer1..layer4 of residual blocks (the first block of stages 2–4 halves
// the image and, like any block whose shape changes, projects its shortcut
// with a 1×1 convolution and batch norm, "downsample"), global average
// pooling and the dense layer fc. Parameter names are torchvision's
// (conv1.weight, bn1.running_mean, layer1.0.conv1.weight,
// layer2.0.downsample.0.weight, fc.bias). ResNet-18 with 1000 classes has
// 11,689,512 parameters, ResNet-50 25,557,032.
type ResNet struct {
	nn.Module
	Conv1   *nn.Conv2D
	BN1     *nn.BatchNorm
	MaxPool nn.Layer // nil in the CIFAR form
	Layers  [4]*nn.Sequential
	FC      *nn.Dense
	Cfg     ResNetConfig
}

// NewResNet builds a ResNet, or returns an error naming the bad option.
func NewResNet(cfg ResNetConfig) (*ResNet, error) {
	blocks := slices.Clone(cfg.Blocks)
	if blocks == nil {
		blocks = resnetBlocks[cfg.Depth]
	}
	cfg.Classes, cfg.Width, cfg.InChannels = or(cfg.Classes, 1000), or(cfg.Width, 64), or(cfg.InChannels, 3)
	switch {
	case resnetBlocks[cfg.Depth] == nil:
		return nil, fmt.Errorf("models.ResNet: depth %d: want 18, 34, 50, 101 or 152", cfg.Depth)
	case len(blocks) != 4 || slices.Min(blocks) < 1:
		return nil, fmt.Errorf("models.ResNet: blocks %v: want four stages of at least one block", blocks)
	case cfg.Classes < 1 || cfg.Width < 1 || cfg.InChannels < 1:
		return nil, fmt.Errorf("models.ResNet: classes %d, width %d, input channels %d: each must be at least 1", cfg.Classes, cfg.Width, cfg.InChannels)
	}
	cfg.Blocks = blocks
	b := newBuilder(cfg.Seed, 0x7e5)
	m := &ResNet{Cfg: cfg}
	convInit := nn.Init(heNormalFanOut)
	stem := nn.Conv2DConfig{In: cfg.InChannels, Out: cfg.Width, Kernel: 7, Stride: 2, Pad: 3, NoBias: true, Init: convInit}
	if cfg.CIFAR {
		stem.Kernel, stem.Stride, stem.Pad = 3, 1, 1
	} else {
		m.MaxPool = nn.MaxPool2D{KH: 3, KW: 3, SH: 2, SW: 2, PadT: 1, PadB: 1, PadL: 1, PadR: 1}
	}
	m.Conv1 = nn.Add(&m.Module, "conv1", b.conv(stem))
	m.BN1 = nn.Add(&m.Module, "bn1", b.bn(cfg.Width))
	bottleneck := cfg.Depth >= 50
	in := cfg.Width
	for s := range 4 {
		planes := cfg.Width << s
		stride := 1
		if s > 0 {
			stride = 2
		}
		seq := &nn.Sequential{}
		for range blocks[s] {
			var blk nn.Layer
			if bottleneck {
				blk, in = newBottleneck(b, in, planes, stride), planes*4
			} else {
				blk, in = newBasicBlock(b, in, planes, stride), planes
			}
			seq.Layers = append(seq.Layers, blk)
			stride = 1
		}
		m.Layers[s] = nn.Add(&m.Module, "layer"+strconv.Itoa(s+1), seq)
	}
	m.FC = nn.Add(&m.Module, "fc", b.dense(nn.DenseConfig{In: in, Out: cfg.Classes}))
	if b.err != nil {
		return nil, fmt.Errorf("models.ResNet: %w", b.err)
	}
	return m, nil
}

func or(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// Forward implements nn.Layer.
func (m *ResNet) Forward(c *nn.Ctx, x *ag.Var) *ag.Var {
	h := m.Unit(c, x, nn.Unit{Conv: m.Conv1, BN: m.BN1, ReLU: true}, nil)
	if m.MaxPool != nil {
		h = c.Next(h, c.Call("maxpool", m.MaxPool, h))
	}
	for _, l := range m.Layers {
		h = c.Next(h, m.Call(c, l, h))
	}
	h = c.Next(h, c.Call("avgpool", nn.GlobalAvgPool{}, h))
	return c.Next(h, m.Call(c, m.FC, h))
}

// About implements nn.Describer: 224×224 images (32×32 in the CIFAR
// form) of InChannels channels; the residual stages take any side the
// strides leave at least 1×1.
func (m *ResNet) About() nn.About {
	side := 224
	if m.Cfg.CIFAR {
		side = 32
	}
	return nn.About{Input: []int{side, side, m.Cfg.InChannels}}
}

// BasicBlock is ResNet-18's and -34's residual block: conv 3×3 (stride
// 1 or 2) – batch norm – ReLU – conv 3×3 – batch norm, plus the shortcut
// (the input, or its projection Downsample: conv 1×1 with the block's
// stride – batch norm), then ReLU.
type BasicBlock struct {
	nn.Module
	Conv1, Conv2 *nn.Conv2D
	BN1, BN2     *nn.BatchNorm
	Downsample   *nn.Sequential // nil when the shape is kept
}

func newBasicBlock(b *builder, in, planes, stride int) *BasicBlock {
	k := &BasicBlock{}
	k.Conv1 = nn.Add(&k.Module, "conv1", b.conv(nn.Conv2DConfig{In: in, Out: planes, Kernel: 3, Stride: stride, Pad: 1, NoBias: true, Init: heNormalFanOut}))
	k.BN1 = nn.Add(&k.Module, "bn1", b.bn(planes))
	k.Conv2 = nn.Add(&k.Module, "conv2", b.conv(nn.Conv2DConfig{In: planes, Out: planes, Kernel: 3, Pad: 1, NoBias: true, Init: heNormalFanOut}))
	k.BN2 = nn.Add(&k.Module, "bn2", b.bn(planes))
	k.Downsample = projection(&k.Module, b, in, planes, stride)
	return k
}

// projection declares in block the 1×1 convolution and batch norm of a
// shortcut that changes shape, "downsample", and returns it; it returns
// nil when the shape is kept.
func projection(block *nn.Module, b *builder, in, out, stride int) *nn.Sequential {
	if stride == 1 && in == out {
		return nil
	}
	return nn.Add(block, "downsample", nn.NewSequential(
		b.conv(nn.Conv2DConfig{In: in, Out: out, Kernel: 1, Stride: stride, NoBias: true, Init: heNormalFanOut}),
		b.bn(out)))
}

// Forward implements nn.Layer.
func (k *BasicBlock) Forward(c *nn.Ctx, x *ag.Var) *ag.Var {
	y := k.Unit(c, x, nn.Unit{Conv: k.Conv1, BN: k.BN1, ReLU: true}, nil)
	res := shortcut{c: c, block: &k.Module, ds: k.Downsample, x: x}
	out := k.Unit(c, y, nn.Unit{Conv: k.Conv2, BN: k.BN2, ReLU: true}, res.get)
	c.Done(y)
	res.done()
	return out
}

// shortcut is the residual of a block: its input x, or x projected by
// the block's downsample ds.
type shortcut struct {
	c     *nn.Ctx
	block *nn.Module
	ds    *nn.Sequential
	x     *ag.Var
	made  *ag.Var // the projection, once get has made it
}

// get returns the residual, projecting x when the block has ds.
func (s *shortcut) get() *ag.Var {
	if s.ds == nil {
		return s.x
	}
	s.made = s.block.Call(s.c, s.ds, s.x)
	return s.made
}

// done hands back the projection once the block has added it (the
// block's input is its caller's).
func (s *shortcut) done() {
	if s.made != nil && s.made != s.x {
		s.c.Done(s.made)
	}
}

// Bottleneck is the residual block of ResNet-50, -101 and -152: conv 1×1
// to planes – BN – ReLU – conv 3×3 (the block's stride) – BN – ReLU – conv
// 1×1 to 4·planes – BN, plus the shortcut (projected by Downsample when
// the shape changes), then ReLU.
type Bottleneck struct {
	nn.Module
	Conv1, Conv2, Conv3 *nn.Conv2D
	BN1, BN2, BN3       *nn.BatchNorm
	Downsample          *nn.Sequential // nil when the shape is kept
}

func newBottleneck(b *builder, in, planes, stride int) *Bottleneck {
	k := &Bottleneck{}
	k.Conv1 = nn.Add(&k.Module, "conv1", b.conv(nn.Conv2DConfig{In: in, Out: planes, Kernel: 1, NoBias: true, Init: heNormalFanOut}))
	k.BN1 = nn.Add(&k.Module, "bn1", b.bn(planes))
	k.Conv2 = nn.Add(&k.Module, "conv2", b.conv(nn.Conv2DConfig{In: planes, Out: planes, Kernel: 3, Stride: stride, Pad: 1, NoBias: true, Init: heNormalFanOut}))
	k.BN2 = nn.Add(&k.Module, "bn2", b.bn(planes))
	k.Conv3 = nn.Add(&k.Module, "conv3", b.conv(nn.Conv2DConfig{In: planes, Out: planes * 4, Kernel: 1, NoBias: true, Init: heNormalFanOut}))
	k.BN3 = nn.Add(&k.Module, "bn3", b.bn(planes*4))
	k.Downsample = projection(&k.Module, b, in, planes*4, stride)
	return k
}

// Forward implements nn.Layer.
func (k *Bottleneck) Forward(c *nn.Ctx, x *ag.Var) *ag.Var {
	y1 := k.Unit(c, x, nn.Unit{Conv: k.Conv1, BN: k.BN1, ReLU: true}, nil)
	y2 := k.Unit(c, y1, nn.Unit{Conv: k.Conv2, BN: k.BN2, ReLU: true}, nil)
	c.Done(y1)
	res := shortcut{c: c, block: &k.Module, ds: k.Downsample, x: x}
	out := k.Unit(c, y2, nn.Unit{Conv: k.Conv3, BN: k.BN3, ReLU: true}, res.get)
	c.Done(y2)
	res.done()
	return out
}
