package onnx

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/foveaml/fovea/ag"
	pb "github.com/foveaml/fovea/onnx/onnxpb"
	"github.com/foveaml/fovea/tensor"
)

// maxNodes bounds a graph's nodes (and values), so that a file of a few
// bytes per node cannot make the compiler's maps grow without end.
const maxNodes = 1 << 20

// compiler turns a GraphProto into a Model's steps.
type compiler struct {
	m        *Model
	opset    int64
	ext      *externalReader
	slots    map[string]int
	inits    map[string]*pb.TensorProto
	decoded  map[string]*tdata
	isInt    map[string]bool // the static type of every value
	isConst  map[string]bool // initializers and Constant outputs
	uses     map[string]int  // how many node inputs read each value
	graphOut map[string]bool
	producer map[string]*pb.NodeProto
	roles    map[string]string   // how each initializer was materialised
	vars     map[string]**ag.Var // parameters made, by name
	bnStats  map[string]*tensor.Tensor
	calls    map[string]bool
	absorbed map[*pb.NodeProto]bool
	index    map[*pb.NodeProto]int
	readers  map[string][]*pb.NodeProto
	display  map[string]string // fovea names of anonymous initializers
	taken    map[string]bool
	deferred map[*pb.NodeProto]*step // a fused unit runs where its last node stood
	fill     map[string]bool         // initializers without data, to be made zero (ReadGraph)
}

func compile(mp *pb.ModelProto, ext *externalReader) (*Model, error) {
	return compileWith(mp, ext, nil)
}

// compileWith is compile with the initializers fill names (of a graph
// MarshalGraph wrote) made zero of their declared shape.
func compileWith(mp *pb.ModelProto, ext *externalReader, fill map[string]bool) (*Model, error) {
	g := mp.GetGraph()
	if g == nil {
		return nil, fmt.Errorf("the model has no graph")
	}
	cp := &compiler{m: &Model{meta: map[string]string{}}, ext: ext,
		slots: map[string]int{}, inits: map[string]*pb.TensorProto{}, decoded: map[string]*tdata{},
		isInt: map[string]bool{}, isConst: map[string]bool{}, uses: map[string]int{}, graphOut: map[string]bool{},
		producer: map[string]*pb.NodeProto{}, roles: map[string]string{}, vars: map[string]**ag.Var{},
		bnStats: map[string]*tensor.Tensor{}, calls: map[string]bool{}, absorbed: map[*pb.NodeProto]bool{},
		index: map[*pb.NodeProto]int{}, readers: map[string][]*pb.NodeProto{}, display: map[string]string{}, taken: map[string]bool{}, deferred: map[*pb.NodeProto]*step{}, fill: fill}
	cp.m.meta = metadataOf(mp)
	for _, o := range mp.OpsetImport {
		if d := o.GetDomain(); d == "" || d == "ai.onnx" {
			cp.opset = o.GetVersion()
		}
	}
	if len(mp.OpsetImport) == 0 {
		cp.opset = 1 // IR version 2 and before: opset 1
	}
	if cp.opset < MinOpset || cp.opset > MaxOpset {
		return nil, fmt.Errorf("the graph uses opset %d of the default domain; fovea reads opsets %d to %d", cp.opset, MinOpset, MaxOpset)
	}
	cp.m.opset = cp.opset
	if len(g.Node) > maxNodes || len(g.Initializer) > maxNodes {
		return nil, fmt.Errorf("the graph has %d nodes and %d initializers; the limit is %d each", len(g.Node), len(g.Initializer), maxNodes)
	}
	if len(g.SparseInitializer) > 0 {
		return nil, fmt.Errorf("the graph has sparse initializers, which fovea does not read")
	}
	for _, t := range g.Initializer {
		if t.GetName() == "" {
			return nil, fmt.Errorf("an initializer has no name")
		}
		if _, dup := cp.inits[t.GetName()]; dup {
			return nil, fmt.Errorf("initializer %q is given twice", t.GetName())
		}
		cp.inits[t.GetName()] = t
		cp.isConst[t.GetName()] = true
		cp.isInt[t.GetName()] = !isFloatType(pb.TensorProto_DataType(t.GetDataType()))
	}
	if err := cp.inputs(g); err != nil {
		return nil, err
	}
	order, err := cp.sort(g)
	if err != nil {
		return nil, err
	}
	for i, n := range order {
		cp.index[n] = i
		for _, in := range n.Input {
			if in != "" {
				cp.uses[in]++
				cp.readers[in] = append(cp.readers[in], n)
			}
		}
	}
	for _, o := range g.Output {
		cp.graphOut[o.GetName()] = true
	}
	cp.aliasIdentities(order)
	cp.types(order)
	for _, n := range order {
		if cp.absorbed[n] {
			if s := cp.deferred[n]; s != nil {
				cp.m.steps = append(cp.m.steps, s)
			}
			continue
		}
		s, err := cp.node(n)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", cp.desc(n), err)
		}
		if s != nil {
			cp.m.steps = append(cp.m.steps, s)
		}
	}
	if len(g.Output) == 0 {
		return nil, fmt.Errorf("the graph has no outputs")
	}
	for _, o := range g.Output {
		name := o.GetName()
		if _, ok := cp.slots[name]; !ok && cp.inits[name] != nil {
			if _, err := cp.constValue(name); err != nil {
				return nil, err
			}
		}
		s, ok := cp.slots[name]
		if !ok {
			return nil, fmt.Errorf("graph output %q is computed by no node", name)
		}
		cp.m.outputs = append(cp.m.outputs, s)
		cp.m.outNames = append(cp.m.outNames, name)
	}
	for len(cp.m.init) < len(cp.slots) {
		cp.m.init = append(cp.m.init, value{})
	}
	cp.keepGraph(mp)
	return cp.m, nil
}

