package onnx

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"

	"google.golang.org/protobuf/proto"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/internal/atomicfile"
	"github.com/foveaml/fovea/nn"
	pb "github.com/foveaml/fovea/onnx/onnxpb"
	"github.com/foveaml/fovea/tensor"
)

// ExportOpset is the opset Export writes.
const ExportOpset = 17

// ExportOptions configure Export. The zero value exports a model that
// tells its input size (nn.About) under the names "input" and "logits".
type ExportOptions struct {
	// Input is the shape of one example, [H, W, C] for images (the file
	// takes [N, C, H, W]); nil takes nn.AboutOf(model).Input.
	Input []int
	// Metadata goes into the file's metadata_props: class names, the
	// model's name, preprocessing (a weights file's metadata).
	Metadata map[string]string
	// InputName and OutputName name the graph's input and output;
	// empty means "input" and "logits".
	InputName, OutputName string
}

// traceBatch is the batch the model is traced at: not 1 or 2, so that
// the batch axis is seldom mistaken for another of the same size where
// a Reshape keeps it.
const traceBatch = 3

// Export writes model as an ONNX model (opset 17) to w: the graph of the
// ops its forward pass runs at inference, NCHW, with a dynamic batch
// dimension (an imported Model whose graph fixes its batch keeps it), its parameters as initializers under their fovea names
// (filters OIHW and dense weights [out, in], as PyTorch has them). It
// traces one forward pass on a zero input (ag.Tape.SetTracer), so any
// model built from nn layers and ag ops exports; an op with no ONNX
// counterpart (a training-only loss) is an error naming it.
func Export(w io.Writer, model nn.Layer, o ExportOptions) error {
	mp, err := ExportProto(model, o)
	if err != nil {
		return err
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(mp)
	if err != nil {
		return fmt.Errorf("onnx.Export: %v", err)
	}
	_, err = w.Write(b)
	return err
}

// ExportFile is Export to a file, written atomically (a crash leaves the
// old file or none, never half of one).
func ExportFile(path string, model nn.Layer, o ExportOptions) error {
	return atomicfile.Write(path, func(w io.Writer) error { return Export(w, model, o) })
}

// ExportProto is Export's model as a protobuf message.
func ExportProto(model nn.Layer, o ExportOptions) (*pb.ModelProto, error) {
	in := o.Input
	if in == nil {
		in = nn.AboutOf(model).Input
	}
	if len(in) == 0 {
		return nil, fmt.Errorf("onnx.Export: the model tells no input shape; set ExportOptions.Input ([H W C])")
	}
	for _, d := range in {
		if d < 1 {
			return nil, fmt.Errorf("onnx.Export: input shape %v: every dimension must be at least 1", in)
		}
	}
	if o.InputName == "" {
		o.InputName = "input"
	}
	if o.OutputName == "" {
		o.OutputName = "logits"
	}
	e := &exporter{g: &pb.GraphProto{Name: proto.String("fovea")}, names: map[*ag.Var]string{}, inits: map[string]bool{},
		leafNames: map[*ag.Var]string{}, statNames: map[*tensor.Tensor]string{}, made: map[string]string{}}
	for _, p := range model.Params() {
		e.leafNames[p.Var] = p.Name
	}
	for _, b := range nn.BuffersOf(model) {
		e.statNames[b.Var.Value()] = b.Name
	}
	// An imported graph with a fixed batch (constant Reshape shapes)
	// runs at that batch only; it keeps it.
	batch, fixed := traceBatch, false
	if m, ok := model.(*Model); ok && len(m.inDims) > 0 && m.inDims[0] > 0 {
		batch, fixed = int(m.inDims[0]), true
	}
	x := ag.Const(tensor.Zeros(append([]int{batch}, in...)...))
	e.names[x] = o.InputName
	tp := ag.NewTape()
	tp.SetGradEnabled(false)
	defer tp.Reset()
	tp.SetTracer(func(op ag.Op) {
		if e.err == nil {
			if err := e.op(op); err != nil {
				e.err = fmt.Errorf("onnx.Export: op %s: %w", op.Name, err)
			}
		}
	})
	y := model.Forward(&nn.Ctx{Tape: tp}, x)
	tp.SetTracer(nil)
	if err := tp.Err(); err != nil {
		return nil, fmt.Errorf("onnx.Export: the forward pass on an input of %v failed: %w", in, err)
	}
	if e.err != nil {
		return nil, e.err
	}
	out, err := e.name(y)
	if err != nil {
		return nil, fmt.Errorf("onnx.Export: the output: %w", err)
	}
	if out == o.InputName || e.inits[out] {
		out = e.node("Identity", []string{out}, nil)
	}
	e.rename(out, o.OutputName)
	e.g.Input = []*pb.ValueInfoProto{valueInfo(o.InputName, onnxShape(x), !fixed)}
	e.g.Output = []*pb.ValueInfoProto{valueInfo(o.OutputName, onnxShape(y), !fixed)}
	mp := &pb.ModelProto{
		IrVersion:       proto.Int64(8),
		ProducerName:    proto.String("fovea"),
		ProducerVersion: proto.String("1"),
		OpsetImport:     []*pb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(ExportOpset)}},
		Graph:           e.g,
	}
	keys := make([]string, 0, len(o.Metadata))
	for k := range o.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		mp.MetadataProps = append(mp.MetadataProps, &pb.StringStringEntryProto{Key: proto.String(k), Value: proto.String(o.Metadata[k])})
	}
	return mp, nil
}

