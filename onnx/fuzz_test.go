package onnx

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/nn"
	pb "github.com/foveaml/fovea/onnx/onnxpb"
	"github.com/foveaml/fovea/tensor"
)

// graph builds a model of one input [dims] (NCHW) and the given nodes,
// initializers and output, at opset.
func graph(opset int64, dims []int64, nodes []*pb.NodeProto, inits []*pb.TensorProto, out string) *pb.ModelProto {
	sh := &pb.TensorShapeProto{}
	for _, d := range dims {
		sh.Dim = append(sh.Dim, &pb.TensorShapeProto_Dimension{Value: &pb.TensorShapeProto_Dimension_DimValue{DimValue: d}})
	}
	vi := func(name string, s *pb.TensorShapeProto) *pb.ValueInfoProto {
		return &pb.ValueInfoProto{Name: proto.String(name), Type: &pb.TypeProto{Value: &pb.TypeProto_TensorType{
			TensorType: &pb.TypeProto_Tensor{ElemType: proto.Int32(1), Shape: s}}}}
	}
	return &pb.ModelProto{IrVersion: proto.Int64(8),
		OpsetImport: []*pb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(opset)}},
		Graph: &pb.GraphProto{Name: proto.String("g"), Node: nodes, Initializer: inits,
			Input: []*pb.ValueInfoProto{vi("x", sh)}, Output: []*pb.ValueInfoProto{vi(out, nil)}}}
}

func node(op string, ins, outs []string, attrs ...*pb.AttributeProto) *pb.NodeProto {
	return &pb.NodeProto{OpType: proto.String(op), Name: proto.String(op + "_node"), Input: ins, Output: outs, Attribute: attrs}
}

func floatTensor(name string, dims []int64, vals []float32) *pb.TensorProto {
	t := &pb.TensorProto{Name: proto.String(name), DataType: proto.Int32(1), Dims: dims}
	t.RawData = make([]byte, 4*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint32(t.RawData[4*i:], math.Float32bits(v))
	}
	return t
}