// metadataOf returns a model's metadata_props, and its producer under
// "onnx.producer".
func metadataOf(mp *pb.ModelProto) map[string]string {
	meta := map[string]string{}
	for _, kv := range mp.MetadataProps {
		meta[kv.GetKey()] = kv.GetValue()
	}
	if p := mp.GetProducerName(); p != "" {
		meta["onnx.producer"] = strings.TrimSpace(p + " " + mp.GetProducerVersion())
	}
	return meta
}

// desc names a node for errors.
func (cp *compiler) desc(n *pb.NodeProto) string {
	name := n.GetName()
	if name == "" && len(n.Output) > 0 {
		name = "-> " + n.Output[0]
	}
	return fmt.Sprintf("node %q (%s, opset %d)", name, printable(n.GetOpType()), cp.opset)
}

// printable returns an op type as it is when it is a plain name, else
// quoted, so that an error stays one readable line.
func printable(s string) string {
	for _, r := range s {
		if !(r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return strconv.Quote(s)
		}
	}
	if s == "" {
		return `""`
	}
	return s
}

// slot returns the environment slot of a value, making one if needed.
func (cp *compiler) slot(name string) int {
	if s, ok := cp.slots[name]; ok {
		return s
	}
	s := len(cp.slots)
	cp.slots[name] = s
	return s
}

// inputs finds the graph's one runtime input.
func (cp *compiler) inputs(g *pb.GraphProto) error {
	var ins []*pb.ValueInfoProto
	for _, in := range g.Input {
		if cp.inits[in.GetName()] == nil {
			ins = append(ins, in)
		}
	}
	if len(ins) != 1 {
		names := make([]string, len(ins))
		for i, in := range ins {
			names[i] = in.GetName()
		}
		return fmt.Errorf("the graph has %d inputs %q besides its initializers; fovea runs graphs of one input", len(ins), names)
	}
	in := ins[0]
	cp.m.inName = in.GetName()
	cp.m.input = cp.slot(in.GetName())
	tt := in.GetType().GetTensorType()
	if tt == nil {
		return fmt.Errorf("input %q is not a tensor", in.GetName())
	}
	if et := pb.TensorProto_DataType(tt.GetElemType()); et != pb.TensorProto_FLOAT && et != pb.TensorProto_UNDEFINED {
		return fmt.Errorf("input %q is of type %v; fovea feeds float tensors", in.GetName(), et)
	}
	if sh := tt.GetShape(); sh != nil {
		if len(sh.Dim) > 8 {
			return fmt.Errorf("input %q has rank %d", in.GetName(), len(sh.Dim))
		}
		for _, d := range sh.Dim {
			v := int64(-1)
			if x, ok := d.Value.(*pb.TensorShapeProto_Dimension_DimValue); ok && x.DimValue > 0 {
				v = x.DimValue
			}
			cp.m.inDims = append(cp.m.inDims, v)
		}
	}
	return nil
}