// valueInfo describes a float tensor, its first (batch) axis dynamic or
// not.
func valueInfo(name string, shape []int, dynamic bool) *pb.ValueInfoProto {
	sh := &pb.TensorShapeProto{}
	for i, d := range shape {
		dim := &pb.TensorShapeProto_Dimension{}
		if i == 0 && dynamic {
			dim.Value = &pb.TensorShapeProto_Dimension_DimParam{DimParam: "N"}
		} else {
			dim.Value = &pb.TensorShapeProto_Dimension_DimValue{DimValue: int64(d)}
		}
		sh.Dim = append(sh.Dim, dim)
	}
	return &pb.ValueInfoProto{Name: proto.String(name), Type: &pb.TypeProto{Value: &pb.TypeProto_TensorType{
		TensorType: &pb.TypeProto_Tensor{ElemType: proto.Int32(int32(pb.TensorProto_FLOAT)), Shape: sh}}}}
}

// exporter builds the graph as the tracer reports ops.
type exporter struct {
	g         *pb.GraphProto
	names     map[*ag.Var]string // the ONNX value of each Var (rank 4: NCHW)
	leafNames map[*ag.Var]string
	statNames map[*tensor.Tensor]string
	inits     map[string]bool
	made      map[string]string // initializer made of (leaf, layout) -> its name
	n         int
	err       error
}

func (e *exporter) fresh(prefix string) string {
	e.n++
	return prefix + "_" + strconv.Itoa(e.n)
}

// node adds a node and returns its output's name.
func (e *exporter) node(op string, inputs []string, attrs []*pb.AttributeProto) string {
	out := e.fresh("t")
	e.g.Node = append(e.g.Node, &pb.NodeProto{OpType: proto.String(op), Name: proto.String(e.fresh(op)),
		Input: inputs, Output: []string{out}, Attribute: attrs})
	return out
}

// rename gives the value old the name new everywhere.
func (e *exporter) rename(old, new string) {
	for _, n := range e.g.Node {
		for i := range n.Input {
			if n.Input[i] == old {
				n.Input[i] = new
			}
		}
		for i := range n.Output {
			if n.Output[i] == old {
				n.Output[i] = new
			}
		}
	}
}

func attrInts(name string, vs ...int) *pb.AttributeProto {
	a := &pb.AttributeProto{Name: proto.String(name), Type: pb.AttributeProto_INTS.Enum()}
	for _, v := range vs {
		a.Ints = append(a.Ints, int64(v))
	}
	return a
}

func attrInt(name string, v int) *pb.AttributeProto {
	return &pb.AttributeProto{Name: proto.String(name), Type: pb.AttributeProto_INT.Enum(), I: proto.Int64(int64(v))}
}

func attrFloat(name string, v float32) *pb.AttributeProto {
	return &pb.AttributeProto{Name: proto.String(name), Type: pb.AttributeProto_FLOAT.Enum(), F: proto.Float32(v)}
}

