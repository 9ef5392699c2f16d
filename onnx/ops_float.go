package onnx

import (
	"fmt"
	"math"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/nn"
	pb "github.com/foveaml/fovea/onnx/onnxpb"
	"github.com/foveaml/fovea/tensor"
)

type runFunc = func(*nn.Ctx, []value) ([]value, error)

// unary wraps an op of one float input.
func unary(f func(c *nn.Ctx, x *ag.Var) (*ag.Var, error)) runFunc {
	return func(c *nn.Ctx, in []value) ([]value, error) {
		x, err := floatIn(in, 0)
		if err != nil {
			return nil, err
		}
		y, err := f(c, x)
		if err != nil {
			return nil, err
		}
		return []value{{f: y}}, nil
	}
}

// floatOp compiles a node computing on float tensors.
func (cp *compiler) floatOp(n *pb.NodeProto) (runFunc, error) {
	op := n.GetOpType()
	noAttrs := func() error { _, err := attrsOf(n); return err }
	switch op {
	case "Relu", "Sigmoid", "Tanh", "Identity", "Neg", "Exp", "Sqrt", "Abs", "Reciprocal":
		if err := noAttrs(); err != nil {
			return nil, err
		}
		if err := need(n, 1, 1); err != nil {
			return nil, err
		}
		return unary(func(c *nn.Ctx, x *ag.Var) (*ag.Var, error) {
			switch op {
			case "Relu":
				return c.Tape.ReLU(x), nil
			case "Sigmoid":
				return c.Tape.Sigmoid(x), nil
			case "Tanh":
				return c.Tape.Tanh(x), nil
			case "Identity":
				return x, nil
			}
			u := unaries[op]
			return applyUnary(c.Tape, unaryAttrs{op: op}, x, u[0].(func(float32) float32), u[1].(func(float32, float32) float32)), nil
		}), nil
	case "LeakyRelu":
		a, err := attrsOf(n, "alpha")
		if err != nil {
			return nil, err
		}
		alpha, err := a.float("alpha", 0.01)
		if err != nil {
			return nil, err
		}
		return unary(func(c *nn.Ctx, x *ag.Var) (*ag.Var, error) { return leakyRelu(c.Tape, x, alpha), nil }), nil
	case "Clip":
		a, err := attrsOf(n, "min", "max")
		if err != nil {
			return nil, err
		}
		lo, _ := a.float("min", float32(math.Inf(-1)))
		hi, _ := a.float("max", float32(math.Inf(1)))
		return func(c *nn.Ctx, in []value) ([]value, error) {
			x, err := floatIn(in, 0)
			if err != nil {
				return nil, err
			}
			l, h := lo, hi
			if cp.opset >= 11 {
				for k, dst := range []*float32{&l, &h} {
					if k+1 < len(in) && in[k+1].f != nil {
						if in[k+1].f.Value().Len() != 1 {
							return nil, fmt.Errorf("Clip bound of shape %v; want a scalar", in[k+1].f.Shape())
						}
						*dst = in[k+1].f.Value().Data()[0]
					}
				}
			}
			return []value{{f: clip(c.Tape, x, l, h)}}, nil
		}, nil
	case "Add", "Sub", "Mul", "Div", "Pow":
		if err := noAttrs(); err != nil {
			return nil, err
		}
		if err := need(n, 2, 2); err != nil {
			return nil, err
		}
		return func(c *nn.Ctx, in []value) ([]value, error) {
			a, b := in[0].f, in[1].f
			if in[0].i != nil {
				a = intsToVar(in[0].i)
			}
			if in[1].i != nil {
				b = intsToVar(in[1].i)
			}
			if a == nil || b == nil {
				return nil, fmt.Errorf("an input is not computed")
			}
			return []value{{f: arith(c.Tape, op, a, b)}}, nil
		}, nil
	case "MatMul":
		if err := noAttrs(); err != nil {
			return nil, err
		}
		if err := need(n, 2, 2); err != nil {
			return nil, err
		}
		return func(c *nn.Ctx, in []value) ([]value, error) {
			a, err := floatIn(in, 0)
			if err != nil {
				return nil, err
			}
			b, err := floatIn(in, 1)
			if err != nil {
				return nil, err
			}
			return []value{{f: fromONNX(c.Tape, matmul(c.Tape, toONNX(c.Tape, a), toONNX(c.Tape, b)))}}, nil
		}, nil
	case "Concat":
		a, err := attrsOf(n, "axis")
		if err != nil {
			return nil, err
		}
		axis, err := a.int("axis", 1)
		if err != nil {
			return nil, err
		}
		return func(c *nn.Ctx, in []value) ([]value, error) {
			xs := make([]*ag.Var, 0, len(in))
			for k := range in {
				x, err := floatIn(in, k)
				if err != nil {
					return nil, err
				}
				xs = append(xs, x)
			}
			if len(xs) == 0 {
				return nil, fmt.Errorf("no inputs")
			}
			r := xs[0].Value().Rank()
			ax, err := normAxis(axis, r)
			if err != nil {
				return nil, err
			}
			sa := storageAxis(ax, r)
			if sa == r-1 {
				return []value{{f: c.Tape.Concat(xs...)}}, nil
			}
			return []value{{f: concatAxis(c.Tape, xs, sa)}}, nil
		}, nil
	case "Flatten", "Reshape", "Squeeze", "Unsqueeze":
		shapeOf, err := cp.reshaper(n)
		if err != nil {
			return nil, err
		}
		return func(c *nn.Ctx, in []value) ([]value, error) {
			x, err := floatIn(in, 0)
			if err != nil {
				return nil, err
			}
			s, err := shapeOf(onnxShape(x), in)
			if err != nil {
				return nil, err
			}
			y := c.Tape.Reshape(toONNX(c.Tape, x), s...)
			return []value{{f: fromONNX(c.Tape, y)}}, nil
		}, nil
	case "Transpose":
		perm, err := cp.perm(n)
		if err != nil {
			return nil, err
		}
		return unary(func(c *nn.Ctx, x *ag.Var) (*ag.Var, error) {
			p := perm(x.Value().Rank())
			if err := checkPerm(p, x.Value().Rank()); err != nil {
				return nil, err
			}
			if x.Value().Rank() == 4 {
				// Compose with the layout changes: one gather instead of three.
				q := make([]int, 4)
				for i := range q {
					q[i] = toNCHW[p[toNHWC[i]]]
				}
				return permute(c.Tape, x, q), nil
			}
			return permute(c.Tape, x, p), nil
		}), nil
	case "Slice":
		spec, err := cp.slicer(n)
		if err != nil {
			return nil, err
		}
		return func(c *nn.Ctx, in []value) ([]value, error) {
			x, err := floatIn(in, 0)
			if err != nil {
				return nil, err
			}
			start, step, count, err := spec(onnxShape(x), in)
			if err != nil {
				return nil, err
			}
			r := len(start)
			ss, st, sc := make([]int, r), make([]int, r), make([]int, r)
			for a := range start {
				b := storageAxis(a, r)
				ss[b], st[b], sc[b] = start[a], step[a], count[a]
			}
			return []value{{f: window(c.Tape, "onnx.Slice", x, ss, st, sc, 0)}}, nil
		}, nil
	case "Pad":
		return cp.pad(n)
	case "Gather":
		a, err := attrsOf(n, "axis")
		if err != nil {
			return nil, err
		}
		axis, _ := a.int("axis", 0)
		return func(c *nn.Ctx, in []value) ([]value, error) {
			x, err := floatIn(in, 0)
			if err != nil {
				return nil, err
			}
			idx, err := intIn(in, 1)
			if err != nil {
				return nil, err
			}
			xo := toONNX(c.Tape, x)
			if xo == nil {
				return nil, nil
			}
			s := xo.Shape()
			pos := &ints{shape: s, d: make([]int64, xo.Value().Len())}
			for i := range pos.d {
				pos.d[i] = int64(i)
			}
			g, err := gatherInts(pos, idx, axis)
			if err != nil {
				return nil, err
			}
			gi := make([]int32, len(g.d))
			for i, v := range g.d {
				gi[i] = int32(v)
			}
			y := gather(c.Tape, "onnx.Gather", nil, []*ag.Var{xo}, g.shape, gi, 0)
			return []value{{f: fromONNX(c.Tape, y)}}, nil
		}, nil
	case "MaxPool", "AveragePool":
		return cp.pool(n)
	case "GlobalAveragePool", "GlobalMaxPool":
		if err := noAttrs(); err != nil {
			return nil, err
		}
		return unary(func(c *nn.Ctx, x *ag.Var) (*ag.Var, error) {
			if x.Value().Rank() != 4 {
				return nil, fmt.Errorf("input has shape %v; want [N C H W]", onnxShape(x))
			}
			s := x.Shape()
			if op == "GlobalMaxPool" {
				return c.Tape.MaxPool(x, ag.Pool2D{KH: s[1], KW: s[2]}), nil
			}
			return c.Tape.Reshape(c.Tape.GlobalAvgPool(x), s[0], 1, 1, s[3]), nil
		}), nil
	case "LRN":
		a, err := attrsOf(n, "alpha", "beta", "bias", "size")
		if err != nil {
			return nil, err
		}
		alpha, _ := a.float("alpha", 1e-4)
		beta, _ := a.float("beta", 0.75)
		bias, _ := a.float("bias", 1)
		size, err := a.int("size", 0)
		if err != nil {
			return nil, err
		}
		if size < 1 || size%2 == 0 || size > 1<<16 {
			return nil, fmt.Errorf("LRN size %d: fovea supports odd sizes (where ONNX's and PyTorch's windows agree)", size)
		}
		l := ag.LRN{Size: int(size), Alpha: alpha, Beta: beta, K: bias}
		return unary(func(c *nn.Ctx, x *ag.Var) (*ag.Var, error) { return c.Tape.LRN(x, l), nil }), nil
	case "Dropout":
		a, err := attrsOf(n, "ratio", "seed", "is_test")
		if err != nil {
			return nil, err
		}
		if err := cp.oneOutput(n); err != nil {
			return nil, err
		}
		ratio, _ := a.float("ratio", 0.5)
		seed := uint64(cp.index[n])*0x9e3779b97f4a7c15 + 1
		return func(c *nn.Ctx, in []value) ([]value, error) {
			x, err := floatIn(in, 0)
			if err != nil {
				return nil, err
			}
			p := ratio
			if cp.opset >= 12 && len(in) > 1 && in[1].f != nil {
				p = in[1].f.Value().Data()[0]
			}
			if len(in) > 2 && in[2].i != nil && len(in[2].i.d) == 1 && in[2].i.d[0] == 0 {
				return []value{{f: x}}, nil // training_mode false
			}
			return []value{{f: c.Tape.Dropout(x, p, seed^uint64(c.Step)*0xbf58476d1ce4e5b9, c.Train)}}, nil
		}, nil
	case "Softmax":
		a, err := attrsOf(n, "axis")
		if err != nil {
			return nil, err
		}
		def := int64(1)
		if cp.opset >= 13 {
			def = -1
		}
		axis, _ := a.int("axis", def)
		return unary(func(c *nn.Ctx, x *ag.Var) (*ag.Var, error) { return softmax(c.Tape, x, axis, cp.opset >= 13) }), nil
	case "Cast":
		if _, err := attrsOf(n, "to", "saturate"); err != nil {
			return nil, err
		}
		return func(_ *nn.Ctx, in []value) ([]value, error) {
			if in[0].i != nil {
				return []value{{f: intsToVar(in[0].i)}}, nil
			}
			return []value{in[0]}, nil
		}, nil
	case "ConstantOfShape":
		a, err := attrsOf(n, "value")
		if err != nil {
			return nil, err
		}
		var fill float32
		if a.has("value") {
			t, err := decodeTensor(a.byName["value"].GetT(), nil)
			if err != nil || len(t.f) != 1 {
				return nil, fmt.Errorf("value must be one number")
			}
			fill = t.f[0]
		}
		return func(_ *nn.Ctx, in []value) ([]value, error) {
			sh, err := intIn(in, 0)
			if err != nil {
				return nil, err
			}
			dims, err := smallInts("dimension", sh.d)
			if err != nil {
				return nil, err
			}
			if err := checkActivation(dims); err != nil {
				return nil, err
			}
			t := tensor.Full(fill, dims...)
			if len(dims) == 4 {
				t = tensor.Full(fill, dims[0], dims[2], dims[3], dims[1])
			}
			return []value{{f: ag.Const(t)}}, nil
		}, nil
	}
	return nil, fmt.Errorf("operator %s is not supported", printable(op))
}

