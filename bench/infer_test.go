package main

import (
	"slices"
	"testing"

	"github.com/foveaml/fovea/models"
)

func TestParseORT(t *testing.T) {
	out := "noise\n" +
		`{"case": "infer_resnet50_b8_224", "layout": "onnxruntime", "value": 21.5, "min": 20.1, "max": 22.0, "unit": "img/s", "threads": 2}` + "\n" +
		`{"case": "infer_vgg16_b8_224", "value": 0}` + "\n" +
		`{"case": "infer_alexnet_b8_224", "layout": "onnxruntime", "value": 310.25}` + "\n"
	got := parseORT([]byte(out))
	want := map[string]float64{"infer_resnet50_b8_224": 21.5, "infer_alexnet_b8_224": 310.25}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %v, want %v", k, got[k], v)
		}
	}
	// The peers' case names are fovea's.
	if n := inferCaseName("googlenet"); n != "infer_googlenet_b8_224" {
		t.Errorf("case name %q", n)
	}
}

// TestInferModels checks that the models are registered with the input
// the peers use (building them would take gigabytes).
func TestInferModels(t *testing.T) {
	for _, n := range inferModels {
		s, err := models.Lookup(n)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(s.Input, []int{inferSize, inferSize, 3}) {
			t.Errorf("%s: input %v", n, s.Input)
		}
	}
}

// TestInferRunner runs a small model twice on the reused no-grad tape:
// the logits have the batch's shape and come out the same both times.
func TestInferRunner(t *testing.T) {
	run, err := inferRunner("lenet5", 3)
	if err != nil {
		t.Fatal(err)
	}
	y, err := run()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(y.Shape(), []int{3, 10}) {
		t.Fatalf("logits %v, want [3 10]", y.Shape())
	}
	first := slices.Clone(y.Data())
	y, err = run()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(first, y.Data()) {
		t.Errorf("second run's logits differ:\n%v\n%v", first, y.Data())
	}
	if _, err := inferRunner("no-such-model", 1); err == nil {
		t.Error("unknown model: no error")
	}
}

// TestONNXRunner imports a small checked-in graph and runs it twice on
// the reused tape: the same logits both times, of the batch's shape.
func TestONNXRunner(t *testing.T) {
	run, load, err := onnxRunner("../onnx/testdata/ops_op13.onnx", 2)
	if err != nil {
		t.Fatal(err)
	}
	if load <= 0 {
		t.Errorf("import took %v", load)
	}
	y, err := run()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(y.Shape(), []int{2, 5}) {
		t.Fatalf("output %v, want [2 5]", y.Shape())
	}
	first := slices.Clone(y.Data())
	if y, err = run(); err != nil || !slices.Equal(y.Data(), first) {
		t.Fatalf("second run differs (%v)", err)
	}
	if n := onnxCaseName("vgg16"); n != "onnx_vgg16_b8_224" {
		t.Errorf("case name %q", n)
	}
}
