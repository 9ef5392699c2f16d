package models

import (
	"slices"
	"strings"
	"testing"

	"github.com/foveaml/fovea/nn"
)

// TestRegistry builds every registered model at its default classes,
// runs it once on its natural input (nn.Summarize) and checks its output
// shape and, for the zoo's models, its parameter count against
// torchvision's (torchvisionParams).
func TestRegistry(t *testing.T) {
	for _, name := range Names() {
		s, err := Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		m, err := s.New(Options{Seed: 1})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		info, err := nn.Summarize(m, s.Input...)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		classes := 1000
		if strings.HasSuffix(name, "_cifar") || strings.HasPrefix(name, "lenet") {
			classes = 10
		}
		if !slices.Equal(info.Output, []int{1, classes}) {
			t.Errorf("%s: output %v, want [1 %d]", name, info.Output, classes)
		}
		if want, ok := torchvisionParams[name]; ok && info.Total != want {
			t.Errorf("%s: %d parameters, torchvision's has %d", name, info.Total, want)
		} else if !ok && !strings.HasPrefix(name, "lenet") {
			t.Errorf("%s: no parameter count to check in torchvisionParams", name)
		}
	}
	s, _ := Lookup("lenet5")
	m, err := s.New(Options{Classes: 7})
	if err != nil {
		t.Fatal(err)
	}
	if info, err := nn.Summarize(m, s.Input...); err != nil || info.Output[1] != 7 {
		t.Fatalf("lenet5 with 7 classes: %v, %v", info.Output, err)
	}
	if _, err := Lookup("resnet9000"); err == nil || !strings.Contains(err.Error(), "lenet5") {
		t.Fatalf("unknown model error %v should list the known names", err)
	}
}