// initializer adds a float initializer.
func (e *exporter) initializer(name string, dims []int, d []float32) string {
	t := &pb.TensorProto{Name: proto.String(name), DataType: proto.Int32(int32(pb.TensorProto_FLOAT))}
	for _, x := range dims {
		t.Dims = append(t.Dims, int64(x))
	}
	t.RawData = make([]byte, 4*len(d))
	for i, v := range d {
		binary.LittleEndian.PutUint32(t.RawData[4*i:], math.Float32bits(v))
	}
	e.g.Initializer = append(e.g.Initializer, t)
	e.inits[name] = true
	return name
}

// intInit adds an int64 initializer of rank 1.
func (e *exporter) intInit(vs []int) string {
	name := e.fresh("c")
	t := &pb.TensorProto{Name: proto.String(name), DataType: proto.Int32(int32(pb.TensorProto_INT64)), Dims: []int64{int64(len(vs))}}
	for _, v := range vs {
		t.Int64Data = append(t.Int64Data, int64(v))
	}
	e.g.Initializer = append(e.g.Initializer, t)
	e.inits[name] = true
	return name
}

// scalar adds a float scalar initializer.
func (e *exporter) scalar(v float32) string { return e.initializer(e.fresh("c"), nil, []float32{v}) }

// leaf returns the initializer of a leaf Var in a layout: "data" (rank 4
// NHWC to NCHW), "filter" (HWIO to OIHW) or "gemm" ([in, out] to
// [out, in]).
func (e *exporter) leaf(v *ag.Var, layout string) string {
	name, ok := e.leafNames[v]
	if !ok {
		name = e.fresh("const")
		e.leafNames[v] = name
	}
	key := name + "\x00" + layout
	if n, ok := e.made[key]; ok {
		return n
	}
	out := name
	for e.inits[out] {
		out = name + "." + layout
		if e.inits[out] {
			out = e.fresh(name)
		}
	}
	t := v.Value()
	d, s := t.Data(), t.Shape()
	switch {
	case layout == "filter" && len(s) == 4:
		d, s = hwioToOIHW(d, s)
	case layout == "transposed filter" && len(s) == 4:
		d, s = hwoiToIOHW(d, s)
	case layout == "gemm" && len(s) == 2:
		d, s = transpose2(d, s[0], s[1]), []int{s[1], s[0]}
	case layout == "data" && len(s) == 4:
		d, s = nhwcToNCHW(d, s)
	}
	e.made[key] = out
	return e.initializer(out, s, d)
}

// stat returns the initializer of a running statistic.
func (e *exporter) stat(t *tensor.Tensor, what string) string {
	name, ok := e.statNames[t]
	if !ok {
		name = e.fresh(what)
		e.statNames[t] = name
	}
	if !e.inits[name] {
		e.initializer(name, t.Shape(), t.Data())
	}
	return name
}

// name returns the ONNX value of v: a traced op's output, the input, or
// a leaf as an initializer.
func (e *exporter) name(v *ag.Var) (string, error) {
	if v == nil {
		return "", nil
	}
	if n, ok := e.names[v]; ok {
		return n, nil
	}
	if v.IsLeaf() {
		return e.leaf(v, "data"), nil
	}
	return "", fmt.Errorf("a value of shape %v comes from an op the tracer did not see", v.Shape())
}

