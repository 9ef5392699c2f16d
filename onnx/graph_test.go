package onnx

import (
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/foveaml/fovea/nn"
	pb "github.com/foveaml/fovea/onnx/onnxpb"
	"github.com/foveaml/fovea/tensor"
	"github.com/foveaml/fovea/weights"
)

// shapesOf returns the shapes of a state dict, as ReadGraph takes them.
func shapesOf(ts map[string]*tensor.Tensor) map[string][]int {
	s := map[string][]int{}
	for k, t := range ts {
		s[k] = t.Shape()
	}
	return s
}

// TestGraphRoundTrip: MarshalGraph keeps a graph without its weights'
// data, and ReadGraph with the state loaded gives the imported model
// back — its parameter names (anonymous ones named after their layers),
// its head and its outputs — for graphs with folded and kept batch
// norms, shape arithmetic, MatMul and ConvTranspose; after NewHead the
// graph declares the new head, so the fine-tuned state loads into it.
func TestGraphRoundTrip(t *testing.T) {
	for _, name := range []string{"tiny_cnn_op13", "ops_folded_op13", "ops_op13", "ops_op7", "shapes_op17", "deconv_op17"} {
		t.Run(name, func(t *testing.T) {
			path := "testdata/" + name + ".onnx"
			m, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			x := fixtureInput(t, name)
			check := func(m *Model, what string) {
				t.Helper()
				st, _ := os.Stat(path)
				checkGraphRoundTrip(t, m, x, st.Size(), what)
			}
			check(m, "as imported")
			if m.head == nil || name == "shapes_op17" { // its head's output is added to four other values
				return
			}
			if err := m.NewHead(7, 1); err != nil {
				t.Fatal(err)
			}
			if c := nn.Classes(m); c != 7 {
				t.Errorf("after NewHead(7): %d classes", c)
			}
			check(m, "with a new head")
		})
	}
}

// checkGraphRoundTrip checks that m comes back from MarshalGraph and
// ReadGraph, with its state loaded, to the same logits on x and the same
// heads, and that the graph (of a model from a file of size bytes) is
// smaller than the file.
func checkGraphRoundTrip(t *testing.T, m *Model, x *tensor.Tensor, size int64, what string) {
	t.Helper()
	g, err := m.MarshalGraph()
	if err != nil {
		t.Fatal(err)
	}
	state := weights.StateDict(nn.State(m))
	values := 0
	for _, v := range state {
		values += v.Len()
	}
	if len(g) >= int(size) && values > 64 {
		t.Errorf("%s: the graph is %d bytes, the file %d: the weights' data was kept", what, len(g), size)
	}
	back, err := ReadGraph(g, shapesOf(state))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if _, err := weights.LoadStateDict(nn.State(back), state, true); err != nil {
		t.Fatalf("%s: the state does not load into the graph read back: %v", what, err)
	}
	want, err := nn.NewPredictor(m).Logits(x)
	if err != nil {
		t.Fatal(err)
	}
	got, err := nn.NewPredictor(back).Logits(x)
	if err != nil {
		t.Fatal(err)
	}
	// Not bit for bit: a model that ran at another batch before (the
	// parity test's) may run its kernels in other blockings.
	if !got.SameShape(want) || relErr(got.Data(), want.Data()) > 1e-5 {
		t.Errorf("%s: the graph read back gives %v, relative error %.3g", what, got.Shape(), relErr(got.Data(), want.Data()))
	}
	if a, b := nn.Heads(back), nn.Heads(m); strings.Join(a, ",") != strings.Join(b, ",") {
		t.Errorf("%s: heads %v; want %v", what, a, b)
	}
	t.Logf("%s: graph of %d bytes", what, len(g))
}

