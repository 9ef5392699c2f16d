package weights

import (
	"fmt"
	"slices"
	"strings"

	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/tensor"
)

// StateDict maps a model's parameters by name onto their values, ready
// for Save. The tensors are the parameters' own, not copies.
func StateDict(params []nn.Param) map[string]*tensor.Tensor {
	m := make(map[string]*tensor.Tensor, len(params))
	for _, p := range params {
		m[p.Name] = p.Var.Value()
	}
	return m
}

// Mismatch is a tensor whose shape differs from its parameter's.
type Mismatch struct {
	Name      string // the parameter's name
	Want, Got []int  // the parameter's shape and the tensor's
}

// Report says how a state dict matched a model: parameters with no
// tensor (Missing), tensors with no parameter (Unexpected) and tensors
// of the wrong shape (Mismatched), each sorted by name.
type Report struct {
	Missing    []string   // parameters the tensors lack
	Unexpected []string   // tensors no parameter is named for
	Mismatched []Mismatch // tensors of another shape than their parameter's
}

// OK reports whether every parameter was loaded and every tensor used.
func (r Report) OK() bool {
	return len(r.Missing) == 0 && len(r.Unexpected) == 0 && len(r.Mismatched) == 0
}

// String lists the problems, "" if there are none.
func (r Report) String() string {
	var parts []string
	if len(r.Missing) > 0 {
		parts = append(parts, fmt.Sprintf("%d missing (%s)", len(r.Missing), strings.Join(r.Missing, ", ")))
	}
	if len(r.Unexpected) > 0 {
		parts = append(parts, fmt.Sprintf("%d unexpected (%s)", len(r.Unexpected), strings.Join(r.Unexpected, ", ")))
	}
	if len(r.Mismatched) > 0 {
		var ms []string
		for _, m := range r.Mismatched {
			ms = append(ms, fmt.Sprintf("%s: model %v, file %v", m.Name, m.Want, m.Got))
		}
		parts = append(parts, fmt.Sprintf("%d of another shape (%s)", len(r.Mismatched), strings.Join(ms, "; ")))
	}
	return strings.Join(parts, "; ")
}

// LoadStateDict copies tensors into the parameters of the same names
// and returns a Report of what did not match. Not strict, it loads
// every parameter whose tensor has its shape and skips the rest (unlike
// PyTorch, which refuses a shape mismatch even then): the way to load a
// pretrained backbone under a new head. Strict, it loads nothing unless
// everything matches, and returns an error listing every problem. Two
// parameters of one name are an error either way.
func LoadStateDict(params []nn.Param, tensors map[string]*tensor.Tensor, strict bool) (Report, error) {
	var r Report
	names := map[string]bool{}
	var load []nn.Param
	for _, p := range params {
		if names[p.Name] {
			return r, fmt.Errorf("weights.LoadStateDict: the model has two parameters named %q", p.Name)
		}
		names[p.Name] = true
		t, ok := tensors[p.Name]
		want := p.Var.Value()
		switch {
		case !ok:
			r.Missing = append(r.Missing, p.Name)
		case t == nil || !t.SameShape(want):
			var got []int
			if t != nil {
				got = t.Shape()
			}
			r.Mismatched = append(r.Mismatched, Mismatch{Name: p.Name, Want: want.Shape(), Got: got})
		default:
			load = append(load, p)
		}
	}
	for k := range tensors {
		if !names[k] {
			r.Unexpected = append(r.Unexpected, k)
		}
	}
	slices.Sort(r.Missing)
	slices.Sort(r.Unexpected)
	slices.SortFunc(r.Mismatched, func(a, b Mismatch) int { return strings.Compare(a.Name, b.Name) })
	if strict && !r.OK() {
		return r, fmt.Errorf("weights.LoadStateDict: the state dict does not match the model: %s", r)
	}
	for _, p := range load {
		if err := p.Var.Value().CopyFrom(tensors[p.Name]); err != nil {
			panic(err) // shapes were checked
		}
	}
	return r, nil
}