func (e *exporter) names1(vs ...*ag.Var) ([]string, error) {
	out := make([]string, len(vs))
	for i, v := range vs {
		var err error
		if out[i], err = e.name(v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// toStorage returns the value of v in fovea's stored order (NHWC for
// rank 4), as ops that reinterpret memory need it.
func (e *exporter) toStorage(v *ag.Var, name string) string {
	s := v.Shape()
	if len(s) != 4 {
		return name
	}
	return e.permuteNode(name, onnxShape(v), toNHWC)
}

// fromStorage stores back a value computed in fovea's order (shape s).
func (e *exporter) fromStorage(name string, s []int) string {
	if len(s) != 4 {
		return name
	}
	return e.permuteNode(name, s, toNCHW)
}

// permuteNode transposes a value of shape s, or reshapes it when only
// axes of size 1 move.
func (e *exporter) permuteNode(name string, s, perm []int) string {
	if trivialPerm(s, perm) {
		out := make([]int, len(perm))
		for i, p := range perm {
			out[i] = s[p]
		}
		return e.reshapeNode(name, s, out)
	}
	return e.node("Transpose", []string{name}, []*pb.AttributeProto{attrInts("perm", perm...)})
}

// reshapeNode reshapes with the batch axis kept dynamic.
func (e *exporter) reshapeNode(name string, from, to []int) string {
	spec := slices.Clone(to)
	if len(spec) > 0 && len(from) > 0 {
		if spec[0] == from[0] {
			spec[0] = 0
		} else {
			spec[0] = -1
		}
	}
	return e.node("Reshape", []string{name, e.intInit(spec)}, nil)
}

func (e *exporter) convNode(x, w string, b string, wshape []int, o ag.Conv) string {
	ins := []string{x, w}
	if b != "" {
		ins = append(ins, b)
	}
	return e.node("Conv", ins, []*pb.AttributeProto{
		attrInts("kernel_shape", wshape[0], wshape[1]),
		attrInts("strides", max(o.SH, 1), max(o.SW, 1)),
		attrInts("pads", o.PadT, o.PadL, o.PadB, o.PadR),
		attrInts("dilations", max(o.DH, 1), max(o.DW, 1)),
		attrInt("group", max(o.Groups, 1)),
	})
}

func (e *exporter) bnNode(x string, gamma, beta *ag.Var, s *ag.BatchNormStats) string {
	return e.node("BatchNormalization", []string{x, e.leaf(gamma, "data"), e.leaf(beta, "data"),
		e.stat(s.Mean, "running_mean"), e.stat(s.Var, "running_var")},
		[]*pb.AttributeProto{attrFloat("epsilon", s.Eps), attrFloat("momentum", 1-s.Momentum)})
}

// op writes one traced op as ONNX nodes.
func (e *exporter) op(op ag.Op) error {
	// Weights are written in their own layouts below; only the other
	// inputs are named here.
	vals := op.Inputs
	switch op.Name {
	case "Conv2D", "Conv2DFused", "BatchNorm", "Dense", "onnx.ConvTranspose":
		vals = slices.Clone(vals)
		for i := 1; i < len(vals) && i < 5; i++ {
			vals[i] = nil
		}
	}
	ins, err := e.names1(vals...)
	if err != nil {
		return err
	}
	var out string
	switch op.Name {
	case "Conv2D":
		w := op.Inputs[1]
		out = e.convNode(ins[0], e.leaf(w, "filter"), e.optLeaf(op.Inputs[2], "data"), w.Shape(), op.Attrs.(ag.Conv))
	case "Conv2DFused":
		a := op.Attrs.(ag.FusedAttrs)
		w := op.Inputs[1]
		out = e.convNode(ins[0], e.leaf(w, "filter"), e.optLeaf(op.Inputs[2], "data"), w.Shape(), a.Conv)
		if a.Stats != nil {
			out = e.bnNode(out, op.Inputs[3], op.Inputs[4], a.Stats)
		}
		if op.Inputs[5] != nil {
			out = e.node("Add", []string{out, ins[5]}, nil)
		}
		if a.ReLU {
			out = e.node("Relu", []string{out}, nil)
		}
	case "BatchNorm":
		a := op.Attrs.(ag.BatchNormAttrs)
		if a.Train {
			return fmt.Errorf("batch statistics (training mode) cannot be exported; export at inference")
		}
		out = e.bnNode(ins[0], op.Inputs[1], op.Inputs[2], a.Stats)
	case "Dense":
		ws := []string{ins[0], e.leaf(op.Inputs[1], "gemm")}
		if op.Inputs[2] != nil {
			ws = append(ws, e.leaf(op.Inputs[2], "data"))
		}
		out = e.node("Gemm", ws, []*pb.AttributeProto{attrInt("transB", 1)})
	case "ReLU":
		out = e.node("Relu", ins, nil)
	case "Sigmoid", "Tanh":
		out = e.node(op.Name, ins, nil)
	case "ScaledTanh":
		t := e.node("Tanh", []string{e.node("Mul", []string{ins[0], e.scalar(2.0 / 3)}, nil)}, nil)
		out = e.node("Mul", []string{t, e.scalar(1.7159)}, nil)
	case "MaxPool", "AvgPool":
		p := op.Attrs.(ag.Pool2D)
		sh, sw := p.SH, p.SW
		if sh == 0 {
			sh = p.KH
		}
		if sw == 0 {
			sw = p.KW
		}
		attrs := []*pb.AttributeProto{attrInts("kernel_shape", p.KH, p.KW), attrInts("strides", sh, sw),
			attrInts("pads", p.PadT, p.PadL, p.PadB, p.PadR), attrInt("ceil_mode", b2int(p.Ceil))}
		if op.Name == "MaxPool" {
			if max(p.DH, 1) > 1 || max(p.DW, 1) > 1 {
				attrs = append(attrs, attrInts("dilations", max(p.DH, 1), max(p.DW, 1)))
			}
			out = e.node("MaxPool", ins, attrs)
		} else {
			attrs = append(attrs, attrInt("count_include_pad", b2int(!p.ExcludePad)))
			out = e.node("AveragePool", ins, attrs)
		}
	case "GlobalAvgPool":
		out = e.node("Flatten", []string{e.node("GlobalAveragePool", ins, nil)}, []*pb.AttributeProto{attrInt("axis", 1)})
	case "Add", "Mul", "onnx.Add", "onnx.Sub", "onnx.Mul", "onnx.Div", "onnx.Pow":
		name := op.Name
		if b, ok := op.Attrs.(binaryAttrs); ok {
			name = b.op
		}
		out = e.node(name, ins, nil)
	case "Scale", "WeightedSum":
		ws := op.Attrs.([]float32)
		if op.Name == "Scale" {
			ws = []float32{ws[0]}
		}
		for i, in := range ins {
			term := in
			if ws[i] != 1 {
				term = e.node("Mul", []string{in, e.scalar(ws[i])}, nil)
			}
			if i == 0 {
				out = term
			} else {
				out = e.node("Add", []string{out, term}, nil)
			}
		}
	case "Concat":
		axis := op.Output.Value().Rank() - 1
		if axis == 3 {
			axis = 1
		}
		out = e.node("Concat", ins, []*pb.AttributeProto{attrInt("axis", axis)})
	case "Reshape":
		x, to := op.Inputs[0], op.Output.Shape()
		from := x.Shape()
		if len(to) == 2 && len(from) >= 2 && to[0] == from[0] {
			out = e.node("Flatten", []string{e.toStorage(x, ins[0])}, []*pb.AttributeProto{attrInt("axis", 1)})
			break
		}
		out = e.fromStorage(e.reshapeNode(e.toStorage(x, ins[0]), from, to), to)
	case "Softmax":
		out = e.node("Softmax", ins, []*pb.AttributeProto{attrInt("axis", -1)})
	case "LRN":
		l := op.Attrs.(ag.LRN)
		if l.Size%2 == 0 {
			return fmt.Errorf("LRN of even size %d: ONNX centres its window differently from fovea (PyTorch)", l.Size)
		}
		out = e.node("LRN", ins, []*pb.AttributeProto{attrInt("size", l.Size), attrFloat("alpha", l.Alpha),
			attrFloat("beta", l.Beta), attrFloat("bias", l.K)})
	case "onnx.ConvTranspose":
		a := op.Attrs.(convTAttrs)
		ins := []string{ins[0], e.leaf(op.Inputs[1], "transposed filter")}
		if len(op.Inputs) > 2 {
			ins = append(ins, e.leaf(op.Inputs[2], "data"))
		}
		p := a.p
		out = e.node("ConvTranspose", ins, []*pb.AttributeProto{
			attrInts("kernel_shape", p.KH, p.KW), attrInts("strides", p.SH, p.SW),
			attrInts("pads", p.PadT, p.PadL, p.PadB, p.PadR), attrInts("dilations", p.DH, p.DW),
			attrInts("output_padding", a.outPad[0], a.outPad[1])})
	case "onnx.MatMul":
		out = e.fromStorage(e.node("MatMul", []string{e.toStorage(op.Inputs[0], ins[0]), e.toStorage(op.Inputs[1], ins[1])}, nil),
			op.Output.Shape())
	case "onnx.LeakyRelu", "onnx.Clip", "onnx.Neg", "onnx.Exp", "onnx.Sqrt", "onnx.Abs", "onnx.Reciprocal":
		a := op.Attrs.(unaryAttrs)
		switch a.op {
		case "LeakyRelu":
			out = e.node("LeakyRelu", ins, []*pb.AttributeProto{attrFloat("alpha", a.alpha)})
		case "Clip":
			out = e.node("Clip", []string{ins[0], e.scalar(a.min), e.scalar(a.max)}, nil)
		default:
			out = e.node(a.op, ins, nil)
		}
	case "onnx.Transpose":
		// A permutation of the stored layout: to storage order, permute, back.
		perm := op.Attrs.(gatherAttrs).perm
		out = e.fromStorage(e.node("Transpose", []string{e.toStorage(op.Inputs[0], ins[0])},
			[]*pb.AttributeProto{attrInts("perm", perm...)}), op.Output.Shape())
	case "onnx.Concat":
		xs := make([]string, len(ins))
		for i, v := range op.Inputs {
			xs[i] = e.toStorage(v, ins[i])
		}
		axis := -1
		s, t := op.Inputs[0].Shape(), op.Output.Shape()
		for a := range s {
			if s[a] != t[a] {
				axis = a
			}
		}
		if axis < 0 {
			axis = 0
		}
		out = e.fromStorage(e.node("Concat", xs, []*pb.AttributeProto{attrInt("axis", axis)}), t)
	case "onnx.Slice", "onnx.Pad":
		w, ok := op.Attrs.(windowAttrs)
		if !ok {
			return fmt.Errorf("no window recorded")
		}
		out = e.fromStorage(e.windowNodes(e.toStorage(op.Inputs[0], ins[0]), op.Inputs[0].Shape(), w), op.Output.Shape())
	default:
		return fmt.Errorf("has no ONNX counterpart in fovea's exporter")
	}
	e.names[op.Output] = out
	return nil
}

// windowNodes writes a window (onnx.Slice, onnx.Pad) of a value in
// stored order of shape s: a Slice of what lies inside, then a Pad.
func (e *exporter) windowNodes(x string, s []int, w windowAttrs) string {
	r := len(s)
	starts, ends, steps := make([]int, r), make([]int, r), make([]int, r)
	pads := make([]int, 2*r)
	slice, pad := false, false
	for a := 0; a < r; a++ {
		st, n := w.start[a], w.count[a]
		steps[a] = w.step[a]
		if w.step[a] != 1 {
			starts[a], ends[a] = st, st+(n-1)*w.step[a]
			if w.step[a] > 0 {
				ends[a]++
			} else {
				ends[a]--
				if ends[a] < 0 {
					ends[a] = math.MinInt32
				}
			}
			slice = true
			continue
		}
		lo, hi := max(-st, 0), max(st+n-s[a], 0)
		starts[a], ends[a] = max(st, 0), min(st+n, s[a])
		pads[a], pads[a+r] = lo, hi
		slice = slice || starts[a] != 0 || ends[a] != s[a]
		pad = pad || lo > 0 || hi > 0
	}
	if slice {
		axes := make([]int, r)
		for i := range axes {
			axes[i] = i
		}
		x = e.node("Slice", []string{x, e.intInit(starts), e.intInit(ends), e.intInit(axes), e.intInit(steps)}, nil)
	}
	if pad {
		x = e.node("Pad", []string{x, e.intInit(pads), e.scalar(w.fill)}, nil)
	}
	if !slice && !pad {
		x = e.node("Identity", []string{x}, nil)
	}
	return x
}

func (e *exporter) optLeaf(v *ag.Var, layout string) string {
	if v == nil {
		return ""
	}
	return e.leaf(v, layout)
}

func b2int(b bool) int {
	if b {
		return 1
	}
	return 0
}

// hwioToOIHW reorders a fovea filter for ONNX.
func hwioToOIHW(d []float32, s []int) ([]float32, []int) {
	h, w, i, o := s[0], s[1], s[2], s[3]
	out := make([]float32, len(d))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			for b := 0; b < i; b++ {
				for a := 0; a < o; a++ {
					out[((a*i+b)*h+y)*w+x] = d[((y*w+x)*i+b)*o+a]
				}
			}
		}
	}
	return out, []int{o, i, h, w}
}

// nhwcToNCHW reorders stored rank-4 data into ONNX's order.
func nhwcToNCHW(d []float32, s []int) ([]float32, []int) {
	n, h, w, c := s[0], s[1], s[2], s[3]
	out := make([]float32, len(d))
	for a := 0; a < n; a++ {
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				for ch := 0; ch < c; ch++ {
					out[((a*c+ch)*h+y)*w+x] = d[((a*h+y)*w+x)*c+ch]
				}
			}
		}
	}
	return out, []int{n, c, h, w}
}
