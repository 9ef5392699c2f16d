package weights

import (
	"reflect"
	"strings"
	"testing"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/tensor"
)

func model() []nn.Param {
	return []nn.Param{
		{Name: "conv1.weight", Var: ag.Param(tensor.Zeros(3, 3, 3, 8))},
		{Name: "fc.weight", Var: ag.Param(tensor.Zeros(8, 10))},
		{Name: "fc.bias", Var: ag.Param(tensor.Zeros(10))},
	}
}

func TestLoadStateDict(t *testing.T) {
	src := model()
	for i, p := range src {
		for j := range p.Var.Value().Data() {
			p.Var.Value().Data()[j] = float32(i + 1)
		}
	}
	sd := StateDict(src)
	dst := model()
	r, err := LoadStateDict(dst, sd, true)
	if err != nil || !r.OK() || r.String() != "" {
		t.Fatalf("%v %v", r, err)
	}
	sameTensors(t, StateDict(dst), sd)
	if StateDict(dst)["fc.bias"] == sd["fc.bias"] {
		t.Error("LoadStateDict did not copy")
	}

	// A pretrained backbone under a new head: fc has 1000 classes in the
	// file, and a tensor the model lacks.
	pre := map[string]*tensor.Tensor{
		"conv1.weight":     tensor.Full(5, 3, 3, 3, 8),
		"fc.weight":        tensor.Full(5, 8, 1000),
		"bn1.running_mean": tensor.Zeros(8),
	}
	want := Report{
		Missing:    []string{"fc.bias"},
		Unexpected: []string{"bn1.running_mean"},
		Mismatched: []Mismatch{{Name: "fc.weight", Want: []int{8, 10}, Got: []int{8, 1000}}},
	}
	dst = model()
	r, err = LoadStateDict(dst, pre, true)
	if !reflect.DeepEqual(r, want) {
		t.Errorf("report %+v, want %+v", r, want)
	}
	for _, s := range []string{"1 missing (fc.bias)", "1 unexpected (bn1.running_mean)", "fc.weight: model [8 10], file [8 1000]"} {
		if err == nil || !strings.Contains(err.Error(), s) {
			t.Errorf("strict error %v does not say %q", err, s)
		}
	}
	if dst[0].Var.Value().Data()[0] != 0 {
		t.Error("a failed strict load changed a parameter")
	}
	r, err = LoadStateDict(dst, pre, false)
	if err != nil || !reflect.DeepEqual(r, want) {
		t.Errorf("non-strict: %+v %v", r, err)
	}
	if dst[0].Var.Value().Data()[0] != 5 || dst[1].Var.Value().Data()[0] != 0 {
		t.Error("non-strict load did not load exactly the matching parameters")
	}
	_, err = LoadStateDict(append(model(), model()[0]), sd, false)
	if err == nil || !strings.Contains(err.Error(), `"conv1.weight"`) {
		t.Errorf("duplicate parameter: %v", err)
	}
}
