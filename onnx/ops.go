package onnx

import (
	"fmt"
	"math"
	"slices"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/nn"
	pb "github.com/foveaml/fovea/onnx/onnxpb"
	"github.com/foveaml/fovea/tensor"
)

// node compiles one node (with those fused into it) into a step; nil
// for nodes that only set a constant.
func (cp *compiler) node(n *pb.NodeProto) (*step, error) {
	op := n.GetOpType()
	switch op {
	case "Conv":
		return cp.convUnit(n)
	case "ConvTranspose":
		return cp.convTranspose(n)
	case "BatchNormalization":
		return cp.batchNorm(n)
	case "Gemm":
		return cp.gemm(n)
	case "MatMul":
		if len(n.Input) == 2 && cp.inits[n.Input[1]] != nil {
			return cp.matmulConst(n)
		}
	case "Constant":
		return nil, cp.constant(n)
	}
	s := &step{node: cp.desc(n), kind: op}
	if len(n.Output) == 0 {
		return nil, fmt.Errorf("the node has no outputs")
	}
	for k, in := range n.Input {
		var slot int
		var err error
		if slices.Contains(optionInputs[op], k) && cp.inits[in] != nil {
			slot, err = cp.optionValue(in)
		} else {
			slot, err = cp.in(in)
		}
		if err != nil {
			return nil, err
		}
		s.ins = append(s.ins, slot)
		if v, ok := cp.vars[in]; ok && cp.roles[in] == "raw" {
			s.params = append(s.params, nn.Param{Name: in, Var: *v})
		}
	}
	for _, o := range n.Output {
		if o == "" {
			s.outs = append(s.outs, -1)
		} else {
			s.outs = append(s.outs, cp.slot(o))
		}
	}
	var err error
	if cp.isInt[n.Output[0]] || op == "Shape" || op == "Size" {
		s.run, err = cp.intOp(n)
	} else {
		s.call = cp.callName(n, "")
		s.run, err = cp.floatOp(n)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// optionInputs are the inputs that opsets moved from attributes
// (Clip's bounds, Pad's value, Dropout's ratio): constants of the
// graph, not parameters, even when stored as initializers.
var optionInputs = map[string][]int{"Clip": {1, 2}, "Pad": {2, 3}, "Dropout": {1, 2}}

// optionValue puts initializer name in the starting environment as a
// constant that trains not.
func (cp *compiler) optionValue(name string) (int, error) {
	s := cp.slot(name)
	for len(cp.m.init) <= s {
		cp.m.init = append(cp.m.init, value{})
	}
	if cp.m.init[s].f != nil || cp.m.init[s].i != nil {
		return s, nil
	}
	if err := cp.claim(name, "an option (a constant)"); err != nil {
		return 0, err
	}
	t, err := cp.tensorOf(name)
	if err != nil {
		return 0, err
	}
	if !t.isFloat() {
		cp.m.init[s] = value{i: &ints{shape: t.dims, d: t.i}}
		return s, nil
	}
	tv, err := tensor.FromSlice(slices.Clone(t.f), t.dims...)
	if err != nil {
		return 0, err
	}
	cp.m.init[s] = value{f: ag.Const(tv)}
	return s, nil
}

// need checks a node's input count.
func need(n *pb.NodeProto, lo, hi int) error {
	k := len(n.Input)
	for k > 0 && n.Input[k-1] == "" {
		k--
	}
	if k < lo || k > hi {
		if lo == hi {
			return fmt.Errorf("%d inputs; want %d", k, lo)
		}
		return fmt.Errorf("%d inputs; want %d to %d", k, lo, hi)
	}
	return nil
}

// oneOutput checks that only the first output of a node is used.
func (cp *compiler) oneOutput(n *pb.NodeProto) error {
	for _, o := range n.Output[1:] {
		if o != "" && (cp.uses[o] > 0 || cp.graphOut[o]) {
			return fmt.Errorf("output %q (beyond the first) is used; fovea computes only the first", o)
		}
	}
	return nil
}

func floatIn(in []value, k int) (*ag.Var, error) {
	if k >= len(in) || in[k].f == nil {
		return nil, fmt.Errorf("input %d is not a float tensor", k)
	}
	return in[k].f, nil
}

func intIn(in []value, k int) (*ints, error) {
	if k >= len(in) || in[k].i == nil {
		return nil, fmt.Errorf("input %d is not an integer tensor (a shape or axes)", k)
	}
	return in[k].i, nil
}

// optInts returns an optional integer input (nil when absent).
func optInts(in []value, k int) ([]int64, error) {
	if k >= len(in) || (in[k].i == nil && in[k].f == nil) {
		return nil, nil
	}
	t, err := intIn(in, k)
	if err != nil {
		return nil, err
	}
	return t.d, nil
}

// constant puts a Constant node's value in the starting environment.
func (cp *compiler) constant(n *pb.NodeProto) error {
	a, err := attrsOf(n, "value", "value_float", "value_floats", "value_int", "value_ints")
	if err != nil {
		return err
	}
	if len(n.Output) != 1 || n.Output[0] == "" {
		return fmt.Errorf("want one output")
	}
	var v value
	switch {
	case a.has("value"):
		t, err := decodeTensor(a.byName["value"].GetT(), cp.ext)
		if err != nil {
			return err
		}
		if t.isFloat() {
			d, dims := t.f, t.dims
			if len(dims) == 4 {
				d, dims = nchwToNHWC(d, dims)
			}
			tv, err := tensor.FromSlice(d, dims...)
			if err != nil {
				return err
			}
			v.f = ag.Const(tv)
		} else {
			v.i = &ints{shape: t.dims, d: t.i}
		}
	case a.has("value_float"):
		v.f = ag.Const(tensor.Full(a.byName["value_float"].GetF()))
	case a.has("value_floats"):
		fs := a.byName["value_floats"].Floats
		tv, _ := tensor.FromSlice(slices.Clone(fs), len(fs))
		v.f = ag.Const(tv)
	case a.has("value_int"):
		v.i = scalarInts(a.byName["value_int"].GetI())
	case a.has("value_ints"):
		v.i = vecInts(slices.Clone(a.byName["value_ints"].Ints))
	default:
		return fmt.Errorf("no value attribute (sparse and string constants are not supported)")
	}
	s := cp.slot(n.Output[0])
	for len(cp.m.init) <= s {
		cp.m.init = append(cp.m.init, value{})
	}
	cp.m.init[s] = v
	return nil
}

// intOp compiles a node computing on integer tensors.
func (cp *compiler) intOp(n *pb.NodeProto) (func(*nn.Ctx, []value) ([]value, error), error) {
	op := n.GetOpType()
	one := func(f func(in []value) (*ints, error)) func(*nn.Ctx, []value) ([]value, error) {
		return func(_ *nn.Ctx, in []value) ([]value, error) {
			t, err := f(in)
			if err != nil {
				return nil, err
			}
			return []value{{i: t}}, nil
		}
	}
	switch op {
	case "Shape", "Size":
		a, err := attrsOf(n, "start", "end")
		if err != nil {
			return nil, err
		}
		start, _ := a.int("start", 0)
		end, _ := a.int("end", math.MaxInt32)
		if err := need(n, 1, 1); err != nil {
			return nil, err
		}
		return one(func(in []value) (*ints, error) {
			var s []int
			switch {
			case in[0].f != nil:
				s = onnxShape(in[0].f)
			case in[0].i != nil:
				s = in[0].i.shape
			default:
				return nil, fmt.Errorf("input is not computed")
			}
			if op == "Size" {
				n := 1
				for _, d := range s {
					n *= d
				}
				return scalarInts(int64(n)), nil
			}
			r := int64(len(s))
			b, e := start, end
			if b < 0 {
				b += r
			}
			if e < 0 {
				e += r
			}
			b, e = min(max(b, 0), r), min(max(e, 0), r)
			out := []int64{}
			for _, d := range s[b:max(b, e)] {
				out = append(out, int64(d))
			}
			return vecInts(out), nil
		}), nil
	case "Identity":
		return one(func(in []value) (*ints, error) { return intIn(in, 0) }), nil
	case "Cast":
		if _, err := attrsOf(n, "to", "saturate"); err != nil {
			return nil, err
		}
		return one(func(in []value) (*ints, error) {
			if in[0].f != nil {
				return nil, fmt.Errorf("casting a computed float tensor to integers is not supported")
			}
			return intIn(in, 0)
		}), nil
	case "Add", "Sub", "Mul", "Div", "Equal", "Less", "Greater", "Max", "Min":
		if _, err := attrsOf(n); err != nil {
			return nil, err
		}
		if err := need(n, 2, 2); err != nil {
			return nil, err
		}
		return one(func(in []value) (*ints, error) {
			a, err := intIn(in, 0)
			if err != nil {
				return nil, err
			}
			b, err := intIn(in, 1)
			if err != nil {
				return nil, err
			}
			return intBinary(op, a, b)
		}), nil
	case "Where":
		return one(func(in []value) (*ints, error) {
			c, err := intIn(in, 0)
			if err != nil {
				return nil, err
			}
			x, err := intIn(in, 1)
			if err != nil {
				return nil, err
			}
			y, err := intIn(in, 2)
			if err != nil {
				return nil, err
			}
			s1, err := broadcast(c.shape, x.shape)
			if err != nil {
				return nil, err
			}
			shape, err := broadcast(s1, y.shape)
			if err != nil {
				return nil, err
			}
			out, err := newInts(shape)
			if err != nil {
				return nil, err
			}
			ic, ix, iy := broadcastIndex(c.shape, shape), broadcastIndex(x.shape, shape), broadcastIndex(y.shape, shape)
			for i := range out.d {
				if c.d[ic[i]] != 0 {
					out.d[i] = x.d[ix[i]]
				} else {
					out.d[i] = y.d[iy[i]]
				}
			}
			return out, nil
		}), nil
	case "Gather":
		a, err := attrsOf(n, "axis")
		if err != nil {
			return nil, err
		}
		axis, err := a.int("axis", 0)
		if err != nil {
			return nil, err
		}
		return one(func(in []value) (*ints, error) {
			d, err := intIn(in, 0)
			if err != nil {
				return nil, err
			}
			idx, err := intIn(in, 1)
			if err != nil {
				return nil, err
			}
			return gatherInts(d, idx, axis)
		}), nil
	case "Concat":
		a, err := attrsOf(n, "axis")
		if err != nil {
			return nil, err
		}
		axis, err := a.int("axis", 0)
		if err != nil {
			return nil, err
		}
		return one(func(in []value) (*ints, error) {
			ts := make([]*ints, len(in))
			for k := range in {
				var err error
				if ts[k], err = intIn(in, k); err != nil {
					return nil, err
				}
			}
			if len(ts) == 0 {
				return nil, fmt.Errorf("no inputs")
			}
			return concatInts(ts, axis)
		}), nil
	case "Unsqueeze", "Squeeze", "Reshape", "Flatten":
		shapeOf, err := cp.reshaper(n)
		if err != nil {
			return nil, err
		}
		return one(func(in []value) (*ints, error) {
			t, err := intIn(in, 0)
			if err != nil {
				return nil, err
			}
			s, err := shapeOf(t.shape, in)
			if err != nil {
				return nil, err
			}
			return &ints{shape: s, d: t.d}, nil
		}), nil
	case "Slice":
		spec, err := cp.slicer(n)
		if err != nil {
			return nil, err
		}
		return one(func(in []value) (*ints, error) {
			t, err := intIn(in, 0)
			if err != nil {
				return nil, err
			}
			start, step, count, err := spec(t.shape, in)
			if err != nil {
				return nil, err
			}
			return sliceInts(t, start, step, count)
		}), nil
	case "Transpose":
		perm, err := cp.perm(n)
		if err != nil {
			return nil, err
		}
		return one(func(in []value) (*ints, error) {
			t, err := intIn(in, 0)
			if err != nil {
				return nil, err
			}
			return permuteInts(t, perm(len(t.shape)))
		}), nil
	case "ConstantOfShape":
		a, err := attrsOf(n, "value")
		if err != nil {
			return nil, err
		}
		var fill int64
		if a.has("value") {
			t, err := decodeTensor(a.byName["value"].GetT(), nil)
			if err != nil || len(t.i) != 1 {
				return nil, fmt.Errorf("value must be one integer")
			}
			fill = t.i[0]
		}
		return one(func(in []value) (*ints, error) {
			sh, err := intIn(in, 0)
			if err != nil {
				return nil, err
			}
			dims, err := smallInts("dimension", sh.d)
			if err != nil {
				return nil, err
			}
			out, err := newInts(dims)
			if err != nil {
				return nil, err
			}
			for i := range out.d {
				out.d[i] = fill
			}
			return out, nil
		}), nil
	}
	return nil, fmt.Errorf("operator %s on integer tensors is not supported", printable(op))
}

// reshaper returns the output shape function of Reshape, Flatten,
// Squeeze and Unsqueeze (in ONNX order).
func (cp *compiler) reshaper(n *pb.NodeProto) (func(in []int, vals []value) ([]int, error), error) {
	switch n.GetOpType() {
	case "Reshape":
		a, err := attrsOf(n, "allowzero", "shape")
		if err != nil {
			return nil, err
		}
		if a.has("shape") { // opset 1-4
			return nil, fmt.Errorf("the shape attribute of Reshape before opset 5 is not supported")
		}
		az, _ := a.int("allowzero", 0)
		if err := need(n, 2, 2); err != nil {
			return nil, err
		}
		return func(in []int, vals []value) ([]int, error) {
			spec, err := intIn(vals, 1)
			if err != nil {
				return nil, err
			}
			return reshapeTarget(in, spec.d, az != 0)
		}, nil
	case "Flatten":
		a, err := attrsOf(n, "axis")
		if err != nil {
			return nil, err
		}
		axis, _ := a.int("axis", 1)
		return func(in []int, _ []value) ([]int, error) {
			ax := axis
			if ax < 0 {
				ax += int64(len(in))
			}
			if ax < 0 || ax > int64(len(in)) {
				return nil, fmt.Errorf("axis %d is out of range for rank %d", axis, len(in))
			}
			o, i := 1, 1
			for k, d := range in {
				if int64(k) < ax {
					o *= d
				} else {
					i *= d
				}
			}
			return []int{o, i}, nil
		}, nil
	}
	sq := n.GetOpType() == "Squeeze"
	a, err := attrsOf(n, "axes")
	if err != nil {
		return nil, err
	}
	attrAxes, _ := a.ints("axes")
	if cp.opset < 13 && attrAxes == nil && !sq {
		return nil, fmt.Errorf("Unsqueeze needs axes")
	}
	return func(in []int, vals []value) ([]int, error) {
		axes := attrAxes
		if cp.opset >= 13 {
			var err error
			if axes, err = optInts(vals, 1); err != nil {
				return nil, err
			}
			if axes == nil && !sq {
				return nil, fmt.Errorf("Unsqueeze needs axes")
			}
		}
		if sq {
			return squeezeShape(in, axes)
		}
		return unsqueezeShape(in, axes)
	}, nil
}

// slicer returns Slice's resolution function.
func (cp *compiler) slicer(n *pb.NodeProto) (func(shape []int, in []value) (start, step, count []int, err error), error) {
	if cp.opset < 10 {
		a, err := attrsOf(n, "starts", "ends", "axes")
		if err != nil {
			return nil, err
		}
		starts, _ := a.ints("starts")
		ends, _ := a.ints("ends")
		axes, _ := a.ints("axes")
		return func(shape []int, _ []value) ([]int, []int, []int, error) {
			return sliceSpec(shape, starts, ends, axes, nil)
		}, nil
	}
	if _, err := attrsOf(n); err != nil {
		return nil, err
	}
	if err := need(n, 3, 5); err != nil {
		return nil, err
	}
	return func(shape []int, in []value) ([]int, []int, []int, error) {
		var vs [4][]int64
		for k := range vs {
			var err error
			if vs[k], err = optInts(in, k+1); err != nil {
				return nil, nil, nil, err
			}
		}
		return sliceSpec(shape, vs[0], vs[1], vs[2], vs[3])
	}, nil
}

// perm returns Transpose's permutation for a rank.
func (cp *compiler) perm(n *pb.NodeProto) (func(rank int) []int, error) {
	a, err := attrsOf(n, "perm")
	if err != nil {
		return nil, err
	}
	p, err := a.ints("perm")
	if err != nil {
		return nil, err
	}
	perm, err := smallInts("perm", p)
	if err != nil {
		return nil, err
	}
	return func(rank int) []int {
		if perm != nil {
			return perm
		}
		r := make([]int, rank)
		for i := range r {
			r[i] = rank - 1 - i
		}
		return r
	}, nil
}

// checkPerm checks that p permutes rank axes.
func checkPerm(p []int, rank int) error {
	if len(p) != rank {
		return fmt.Errorf("perm %v for a rank-%d tensor", p, rank)
	}
	seen := make([]bool, rank)
	for _, a := range p {
		if a < 0 || a >= rank || seen[a] {
			return fmt.Errorf("perm %v is not a permutation of %d axes", p, rank)
		}
		seen[a] = true
	}
	return nil
}