// sort returns the nodes in an order where every input is computed
// before it is read, or an error naming a dangling input or a cycle.
func (cp *compiler) sort(g *pb.GraphProto) ([]*pb.NodeProto, error) {
	for _, n := range g.Node {
		if d := n.GetDomain(); d != "" && d != "ai.onnx" {
			return nil, fmt.Errorf("node %q (%s): operator domain %q; fovea runs the default ONNX domain only", n.GetName(), printable(n.GetOpType()), d)
		}
		for _, o := range n.Output {
			if o == "" {
				continue
			}
			if cp.producer[o] != nil || cp.inits[o] != nil || o == cp.m.inName {
				return nil, fmt.Errorf("%s: value %q is produced twice", cp.desc(n), o)
			}
			cp.producer[o] = n
		}
	}
	waiting := map[*pb.NodeProto]int{}
	readers := map[string][]*pb.NodeProto{}
	var ready []*pb.NodeProto
	for _, n := range g.Node {
		k := 0
		for _, in := range n.Input {
			switch {
			case in == "" || cp.inits[in] != nil || in == cp.m.inName:
			case cp.producer[in] == nil:
				return nil, fmt.Errorf("%s reads %q, which no node, initializer or graph input provides", cp.desc(n), in)
			default:
				k++
				readers[in] = append(readers[in], n)
			}
		}
		waiting[n] = k
		if k == 0 {
			ready = append(ready, n)
		}
	}
	order := make([]*pb.NodeProto, 0, len(g.Node))
	for len(ready) > 0 {
		n := ready[0]
		ready = ready[1:]
		order = append(order, n)
		for _, o := range n.Output {
			for _, r := range readers[o] {
				if waiting[r]--; waiting[r] == 0 {
					ready = append(ready, r)
				}
			}
			readers[o] = nil
		}
	}
	if len(order) < len(g.Node) {
		for _, n := range g.Node {
			if waiting[n] > 0 {
				return nil, fmt.Errorf("the graph has a cycle through %s", cp.desc(n))
			}
		}
	}
	return order, nil
}

// aliasIdentities gives each Identity of an initializer an initializer
// of its own under the output's name: PyTorch's exporter shares one
// tensor between parameters that happen to be equal (the ones of fresh
// batch norms), and tying them in training would be wrong.
func (cp *compiler) aliasIdentities(order []*pb.NodeProto) {
	for _, n := range order {
		if n.GetOpType() == "Identity" && len(n.Input) == 1 && len(n.Output) == 1 && n.Output[0] != "" && cp.inits[n.Input[0]] != nil {
			cp.inits[n.Output[0]] = cp.inits[n.Input[0]]
			cp.isConst[n.Output[0]] = true
			cp.isInt[n.Output[0]] = cp.isInt[n.Input[0]]
			delete(cp.producer, n.Output[0])
			cp.absorbed[n] = true
		}
	}
}

// types finds which values are integer tensors (shapes and their
// arithmetic) and which are float ones.
func (cp *compiler) types(order []*pb.NodeProto) {
	for _, n := range order {
		if cp.absorbed[n] {
			continue
		}
		in0 := len(n.Input) > 0 && cp.isInt[n.Input[0]]
		out := in0
		switch n.GetOpType() {
		case "Shape", "Size":
			out = true
		case "Constant", "ConstantOfShape":
			out = false
			for _, a := range n.Attribute {
				switch a.GetName() {
				case "value", "sparse_value":
					out = a.GetT() != nil && !isFloatType(pb.TensorProto_DataType(a.GetT().GetDataType()))
				case "value_int", "value_ints":
					out = true
				}
			}
			if n.GetOpType() == "Constant" {
				for _, o := range n.Output {
					cp.isConst[o] = true
				}
			}
		case "Cast":
			to := pb.TensorProto_FLOAT
			for _, a := range n.Attribute {
				if a.GetName() == "to" {
					to = pb.TensorProto_DataType(a.GetI())
				}
			}
			out = !isFloatType(to)
		case "Gather", "Expand", "Tile":
			out = in0
		case "Equal", "Less", "Greater", "Not", "And", "Or":
			out = true
		case "Where":
			out = len(n.Input) > 1 && cp.isInt[n.Input[1]]
		}
		for _, o := range n.Output {
			cp.isInt[o] = out
		}
	}
}

// tensorOf decodes an initializer once.
func (cp *compiler) tensorOf(name string) (*tdata, error) {
	if t := cp.decoded[name]; t != nil {
		return t, nil
	}
	p := cp.inits[name]
	if p == nil {
		return nil, fmt.Errorf("%q is not an initializer", name)
	}
	if cp.fill[p.GetName()] { // its shape checked by ReadGraph; name may be an Identity's alias of it
		dims := dimsOf(p)
		t := &tdata{name: name, dims: dims, f: make([]float32, numelOr(dims))}
		cp.decoded[name] = t
		return t, nil
	}
	t, err := decodeTensor(p, cp.ext)
	if err != nil {
		return nil, err
	}
	t.name = name
	cp.decoded[name] = t
	return t, nil
}

