package onnx

import (
	"fmt"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/internal/kern"
	"github.com/foveaml/fovea/nn"
	pb "github.com/foveaml/fovea/onnx/onnxpb"
)

// ConvTranspose is the adjoint of a convolution: its forward pass is a
// convolution's backward-data pass (and its backward passes are the
// convolution's forward and backward-filter ones), so it runs on the
// same kernels. Its filter is kept as that convolution's, HWIO
// [KH KW Cout Cin] for ONNX's [Cin Cout KH KW].

// convTAttrs describes a ConvTranspose to a tracer.
type convTAttrs struct {
	p      kern.Conv
	outPad [2]int
}

// convTLayer is a ConvTranspose node as an nn layer.
type convTLayer struct {
	w, b *ag.Var
	p    kern.Conv // of the adjoint convolution: from the output (Cout channels) to the input (p.Cout = Cin)
	pad  [2]int    // output_padding: extra rows and columns at the bottom and right
}

func (l *convTLayer) Kind() string { return "ConvTranspose" }

func (l *convTLayer) Params() []nn.Param {
	ps := []nn.Param{{Name: "weight", Var: l.w}}
	if l.b != nil {
		ps = append(ps, nn.Param{Name: "bias", Var: l.b})
	}
	return ps
}

func (l *convTLayer) Forward(c *nn.Ctx, x *ag.Var) *ag.Var {
	tp := c.Tape
	if x == nil || tp.Err() != nil {
		return nil
	}
	s := x.Shape()
	cout := l.w.Value().Dim(2)
	if len(s) != 4 || s[3] != l.p.Cout {
		return tp.Fail("onnx.ConvTranspose", fmt.Errorf("input has shape %v (NHWC); want [N H W %d]", s, l.p.Cout))
	}
	p := l.p
	oh := (s[1]-1)*p.SH - p.PadT - p.PadB + p.DH*(p.KH-1) + 1 + l.pad[0]
	ow := (s[2]-1)*p.SW - p.PadL - p.PadR + p.DW*(p.KW-1) + 1 + l.pad[1]
	od := kern.Dims{N: s[0], H: oh, W: ow, C: cout}
	if oh < 1 || ow < 1 {
		return tp.Fail("onnx.ConvTranspose", fmt.Errorf("input %v gives an output of %d×%d", s, oh, ow))
	}
	if back := p.Out(od); back.H != s[1] || back.W != s[2] {
		return tp.Fail("onnx.ConvTranspose", fmt.Errorf("output_padding %v is not smaller than the stride", l.pad))
	}
	shape := []int{od.N, od.H, od.W, od.C}
	if err := checkActivation(shape); err != nil {
		return tp.Fail("onnx.ConvTranspose", err)
	}
	ins := []*ag.Var{x, l.w}
	if l.b != nil {
		ins = append(ins, l.b)
	}
	return tp.Apply(ag.Func{
		Name:  "onnx.ConvTranspose",
		Attrs: convTAttrs{p: p, outPad: l.pad},
		Forward: func(y []float32, in [][]float32) {
			kern.Conv2DBackwardData(y, in[0], in[1], od, p)
			if len(in) > 2 {
				kern.AddBias(y, in[2])
			}
		},
		Backward: func(dxs [][]float32, dy, _ []float32, in [][]float32) {
			if dxs[0] != nil {
				kern.Conv2D(dxs[0], dy, in[1], nil, od, p)
			}
			if dxs[1] != nil {
				kern.Conv2DBackwardFilter(dxs[1], nil, dy, in[0], od, p)
			}
			if len(dxs) > 2 && dxs[2] != nil {
				kern.BiasGrad(dxs[2], dy)
			}
		},
	}, shape, ins...)
}

