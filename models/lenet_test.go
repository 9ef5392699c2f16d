package models

import (
	"strings"
	"testing"

	"github.com/foveaml/fovea/nn"
)

func TestLeNet5ParamsAndShapes(t *testing.T) {
	m, err := NewLeNet5(LeNetConfig{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := nn.Summary(m, 28, 28, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Total params:      61,706", "[N 14 14 6]", "[N 5 5 16]", "Output: [N 10]", "features.0"} {
		if !strings.Contains(s, want) {
			t.Fatalf("summary lacks %q:\n%s", want, s)
		}
	}
	names := map[string]bool{}
	for _, p := range m.Params() {
		names[p.Name] = true
	}
	for _, n := range []string{"features.0.weight", "features.3.bias", "classifier.1.weight", "classifier.5.bias"} {
		if !names[n] {
			t.Fatalf("no parameter %s in %v", n, names)
		}
	}
	if _, err := nn.Summary(m, 20, 20, 1); err == nil {
		t.Fatal("a 20×20 input fits LeNet-5's 400-wide dense layer?")
	}
}
