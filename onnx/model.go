package onnx

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/nn"
	pb "github.com/foveaml/fovea/onnx/onnxpb"
	"github.com/foveaml/fovea/tensor"
)

// The opsets of the default domain fovea reads.
const (
	MinOpset = 7
	MaxOpset = 21
)

// DefaultMaxBytes bounds the size of a model file and, separately, of
// the external data it reads: 2 GiB each, protobuf's own limit for one
// message.
const DefaultMaxBytes = 2 << 30

// Options bound what Load and Read accept.
type Options struct {
	// MaxBytes bounds the model file and, separately, the external data
	// read for it; 0 means DefaultMaxBytes.
	MaxBytes int64
}

// Model is an ONNX graph as a fovea layer: it runs the graph's nodes on
// fovea's ops, NHWC, so that it predicts, trains, freezes and fine-tunes
// as a zoo model does. Its input is the graph's one input with rank-4
// (image) inputs taken NHWC ([N, H, W, C] for ONNX's [N, C, H, W]); its
// output is the graph's first output, a rank-4 one given NHWC too.
//
// Its parameters are the graph's float initializers, under their ONNX
// names, in the order the graph first uses them, stored in fovea's
// layouts: convolution filters HWIO, the weights of Gemm and MatMul
// [in, out] (Gemm's alpha folded in), biases [out], other rank-4
// tensors NHWC. Batch-norm running statistics are buffers. Each
// convolution with its batch norm, a residual Add and a ReLU that follow
// it runs as one nn.Unit: fused at inference, layer by layer when
// training or traced by nn.Summary and nn.Capture. Layers are called
// under the dotted layer name their weights share ("layer1.0.conv1",
// "fc"), else the node's name.
type Model struct {
	nn.Module
	steps    []*step
	init     []value // the environment a pass starts from: constants and parameters
	input    int     // the slot of the graph input
	inName   string
	inDims   []int64 // ONNX dims of the input; -1 where unknown (a dynamic batch)
	outputs  []int
	outNames []string
	params   []paramRef
	buffers  []nn.Param
	meta     map[string]string
	opset    int64
	head     *nn.Dense // the last Gemm, for NewHead
	headName string
	// The head's initializers in graph (B, C: "" for none), whether B is
	// transposed, and the Gemm's output, for NewHead to resize.
	headB, headC, headOut string
	headTransB            bool
	// graph is the ModelProto without its weights' data (MarshalGraph).
	graph *pb.ModelProto
}

// paramRef names a parameter held in a layer's field, so that NewHead's
// replacement shows in Params.
type paramRef struct {
	name string
	v    **ag.Var
}

// value is one value of the graph during a pass: a float tensor (on the
// tape) or a small integer tensor (a shape, axes, indices).
type value struct {
	f *ag.Var
	i *ints
}

// ints is an integer tensor in ONNX order.
type ints struct {
	shape []int
	d     []int64
}

// step is one node of the graph (or a fused run of them) compiled.
type step struct {
	node   string // `node "x" (Conv, opset 13)`, for errors
	call   string // the name it is called under; "" for integer shape work
	kind   string // the layer kind Summary shows
	params []nn.Param
	ins    []int // slots; -1 for an absent optional input
	outs   []int
	run    func(c *nn.Ctx, in []value) ([]value, error)
	// exec replaces run for steps that call nn layers themselves.
	exec func(c *nn.Ctx, env []value) error
}

// Load reads the ONNX model at path (external data from its directory
// only) and compiles it into a Model.
func Load(path string) (*Model, error) { return Options{}.Load(path) }

// Load is the package's Load with o's bounds.
func (o Options) Load(path string) (*Model, error) {
	max := o.maxBytes()
	b, err := readFile(path, max)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("onnx: %v", err)
	}
	defer root.Close()
	m, err := o.read(b, &externalReader{root: root, dir: dir, max: max})
	if err != nil {
		return nil, fmt.Errorf("onnx: %s: %w", path, err)
	}
	return m, nil
}

