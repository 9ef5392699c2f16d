package models

import (
	"fmt"
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

// Pretrained builds the zoo model called name ("" for the one the
// file's "model" metadata names) and loads the weights file at path into
// it: a fovea model file or checkpoint, or a torchvision or
// timm state dict saved as safetensors (its layout is detected; see
// WithLayout). Without WithClasses the model gets the file's number of
// classes (its "classes" metadata, else the size of its head's bias).
// It returns the model, its registry entry and the report of what did
// not match; anything the options do not allow is an error listing every
// problem, with nothing loaded.
func Pretrained(name, path string, opts ...PretrainedOption) (nn.Layer, Spec, weights.Report, error) {
	var cfg pretrainedConfig
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.newHead && cfg.classes < 1 && cfg.classes != 0 {
		return nil, Spec{}, weights.Report{}, fmt.Errorf("models.Pretrained: %d classes: want at least 1", cfg.classes)
	}
	tensors, meta, err := readWeights(path)
	if err != nil {
		return nil, Spec{}, weights.Report{}, err
	}
	if name == "" {
		if name = meta["model"]; name == "" {
			return nil, Spec{}, weights.Report{}, fmt.Errorf("models.Pretrained: %s names no model in its metadata; say which model it is for", path)
		}
	}
	spec, err := Lookup(name)
	if err != nil {
		return nil, spec, weights.Report{}, err
	}
	classes := cfg.classes
	if classes == 0 {
		probe, err := spec.New(Options{Seed: cfg.seed})
		if err != nil {
			return nil, spec, weights.Report{}, err
		}
		classes = fileClasses(probe, tensors, meta)
	}
	model, err := spec.New(Options{Classes: classes, Seed: cfg.seed})
	if err != nil {
		return nil, spec, weights.Report{}, err
	}
	r, err := loadPretrained(model, tensors, meta, cfg)
	if err != nil {
		return nil, spec, r, fmt.Errorf("%s into %s: %w", path, spec.Name, err)
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
	tensors, meta, err := readWeights(path)
	if err != nil {
		return weights.Report{}, err
	}
	r, err := loadPretrained(model, tensors, meta, cfg)
	if err != nil {
		return r, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
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

// readWeights reads a safetensors file; a fovea checkpoint yields its
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

// fileClasses returns the number of classes the weights were trained
// for: the "classes" metadata of a fovea file, else the length of the
// head's bias in the file, else 0 (the model's default).
func fileClasses(model nn.Layer, tensors map[string]*tensor.Tensor, meta map[string]string) int {
	if n, err := strconv.Atoi(meta["classes"]); err == nil && n > 0 {
		return n
	}
	if n, err := strconv.Atoi(meta["meta.classes"]); err == nil && n > 0 {
		return n
	}
	heads := nn.Heads(model)
	if len(heads) == 0 {
		return 0
	}
	main := heads[len(heads)-1]
	if t := tensors[main+".bias"]; t != nil && t.Rank() == 1 {
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
	layout := cfg.layout
	if layout == "" {
		layout = detectLayout(model, tensors, meta)
	}
	switch layout {
	case LayoutFovea:
	case LayoutTorch:
		tensors = FromTorchvision(model, tensors)
	default:
		return weights.Report{}, fmt.Errorf("layout %q: want %q or %q", layout, LayoutFovea, LayoutTorch)
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

// detectLayout tells a fovea file from a PyTorch one: by its metadata
// when that says (fovea's "model" or checkpoint format, PyTorch's
// "format": "pt"), else by which layout fits more of the model's
// parameter shapes.
func detectLayout(model nn.Layer, tensors map[string]*tensor.Tensor, meta map[string]string) string {
	switch {
	case meta["format"] == weights.CheckpointFormat || meta["model"] != "":
		return LayoutFovea
	case meta["format"] == "pt":
		return LayoutTorch
	}
	fits := func(ts map[string]*tensor.Tensor) int {
		n := 0
		for _, p := range nn.State(model) {
			if t := ts[p.Name]; t != nil && t.SameShape(p.Var.Value()) {
				n++
			}
		}
		return n
	}
	if fits(FromTorchvision(model, tensors)) > fits(tensors) {
		return LayoutTorch
	}
	return LayoutFovea
}