// arith is broadcasting Add, Sub, Mul, Div or Pow on stored values: a
// lower-rank operand of a rank-4 one is first given ONNX's leading 1s
// and the NHWC layout.
func arith(tp *ag.Tape, op string, a, b *ag.Var) *ag.Var {
	if a == nil || b == nil || tp.Err() != nil {
		return nil
	}
	ra, rb := a.Value().Rank(), b.Value().Rank()
	lift := func(v *ag.Var, r int) *ag.Var {
		s := v.Shape()
		for len(s) < 4 {
			s = append([]int{1}, s...)
		}
		return fromONNX(tp, tp.Reshape(v, s...))
	}
	if ra == 4 && rb < 4 {
		b = lift(b, rb)
	} else if rb == 4 && ra < 4 {
		a = lift(a, ra)
	}
	if a == nil || b == nil {
		return nil
	}
	if a.Value().SameShape(b.Value()) {
		switch op {
		case "Add":
			return tp.Add(a, b)
		case "Mul":
			return tp.Mul(a, b)
		case "Sub":
			return tp.WeightedSum([]float32{1, -1}, a, b)
		}
	}
	return applyBinary(tp, op, a, b)
}

// softmax normalises x along an ONNX axis; before opset 13, over all
// axes from it on (the input taken as a matrix).
func softmax(tp *ag.Tape, x *ag.Var, axis int64, perAxis bool) (*ag.Var, error) {
	if x == nil || tp.Err() != nil {
		return nil, nil
	}
	r := x.Value().Rank()
	ax, err := normAxis(axis, r)
	if err != nil {
		return nil, err
	}
	s := x.Shape()
	if r == 4 && ax == 1 && (perAxis || s[1]*s[2] == 1) {
		// The channels are the stored last axis.
		c := s[3]
		return tp.Reshape(tp.Softmax(tp.Reshape(x, -1, c)), s...), nil
	}
	xo := toONNX(tp, x)
	if xo == nil {
		return nil, nil
	}
	os := xo.Shape()
	if !perAxis || ax == r-1 {
		inner := 1
		for _, d := range os[ax:] {
			inner *= d
		}
		return fromONNX(tp, tp.Reshape(tp.Softmax(tp.Reshape(xo, -1, inner)), os...)), nil
	}
	perm := make([]int, 0, r)
	for i := 0; i < r; i++ {
		if i != ax {
			perm = append(perm, i)
		}
	}
	perm = append(perm, ax)
	back := make([]int, r)
	for i, p := range perm {
		back[p] = i
	}
	moved := permute(tp, xo, perm)
	if moved == nil {
		return nil, nil
	}
	ms := moved.Shape()
	y := tp.Reshape(tp.Softmax(tp.Reshape(moved, -1, ms[r-1])), ms...)
	return fromONNX(tp, permute(tp, y, back)), nil
}

