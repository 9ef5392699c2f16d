package onnx

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/foveaml/fovea/models"
	"github.com/foveaml/fovea/nn"
	pb "github.com/foveaml/fovea/onnx/onnxpb"
)

// A Model keeps its graph without the data of its weights, so that a
// fovea weights file can carry it (MarshalGraph) beside the weights it
// trained, and ReadGraph build the Model again from the two.

// keepGraph keeps mp, compiled into cp.m, as the Model's graph: the
// initializers that became parameters or buffers lose their data and
// take the names Params and Buffers give them (PyTorch's anonymous
// "onnx::Conv_193" becomes "layer1.0.conv1.weight" in the graph too).
// An initializer materialised with another number of values (a Gemm
// bias broadcast from one) is declared at the size it has as a
// parameter.
func (cp *compiler) keepGraph(mp *pb.ModelProto) {
	g := mp.GetGraph()
	rename := map[string]string{}
	for _, t := range g.Initializer {
		name := t.GetName()
		n := 0
		if v, ok := cp.vars[name]; ok {
			n = (*v).Value().Len()
		} else if s, ok := cp.bnStats[name]; ok {
			n = s.Len()
		} else {
			continue
		}
		t.RawData, t.FloatData, t.DoubleData, t.Int32Data, t.Int64Data, t.Uint64Data = nil, nil, nil, nil, nil, nil
		t.ExternalData, t.DataLocation = nil, nil
		if dims := dimsOf(t); numelOr(dims) != n {
			t.Dims = []int64{int64(n)}
		}
		if d := cp.display[name]; d != "" {
			rename[name] = d
			t.Name = proto.String(d)
		}
	}
	renamed := func(s string) string {
		if r, ok := rename[s]; ok {
			return r
		}
		return s
	}
	for _, n := range g.Node {
		for i, in := range n.Input {
			n.Input[i] = renamed(in)
		}
	}
	for _, vs := range [][]*pb.ValueInfoProto{g.Input, g.ValueInfo, g.Output} {
		for _, v := range vs {
			v.Name = proto.String(renamed(v.GetName()))
		}
	}
	cp.m.headB, cp.m.headC = renamed(cp.m.headB), renamed(cp.m.headC)
	cp.m.graph = mp
}

func dimsOf(t *pb.TensorProto) []int {
	dims := make([]int, len(t.Dims))
	for i, d := range t.Dims {
		if d < 0 || d > maxElements {
			return nil
		}
		dims[i] = int(d)
	}
	return dims
}

// numelOr is numel, -1 for a shape fovea does not take.
func numelOr(dims []int) int {
	if dims == nil {
		return -1
	}
	n, err := numel(dims)
	if err != nil {
		return -1
	}
	return n
}

// resizeHead declares the head's initializers, and the Gemm's output
// where the graph gives its shape, at classes outputs (after NewHead).
func (m *Model) resizeHead(old, classes int) {
	if m.graph == nil {
		return
	}
	g := m.graph.GetGraph()
	in := int64(m.head.Weight.Value().Dim(0))
	for _, t := range g.Initializer {
		switch t.GetName() {
		case m.headB:
			t.Dims = []int64{in, int64(classes)}
			if m.headTransB {
				t.Dims = []int64{int64(classes), in}
			}
		case m.headC:
			if m.head.Bias != nil {
				t.Dims = []int64{int64(classes)}
			}
		}
	}
	for _, vs := range [][]*pb.ValueInfoProto{g.ValueInfo, g.Output} {
		for _, v := range vs {
			if v.GetName() != m.headOut {
				continue
			}
			dims := v.GetType().GetTensorType().GetShape().GetDim()
			if len(dims) == 0 {
				continue
			}
			last := dims[len(dims)-1]
			if x, ok := last.Value.(*pb.TensorShapeProto_Dimension_DimValue); ok && x.DimValue == int64(old) {
				last.Value = &pb.TensorShapeProto_Dimension_DimValue{DimValue: int64(classes)}
			}
		}
	}
}

// MarshalGraph returns the model's graph as an ONNX ModelProto without
// the data of its parameters and buffers: their initializers keep their
// type and shape (the head's as NewHead made it) under the names Params
// and Buffers give them. It is what a fovea weights file of an imported
// model carries beside its tensors (models.FileInfo.Graph), a few
// kilobytes to a few hundred; ReadGraph builds the Model from the two.
func (m *Model) MarshalGraph() ([]byte, error) {
	if m.graph == nil {
		return nil, fmt.Errorf("onnx: the model keeps no graph")
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m.graph)
	if err != nil {
		return nil, fmt.Errorf("onnx: %v", err)
	}
	return b, nil
}

// ReadGraph compiles a graph MarshalGraph wrote. Its parameters and
// buffers start at zero, for the caller to load the weights they were
// stripped of (weights.LoadStateDict on nn.State, or models.Pretrained,
// which does both): shapes gives the shape of each of those tensors, and
// every initializer of the graph that lacks its data must have one there
// of as many values (so that what ReadGraph allocates is what the
// weights hold, and a file whose tensors are not the graph's is an error
// naming the initializer).
func ReadGraph(graph []byte, shapes map[string][]int) (*Model, error) {
	return Options{}.ReadGraph(graph, shapes)
}

// ReadGraph is the package's ReadGraph with o's bounds.
func (o Options) ReadGraph(graph []byte, shapes map[string][]int) (*Model, error) {
	if int64(len(graph)) > o.maxBytes() {
		return nil, fmt.Errorf("onnx: the graph is %d bytes; the limit is %d", len(graph), o.maxBytes())
	}
	mp := &pb.ModelProto{}
	if err := (proto.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(graph, mp); err != nil {
		return nil, fmt.Errorf("onnx: not an ONNX graph: %v", err)
	}
	fill := map[string]bool{}
	for _, t := range mp.GetGraph().GetInitializer() {
		if !stripped(t) {
			continue
		}
		name := t.GetName()
		dims := dimsOf(t)
		n := numelOr(dims)
		if n < 0 {
			return nil, fmt.Errorf("onnx: the graph's initializer %q has shape %v", name, t.Dims)
		}
		s, ok := shapes[name]
		if !ok {
			return nil, fmt.Errorf("onnx: the graph's initializer %q (shape %v) has no tensor in the weights", name, dims)
		}
		if k := numelOr(s); k != n {
			return nil, fmt.Errorf("onnx: the graph's initializer %q has shape %v (%d values) but its tensor in the weights has shape %v (%d values)", name, dims, n, s, k)
		}
		fill[name] = true
	}
	m, err := compileWith(mp, nil, fill)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	return m, nil
}

// stripped reports whether t is a float initializer MarshalGraph took
// the data of: values declared, none held.
func stripped(t *pb.TensorProto) bool {
	return isFloatType(pb.TensorProto_DataType(t.GetDataType())) && t.RawData == nil && len(t.FloatData) == 0 &&
		len(t.DoubleData) == 0 && len(t.Int32Data) == 0 && t.GetDataLocation() != pb.TensorProto_EXTERNAL && numelOr(dimsOf(t)) > 0
}

// graphs reads ONNX graphs for package models (models.SetGraphReader),
// so that models.Pretrained and models.ReadFileInfo take .onnx files
// and fovea files of imported graphs.
type graphs struct{}

func (graphs) Load(path string) (nn.Layer, error) { return Load(path) }

func (graphs) Read(graph []byte, shapes map[string][]int) (nn.Layer, error) {
	return ReadGraph(graph, shapes)
}

func (graphs) Metadata(path string) (map[string]string, error) { return LoadMetadata(path) }

func init() { models.SetGraphReader(graphs{}) }
