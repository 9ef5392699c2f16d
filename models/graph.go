package models

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/tensor"
	"github.com/foveaml/fovea/weights"
)

// ONNXModel is the "model" a fovea file of an imported ONNX graph names
// in its metadata (and the Spec name Pretrained gives such a model): the
// graph itself is in the file, under "onnx_graph" (FileInfo.Graph).
const ONNXModel = "onnx"

// GraphReader builds the models of ONNX graphs for Pretrained and
// ReadFileInfo: of .onnx files, and of fovea files that carry their
// graph (FileInfo.Graph) beside its weights. Package onnx provides it
// (its init calls SetGraphReader): a program that reads such files
// imports github.com/foveaml/fovea/onnx, as cmd/fovea and serve do.
type GraphReader interface {
	// Load reads the ONNX file at path into a model holding its weights.
	Load(path string) (nn.Layer, error)
	// Metadata returns the metadata_props of the ONNX file at path.
	Metadata(path string) (map[string]string, error)
	// Read builds the model of a graph a fovea file carries, its
	// parameters and buffers zero, each of the shape shapes gives it.
	Read(graph []byte, shapes map[string][]int) (nn.Layer, error)
}

var graphReader GraphReader

// SetGraphReader makes r the reader of ONNX graphs (package onnx calls
// it when it is linked).
func SetGraphReader(r GraphReader) { graphReader = r }

// graphModel is what a model built from an ONNX graph offers beyond
// nn.Layer: a new head, and its graph for the files it is saved in.
type graphModel interface {
	NewHead(classes int, seed uint64) error
	MarshalGraph() ([]byte, error)
}

// needGraphs returns the graph reader, or an error for a program that
// did not link package onnx.
func needGraphs(path string) (GraphReader, error) {
	if graphReader == nil {
		return nil, fmt.Errorf("%s holds an ONNX graph, and this program cannot read one: import github.com/foveaml/fovea/onnx", path)
	}
	return graphReader, nil
}

// IsONNX tells an ONNX file from a safetensors or PyTorch one by its
// name (.onnx) or its first bytes: a safetensors file starts with its
// header's length, a little-endian integer followed by "{"; PyTorch's
// files are zips ("PK") or pickles (0x80).
func IsONNX(path string) bool {
	if strings.HasSuffix(strings.ToLower(path), ".onnx") {
		return true
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	b := make([]byte, 9)
	if n, _ := io.ReadFull(f, b); n < 9 {
		return false
	}
	// An ONNX ModelProto opens with field 1 (ir_version, a varint): byte 0x08.
	return b[0] == 0x08 && b[8] != '{'
}

// graphSpec is the Spec Pretrained returns for a model of an ONNX graph.
func graphSpec(model nn.Layer) Spec {
	return Spec{Name: ONNXModel, Doc: "an imported ONNX graph", Input: nn.AboutOf(model).Input,
		New: func(Options) (nn.Layer, error) {
			return nil, fmt.Errorf("an ONNX graph is built from its file (models.Pretrained), not from the registry")
		}}
}

// fromGraph builds the model of the ONNX graph a fovea file carries (its
// metadata's "onnx_graph"), shaped after the file's tensors, for
// loadPretrained to load them into.
func fromGraph(path string, meta map[string]string, tensors map[string]*tensor.Tensor) (nn.Layer, error) {
	r, err := needGraphs(path)
	if err != nil {
		return nil, err
	}
	info := ParseFileInfo(meta)
	if info.Graph == nil {
		v := meta[keyGraph]
		if v == "" {
			v = meta["meta."+keyGraph]
		}
		return nil, fmt.Errorf("%s: its metadata names model %q but its %q is %s; want the base64 of an ONNX graph",
			path, ONNXModel, keyGraph, describeValue(v))
	}
	shapes := make(map[string][]int, len(tensors))
	for k, t := range tensors {
		shapes[k] = t.Shape()
	}
	m, err := r.Read(info.Graph, shapes)
	if err != nil {
		return nil, fmt.Errorf("%s: its %q metadata: %w", path, keyGraph, err)
	}
	return m, nil
}

// describeValue says what a metadata value that does not parse is.
func describeValue(v string) string {
	switch {
	case v == "":
		return "missing"
	case len(v) > 20:
		return fmt.Sprintf("%d bytes that are not base64 (%q...)", len(v), v[:20])
	}
	return fmt.Sprintf("%q, not base64", v)
}

// loadONNX reads an .onnx file for Pretrained: the graph as the model
// when name is "", else its weights for the zoo model name.
func loadONNX(path string) (nn.Layer, map[string]*tensor.Tensor, error) {
	r, err := needGraphs(path)
	if err != nil {
		return nil, nil, err
	}
	m, err := r.Load(path)
	if err != nil {
		return nil, nil, err
	}
	return m, weights.StateDict(nn.State(m)), nil
}

// newGraphHead gives a model of a graph a new head of classes outputs
// (0: as many as it has) and returns the head's layers.
func newGraphHead(model nn.Layer, classes int, seed uint64) ([]string, error) {
	g, ok := model.(graphModel)
	if !ok {
		return nil, fmt.Errorf("the model cannot take a new head")
	}
	if classes == 0 {
		classes = nn.Classes(model)
	}
	if err := g.NewHead(classes, seed); err != nil {
		return nil, err
	}
	return nn.Heads(model), nil
}