func marshal(t testing.TB, m *pb.ModelProto) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// hostile are models that must be refused with a one-line error, each
// with a word the error must contain.
func hostile(t testing.TB) map[string]struct {
	b    []byte
	want string
} {
	x4 := []int64{1, 2, 4, 4}
	relu := func(in, out string) *pb.NodeProto { return node("Relu", []string{in}, []string{out}) }
	huge := &pb.TensorProto{Name: proto.String("w"), DataType: proto.Int32(1), Dims: []int64{1 << 20, 1 << 20, 1 << 20}}
	bigRaw := &pb.TensorProto{Name: proto.String("w"), DataType: proto.Int32(1), Dims: []int64{1 << 20, 4, 1, 1}, RawData: make([]byte, 8)}
	ext := &pb.TensorProto{Name: proto.String("w"), DataType: proto.Int32(1), Dims: []int64{2, 2, 1, 1},
		DataLocation: pb.TensorProto_EXTERNAL.Enum(),
		ExternalData: []*pb.StringStringEntryProto{{Key: proto.String("location"), Value: proto.String("../../etc/passwd")}}}
	conv := func(w *pb.TensorProto) []byte {
		return marshal(t, graph(13, x4, []*pb.NodeProto{node("Conv", []string{"x", "w"}, []string{"y"})}, []*pb.TensorProto{w}, "y"))
	}
	ints := func(name string, v ...int64) *pb.AttributeProto {
		return &pb.AttributeProto{Name: proto.String(name), Type: pb.AttributeProto_INTS.Enum(), Ints: v}
	}
	str := func(name, v string) *pb.AttributeProto {
		return &pb.AttributeProto{Name: proto.String(name), Type: pb.AttributeProto_STRING.Enum(), S: []byte(v)}
	}
	return map[string]struct {
		b    []byte
		want string
	}{
		"garbage":   {[]byte("\xff\xff\xff\xff not protobuf"), "not an ONNX model"},
		"no graph":  {marshal(t, &pb.ModelProto{IrVersion: proto.Int64(8)}), "no graph"},
		"old opset": {marshal(t, graph(5, x4, []*pb.NodeProto{relu("x", "y")}, nil, "y")), "opset 5"},
		"cycle": {marshal(t, graph(13, x4, []*pb.NodeProto{node("Add", []string{"x", "b"}, []string{"a"}),
			node("Relu", []string{"a"}, []string{"b"})}, nil, "b")), "cycle"},
		"dangling":   {marshal(t, graph(13, x4, []*pb.NodeProto{node("Add", []string{"x", "ghost"}, []string{"y"})}, nil, "y")), "ghost"},
		"twice":      {marshal(t, graph(13, x4, []*pb.NodeProto{relu("x", "y"), relu("x", "y")}, nil, "y")), "produced twice"},
		"unknown op": {marshal(t, graph(13, x4, []*pb.NodeProto{node("FancyOp", []string{"x"}, []string{"y"})}, nil, "y")), "FancyOp is not supported"},
		"bad domain": {marshal(t, graph(13, x4, []*pb.NodeProto{{OpType: proto.String("Relu"), Domain: proto.String("com.ms"), Input: []string{"x"}, Output: []string{"y"}}}, nil, "y")), "domain"},
		"bad attr":   {marshal(t, graph(13, x4, []*pb.NodeProto{node("Relu", []string{"x"}, []string{"y"}, ints("axes", 1))}, nil, "y")), `attribute "axes"`},
		"reflect pad": {marshal(t, graph(13, x4, []*pb.NodeProto{node("Pad", []string{"x", "p"}, []string{"y"}, str("mode", "reflect"))},
			[]*pb.TensorProto{{Name: proto.String("p"), DataType: proto.Int32(7), Dims: []int64{8}, Int64Data: make([]int64, 8)}}, "y")), "reflect"},
		"huge dims":    {conv(huge), "elements"},
		"short raw":    {conv(bigRaw), "raw data"},
		"external":     {conv(ext), "external"},
		"1-D conv":     {conv(floatTensor("w", []int64{2, 2, 3}, make([]float32, 12))), "2-D"},
		"no output":    {marshal(t, graph(13, x4, []*pb.NodeProto{relu("x", "y")}, nil, "z")), `"z"`},
		"string const": {marshal(t, graph(13, x4, []*pb.NodeProto{node("Constant", nil, []string{"y"}, str("value_string", "hi"))}, nil, "y")), "value_string"},
	}
}

func TestHostileModels(t *testing.T) {
	for name, c := range hostile(t) {
		_, err := Read(c.b)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || strings.ContainsAny(err.Error(), "\r\n") {
			t.Errorf("%s: error %q; want one line containing %q", name, err, c.want)
		}
	}
}

// TestRuntimeBounds: sizes a graph computes at run time are bounded:
// an error, not an allocation of the size asked.
func TestRuntimeBounds(t *testing.T) {
	ints := func(name string, v ...int64) *pb.AttributeProto {
		return &pb.AttributeProto{Name: proto.String(name), Type: pb.AttributeProto_INTS.Enum(), Ints: v}
	}
	w := floatTensor("w", []int64{1, 1, 1, 1}, []float32{1})
	cases := map[string]*pb.ModelProto{
		"conv pads": graph(13, []int64{1, 1, 2, 2}, []*pb.NodeProto{node("Conv", []string{"x", "w"}, []string{"y"},
			ints("pads", 1<<29, 1<<29, 1<<29, 1<<29))}, []*pb.TensorProto{w}, "y"),
		"pad": graph(9, []int64{1, 1, 2, 2}, []*pb.NodeProto{node("Pad", []string{"x"}, []string{"y"},
			ints("pads", 0, 0, 1<<20, 1<<20, 0, 0, 1<<20, 1<<20))}, nil, "y"),
	}
	for name, mp := range cases {
		m, err := Read(marshal(t, mp))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		_, err = nn.NewPredictor(m).Logits(tensor.Zeros(1, 2, 2, 1))
		if err == nil || !strings.Contains(err.Error(), "more than") {
			t.Errorf("%s: %v; want an error about fovea's limit", name, err)
		}
	}
}

