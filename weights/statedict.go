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
// tensor (Missing), tensors with no parameter (Unexpected), tensors of
// the wrong shape (Mismatched), each sorted by name, and the parameters
// the caller chose not to load (Skipped, see LoadOptions.Skip).
type Report struct {
	Missing    []string   // parameters the tensors lack
	Unexpected []string   // tensors no parameter is named for
	Mismatched []Mismatch // tensors of another shape than their parameter's
	Skipped    []string   // parameters left as they were on purpose (not a problem)
}

// OK reports whether every parameter was loaded or skipped on purpose and
// every tensor used.
func (r Report) OK() bool {
	return len(r.Missing) == 0 && len(r.Unexpected) == 0 && len(r.Mismatched) == 0
}

// String lists the problems, "" if there are none; skipped parameters
// are not problems and are not listed.
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
// parameters of one name are an error either way. LoadStateDictWith
// tolerates problems by name.
func LoadStateDict(params []nn.Param, tensors map[string]*tensor.Tensor, strict bool) (Report, error) {
	var o LoadOptions
	if !strict {
		o.Allow = func(string) bool { return true }
	}
	r, err := LoadStateDictWith(params, tensors, o)
	if err != nil {
		return r, fmt.Errorf("weights.LoadStateDict: %w", err)
	}
	return r, nil
}

// LoadOptions choose what LoadStateDictWith loads and tolerates.
type LoadOptions struct {
	// Skip selects parameters not to load even if their tensor fits (a
	// head to re-initialise for a new task): they keep their values, are
	// listed in Report.Skipped, and their tensors count as used. nil
	// skips none.
	Skip func(name string) bool
	// Allow selects the names whose problems are tolerated: a missing
	// parameter, an unexpected tensor or one of the wrong shape with an
	// allowed name is reported but does not stop the load. nil allows
	// none: the load is strict.
	Allow func(name string) bool
}

// LoadStateDictWith copies tensors into the parameters of the same
// names, as o says, and returns the Report of what did not match. It
// loads nothing unless every problem is allowed, and then returns an
// error listing the problems that are not. Two parameters of one name
// are an error.
func LoadStateDictWith(params []nn.Param, tensors map[string]*tensor.Tensor, o LoadOptions) (Report, error) {
	var r Report
	names := map[string]bool{}
	var load []nn.Param
	for _, p := range params {
		if names[p.Name] {
			return r, fmt.Errorf("the model has two parameters named %q", p.Name)
		}
		names[p.Name] = true
		t, ok := tensors[p.Name]
		want := p.Var.Value()
		switch {
		case o.Skip != nil && o.Skip(p.Name):
			r.Skipped = append(r.Skipped, p.Name)
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
	slices.Sort(r.Skipped)
	slices.SortFunc(r.Mismatched, func(a, b Mismatch) int { return strings.Compare(a.Name, b.Name) })
	if bad := r.unallowed(o.Allow); !bad.OK() {
		return r, fmt.Errorf("the state dict does not match the model: %s", bad)
	}
	for _, p := range load {
		if err := p.Var.Value().CopyFrom(tensors[p.Name]); err != nil {
			panic(err) // shapes were checked
		}
	}
	return r, nil
}

// unallowed returns the problems of r whose names allow does not select.
func (r Report) unallowed(allow func(string) bool) Report {
	if allow == nil {
		allow = func(string) bool { return false }
	}
	var bad Report
	for _, n := range r.Missing {
		if !allow(n) {
			bad.Missing = append(bad.Missing, n)
		}
	}
	for _, n := range r.Unexpected {
		if !allow(n) {
			bad.Unexpected = append(bad.Unexpected, n)
		}
	}
	for _, m := range r.Mismatched {
		if !allow(m.Name) {
			bad.Mismatched = append(bad.Mismatched, m)
		}
	}
	return bad
}