// claim records that initializer name is materialised as role, and
// fails if it already was as another.
func (cp *compiler) claim(name, role string) error {
	if r, ok := cp.roles[name]; ok && r != role {
		return fmt.Errorf("initializer %q is used both as %s and as %s; fovea stores each initializer in one layout", name, r, role)
	}
	cp.roles[name] = role
	return nil
}

// addParam lists a parameter (once, in order of first use).
func (cp *compiler) addParam(name string, v **ag.Var) {
	if _, ok := cp.vars[name]; ok {
		return
	}
	cp.vars[name] = v
	shown := name
	if d := cp.display[name]; d != "" {
		shown = d
	}
	cp.m.params = append(cp.m.params, paramRef{shown, v})
}

// floatInit returns the float initializer name, checking its type.
func (cp *compiler) floatInit(name, what string) (*tdata, error) {
	if cp.inits[name] == nil {
		return nil, fmt.Errorf("%s %q is computed by the graph; fovea needs it to be an initializer", what, name)
	}
	t, err := cp.tensorOf(name)
	if err != nil {
		return nil, err
	}
	if !t.isFloat() {
		return nil, fmt.Errorf("%s %q is an integer tensor; want float", what, name)
	}
	return t, nil
}

// param returns the parameter made of a float initializer in a layout
// (role): "filter" (OIHW to HWIO), "vector" (any shape, flattened), "raw"
// (as ONNX has it, rank 4 NHWC).
func (cp *compiler) param(name, role string) (**ag.Var, error) {
	if v, ok := cp.vars[name]; ok && cp.roles[name] == role {
		return v, nil
	}
	if err := cp.claim(name, role); err != nil {
		return nil, err
	}
	t, err := cp.floatInit(name, "tensor")
	if err != nil {
		return nil, err
	}
	d, dims := t.f, t.dims
	switch role {
	case "filter":
		d, dims = oihwToHWIO(d, dims)
	case "transposed filter":
		d, dims = iohwToHWOI(d, dims)
	case "vector":
		dims = []int{len(d)}
	case "raw":
		if len(dims) == 4 {
			d, dims = nchwToNHWC(d, dims)
		} else {
			d = slices.Clone(d)
		}
	}
	tv, err := tensor.FromSlice(d, dims...)
	if err != nil {
		return nil, err
	}
	v := ag.Param(tv)
	cp.addParam(name, &v)
	return &v, nil
}

// constValue returns the slot of a constant input (an initializer) with
// its value in the starting environment: integer tensors as ints, float
// ones as parameters (rank 4 NHWC).
func (cp *compiler) constValue(name string) (int, error) {
	s := cp.slot(name)
	for len(cp.m.init) <= s {
		cp.m.init = append(cp.m.init, value{})
	}
	if cp.m.init[s].f != nil || cp.m.init[s].i != nil {
		return s, nil
	}
	t, err := cp.tensorOf(name)
	if err != nil {
		return 0, err
	}
	if !t.isFloat() {
		cp.m.init[s] = value{i: &ints{shape: t.dims, d: t.i}}
		return s, nil
	}
	v, err := cp.param(name, "raw")
	if err != nil {
		return 0, err
	}
	cp.m.init[s] = value{f: *v}
	return s, nil
}

// in returns the slot of a node input ("" gives -1: absent).
func (cp *compiler) in(name string) (int, error) {
	if name == "" {
		return -1, nil
	}
	if cp.inits[name] != nil {
		return cp.constValue(name)
	}
	return cp.slot(name), nil
}

// callName picks the name a layer is called under: the dotted layer
// its parameter belongs to ("layer1.0.conv1" for
// "layer1.0.conv1.weight"), else the module path in the node's name
// (PyTorch's "/layer1/layer1.0/conv1/Conv" gives "layer1.0.conv1"),
// else the node's name, made unique.
func (cp *compiler) callName(n *pb.NodeProto, param string) string {
	name := ""
	if i := strings.LastIndexByte(param, '.'); i > 0 && !anonymous(param) {
		name = param[:i]
	}
	if name == "" || cp.calls[name] {
		name = scopePath(n.GetName())
	}
	if name == "" || cp.calls[name] {
		name = strings.Trim(n.GetName(), "/")
	}
	if name == "" {
		name = fmt.Sprintf("%s_%d", strings.Trim(printable(n.GetOpType()), `"`), cp.index[n])
	}
	base := name
	for k := 1; cp.calls[name]; k++ {
		name = fmt.Sprintf("%s_%d", base, k)
	}
	cp.calls[name] = true
	return name
}