// TestExternalData: tensors beside the model load; a location outside
// its directory, through a symbolic link or not, is refused.
func TestExternalData(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	vals := []float32{1, -2, 3, 0.5}
	raw := make([]byte, 16)
	for i, v := range vals {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	os.WriteFile(filepath.Join(dir, "w.bin"), append([]byte("pad!"), raw...), 0o644)
	os.WriteFile(filepath.Join(outside, "w.bin"), raw, 0o644)
	os.Symlink(filepath.Join(outside, "w.bin"), filepath.Join(dir, "link.bin"))
	model := func(loc, offset string) string {
		w := &pb.TensorProto{Name: proto.String("w"), DataType: proto.Int32(1), Dims: []int64{4, 1, 1, 1},
			DataLocation: pb.TensorProto_EXTERNAL.Enum(), ExternalData: []*pb.StringStringEntryProto{
				{Key: proto.String("location"), Value: proto.String(loc)}, {Key: proto.String("offset"), Value: proto.String(offset)}}}
		p := filepath.Join(dir, "m.onnx")
		os.WriteFile(p, marshal(t, graph(13, []int64{1, 1, 2, 2}, []*pb.NodeProto{node("Conv", []string{"x", "w"}, []string{"y"})},
			[]*pb.TensorProto{w}, "y")), 0o644)
		return p
	}
	m, err := Load(model("w.bin", "4"))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Params()[0].Var.Value().Data(); got[0] != 1 || got[1] != -2 || got[3] != 0.5 {
		t.Fatalf("external weights %v; want %v", got, vals)
	}
	for _, loc := range []string{"../" + filepath.Base(outside) + "/w.bin", filepath.Join(outside, "w.bin"), "link.bin", "missing.bin"} {
		if _, err := Load(model(loc, "0")); err == nil || strings.ContainsAny(err.Error(), "\n") {
			t.Errorf("location %s: %v; want a one-line error", loc, err)
		}
	}
	if _, err := Load(model("w.bin", "8")); err == nil {
		t.Errorf("an offset past the data was accepted")
	}
	if _, err := Read(marshal(t, graph(13, []int64{1, 1, 2, 2}, nil, nil, "x"))); err != nil {
		t.Errorf("a graph that returns its input: %v", err)
	}
}

// FuzzRead feeds the loader arbitrary bytes (seeded with the fixtures
// and the hostile models) and runs what it accepts on a small input:
// never a panic, errors of one line, memory bounded by maxActivation.
// The seeds are 15 kB, so keep minimisation short:
//
//	go test ./onnx -run '^$' -fuzz FuzzRead -fuzztime 10m -fuzzminimizetime 2s -parallel 1
func FuzzRead(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.onnx")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	for _, c := range hostile(f) {
		f.Add(c.b)
	}
	saved := maxActivation
	maxActivation = 1 << 20
	defer func() { maxActivation = saved }()
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Read(b)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("error of more than one line: %q", err)
			}
			return
		}
		n := 0
		for _, p := range m.Params() {
			n += p.Var.Value().Len()
		}
		shape := []int{}
		for _, d := range m.inDims {
			shape = append(shape, int(min(max(d, 1), 64)))
		}
		if len(shape) == 4 {
			shape = []int{shape[0], shape[2], shape[3], shape[1]}
		}
		if len(shape) == 0 || n > 1<<20 {
			return
		}
		if k, err := numel(shape); err != nil || k > 1<<16 {
			return
		}
		tp := ag.NewTape()
		for _, train := range []bool{false, true} {
			m.ForwardAll(&nn.Ctx{Tape: tp, Train: train}, ag.Const(tensor.Full(0.5, shape...)))
			if err := tp.Err(); err != nil && strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("error of more than one line: %q", err)
			}
			tp.Reset()
		}
	})
}
