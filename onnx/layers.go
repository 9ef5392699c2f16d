package onnx

import (
	"fmt"
	"slices"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/nn"
	pb "github.com/foveaml/fovea/onnx/onnxpb"
	"github.com/foveaml/fovea/tensor"
)

// The nodes with weights become nn layers, children of the Model: Conv
// (with the batch norm, residual Add and ReLU after it as one nn.Unit),
// BatchNormalization, and Gemm and MatMul by a constant as nn.Dense.

// bind makes a layer's field hold the parameter made for initializer
// name, and Params read it from there (so that NewHead's new head shows).
func (cp *compiler) bind(name string, v **ag.Var, field **ag.Var) {
	*field = *v
	for i := range cp.m.params {
		if cp.m.params[i].name == name && cp.m.params[i].v == v {
			cp.m.params[i].v = field
			cp.vars[name] = field
		}
	}
}

// sole returns the node that alone reads value v, if it has op type op.
func (cp *compiler) sole(v, op string) *pb.NodeProto {
	if cp.uses[v] != 1 || cp.graphOut[v] {
		return nil
	}
	for _, n := range cp.readers[v] {
		if n.GetOpType() == op && !cp.absorbed[n] {
			return n
		}
	}
	return nil
}

// convLayer is a convolution nn.Conv2D cannot express: uneven or
// input-dependent (auto_pad SAME) padding, or unequal strides or
// dilations. It runs unfused.
type convLayer struct {
	w, b   *ag.Var
	win    window2
	groups int
}

func (l *convLayer) Forward(c *nn.Ctx, x *ag.Var) *ag.Var {
	if x == nil || x.Value().Rank() != 4 {
		return c.Tape.Conv2D(x, l.w, l.b, ag.Conv{})
	}
	o := l.win.conv(x.Shape()[1], x.Shape()[2])
	o.Groups = l.groups
	return c.Tape.Conv2D(x, l.w, l.b, o)
}

func (l *convLayer) Params() []nn.Param {
	ps := []nn.Param{{Name: "weight", Var: l.w}}
	if l.b != nil {
		ps = append(ps, nn.Param{Name: "bias", Var: l.b})
	}
	return ps
}

func (l *convLayer) Kind() string { return "Conv2D" }