// scopePath turns a node name of PyTorch's exporter, the scopes of the
// modules it ran in and the op ("/layer1/layer1.0/conv1/Conv"), into the
// module's dotted path ("layer1.0.conv1"); "" when there is none.
func scopePath(node string) string {
	segs := strings.Split(strings.Trim(node, "/"), "/")
	if len(segs) < 2 || !strings.HasPrefix(node, "/") {
		return ""
	}
	segs = segs[:len(segs)-1]
	var out []string
	for i, s := range segs {
		if s == "" || i+1 < len(segs) && strings.HasPrefix(segs[i+1], s+".") {
			continue
		}
		out = append(out, s)
	}
	return strings.Join(out, ".")
}

// anonymous reports whether an initializer's name was made up by an
// exporter ("onnx::Conv_193", PyTorch's for weights it folded batch
// norms into) rather than naming a parameter.
func anonymous(name string) bool { return name == "" || strings.Contains(name, "::") }

// nameAfter names an anonymous initializer after the layer using it
// ("layer1.0.conv1" + ".weight"), so that freezing and fine-tuning by
// layer name work on a graph whose exporter folded its batch norms.
func (cp *compiler) nameAfter(init, layer, suffix string) {
	if !anonymous(init) || cp.display[init] != "" {
		return
	}
	cand := layer + "." + suffix
	for cp.inits[cand] != nil || cp.taken[cand] || cp.producer[cand] != nil || cand == cp.m.inName {
		cand += "_"
	}
	cp.display[init] = cand
	cp.taken[cand] = true
}

// attributes reads a node's attributes with their types checked.
type attributes struct {
	byName map[string]*pb.AttributeProto
}

func attrsOf(n *pb.NodeProto, known ...string) (attributes, error) {
	a := attributes{byName: map[string]*pb.AttributeProto{}}
	for _, at := range n.Attribute {
		if !slices.Contains(known, at.GetName()) {
			return a, fmt.Errorf("attribute %q is not supported", at.GetName())
		}
		if at.GetRefAttrName() != "" {
			return a, fmt.Errorf("attribute %q refers to a function attribute, which fovea does not support", at.GetName())
		}
		a.byName[at.GetName()] = at
	}
	return a, nil
}

func (a attributes) has(name string) bool { return a.byName[name] != nil }

func (a attributes) int(name string, def int64) (int64, error) {
	at := a.byName[name]
	if at == nil {
		return def, nil
	}
	if t := at.GetType(); t != pb.AttributeProto_INT && t != pb.AttributeProto_UNDEFINED {
		return 0, fmt.Errorf("attribute %q is of type %v; want INT", name, t)
	}
	return at.GetI(), nil
}

func (a attributes) float(name string, def float32) (float32, error) {
	at := a.byName[name]
	if at == nil {
		return def, nil
	}
	if t := at.GetType(); t != pb.AttributeProto_FLOAT && t != pb.AttributeProto_UNDEFINED {
		return 0, fmt.Errorf("attribute %q is of type %v; want FLOAT", name, t)
	}
	return at.GetF(), nil
}

func (a attributes) ints(name string) ([]int64, error) {
	at := a.byName[name]
	if at == nil {
		return nil, nil
	}
	if t := at.GetType(); t != pb.AttributeProto_INTS && t != pb.AttributeProto_UNDEFINED {
		return nil, fmt.Errorf("attribute %q is of type %v; want INTS", name, t)
	}
	if len(at.Ints) > 64 {
		return nil, fmt.Errorf("attribute %q has %d values", name, len(at.Ints))
	}
	return at.Ints, nil
}

func (a attributes) str(name, def string) (string, error) {
	at := a.byName[name]
	if at == nil {
		return def, nil
	}
	if t := at.GetType(); t != pb.AttributeProto_STRING && t != pb.AttributeProto_UNDEFINED {
		return "", fmt.Errorf("attribute %q is of type %v; want STRING", name, t)
	}
	return string(at.GetS()), nil
}

// smallInt checks that v is a sane size, stride, pad or axis.
func smallInt(what string, v int64) (int, error) {
	if v < -(1<<30) || v > 1<<30 {
		return 0, fmt.Errorf("%s %d is out of range", what, v)
	}
	return int(v), nil
}

