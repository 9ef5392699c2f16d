package models

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/tensor"
	"github.com/foveaml/fovea/weights"
)

// Layouts of a weights file, for WithLayout.
const (
	// LayoutFovea is fovea's own: HWIO filters, [in, out] dense weights
	// (files written by fovea train, weights.Save, checkpoints).
	LayoutFovea = "fovea"
	// LayoutTorch is PyTorch's: OIHW filters, [out, in] Linear weights
	// (torchvision's and timm's state dicts saved as safetensors).
	LayoutTorch = "torch"
)

// PretrainedOption tunes Pretrained and LoadPretrained.
type PretrainedOption func(*pretrainedConfig)

type pretrainedConfig struct {
	classes int      // 0: from the file
	newHead bool     // re-initialise the head layers
	allow   []string // name patterns whose problems are tolerated
	seed    uint64
	layout  string // "" detects
}

// WithClasses builds the model with n outputs and gives it a new head:
// the head layers (nn.Heads) are not loaded, whatever the file holds
// for them, and keep the fresh initialisation drawn from the seed, while
// everything else must load. This is how a 1000-class ImageNet
// checkpoint becomes the backbone of a 10-class model. With
// LoadPretrained, whose model is already built, n is not used but the
// head is still re-initialised.
func WithClasses(n int) PretrainedOption {
	return func(c *pretrainedConfig) { c.classes, c.newHead = n, true }
}

// NewHead re-initialises the head layers without changing the number of
// classes: a new task with as many classes as the old one.
func NewHead() PretrainedOption { return func(c *pretrainedConfig) { c.newHead = true } }

// AllowMissing tolerates problems with the tensors of the parameters
// that the patterns select (nn.MatchName patterns; "head" stands for the
// model's head layers, "*" for everything): missing, unexpected or of
// another shape, they are reported and the parameters keep their
// initial values. Without it the load is strict.
func AllowMissing(patterns ...string) PretrainedOption {
	return func(c *pretrainedConfig) { c.allow = append(c.allow, patterns...) }
}

// WithSeed seeds the initial weights of what is not loaded (Pretrained
// only; LoadPretrained's model is built already).
func WithSeed(seed uint64) PretrainedOption { return func(c *pretrainedConfig) { c.seed = seed } }

// WithLayout says which layout the file's tensors are in, LayoutFovea or
// LayoutTorch, instead of detecting it.
func WithLayout(layout string) PretrainedOption {
	return func(c *pretrainedConfig) { c.layout = layout }
}

// Pretrained builds the model of the weights file at path and loads the
// file into it. The file is a fovea model file or checkpoint, a
// torchvision or timm state dict saved as safetensors or with torch.save
// (.pth; its layout is detected; see WithLayout), an ONNX file, or a
// fovea file of an imported ONNX graph (one fine-tuned from an .onnx:
// its metadata carries the graph, FileInfo.Graph). The model is the zoo
// model called name, or with name "" the one the file is of: the model
// its "model" metadata names, or the ONNX graph (an onnx.Model, whose
// Spec is named ONNXModel and has the graph's input). Without
// WithClasses the model gets the file's number of classes (its "classes"
// metadata, else the size of its head's bias). It returns the model, its
// registry entry and the report of what did not match; anything the
// options do not allow is an error listing every problem, with nothing
// loaded. Reading ONNX graphs needs package onnx linked (SetGraphReader).
func Pretrained(name, path string, opts ...PretrainedOption) (nn.Layer, Spec, weights.Report, error) {
	var cfg pretrainedConfig
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.newHead && cfg.classes < 1 && cfg.classes != 0 {
		return nil, Spec{}, weights.Report{}, fmt.Errorf("models.Pretrained: %d classes: want at least 1", cfg.classes)
	}
	graph, tensors, meta, err := openWeights(path, &cfg)
	if err != nil {
		return nil, Spec{}, weights.Report{}, err
	}
	if graph != nil && (name == "" || name == ONNXModel) {
		return graphPretrained(graph, cfg) // an ONNX file: the graph is the model
	}
	model, spec, err := build(name, path, tensors, meta, cfg)
	if err != nil {
		return nil, spec, weights.Report{}, err
	}
	if spec.Name == ONNXModel && cfg.newHead {
		if _, err := newGraphHead(model, cfg.classes, cfg.seed); err != nil {
			return nil, spec, weights.Report{}, fmt.Errorf("%s: %w", path, err)
		}
	}
	r, err := loadPretrained(model, tensors, meta, cfg)
	if err != nil {
		into := spec.Name
		if into == ONNXModel {
			into = "its ONNX graph"
		}
		return nil, spec, r, fmt.Errorf("%s into %s: %w", path, into, err)
	}
	return model, spec, r, nil
}