// convUnit compiles a Conv and the nodes fused into it.
func (cp *compiler) convUnit(n *pb.NodeProto) (*step, error) {
	a, err := attrsOf(n, "auto_pad", "dilations", "group", "kernel_shape", "pads", "strides")
	if err != nil {
		return nil, err
	}
	if err := need(n, 2, 3); err != nil {
		return nil, err
	}
	wt, err := cp.floatInit(n.Input[1], "the filter")
	if err != nil {
		return nil, err
	}
	if len(wt.dims) != 4 {
		return nil, fmt.Errorf("filter %q has shape %v; fovea runs 2-D convolutions ([Cout Cin/groups KH KW])", wt.name, wt.dims)
	}
	g64, err := a.int("group", 1)
	if err != nil {
		return nil, err
	}
	groups, err := smallInt("group", g64)
	if err != nil {
		return nil, err
	}
	cout, cin := wt.dims[0], wt.dims[1]*groups
	if groups < 1 || cout%groups != 0 {
		return nil, fmt.Errorf("%d groups for a filter %v", groups, wt.dims)
	}
	win, err := readWindow(a, wt.dims[2:], true)
	if err != nil {
		return nil, err
	}
	name := cp.callName(n, wt.name)
	cp.nameAfter(wt.name, name, "weight")
	if len(n.Input) > 2 {
		cp.nameAfter(n.Input[2], name, "bias")
	}
	wv, err := cp.param(wt.name, "filter")
	if err != nil {
		return nil, err
	}
	var bv **ag.Var
	if len(n.Input) > 2 && n.Input[2] != "" {
		bt, err := cp.floatInit(n.Input[2], "the bias")
		if err != nil {
			return nil, err
		}
		if len(bt.f) != cout {
			return nil, fmt.Errorf("bias %q has %d values for %d output channels", bt.name, len(bt.f), cout)
		}
		if bv, err = cp.param(bt.name, "vector"); err != nil {
			return nil, err
		}
	}
	xs, err := cp.in(n.Input[0])
	if err != nil {
		return nil, err
	}
	s := &step{node: cp.desc(n), kind: "Conv2D", ins: []int{xs}}
	last := n

	// The unit: [BatchNormalization] [Add (a residual)] [Relu].
	out := n.Output[0]
	var bn *nn.BatchNorm
	var bnName string
	if b := cp.sole(out, "BatchNormalization"); b != nil && cp.bnFusable(b) {
		if bn, bnName, err = cp.bnLayer(b); err != nil {
			return nil, fmt.Errorf("%s: %w", cp.desc(b), err)
		}
		cp.absorbed[b] = true
		out, last = b.Output[0], b
	}
	res := -1
	if ad := cp.sole(out, "Add"); ad != nil && len(ad.Input) == 2 {
		other := ad.Input[0]
		if other == out {
			other = ad.Input[1]
		}
		if other != out && !cp.isConst[other] && !cp.isInt[other] {
			res = cp.slot(other)
			cp.absorbed[ad] = true
			out, last = ad.Output[0], ad
		}
	}
	relu := false
	if r := cp.sole(out, "Relu"); r != nil && len(r.Attribute) == 0 {
		relu = true
		cp.absorbed[r] = true
		out, last = r.Output[0], r
	}
	outSlot := cp.slot(out)
	s.outs = []int{outSlot}

	m := cp.m
	var conv nn.Layer
	nnconv, even := (*nn.Conv2D)(nil), win.sh == win.sw && win.dh == win.dw
	p := win.pads
	switch {
	case even && win.auto != "SAME_UPPER" && win.auto != "SAME_LOWER" && p[0] == p[1] && p[1] == p[2] && p[2] == p[3]:
		nnconv = &nn.Conv2D{Cfg: nn.Conv2DConfig{In: cin, Out: cout, KH: win.kh, KW: win.kw, Stride: win.sh, Pad: p[0],
			Dilation: win.dh, Groups: groups, NoBias: bv == nil}}
	case even && win.auto == "SAME_UPPER" && win.sh == 1:
		nnconv = &nn.Conv2D{Cfg: nn.Conv2DConfig{In: cin, Out: cout, KH: win.kh, KW: win.kw, Stride: 1, Same: true,
			Dilation: win.dh, Groups: groups, NoBias: bv == nil}}
	}
	if nnconv != nil {
		cp.bind(wt.name, wv, &nnconv.Weight)
		if bv != nil {
			cp.bind(n.Input[2], bv, &nnconv.Bias)
		}
		conv = nn.Add(&m.Module, name, nnconv)
	} else {
		cl := &convLayer{win: win, groups: groups}
		cp.bind(wt.name, wv, &cl.w)
		if bv != nil {
			cp.bind(n.Input[2], bv, &cl.b)
		}
		conv = nn.Add(&m.Module, name, cl)
	}
	if bn != nil {
		nn.Add(&m.Module, bnName, bn)
	}
	s.exec = func(c *nn.Ctx, env []value) error {
		x := env[xs].f
		if x == nil {
			return fmt.Errorf("input %q is not a float tensor", n.Input[0])
		}
		if x.Value().Rank() != 4 {
			return fmt.Errorf("input has shape %v; want [N C H W]", onnxShape(x))
		}
		xsh := x.Shape()
		pp := win.padsFor(xsh[1], xsh[2])
		oh := outSize(xsh[1], win.kh, win.sh, win.dh, pp[0], pp[2])
		ow := outSize(xsh[2], win.kw, win.sw, win.dw, pp[1], pp[3])
		if err := checkActivation([]int{xsh[0], max(oh, 1), max(ow, 1), cout}); err != nil {
			return err
		}
		var r *ag.Var
		if res >= 0 {
			if r = env[res].f; r == nil && env[res].i != nil {
				r = intsToVar(env[res].i)
			}
			if r == nil {
				return fmt.Errorf("the residual is not computed")
			}
		}
		var y *ag.Var
		if nnconv != nil {
			u := nn.Unit{Conv: nnconv, BN: bn, ReLU: relu}
			switch {
			case r == nil:
				y = m.Unit(c, x, u, nil)
			case slices.Equal(r.Shape(), cp.convOut(x, nnconv)):
				y = m.Unit(c, x, u, func() *ag.Var { return r })
			default: // a broadcasting Add
				u.ReLU = false
				y = arith(c.Tape, "Add", m.Unit(c, x, u, nil), r)
				if relu {
					y = c.Call("relu", nn.ReLU, y)
				}
			}
		} else {
			y = m.Call(c, conv, x)
			if bn != nil {
				y = m.Call(c, bn, y)
			}
			if r != nil {
				y = arith(c.Tape, "Add", y, r)
			}
			if relu {
				y = c.Call("relu", nn.ReLU, y)
			}
		}
		env[outSlot] = value{f: y}
		return nil
	}
	if last != n {
		cp.deferred[last] = s
		return nil, nil
	}
	return s, nil
}

