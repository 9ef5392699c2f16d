package models

import (
	"strings"
	"testing"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/tensor"
)

func TestOptionErrors(t *testing.T) {
	for _, c := range []struct {
		build func() error
		want  string
	}{
		{func() error { _, err := NewResNet(ResNetConfig{Depth: 20}); return err }, "depth 20"},
		{func() error { _, err := NewResNet(ResNetConfig{Depth: 18, Blocks: []int{1, 2}}); return err }, "four stages"},
		{func() error { _, err := NewResNet(ResNetConfig{Depth: 18, Classes: -1}); return err }, "classes -1"},
		{func() error { _, err := NewVGG(VGGConfig{Depth: 12}); return err }, "depth 12"},
		{func() error { _, err := NewVGG(VGGConfig{Depth: 11, Input: 100}); return err }, "multiple of 32"},
		{func() error { _, err := NewVGG(VGGConfig{Depth: 11, Input: 64}); return err }, "2×2 map"},
		{func() error { _, err := NewAlexNet(AlexNetConfig{Input: 40}); return err }, "too small"},
		{func() error { _, err := NewAlexNet(AlexNetConfig{Input: 160}); return err }, "cannot map 4×4 to 6×6"},
		{func() error { _, err := NewAlexNet(AlexNetConfig{Classes: -3}); return err }, "-3 classes"},
		{func() error { _, err := NewGoogLeNet(GoogLeNetConfig{Classes: -2}); return err }, "-2 classes"},
		{func() error { _, err := NewGoogLeNet(GoogLeNetConfig{AuxLogits: true, Input: 96}); return err }, "6×6 map"},
	} {
		if err := c.build(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want one containing %q", err, c.want)
		}
	}
}

func TestSmallInputs(t *testing.T) {
	// VGG at 32×32 spreads its 1×1 map to 7×7; torchvision's AlexNet at
	// 63×63 likewise; the paper's AlexNet flattens what its input leaves.
	for _, c := range []struct {
		m  func() (nn.Layer, error)
		in []int
	}{
		{func() (nn.Layer, error) { return NewVGG(VGGConfig{Depth: 11, Input: 32, Width: 16, Classes: 10}) }, []int{32, 32, 3}},
		{func() (nn.Layer, error) { return NewAlexNet(AlexNetConfig{Input: 63, Classes: 10}) }, []int{63, 63, 3}},
		{func() (nn.Layer, error) { return NewAlexNet(AlexNetConfig{Paper: true, Input: 99, Classes: 10}) }, []int{99, 99, 3}},
		{func() (nn.Layer, error) {
			return NewResNet(ResNetConfig{Depth: 18, CIFAR: true, Width: 8, Classes: 10})
		}, []int{32, 32, 3}},
	} {
		m, err := c.m()
		if err != nil {
			t.Fatal(err)
		}
		info, err := nn.Summarize(m, c.in...)
		if err != nil || info.Output[1] != 10 {
			t.Fatalf("%T at %v: %v %v", m, c.in, info.Output, err)
		}
	}
}

// TestGoogLeNetAux checks that the auxiliary heads run only in training,
// and that the combined loss trains them.
func TestGoogLeNetAux(t *testing.T) {
	m, err := NewGoogLeNet(GoogLeNetConfig{AuxLogits: true, Classes: 5, Input: 128, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	x := ag.Const(tensor.RandNormal(newBuilder(1, 1).rng, 0, 1, 2, 128, 128, 3))
	tp := ag.NewTape()
	main, aux := m.ForwardAux(&nn.Ctx{Tape: tp, Train: true}, x)
	if err := tp.Err(); err != nil {
		t.Fatal(err)
	}
	if len(aux) != 2 || main.Shape()[1] != 5 || aux[0].Shape()[1] != 5 || aux[1].Shape()[1] != 5 {
		t.Fatalf("main %v, %d aux", main.Shape(), len(aux))
	}
	labels := []int32{1, 3}
	loss := tp.WeightedSum([]float32{1, 0.3, 0.3}, tp.SoftmaxCrossEntropy(main, labels, 0),
		tp.SoftmaxCrossEntropy(aux[0], labels, 0), tp.SoftmaxCrossEntropy(aux[1], labels, 0))
	if err := tp.Backward(loss); err != nil {
		t.Fatal(err)
	}
	for _, head := range []*InceptionAux{m.Aux1, m.Aux2} {
		g := head.FC2.Weight.Grad()
		var s float32
		for _, v := range g.Data() {
			s += v * v
		}
		if s == 0 {
			t.Error("an auxiliary head got no gradient")
		}
	}
	tp.Reset()
	if _, aux := m.ForwardAux(&nn.Ctx{Tape: tp}, x); aux != nil {
		t.Error("auxiliary logits at inference")
	}
	tp.Reset()
}

// TestGoogLeNetInputs checks the least input GoogLeNet admits: one pixel
// less is an error at construction, not a failure in the forward pass.
func TestGoogLeNetInputs(t *testing.T) {
	if _, err := NewGoogLeNet(GoogLeNetConfig{Classes: 3, Input: googLeNetMinInput - 1}); err == nil {
		t.Fatalf("input %d accepted", googLeNetMinInput-1)
	}
	m, err := NewGoogLeNet(GoogLeNetConfig{Classes: 3, Input: googLeNetMinInput})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nn.Summarize(m, googLeNetMinInput, googLeNetMinInput, 3); err != nil {
		t.Fatalf("input %d: %v", googLeNetMinInput, err)
	}
}