// pad compiles Pad (constant mode).
func (cp *compiler) pad(n *pb.NodeProto) (runFunc, error) {
	a, err := attrsOf(n, "mode", "pads", "value")
	if err != nil {
		return nil, err
	}
	mode, err := a.str("mode", "constant")
	if err != nil {
		return nil, err
	}
	if mode != "constant" {
		return nil, fmt.Errorf("pad mode %q is not supported; fovea pads with a constant", mode)
	}
	attrPads, _ := a.ints("pads")
	attrValue, _ := a.float("value", 0)
	return func(c *nn.Ctx, in []value) ([]value, error) {
		x, err := floatIn(in, 0)
		if err != nil {
			return nil, err
		}
		pads, fill := attrPads, attrValue
		if cp.opset >= 11 {
			p, err := intIn(in, 1)
			if err != nil {
				return nil, err
			}
			pads = p.d
			if len(in) > 2 && in[2].f != nil {
				fill = in[2].f.Value().Data()[0]
			}
			if len(in) > 3 && in[3].i != nil {
				return nil, fmt.Errorf("the axes input of Pad is not supported")
			}
		}
		s := onnxShape(x)
		r := len(s)
		if len(pads) != 2*r {
			return nil, fmt.Errorf("%d pads for a rank-%d input", len(pads), r)
		}
		start, step, count := make([]int, r), make([]int, r), make([]int, r)
		for ax := 0; ax < r; ax++ {
			lo, err := smallInt("pad", pads[ax])
			if err != nil {
				return nil, err
			}
			hi, err := smallInt("pad", pads[ax+r])
			if err != nil {
				return nil, err
			}
			b := storageAxis(ax, r)
			start[b], step[b], count[b] = -lo, 1, s[ax]+lo+hi
			if count[b] < 0 {
				return nil, fmt.Errorf("pads %v crop more than the input %v", pads, s)
			}
		}
		return []value{{f: window(c.Tape, "onnx.Pad", x, start, step, count, fill)}}, nil
	}, nil
}