// convOut is the NHWC output shape of conv on x.
func (cp *compiler) convOut(x *ag.Var, conv *nn.Conv2D) []int {
	s := x.Shape()
	cfg := conv.Cfg
	if cfg.Same {
		return []int{s[0], s[1], s[2], cfg.Out}
	}
	return []int{s[0], outSize(s[1], cfg.KH, cfg.Stride, cfg.Dilation, cfg.Pad, cfg.Pad),
		outSize(s[2], cfg.KW, cfg.Stride, cfg.Dilation, cfg.Pad, cfg.Pad), cfg.Out}
}

// bnFusable reports whether a batch norm can join a unit: constant
// parameters, only its first output used.
func (cp *compiler) bnFusable(n *pb.NodeProto) bool {
	if len(n.Input) != 5 || cp.oneOutput(n) != nil {
		return false
	}
	for _, in := range n.Input[1:] {
		if cp.inits[in] == nil {
			return false
		}
	}
	return true
}

// bnLayer makes the nn.BatchNorm of a BatchNormalization node.
func (cp *compiler) bnLayer(n *pb.NodeProto) (*nn.BatchNorm, string, error) {
	a, err := attrsOf(n, "epsilon", "momentum", "spatial", "is_test", "training_mode", "consumed_inputs")
	if err != nil {
		return nil, "", err
	}
	if err := need(n, 5, 5); err != nil {
		return nil, "", err
	}
	if err := cp.oneOutput(n); err != nil {
		return nil, "", err
	}
	if sp, _ := a.int("spatial", 1); sp != 1 {
		return nil, "", fmt.Errorf("spatial=%d (per-pixel statistics) is not supported", sp)
	}
	if tm, _ := a.int("training_mode", 0); tm != 0 {
		return nil, "", fmt.Errorf("training_mode=1 graphs are not supported; export in inference mode")
	}
	eps, _ := a.float("epsilon", 1e-5)
	mom, _ := a.float("momentum", 0.9)
	ts := make([]*tdata, 4)
	for k := range ts {
		if ts[k], err = cp.floatInit(n.Input[k+1], "batch-norm input"); err != nil {
			return nil, "", err
		}
		if len(ts[k].f) != len(ts[0].f) || len(ts[k].dims) != 1 {
			return nil, "", fmt.Errorf("scale, bias, mean and variance have shapes %v, %v, %v, %v; want [C] each",
				ts[0].dims, ts[1].dims, ts[2].dims, ts[3].dims)
		}
	}
	name := cp.callName(n, n.Input[1])
	for k, suffix := range []string{"weight", "bias", "running_mean", "running_var"} {
		cp.nameAfter(n.Input[k+1], name, suffix)
	}
	bn := &nn.BatchNorm{Stats: &ag.BatchNormStats{Momentum: 1 - mom, Eps: eps}}
	for k, field := range []**ag.Var{&bn.Weight, &bn.Bias} {
		v, err := cp.param(n.Input[k+1], "vector")
		if err != nil {
			return nil, "", err
		}
		cp.bind(n.Input[k+1], v, field)
	}
	for k, dst := range []**tensor.Tensor{&bn.Stats.Mean, &bn.Stats.Var} {
		name := n.Input[k+3]
		if err := cp.claim(name, "batch-norm statistics"); err != nil {
			return nil, "", err
		}
		t := cp.bnStats[name]
		if t == nil {
			t, _ = tensor.FromSlice(slices.Clone(ts[k+2].f), len(ts[k+2].f))
			cp.bnStats[name] = t
			shown := name
			if d := cp.display[name]; d != "" {
				shown = d
			}
			cp.m.buffers = append(cp.m.buffers, nn.Param{Name: shown, Var: ag.Const(t)})
		}
		*dst = t
	}
	return bn, name, nil
}