func smallInts(what string, vs []int64) ([]int, error) {
	out := make([]int, len(vs))
	for i, v := range vs {
		var err error
		if out[i], err = smallInt(what, v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// window2 reads the 2-D window attributes shared by Conv and pooling:
// kernel (from the attribute or the filter), strides, dilations and
// pads [top left bottom right], and auto_pad.
type window2 struct {
	kh, kw, sh, sw, dh, dw int
	pads                   [4]int // top, left, bottom, right (ONNX's begin, begin, end, end)
	auto                   string
}

func readWindow(a attributes, kernel []int, dilate bool) (window2, error) {
	w := window2{sh: 1, sw: 1, dh: 1, dw: 1, auto: "NOTSET"}
	ks, err := a.ints("kernel_shape")
	if err != nil {
		return w, err
	}
	if ks != nil {
		k, err := smallInts("kernel size", ks)
		if err != nil {
			return w, err
		}
		if kernel != nil && !slices.Equal(k, kernel) {
			return w, fmt.Errorf("kernel_shape %v disagrees with the filter's %v", k, kernel)
		}
		kernel = k
	}
	if len(kernel) != 2 {
		return w, fmt.Errorf("a %d-D window (kernel %v); fovea runs 2-D ones", len(kernel), kernel)
	}
	w.kh, w.kw = kernel[0], kernel[1]
	for _, f := range []struct {
		name string
		dst  []*int
	}{{"strides", []*int{&w.sh, &w.sw}}, {"dilations", []*int{&w.dh, &w.dw}}, {"pads", []*int{&w.pads[0], &w.pads[1], &w.pads[2], &w.pads[3]}}} {
		vs, err := a.ints(f.name)
		if err != nil {
			return w, err
		}
		if vs == nil {
			continue
		}
		if len(vs) != len(f.dst) {
			return w, fmt.Errorf("attribute %q has %d values; want %d for a 2-D window", f.name, len(vs), len(f.dst))
		}
		for i, v := range vs {
			x, err := smallInt(f.name, v)
			if err != nil {
				return w, err
			}
			*f.dst[i] = x
		}
	}
	if !dilate && (w.dh != 1 || w.dw != 1) {
		return w, fmt.Errorf("dilations %d×%d are not supported for this op", w.dh, w.dw)
	}
	if min(w.kh, w.kw, w.sh, w.sw, w.dh, w.dw) < 1 || min(w.pads[0], w.pads[1], w.pads[2], w.pads[3]) < 0 {
		return w, fmt.Errorf("window kernel %d×%d, strides %d×%d, dilations %d×%d, pads %v: sizes must be positive and pads non-negative",
			w.kh, w.kw, w.sh, w.sw, w.dh, w.dw, w.pads)
	}
	if w.auto, err = a.str("auto_pad", "NOTSET"); err != nil {
		return w, err
	}
	switch w.auto {
	case "NOTSET", "":
		w.auto = "NOTSET"
	case "VALID":
		w.pads = [4]int{}
	case "SAME_UPPER", "SAME_LOWER":
	default:
		return w, fmt.Errorf("auto_pad %q: want NOTSET, VALID, SAME_UPPER or SAME_LOWER", w.auto)
	}
	return w, nil
}

// padsFor returns the pads [top left bottom right] for an h×w input.
func (w window2) padsFor(h, wd int) [4]int {
	if w.auto != "SAME_UPPER" && w.auto != "SAME_LOWER" {
		return w.pads
	}
	p := w.pads
	for i, sz := range []struct{ in, k, s, d int }{{h, w.kh, w.sh, w.dh}, {wd, w.kw, w.sw, w.dw}} {
		out := (sz.in + sz.s - 1) / sz.s
		total := max((out-1)*sz.s+(sz.k-1)*sz.d+1-sz.in, 0)
		lo := total / 2
		if w.auto == "SAME_LOWER" {
			lo = total - total/2
		}
		p[i], p[i+2] = lo, total-lo
	}
	return p
}

func (w window2) conv(h, wd int) ag.Conv {
	p := w.padsFor(h, wd)
	return ag.Conv{SH: w.sh, SW: w.sw, DH: w.dh, DW: w.dw, PadT: p[0], PadL: p[1], PadB: p[2], PadR: p[3]}
}

// outSize is a convolution's output size along one axis.
func outSize(in, k, s, d, lo, hi int) int { return (in+lo+hi-d*(k-1)-1)/s + 1 }