// BuildForCheckpoint builds the model of ck, the checkpoint of a fovea
// run read from path, without loading its weights: the model called name,
// or with name "" the one its metadata names (a zoo model with the
// checkpoint's classes, or the ONNX graph it carries), its fresh weights
// drawn from seed. A run resumed from ck (train.Config.Resume) then loads
// the weights, once.
func BuildForCheckpoint(name, path string, ck *weights.Checkpoint, seed uint64) (nn.Layer, Spec, error) {
	return build(name, path, ck.Weights, ck.Meta, pretrainedConfig{seed: seed})
}

// build returns the model that the weights file at path, of the given
// tensors and metadata, is for: the zoo model called name (with name "",
// the one the metadata names) with cfg's classes, else the metadata's,
// else as many as the file's head has; or the ONNX graph the metadata
// carries, shaped after the tensors.
func build(name, path string, tensors map[string]*tensor.Tensor, meta map[string]string, cfg pretrainedConfig) (nn.Layer, Spec, error) {
	if name == "" || name == ONNXModel {
		if name = ParseFileInfo(meta).Model; name == "" { // a checkpoint's is "meta.model"
			return nil, Spec{}, fmt.Errorf("models.Pretrained: %s names no model in its metadata; say which model it is for", path)
		}
	}
	if name == ONNXModel {
		model, err := fromGraph(path, meta, tensors)
		if err != nil {
			return nil, Spec{}, err
		}
		return model, graphSpec(model), nil
	}
	spec, err := Lookup(name)
	if err != nil {
		return nil, spec, err
	}
	// The model is built for the file's classes: those its metadata
	// names, else the default's, rebuilt only if the file's head says
	// otherwise (a state dict of another task with no metadata).
	classes := cfg.classes
	if classes == 0 {
		classes = metaClasses(meta)
	}
	model, err := spec.New(Options{Classes: classes, Seed: cfg.seed})
	if err != nil {
		return nil, spec, err
	}
	if classes == 0 {
		if n := headClasses(model, tensors); n > 0 && n != nn.Classes(model) {
			if model, err = spec.New(Options{Classes: n, Seed: cfg.seed}); err != nil {
				return nil, spec, err
			}
		}
	}
	return model, spec, nil
}

// graphPretrained is Pretrained of an ONNX file as its own model, its
// weights in it already: only a new head, if the options ask for one.
func graphPretrained(model nn.Layer, cfg pretrainedConfig) (nn.Layer, Spec, weights.Report, error) {
	spec := graphSpec(model)
	var r weights.Report
	if cfg.newHead {
		heads, err := newGraphHead(model, cfg.classes, cfg.seed)
		if err != nil {
			return nil, spec, r, err
		}
		for _, p := range nn.State(model) {
			if nn.MatchAny(heads, p.Name) {
				r.Skipped = append(r.Skipped, p.Name)
			}
		}
		slices.Sort(r.Skipped) // as weights reports them
	}
	return model, spec, r, nil
}

