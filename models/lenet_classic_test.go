package models

import (
	"context"
	"testing"

	"github.com/foveaml/fovea/data"
	"github.com/foveaml/fovea/datasets/mnist"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/optim"
	"github.com/foveaml/fovea/train"
)

func TestLeNet5ClassicStructure(t *testing.T) {
	m, err := NewLeNet5Classic(LeNetConfig{})
	if err != nil {
		t.Fatal(err)
	}
	info, err := nn.Summarize(m, 28, 28, 1)
	if err != nil {
		t.Fatal(err)
	}
	if info.Total != 61750 || info.Output[1] != 10 {
		t.Fatalf("summary %+v", info)
	}
	// 60 connections of Table I, 25 weights each, plus 16 biases.
	connections := 0
	for _, ins := range c3Inputs {
		connections += len(ins)
	}
	if connections != 60 {
		t.Fatalf("Table I has %d connections, want 60", connections)
	}
	nonzero := 0
	for _, v := range m.C3.Weight.Value().Data() {
		if v != 0 {
			nonzero++
		}
	}
	if nonzero != 60*25 {
		t.Fatalf("C3 has %d non-zero weights, want 1500", nonzero)
	}
}

// TestLeNet5ClassicTrains runs a short training on MNIST: the loss falls,
// and the weights outside Table I stay at zero.
func TestLeNet5ClassicTrains(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for a few seconds")
	}
	ds, err := mnist.Train()
	if err != nil {
		t.Fatal(err)
	}
	idx := make([]int, 2000)
	for i := range idx {
		idx[i] = i
	}
	sub, _ := data.Subset(ds, idx)
	m, _ := NewLeNet5Classic(LeNetConfig{Seed: 1})
	opt, _ := optim.NewAdam(m.Params(), optim.AdamConfig{LR: 2e-3})
	h, err := train.Fit(context.Background(), m, sub, train.Config{Epochs: 2, BatchSize: 32, Optimizer: opt, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if h.Epochs[1].Loss >= h.Epochs[0].Loss || h.Epochs[1].Acc < 0.7 {
		t.Fatalf("did not learn: %+v", h.Epochs)
	}
	mask := m.C3.mask.Value().Data()
	for i, v := range m.C3.Weight.Value().Data() {
		if mask[i] == 0 && v != 0 {
			t.Fatalf("C3 weight %d outside Table I moved to %v", i, v)
		}
	}
}