// TestReadGraphMismatch: a graph and tensors that do not go together,
// or bytes that are no graph, give one line naming what was expected and
// what was found.
func TestReadGraphMismatch(t *testing.T) {
	m, err := Load("testdata/tiny_cnn_op13.onnx")
	if err != nil {
		t.Fatal(err)
	}
	g, err := m.MarshalGraph()
	if err != nil {
		t.Fatal(err)
	}
	shapes := shapesOf(weights.StateDict(nn.State(m)))
	missing := map[string][]int{}
	for k, v := range shapes {
		if k != "conv2.weight" {
			missing[k] = v
		}
	}
	other := map[string][]int{}
	for k, v := range shapes {
		other[k] = v
	}
	other["conv1.weight"] = []int{3, 3, 3, 4}
	for _, c := range []struct {
		name   string
		graph  []byte
		shapes map[string][]int
		want   []string
	}{
		{"not a graph", []byte("\x08\x07\x12\x05not a graph"), shapes, []string{"not an ONNX graph"}},
		{"a tensor missing", g, missing, []string{`"conv2.weight"`, "[16 8 3 3]", "no tensor"}},
		{"a tensor of another shape", g, other, []string{`"conv1.weight"`, "[8 3 3 3] (216 values)", "[3 3 3 4] (108 values)"}},
		{"graph truncated", g[:len(g)/2], shapes, []string{"onnx"}},
	} {
		_, err := ReadGraph(c.graph, c.shapes)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v; want it to say %s", c.name, err, w)
			}
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %q is more than one line", c.name, err)
		}
	}
}

// TestGraphRoundTripShared: a graph as PyTorch's constant folding
// writes it — anonymous initializers, a bias shared through an Identity
// (equal fresh batch norms), a Gemm bias of one value broadcast — comes
// back from MarshalGraph and ReadGraph with its parameters, names and
// logits, before and after a new head.
func TestGraphRoundTripShared(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	vals := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	named := func(n *pb.NodeProto, name string) *pb.NodeProto { n.Name = proto.String(name); return n }
	tb := &pb.AttributeProto{Name: proto.String("transB"), Type: pb.AttributeProto_INT.Enum(), I: proto.Int64(1)}
	mp := graph(13, []int64{-1, 2, 4, 4}, []*pb.NodeProto{
		named(node("Conv", []string{"x", "onnx::Conv_1", "onnx::Conv_2"}, []string{"a"}), "/conv1/Conv"),
		named(node("Relu", []string{"a"}, []string{"b"}), "/relu/Relu"),
		named(node("Identity", []string{"onnx::Conv_2"}, []string{"onnx::Conv_4"}), "Identity_0"),
		named(node("Conv", []string{"b", "onnx::Conv_3", "onnx::Conv_4"}, []string{"c"}), "/conv2/Conv"),
		named(node("GlobalAveragePool", []string{"c"}, []string{"d"}), "/pool/GlobalAveragePool"),
		named(node("Flatten", []string{"d"}, []string{"e"}), "/Flatten"),
		named(node("Gemm", []string{"e", "fc.weight", "fc.bias"}, []string{"y"}, tb), "/fc/Gemm"),
	}, []*pb.TensorProto{
		floatTensor("onnx::Conv_1", []int64{3, 2, 1, 1}, vals(6)),
		floatTensor("onnx::Conv_2", []int64{3}, vals(3)),
		floatTensor("onnx::Conv_3", []int64{3, 3, 1, 1}, vals(9)),
		floatTensor("fc.weight", []int64{2, 3}, vals(6)),
		floatTensor("fc.bias", []int64{1}, vals(1)),
	}, "y")
	m, err := Read(marshal(t, mp))
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.RandNormal(rng, 0, 1, 2, 4, 4, 2)
	for _, classes := range []int{0, 5} {
		if classes > 0 {
			if err := m.NewHead(classes, 3); err != nil {
				t.Fatal(err)
			}
		}
		g, err := m.MarshalGraph()
		if err != nil {
			t.Fatal(err)
		}
		state := weights.StateDict(nn.State(m))
		back, err := ReadGraph(g, shapesOf(state))
		if err != nil {
			t.Fatalf("%d classes: %v", classes, err)
		}
		if _, err := weights.LoadStateDict(nn.State(back), state, true); err != nil {
			t.Fatalf("%d classes: %v", classes, err)
		}
		var names []string
		for _, p := range back.Params() {
			names = append(names, p.Name)
		}
		if got := strings.Join(names, " "); got != "conv1.weight conv1.bias conv2.weight conv2.bias fc.weight fc.bias" {
			t.Errorf("%d classes: parameters %s", classes, got)
		}
		want, _ := nn.NewPredictor(m).Logits(x)
		got, err := nn.NewPredictor(back).Logits(x)
		if err != nil {
			t.Fatal(err)
		}
		if !got.SameShape(want) || relErr(got.Data(), want.Data()) > 1e-6 {
			t.Errorf("%d classes: logits %v, relative error %.3g", classes, got.Shape(), relErr(got.Data(), want.Data()))
		}
	}
}