// batchNorm compiles a BatchNormalization that no convolution absorbed.
func (cp *compiler) batchNorm(n *pb.NodeProto) (*step, error) {
	if !cp.bnFusable(n) {
		if err := need(n, 5, 5); err != nil {
			return nil, err
		}
		if err := cp.oneOutput(n); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("scale, bias, mean and variance must be initializers")
	}
	bn, name, err := cp.bnLayer(n)
	if err != nil {
		return nil, err
	}
	nn.Add(&cp.m.Module, name, bn)
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
		env[out] = value{f: m.Call(c, bn, x)}
		return nil
	}}, nil
}

// denseParam makes a dense weight [in, out] of initializer name under a
// role that says how it was transformed.
func (cp *compiler) denseParam(name string, transpose bool, alpha float32) (**ag.Var, int, int, error) {
	t, err := cp.floatInit(name, "the weight")
	if err != nil {
		return nil, 0, 0, err
	}
	if len(t.dims) != 2 {
		return nil, 0, 0, fmt.Errorf("weight %q has shape %v; want a matrix", name, t.dims)
	}
	role := fmt.Sprintf("a dense weight (transposed %v, scaled by %g)", transpose, alpha)
	if v, ok := cp.vars[name]; ok && cp.roles[name] == role {
		s := (*v).Shape()
		return v, s[0], s[1], nil
	}
	if err := cp.claim(name, role); err != nil {
		return nil, 0, 0, err
	}
	r, c := t.dims[0], t.dims[1]
	d := slices.Clone(t.f)
	if transpose {
		d, r, c = transpose2(d, r, c), c, r
	}
	if alpha != 1 {
		for i := range d {
			d[i] *= alpha
		}
	}
	tv, err := tensor.FromSlice(d, r, c)
	if err != nil {
		return nil, 0, 0, err
	}
	v := ag.Param(tv)
	cp.addParam(name, &v)
	return cp.vars[name], r, c, nil
}