// pool compiles MaxPool and AveragePool.
func (cp *compiler) pool(n *pb.NodeProto) (runFunc, error) {
	avg := n.GetOpType() == "AveragePool"
	known := []string{"auto_pad", "ceil_mode", "kernel_shape", "pads", "strides", "dilations"}
	if avg {
		known = append(known, "count_include_pad")
	} else {
		known = append(known, "storage_order")
	}
	a, err := attrsOf(n, known...)
	if err != nil {
		return nil, err
	}
	if err := cp.oneOutput(n); err != nil {
		return nil, err
	}
	w, err := readWindow(a, nil, !avg)
	if err != nil {
		return nil, err
	}
	ceil, _ := a.int("ceil_mode", 0)
	cip, _ := a.int("count_include_pad", 0)
	return unary(func(c *nn.Ctx, x *ag.Var) (*ag.Var, error) {
		if x.Value().Rank() != 4 {
			return nil, fmt.Errorf("input has shape %v; want [N C H W]", onnxShape(x))
		}
		s := x.Shape()
		p := w.padsFor(s[1], s[2])
		pw := ag.Pool2D{KH: w.kh, KW: w.kw, SH: w.sh, SW: w.sw, PadT: p[0], PadL: p[1], PadB: p[2], PadR: p[3],
			DH: w.dh, DW: w.dw, Ceil: ceil != 0}
		oh, ow := outSize(s[1], w.kh, w.sh, w.dh, p[0], p[2])+1, outSize(s[2], w.kw, w.sw, w.dw, p[1], p[3])+1
		if err := checkActivation([]int{s[0], max(oh, 1), max(ow, 1), s[3]}); err != nil {
			return nil, err
		}
		if avg {
			pw.DH, pw.DW = 0, 0
			pw.ExcludePad = cip == 0
			return c.Tape.AvgPool(x, pw), nil
		}
		return c.Tape.MaxPool(x, pw), nil
	}), nil
}