// convTranspose compiles a ConvTranspose node with constant weights.
func (cp *compiler) convTranspose(n *pb.NodeProto) (*step, error) {
	a, err := attrsOf(n, "auto_pad", "dilations", "group", "kernel_shape", "output_padding", "pads", "strides", "output_shape")
	if err != nil {
		return nil, err
	}
	if err := need(n, 2, 3); err != nil {
		return nil, err
	}
	if a.has("output_shape") {
		return nil, fmt.Errorf("attribute \"output_shape\" is not supported; give pads and output_padding")
	}
	if g, _ := a.int("group", 1); g != 1 {
		return nil, fmt.Errorf("%d groups: fovea runs ungrouped ConvTranspose", g)
	}
	wt, err := cp.floatInit(n.Input[1], "the filter")
	if err != nil {
		return nil, err
	}
	if len(wt.dims) != 4 {
		return nil, fmt.Errorf("filter %q has shape %v; fovea runs 2-D ConvTranspose ([Cin Cout KH KW])", wt.name, wt.dims)
	}
	win, err := readWindow(a, wt.dims[2:], true)
	if err != nil {
		return nil, err
	}
	if win.auto == "SAME_UPPER" || win.auto == "SAME_LOWER" {
		return nil, fmt.Errorf("auto_pad %s is not supported for ConvTranspose", win.auto)
	}
	op, err := a.ints("output_padding")
	if err != nil {
		return nil, err
	}
	var pad [2]int
	if op != nil {
		if len(op) != 2 {
			return nil, fmt.Errorf("output_padding %v; want 2 values", op)
		}
		for i := range pad {
			if pad[i], err = smallInt("output_padding", op[i]); err != nil || pad[i] < 0 {
				return nil, fmt.Errorf("output_padding %v", op)
			}
		}
	}
	name := cp.callName(n, wt.name)
	cp.nameAfter(wt.name, name, "weight")
	if len(n.Input) > 2 {
		cp.nameAfter(n.Input[2], name, "bias")
	}
	cin, cout := wt.dims[0], wt.dims[1]
	l := &convTLayer{pad: pad, p: kern.Conv{KH: win.kh, KW: win.kw, SH: win.sh, SW: win.sw, DH: win.dh, DW: win.dw,
		PadT: win.pads[0], PadL: win.pads[1], PadB: win.pads[2], PadR: win.pads[3], Cout: cin}}
	wv, err := cp.param(wt.name, "transposed filter")
	if err != nil {
		return nil, err
	}
	cp.bind(wt.name, wv, &l.w)
	if len(n.Input) > 2 && n.Input[2] != "" {
		bt, err := cp.floatInit(n.Input[2], "the bias")
		if err != nil {
			return nil, err
		}
		if len(bt.f) != cout {
			return nil, fmt.Errorf("bias %q has %d values for %d output channels", bt.name, len(bt.f), cout)
		}
		bv, err := cp.param(bt.name, "vector")
		if err != nil {
			return nil, err
		}
		cp.bind(bt.name, bv, &l.b)
	}
	nn.Add(&cp.m.Module, name, l)
	xs, err := cp.in(n.Input[0])
	if err != nil {
		return nil, err
	}
	out := cp.slot(n.Output[0])
	m := cp.m
	return &step{node: cp.desc(n), ins: []int{xs}, outs: []int{out}, exec: func(c *nn.Ctx, env []value) error {
		x := env[xs].f
		if x == nil {
			return fmt.Errorf("input %q is not a float tensor", n.Input[0])
		}
		env[out] = value{f: m.Call(c, l, x)}
		return nil
	}}, nil
}

// iohwToHWOI reorders a ConvTranspose filter [Cin Cout KH KW] into its
// adjoint convolution's HWIO [KH KW Cout Cin].
func iohwToHWOI(d []float32, s []int) ([]float32, []int) {
	ci, co, h, w := s[0], s[1], s[2], s[3]
	out := make([]float32, len(d))
	for a := 0; a < ci; a++ {
		for b := 0; b < co; b++ {
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					out[((y*w+x)*co+b)*ci+a] = d[((a*co+b)*h+y)*w+x]
				}
			}
		}
	}
	return out, []int{h, w, co, ci}
}

// hwoiToIOHW is iohwToHWOI's inverse, for Export.
func hwoiToIOHW(d []float32, s []int) ([]float32, []int) {
	h, w, co, ci := s[0], s[1], s[2], s[3]
	out := make([]float32, len(d))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			for b := 0; b < co; b++ {
				for a := 0; a < ci; a++ {
					out[((a*co+b)*h+y)*w+x] = d[((y*w+x)*co+b)*ci+a]
				}
			}
		}
	}
	return out, []int{ci, co, h, w}
}
