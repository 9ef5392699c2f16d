package nn

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/foveaml/fovea/ag"
)

// Heads returns the dotted names of model's head layers, the ones a new
// task replaces: its About().Heads if it tells them, else the layer that
// owns its last parameter ("fc" for a ResNet, "classifier.5" for LeNet-5,
// "classifier.6" for VGG and AlexNet). It returns nil for a model without
// parameters.
func Heads(model Layer) []string {
	if h := AboutOf(model).Heads; h != nil {
		return h
	}
	ps := model.Params()
	if len(ps) == 0 {
		return nil
	}
	return []string{layerOf(ps[len(ps)-1].Name)}
}

// Classes returns the number of outputs of model's main head (the last
// of Heads): the last dimension of its weight, as [in, out] dense weights
// and HWIO filters have it; 0 if it has none.
func Classes(model Layer) int {
	heads := Heads(model)
	if len(heads) == 0 {
		return 0
	}
	main := heads[len(heads)-1]
	for _, p := range model.Params() {
		if p.Name == main+".weight" {
			s := p.Var.Value().Shape()
			return s[len(s)-1]
		}
	}
	return 0
}

// layerOf returns the layer part of a parameter name: everything before
// its last dot ("layer1.0.conv1" of "layer1.0.conv1.weight").
func layerOf(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[:i]
	}
	return ""
}

// under reports whether the parameter name lies in the layer called
// layer (or is that very parameter): layer3 holds layer3.0.conv1.weight
// but not layer30.weight.
func under(name, layer string) bool {
	return name == layer || strings.HasPrefix(name, layer+".")
}

// MatchName reports whether the parameter called name is selected by
// pattern, a path.Match glob over dotted names ("layer[34]",
// "features.*", "*.bn1"): the pattern must match the whole name or one
// of its dotted prefixes, so "layer3" selects every parameter of layer3
// and "fc.bias" selects only that one. "head" is not special here (see
// HeadPatterns). A malformed pattern matches nothing; CheckPattern
// reports it.
func MatchName(pattern, name string) bool {
	for i := 0; i <= len(name); i++ {
		if i < len(name) && name[i] != '.' {
			continue
		}
		if ok, _ := path.Match(pattern, name[:i]); ok {
			return true
		}
	}
	return false
}

// CheckPattern reports a malformed name pattern.
func CheckPattern(pattern string) error {
	if pattern == "" {
		return fmt.Errorf("empty layer pattern")
	}
	if _, err := path.Match(pattern, ""); err != nil {
		return fmt.Errorf("layer pattern %q: %v", pattern, err)
	}
	return nil
}

// HeadPatterns returns patterns with each "head" replaced by the names of
// model's head layers (Heads), so that users may say "head" for whatever
// a model calls its classifier.
func HeadPatterns(model Layer, patterns []string) []string {
	var out []string
	for _, p := range patterns {
		if p == "head" {
			out = append(out, Heads(model)...)
			continue
		}
		out = append(out, p)
	}
	return out
}

// MatchAny reports whether name is selected by any of the patterns (see
// MatchName).
func MatchAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if MatchName(p, name) {
			return true
		}
	}
	return false
}

// FreezeAllButHead freezes every parameter of model except those of its
// head layers (Heads), which it makes trainable: the set-up for training
// a new classifier on a pretrained backbone. It returns the head names.
func FreezeAllButHead(model Layer) []string {
	heads := Heads(model)
	for _, p := range model.Params() {
		p.Var.SetRequiresGrad(MatchAny(heads, p.Name))
	}
	return heads
}

// FreezeUpTo freezes every parameter of model from the first up to and
// including those of the layer called name ("layer3", "features.3",
// "inception4a"), in the order of model.Params() (the order of the
// forward pass for the zoo's models), and makes the others trainable:
// fine-tuning the later layers while the early, generic ones stay fixed.
// A name that holds no parameter is an error listing the layers there
// are; nothing is changed then.
func FreezeUpTo(model Layer, name string) error {
	ps := model.Params()
	last := -1
	for i, p := range ps {
		if under(p.Name, name) {
			last = i
		}
	}
	if last < 0 {
		return fmt.Errorf("nn.FreezeUpTo: no layer %q with parameters in the model; its layers: %s", name, strings.Join(LayerNames(model), ", "))
	}
	for i, p := range ps {
		p.Var.SetRequiresGrad(i > last)
	}
	return nil
}

// FreezeMatching freezes (or, with frozen false, unfreezes) every
// parameter of model that pattern selects (see MatchName) and returns
// how many it selected; the others are left as they are. A malformed pattern, or one that selects nothing, is an error listing the
// model's layers; nothing is changed then.
func FreezeMatching(model Layer, pattern string, frozen bool) (int, error) {
	if err := CheckPattern(pattern); err != nil {
		return 0, fmt.Errorf("nn.FreezeMatching: %w", err)
	}
	var sel []*ag.Var
	for _, p := range model.Params() {
		if MatchName(pattern, p.Name) {
			sel = append(sel, p.Var)
		}
	}
	if len(sel) == 0 {
		return 0, fmt.Errorf("nn.FreezeMatching: %q selects no parameter; the model's layers: %s", pattern, strings.Join(LayerNames(model), ", "))
	}
	for _, v := range sel {
		v.SetRequiresGrad(!frozen)
	}
	return len(sel), nil
}

// ApplyFreeze sets which parameters of model train from a policy, as
// the command line takes it:
//
//	none            everything trains
//	all             nothing trains
//	all-but-head    only the head layers train (FreezeAllButHead)
//	up-to:LAYER     LAYER and everything before it is frozen (FreezeUpTo)
//	match:PATTERN   the parameters PATTERN selects are frozen, the rest train
//
// Anything else is an error naming the forms there are.
func ApplyFreeze(model Layer, policy string) error {
	kind, arg, _ := strings.Cut(policy, ":")
	switch {
	case policy == "none":
		Freeze(model, false)
		return nil
	case policy == "all":
		Freeze(model, true)
		return nil
	case policy == "all-but-head":
		FreezeAllButHead(model)
		return nil
	case kind == "up-to" && arg != "":
		return FreezeUpTo(model, arg)
	case kind == "match" && arg != "":
		Freeze(model, false)
		if _, err := FreezeMatching(model, arg, true); err != nil {
			return err
		}
		return nil
	}
	return fmt.Errorf("freeze policy %q: want none, all, all-but-head, up-to:LAYER or match:PATTERN", policy)
}

// LayerNames returns the names of the layers that own parameters
// directly (conv1, layer1.0.conv1, fc), in parameter order; a model with
// more than 24 of them is listed by its top-level layers instead
// (conv1, bn1, layer1, ...), which is what error messages want.
func LayerNames(model Layer) []string {
	var names, top []string
	for _, p := range model.Params() {
		l := layerOf(p.Name)
		if l == "" {
			l = p.Name
		}
		if len(names) == 0 || names[len(names)-1] != l {
			names = append(names, l)
		}
		t, _, _ := strings.Cut(p.Name, ".")
		if !slices.Contains(top, t) {
			top = append(top, t)
		}
	}
	if len(names) > 24 {
		return top
	}
	return names
}

// TrainableCount returns the number of trainable and frozen values among
// model's parameters.
func TrainableCount(model Layer) (trainable, frozen int) {
	for _, p := range model.Params() {
		if p.Trainable() {
			trainable += p.Var.Value().Len()
		} else {
			frozen += p.Var.Value().Len()
		}
	}
	return trainable, frozen
}