// gemm compiles Gemm with constant B (and C) as nn.Dense.
func (cp *compiler) gemm(n *pb.NodeProto) (*step, error) {
	a, err := attrsOf(n, "alpha", "beta", "transA", "transB")
	if err != nil {
		return nil, err
	}
	if err := need(n, 2, 3); err != nil {
		return nil, err
	}
	if cp.inits[n.Input[1]] == nil {
		return nil, fmt.Errorf("B %q is computed by the graph; fovea runs Gemm with constant weights", n.Input[1])
	}
	alpha, _ := a.float("alpha", 1)
	beta, _ := a.float("beta", 1)
	ta, _ := a.int("transA", 0)
	tb, _ := a.int("transB", 0)
	callName := cp.callName(n, n.Input[1])
	cp.nameAfter(n.Input[1], callName, "weight")
	if len(n.Input) > 2 {
		cp.nameAfter(n.Input[2], callName, "bias")
	}
	wv, k, nOut, err := cp.denseParam(n.Input[1], tb != 0, alpha)
	if err != nil {
		return nil, err
	}
	d := &nn.Dense{Cfg: nn.DenseConfig{In: k, Out: nOut}}
	cp.bind(n.Input[1], wv, &d.Weight)
	if len(n.Input) > 2 && n.Input[2] != "" {
		name := n.Input[2]
		ct, err := cp.floatInit(name, "C")
		if err != nil {
			return nil, err
		}
		if len(ct.f) != nOut && len(ct.f) != 1 {
			return nil, fmt.Errorf("C %q has shape %v; fovea adds a bias of %d values (or one)", name, ct.dims, nOut)
		}
		role := fmt.Sprintf("a bias of %d (scaled by %g)", nOut, beta)
		v, ok := cp.vars[name]
		if !ok || cp.roles[name] != role {
			if err := cp.claim(name, role); err != nil {
				return nil, err
			}
			b := tensor.Zeros(nOut)
			for i := range b.Data() {
				b.Data()[i] = beta * ct.f[i%len(ct.f)]
			}
			nv := ag.Param(b)
			cp.addParam(name, &nv)
			v = cp.vars[name]
		}
		cp.bind(name, v, &d.Bias)
	} else {
		d.Cfg.NoBias = true
	}
	nn.Add(&cp.m.Module, callName, d)
	cp.m.head, cp.m.headName = d, callName
	cp.m.headB, cp.m.headC, cp.m.headTransB, cp.m.headOut = n.Input[1], "", tb != 0, n.Output[0]
	if len(n.Input) > 2 {
		cp.m.headC = n.Input[2]
	}
	xs, err := cp.in(n.Input[0])
	if err != nil {
		return nil, err
	}
	out := cp.slot(n.Output[0])
	m := cp.m
	return &step{node: cp.desc(n), ins: []int{xs}, outs: []int{out}, exec: func(c *nn.Ctx, env []value) error {
		x := env[xs].f
		if x == nil || x.Value().Rank() != 2 {
			return fmt.Errorf("A must be a float matrix")
		}
		if ta != 0 {
			x = permute(c.Tape, x, []int{1, 0})
		}
		env[out] = value{f: m.Call(c, d, x)}
		return nil
	}}, nil
}

// matmulConst compiles MatMul by a constant matrix as nn.Dense without
// a bias, over the last axis of A.
func (cp *compiler) matmulConst(n *pb.NodeProto) (*step, error) {
	if _, err := attrsOf(n); err != nil {
		return nil, err
	}
	if err := need(n, 2, 2); err != nil {
		return nil, err
	}
	name := cp.callName(n, n.Input[1])
	cp.nameAfter(n.Input[1], name, "weight")
	wv, k, nOut, err := cp.denseParam(n.Input[1], false, 1)
	if err != nil {
		return nil, err
	}
	d := &nn.Dense{Cfg: nn.DenseConfig{In: k, Out: nOut, NoBias: true}}
	cp.bind(n.Input[1], wv, &d.Weight)
	nn.Add(&cp.m.Module, name, d)
	xs, err := cp.in(n.Input[0])
	if err != nil {
		return nil, err
	}
	out := cp.slot(n.Output[0])
	m := cp.m
	return &step{node: cp.desc(n), ins: []int{xs}, outs: []int{out}, exec: func(c *nn.Ctx, env []value) error {
		x := env[xs].f
		if x == nil || x.Value().Rank() < 2 {
			return fmt.Errorf("A must be a float tensor of rank 2 or more")
		}
		xo := toONNX(c.Tape, x)
		if xo == nil {
			return nil
		}
		s := xo.Shape()
		if s[len(s)-1] != k {
			return fmt.Errorf("A has shape %v; want its last axis %d for B %q", s, k, n.Input[1])
		}
		y := m.Call(c, d, c.Tape.Reshape(xo, -1, k))
		if y == nil {
			return nil
		}
		os := append(slices.Clone(s[:len(s)-1]), nOut)
		env[out] = value{f: fromONNX(c.Tape, c.Tape.Reshape(y, os...))}
		return nil
	}}, nil
}
