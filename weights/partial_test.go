package weights

import (
	"slices"
	"strings"
	"testing"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/tensor"
)

// TestPartialLoadReport loads a state dict with a missing, an
// unexpected, a wrongly shaped and a skipped tensor and checks that the
// report names exactly those, that a strict load changes nothing, and
// that a load allowing them loads exactly the rest.
func TestPartialLoadReport(t *testing.T) {
	mk := func() []nn.Param {
		return []nn.Param{
			{Name: "conv.weight", Var: ag.Param(tensor.Full(0, 3, 3, 1, 4))},
			{Name: "conv.bias", Var: ag.Param(tensor.Full(0, 4))},
			{Name: "fc.weight", Var: ag.Param(tensor.Full(0, 4, 2))},
			{Name: "fc.bias", Var: ag.Param(tensor.Full(0, 2))},
			{Name: "head.weight", Var: ag.Param(tensor.Full(0, 2, 2))},
		}
	}
	ts := map[string]*tensor.Tensor{
		"conv.weight": tensor.Full(1, 3, 3, 1, 4),
		// conv.bias missing
		"fc.weight":     tensor.Full(2, 4, 1000), // wrong shape
		"fc.bias":       tensor.Full(3, 2),
		"head.weight":   tensor.Full(4, 2, 2), // fits, but skipped
		"aux.fc.weight": tensor.Full(5, 7),    // unexpected
	}
	want := Report{
		Missing:    []string{"conv.bias"},
		Unexpected: []string{"aux.fc.weight"},
		Mismatched: []Mismatch{{Name: "fc.weight", Want: []int{4, 2}, Got: []int{4, 1000}}},
		Skipped:    []string{"head.weight"},
	}
	skip := func(n string) bool { return strings.HasPrefix(n, "head.") }
	check := func(what string, r Report) {
		t.Helper()
		if !slices.Equal(r.Missing, want.Missing) || !slices.Equal(r.Unexpected, want.Unexpected) || !slices.Equal(r.Skipped, want.Skipped) ||
			len(r.Mismatched) != 1 || r.Mismatched[0].Name != "fc.weight" || !slices.Equal(r.Mismatched[0].Want, []int{4, 2}) || !slices.Equal(r.Mismatched[0].Got, []int{4, 1000}) {
			t.Errorf("%s: report %+v; want %+v", what, r, want)
		}
	}
	values := func(ps []nn.Param) []float32 {
		var v []float32
		for _, p := range ps {
			v = append(v, p.Var.Value().Data()[0])
		}
		return v
	}

	// Strict: an error naming all three problems, nothing loaded.
	ps := mk()
	r, err := LoadStateDictWith(ps, ts, LoadOptions{Skip: skip})
	check("strict", r)
	if err == nil {
		t.Fatal("strict load of a mismatched state dict succeeded")
	}
	for _, s := range []string{"1 missing (conv.bias)", "1 unexpected (aux.fc.weight)", "fc.weight: model [4 2], file [4 1000]"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q lacks %q", err, s)
		}
	}
	if strings.Contains(err.Error(), "head.weight") {
		t.Errorf("error %q names the skipped parameter", err)
	}
	if v := values(ps); !slices.Equal(v, []float32{0, 0, 0, 0, 0}) {
		t.Errorf("a failed strict load changed the parameters: %v", v)
	}

	// Allowing only some of the problems is still an error, naming the rest.
	ps = mk()
	_, err = LoadStateDictWith(ps, ts, LoadOptions{Skip: skip, Allow: func(n string) bool { return strings.HasPrefix(n, "fc.") }})
	if err == nil || strings.Contains(err.Error(), "of another shape") || !strings.Contains(err.Error(), "conv.bias") || !strings.Contains(err.Error(), "aux.fc.weight") {
		t.Errorf("partly allowed: %v; want an error naming conv.bias and aux.fc.weight only", err)
	}

	// Everything allowed: the fitting tensors load, the rest stay.
	ps = mk()
	r, err = LoadStateDictWith(ps, ts, LoadOptions{Skip: skip, Allow: func(string) bool { return true }})
	if err != nil {
		t.Fatal(err)
	}
	check("allowed", r)
	if v := values(ps); !slices.Equal(v, []float32{1, 0, 0, 3, 0}) {
		t.Errorf("loaded values %v; want [1 0 0 3 0]", v)
	}
	if r.OK() || !strings.Contains(r.String(), "1 missing") {
		t.Errorf("OK %v, String %q", r.OK(), r)
	}
}
