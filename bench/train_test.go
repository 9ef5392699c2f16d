package main

import (
	"testing"

	"github.com/foveaml/fovea/internal/gemm"
	"github.com/foveaml/fovea/models"
)

// TestSGDTrainer runs a few steps of every training case and checks that
// they train: the weights move.
func TestSGDTrainer(t *testing.T) {
	for _, c := range trainCases {
		steps := 3
		if c.name != "train-lenet5" {
			// A ResNet step takes seconds, minutes on the pure-Go kernels.
			if gemm.Default().Name == "generic" || testing.Short() {
				continue
			}
			steps = 1
		}
		step, err := c.setup()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		for range steps {
			if err := step(); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
		}
	}
	m, err := models.NewLeNet5(models.LeNetConfig{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	w := m.Params()[0].Var.Value().Data()
	before := w[0]
	step, err := sgdTrainer(m, 8, 28, 28, 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	if w[0] == before {
		t.Errorf("two SGD steps left the first weight at %v", before)
	}
}