// readFile reads the regular file at path, of at most max bytes.
func readFile(path string, max int64) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("onnx: %v", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("onnx: %s is not a regular file", path)
	}
	if st.Size() > max {
		return nil, fmt.Errorf("onnx: %s is %d bytes; the limit is %d", path, st.Size(), max)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("onnx: %v", err)
	}
	return b, nil
}

// Read compiles the ONNX model in b, which must hold all its tensors (a
// model with external data needs Load).
func Read(b []byte) (*Model, error) { return Options{}.Read(b) }

// Read is the package's Read with o's bounds.
func (o Options) Read(b []byte) (*Model, error) {
	m, err := o.read(b, nil)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	return m, nil
}

func (o Options) maxBytes() int64 {
	if o.MaxBytes > 0 {
		return o.MaxBytes
	}
	return DefaultMaxBytes
}

func (o Options) read(b []byte, ext *externalReader) (*Model, error) {
	if int64(len(b)) > o.maxBytes() {
		return nil, fmt.Errorf("model is %d bytes; the limit is %d", len(b), o.maxBytes())
	}
	mp := &pb.ModelProto{}
	if err := (proto.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(b, mp); err != nil {
		return nil, fmt.Errorf("not an ONNX model: %v", err)
	}
	return compile(mp, ext)
}

// Metadata returns the model's metadata_props (class names, the model
// name, preprocessing, as Export writes them) and producer.
func (m *Model) Metadata() map[string]string { return m.meta }

// Opset returns the version of the default ONNX domain the graph uses.
func (m *Model) Opset() int64 { return m.opset }

// Kind names the model in Summary.
func (m *Model) Kind() string { return "ONNX" }

// Params implements nn.Layer: the float initializers, by ONNX name.
func (m *Model) Params() []nn.Param {
	ps := make([]nn.Param, 0, len(m.params))
	for _, p := range m.params {
		ps = append(ps, nn.Param{Name: p.name, Var: *p.v})
	}
	return ps
}

// Buffers implements nn.Buffered: the batch norms' running statistics.
func (m *Model) Buffers() []nn.Param { return m.buffers }

// About implements nn.Describer: the shape of one example when the
// graph fixes it ([H, W, C] for an image), and the last Gemm as the head.
func (m *Model) About() nn.About {
	var a nn.About
	switch d := m.inDims; {
	case len(d) == 4 && d[1] > 0 && d[2] > 0 && d[3] > 0:
		a.Input = []int{int(d[2]), int(d[3]), int(d[1])}
	case len(d) >= 2 && !slices.ContainsFunc(d[1:], func(v int64) bool { return v < 1 }):
		for _, v := range d[1:] {
			a.Input = append(a.Input, int(v))
		}
	}
	if m.headName != "" {
		a.Heads = []string{m.headName}
	}
	return a
}

// InputName returns the name of the graph's input; OutputNames those of
// its outputs.
func (m *Model) InputName() string { return m.inName }

// OutputNames returns the names of the graph's outputs, in order.
func (m *Model) OutputNames() []string { return m.outNames }

// NewHead replaces the weights of the head (the graph's last Gemm) by
// freshly initialised ones for classes outputs (PyTorch's Linear
// initialisation, from seed): the start of fine-tuning on a new task.
func (m *Model) NewHead(classes int, seed uint64) error {
	if m.head == nil {
		return fmt.Errorf("onnx: the graph has no Gemm with constant weights to serve as its head")
	}
	if classes < 1 {
		return fmt.Errorf("onnx: %d classes: want at least 1", classes)
	}
	in := m.head.Weight.Value().Dim(0)
	d, err := nn.NewDense(nn.DenseConfig{In: in, Out: classes}, rand.New(rand.NewPCG(seed, 0x6f6e6e78)))
	if err != nil {
		return err
	}
	old := m.head.Cfg.Out
	m.head.Weight, m.head.Cfg.Out = d.Weight, classes
	if m.head.Bias != nil {
		m.head.Bias = d.Bias
	}
	m.resizeHead(old, classes)
	return nil
}

// Forward implements nn.Layer: it runs the graph on x and returns its
// first output.
func (m *Model) Forward(c *nn.Ctx, x *ag.Var) *ag.Var {
	outs := m.ForwardAll(c, x)
	if outs == nil {
		return nil
	}
	return outs[0]
}

// ForwardAll runs the graph on x and returns all its outputs (integer
// outputs as float tensors).
func (m *Model) ForwardAll(c *nn.Ctx, x *ag.Var) []*ag.Var {
	tp := c.Tape
	if x == nil || tp.Err() != nil {
		return nil
	}
	if err := m.checkInput(x.Shape()); err != nil {
		tp.Fail("onnx", err)
		return nil
	}
	env := slices.Clone(m.init)
	env[m.input] = value{f: x}
	for _, s := range m.steps {
		var err error
		switch {
		case s.exec != nil:
			err = s.exec(c, env)
		case s.call != "":
			var first *ag.Var
			for _, i := range s.ins {
				if i >= 0 && env[i].f != nil {
					first = env[i].f
					break
				}
			}
			c.Call(s.call, &stepLayer{s: s, env: env}, first)
		default:
			err = s.runOn(c, env)
		}
		if err != nil {
			tp.Fail("onnx: "+s.node, err)
		}
		if tp.Err() != nil {
			return nil
		}
	}
	outs := make([]*ag.Var, len(m.outputs))
	for i, o := range m.outputs {
		v := env[o]
		if v.i != nil {
			outs[i] = intsToVar(v.i)
		} else {
			outs[i] = v.f
		}
		if outs[i] == nil {
			tp.Fail("onnx", fmt.Errorf("graph output %q was not computed", m.outNames[i]))
			return nil
		}
	}
	return outs
}

// checkInput checks x (NHWC for rank 4) against the graph's input.
func (m *Model) checkInput(s []int) error {
	if len(m.inDims) == 0 {
		return nil
	}
	ox := s
	if len(s) == 4 {
		ox = []int{s[0], s[3], s[1], s[2]}
	}
	bad := len(ox) != len(m.inDims)
	for i := 0; !bad && i < len(ox); i++ {
		bad = m.inDims[i] > 0 && int64(ox[i]) != m.inDims[i]
	}
	if !bad {
		return nil
	}
	want := make([]string, len(m.inDims))
	for i, d := range m.inDims {
		want[i] = "?"
		if d > 0 {
			want[i] = fmt.Sprint(d)
		}
	}
	if len(want) == 4 {
		return fmt.Errorf("input %q has shape %v (NHWC); the graph takes [%s] NCHW, that is [%s %s %s %s] NHWC", m.inName, s,
			strings.Join(want, " "), want[0], want[2], want[3], want[1])
	}
	return fmt.Errorf("input %q has shape %v; the graph takes [%s]", m.inName, s, strings.Join(want, " "))
}

// runOn runs a plain step on env.
func (s *step) runOn(c *nn.Ctx, env []value) error {
	in := make([]value, len(s.ins))
	for k, i := range s.ins {
		if i >= 0 {
			in[k] = env[i]
		}
	}
	outs, err := s.run(c, in)
	if err != nil {
		return err
	}
	if c.Tape.Err() != nil {
		return nil
	}
	for k, o := range s.outs {
		if o >= 0 && k < len(outs) {
			env[o] = outs[k]
		}
	}
	return nil
}

// stepLayer is a step as an nn.Layer for one pass, so that Ctx.Call
// lists it in Summary under its name.
type stepLayer struct {
	s   *step
	env []value
}

func (l *stepLayer) Forward(c *nn.Ctx, _ *ag.Var) *ag.Var {
	if err := l.s.runOn(c, l.env); err != nil {
		return c.Tape.Fail("onnx: "+l.s.node, err)
	}
	if c.Tape.Err() != nil || len(l.s.outs) == 0 || l.s.outs[0] < 0 {
		return nil
	}
	return l.env[l.s.outs[0]].f
}

func (l *stepLayer) Params() []nn.Param { return l.s.params }
func (l *stepLayer) Kind() string       { return l.s.kind }

// intsToVar turns an integer tensor into a float constant.
func intsToVar(t *ints) *ag.Var {
	v := tensor.Zeros(t.shape...)
	for i, x := range t.d {
		v.Data()[i] = float32(x)
	}
	return ag.Const(v)
}