// LoadPretrained loads the weights file at path into model, as
// Pretrained does, and returns the report of what did not match.
func LoadPretrained(model nn.Layer, path string, opts ...PretrainedOption) (weights.Report, error) {
	var cfg pretrainedConfig
	for _, o := range opts {
		o(&cfg)
	}
	_, tensors, meta, err := openWeights(path, &cfg)
	if err != nil {
		return weights.Report{}, err
	}
	r, err := loadPretrained(model, tensors, meta, cfg)
	if err != nil {
		return r, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// openWeights reads the weights file at path: its tensors and metadata,
// and for an ONNX file its graph as a model too, whose state the tensors
// are (in fovea's layout, which cfg is then set to unless it says).
func openWeights(path string, cfg *pretrainedConfig) (nn.Layer, map[string]*tensor.Tensor, map[string]string, error) {
	if IsONNX(path) {
		g, ts, err := loadONNX(path)
		if err != nil {
			return nil, nil, nil, err
		}
		if cfg.layout == "" {
			cfg.layout = LayoutFovea
		}
		return g, ts, map[string]string{}, nil
	}
	ts, meta, err := readWeights(path)
	return nil, ts, meta, err
}

// LoadPretrainedTensors is LoadPretrained for tensors already read, with
// the file's metadata (which may be nil).
func LoadPretrainedTensors(model nn.Layer, tensors map[string]*tensor.Tensor, meta map[string]string, opts ...PretrainedOption) (weights.Report, error) {
	var cfg pretrainedConfig
	for _, o := range opts {
		o(&cfg)
	}
	return loadPretrained(model, tensors, meta, cfg)
}

// readWeights reads a weights file (safetensors, or PyTorch's .pth: see
// weights.Load); a fovea checkpoint yields its
// model weights (the optimiser state is dropped) and its metadata.
func readWeights(path string) (map[string]*tensor.Tensor, map[string]string, error) {
	ts, meta, err := weights.Load(path)
	if err != nil {
		return nil, nil, err
	}
	if meta["format"] != weights.CheckpointFormat {
		return ts, meta, nil
	}
	model := map[string]*tensor.Tensor{}
	for k, t := range ts {
		if name, ok := strings.CutPrefix(k, "model."); ok {
			model[name] = t
		}
	}
	return model, meta, nil
}

// metaClasses returns the number of classes a fovea file's metadata
// names (a model file's "classes", a checkpoint's "meta.classes"), or 0.
func metaClasses(meta map[string]string) int {
	for _, k := range []string{"classes", "meta.classes"} {
		if n, err := strconv.Atoi(meta[k]); err == nil && n > 0 {
			return n
		}
	}
	return 0
}

// headClasses returns the length of the bias of model's main head in
// tensors, or 0 if it has none there.
func headClasses(model nn.Layer, tensors map[string]*tensor.Tensor) int {
	heads := nn.Heads(model)
	if len(heads) == 0 {
		return 0
	}
	if t := tensors[heads[len(heads)-1]+".bias"]; t != nil && t.Rank() == 1 {
		return t.Dim(0)
	}
	return 0
}

// loadPretrained converts tensors to fovea's layout if they are in
// PyTorch's and loads them into model under cfg's rules.
func loadPretrained(model nn.Layer, tensors map[string]*tensor.Tensor, meta map[string]string, cfg pretrainedConfig) (weights.Report, error) {
	for _, p := range cfg.allow {
		if p == "head" {
			continue
		}
		if err := nn.CheckPattern(p); err != nil {
			return weights.Report{}, err
		}
	}
	layout, tensors, err := inLayout(model, tensors, meta, cfg.layout)
	if err != nil {
		return weights.Report{}, err
	}
	allow := nn.HeadPatterns(model, cfg.allow)
	heads := nn.Heads(model)
	o := weights.LoadOptions{Allow: func(name string) bool { return nn.MatchAny(allow, name) }}
	if cfg.newHead {
		o.Skip = func(name string) bool { return nn.MatchAny(heads, name) }
		// The old head's tensors are dropped with it.
		kept := make(map[string]*tensor.Tensor, len(tensors))
		for k, t := range tensors {
			if !nn.MatchAny(heads, k) {
				kept[k] = t
			}
		}
		tensors = kept
	}
	r, err := weights.LoadStateDictWith(nn.State(model), tensors, o)
	if err != nil {
		hint := `; AllowMissing("head") (--allow-missing head) loads the rest, WithClasses(n) (--classes N) gives the model a new head`
		return r, fmt.Errorf("%s weights: %w%s", layout, err, hint)
	}
	return r, nil
}

// inLayout returns tensors in fovea's layout and the layout they were
// in: layout if given, else detected — by the metadata when that says
// (fovea's "model" or checkpoint format, PyTorch's "format": "pt"), else
// by which layout fits more of the model's parameter shapes. Each tensor
// is converted at most once.
func inLayout(model nn.Layer, tensors map[string]*tensor.Tensor, meta map[string]string, layout string) (string, map[string]*tensor.Tensor, error) {
	if layout == "" {
		switch {
		case meta["format"] == weights.CheckpointFormat || meta["model"] != "":
			layout = LayoutFovea
		case meta["format"] == "pt":
			layout = LayoutTorch
		default:
			torch := FromTorchvision(model, tensors)
			if fits(model, torch) > fits(model, tensors) {
				return LayoutTorch, torch, nil
			}
			return LayoutFovea, tensors, nil
		}
	}
	switch layout {
	case LayoutFovea:
		return layout, tensors, nil
	case LayoutTorch:
		return layout, FromTorchvision(model, tensors), nil
	}
	return "", nil, fmt.Errorf("layout %q: want %q or %q", layout, LayoutFovea, LayoutTorch)
}

// fits counts the model's parameters and buffers whose tensor in ts has
// their shape.
func fits(model nn.Layer, ts map[string]*tensor.Tensor) int {
	n := 0
	for _, p := range nn.State(model) {
		if t := ts[p.Name]; t != nil && t.SameShape(p.Var.Value()) {
			n++
		}
	}
	return n
}
