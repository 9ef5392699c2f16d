package models

import (
	_ "embed" // the ImageNet class names
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/weights"
)

// FileInfo is what a model file or checkpoint says about itself in its
// metadata, so that a command reading it can prepare images as the run
// that wrote it did and name its classes. The zero value of a field means
// the file does not say.
type FileInfo struct {
	// Model is the registry name of the model.
	Model string
	// Classes is the number of outputs; ClassNames, if known, name them
	// by label.
	Classes    int
	ClassNames []string
	// Data names the data the model was trained on (--data).
	Data string
	// Input is the shape of one example the model takes, [H, W, C].
	Input []int
	// Resize is the side an image's shorter side is resized to before its
	// centre is cropped to Input (256 for 224, torchvision's rule); 0 or
	// Input's height: the image is resized to Input directly (its centre
	// cropped to Input's aspect first).
	Resize int
	// Normalize names the normalisation ("imagenet", "data", "none"); Mean
	// and Std, one per channel, are what is subtracted and divided by
	// (nil: none).
	Normalize string
	Mean, Std []float32
	// FinetunedFrom names the weights file a fine-tuned model started
	// from.
	FinetunedFrom string
	// Graph is, for an imported ONNX graph (Model "onnx"), the graph
	// without its weights' data (onnx.Model.MarshalGraph), which the file
	// keeps base64'd under "onnx_graph" so that Pretrained can build the
	// model its tensors are for.
	Graph []byte
}

// Metadata keys of FileInfo. A checkpoint holds them with weights'
// "meta." prefix.
const (
	keyModel      = "model"
	keyClasses    = "classes"
	keyClassNames = "class_names"
	keyData       = "data"
	keyInput      = "input"
	keyResize     = "resize"
	keyNormalize  = "normalize"
	keyMean       = "mean"
	keyStd        = "std"
	keyFrom       = "finetuned_from"
	keyGraph      = "onnx_graph"
)

// Meta returns f as metadata for weights.Save (and, in a checkpoint,
// weights.Checkpoint.Meta). Fields f does not set are left out.
func (f FileInfo) Meta() map[string]string {
	m := map[string]string{}
	set := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	set(keyModel, f.Model)
	if f.Classes > 0 {
		m[keyClasses] = strconv.Itoa(f.Classes)
	}
	if len(f.ClassNames) > 0 {
		b, _ := json.Marshal(f.ClassNames) // strings always marshal
		m[keyClassNames] = string(b)
	}
	set(keyData, f.Data)
	if len(f.Input) == 3 {
		m[keyInput] = fmt.Sprintf("%dx%dx%d", f.Input[0], f.Input[1], f.Input[2])
	}
	if f.Resize > 0 {
		m[keyResize] = strconv.Itoa(f.Resize)
	}
	set(keyNormalize, f.Normalize)
	set(keyMean, floats(f.Mean))
	set(keyStd, floats(f.Std))
	set(keyFrom, f.FinetunedFrom)
	if f.Graph != nil {
		m[keyGraph] = base64.StdEncoding.EncodeToString(f.Graph)
	}
	return m
}

// Of returns f completed for model, of spec, as a file of it says: the
// model's name and number of classes, the class names to show
// (NamesFor), and for an imported graph the graph (nil for others).
func (f FileInfo) Of(model nn.Layer, spec Spec) (FileInfo, error) {
	f.Model, f.Classes, f.Graph = spec.Name, nn.Classes(model), nil
	f.ClassNames = f.NamesFor(f.Classes)
	if g, ok := model.(graphModel); ok {
		b, err := g.MarshalGraph()
		if err != nil {
			return f, err
		}
		f.Graph = b
	}
	return f, nil
}

func floats(v []float32) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatFloat(float64(x), 'g', -1, 32)
	}
	return strings.Join(s, ",")
}

// ParseFileInfo reads a FileInfo from a model file's metadata or a
// checkpoint's (whose keys have the "meta." prefix). What is missing or
// does not parse is left at its zero value: files written before a key
// existed still load, and simply say less.
func ParseFileInfo(meta map[string]string) FileInfo {
	get := func(k string) string {
		if v, ok := meta[k]; ok {
			return v
		}
		return meta["meta."+k]
	}
	f := FileInfo{Model: get(keyModel), Data: get(keyData), Normalize: get(keyNormalize), FinetunedFrom: get(keyFrom)}
	f.Classes, _ = strconv.Atoi(get(keyClasses))
	if s := get(keyClassNames); s != "" {
		var names []string
		if json.Unmarshal([]byte(s), &names) == nil && (f.Classes == 0 || len(names) == f.Classes) {
			f.ClassNames = names
		}
	}
	if parts := strings.Split(get(keyInput), "x"); len(parts) == 3 {
		in := make([]int, 3)
		ok := true
		for i, p := range parts {
			n, err := strconv.Atoi(p)
			ok = ok && err == nil && n > 0
			in[i] = n
		}
		if ok {
			f.Input = in
		}
	}
	f.Resize, _ = strconv.Atoi(get(keyResize))
	f.Resize = max(f.Resize, 0)
	if s := get(keyGraph); s != "" {
		if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(b) > 0 {
			f.Graph = b
		}
	}
	f.Mean, f.Std = parseFloats(get(keyMean)), parseFloats(get(keyStd))
	if len(f.Mean) != len(f.Std) {
		f.Mean, f.Std = nil, nil
	}
	return f
}

func parseFloats(s string) []float32 {
	if s == "" {
		return nil
	}
	var out []float32
	for _, p := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(p, 32)
		if err != nil {
			return nil
		}
		out = append(out, float32(v))
	}
	return out
}

// ReadFileInfo reads the FileInfo of the weights file at path from its
// header alone (weights.LoadMetadata), without reading its tensors. A
// PyTorch file describes nothing: its FileInfo is the zero value. An
// ONNX file's is what its metadata_props say (as fovea export writes
// them), its Model "onnx" and its Graph nil (the file is the graph).
func ReadFileInfo(path string) (FileInfo, error) {
	if IsONNX(path) {
		r, err := needGraphs(path)
		if err != nil {
			return FileInfo{}, err
		}
		meta, err := r.Metadata(path)
		if err != nil {
			return FileInfo{}, err
		}
		f := ParseFileInfo(meta)
		f.Model, f.Graph = ONNXModel, nil
		return f, nil
	}
	meta, err := weights.LoadMetadata(path)
	if err != nil {
		return FileInfo{}, err
	}
	return ParseFileInfo(meta), nil
}

//go:embed imagenet_classes.txt
var imagenetClasses string

// ImageNetClasses returns the 1000 ImageNet class names by label, as
// torchvision lists them (spaces written as underscores: tiger_cat), for
// 1000-class models whose files name no classes. The slice is new.
func ImageNetClasses() []string {
	return strings.Split(strings.TrimSuffix(imagenetClasses, "\n"), "\n")
}

// NamesFor returns the class names to show for a model of classes
// outputs: the file's when it names that many, ImageNet's for a
// 1000-class model whose file names none, else nil (classes print as
// their indices).
func (f FileInfo) NamesFor(classes int) []string {
	switch {
	case len(f.ClassNames) == classes:
		return f.ClassNames
	case classes == 1000:
		return ImageNetClasses()
	}
	return nil
}
