package nn_test

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/models"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/tensor"
)

// ResNet-50's four stages at 224×224, as timm's feature_info and
// torchvision's create_feature_extractor have them: told by Info and
// returned by Extract from one pass over a batch of two.
func TestFeatureExtractorResNet50Stages(t *testing.T) {
	m, err := models.NewResNet(models.ResNetConfig{Depth: 50})
	if err != nil {
		t.Fatal(err)
	}
	fx, err := nn.NewFeatureExtractor(m, nil, "layer1", "layer2", "layer3", "layer4")
	if err != nil {
		t.Fatal(err)
	}
	want := []nn.FeatureInfo{
		{Name: "layer1", Shape: []int{56, 56, 256}, Channels: 256, Stride: 4},
		{Name: "layer2", Shape: []int{28, 28, 512}, Channels: 512, Stride: 8},
		{Name: "layer3", Shape: []int{14, 14, 1024}, Channels: 1024, Stride: 16},
		{Name: "layer4", Shape: []int{7, 7, 2048}, Channels: 2048, Stride: 32},
	}
	got := fx.Info()
	if len(got) != len(want) {
		t.Fatalf("%d outputs; want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Name != want[i].Name || !slices.Equal(got[i].Shape, want[i].Shape) || got[i].Channels != want[i].Channels || got[i].Stride != want[i].Stride {
			t.Errorf("output %d: %+v; want %+v", i, got[i], want[i])
		}
	}
	outs, err := fx.Extract(tensor.RandNormal(rand.New(rand.NewPCG(2, 2)), 0, 1, 2, 224, 224, 3))
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != len(want) {
		t.Fatalf("Extract gave %d outputs; want %d", len(outs), len(want))
	}
	for i, o := range outs {
		if w := append([]int{2}, want[i].Shape...); !slices.Equal(o.Shape(), w) {
			t.Errorf("%s: Extract gave %v; want %v", want[i].Name, o.Shape(), w)
		}
	}
}

func tinyResNet(t *testing.T) *models.ResNet {
	t.Helper()
	m, err := models.NewResNet(models.ResNetConfig{Depth: 18, Width: 4, Blocks: []int{1, 1, 1, 1}, CIFAR: true, Classes: 5, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The extracted maps are the values the full model computes there, and
// the pass stops after the last one: the head never runs.
func TestFeatureExtractorValuesAndEarlyStop(t *testing.T) {
	m := tinyResNet(t)
	x := tensor.RandNormal(rand.New(rand.NewPCG(1, 1)), 0, 1, 2, 32, 32, 3)
	fx, err := nn.NewFeatureExtractor(m, nil, "layer4", "layer2") // any order
	if err != nil {
		t.Fatal(err)
	}
	outs, err := fx.Extract(x)
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"layer4", "layer2"} {
		next := map[string]string{"layer4": "avgpool", "layer2": "layer3"}[name]
		tp := ag.NewTape()
		tp.SetGradEnabled(false)
		_, in, err := nn.Capture(tp, m, next, ag.Const(x))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(in.Value().Data(), outs[i].Data()) {
			t.Errorf("%s: the extracted map differs from the input of %s in a whole pass", name, next)
		}
		tp.Reset()
	}
	tp := ag.NewTape()
	var seen []string
	c := &nn.Ctx{Tape: tp, Observe: func(call nn.LayerCall) *ag.Var {
		seen = append(seen, call.Path)
		return call.Out
	}}
	if _, err := fx.Forward(c, ag.Const(x)); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(seen, "fc") || slices.Contains(seen, "avgpool") {
		t.Errorf("the pass went on after layer4: %v", seen)
	}
	if c.Observe == nil || len(seen) == 0 || seen[len(seen)-1] != "layer4" {
		t.Errorf("the caller's observer was not kept, or did not see layer4 last: %v", seen)
	}
}

func TestFeatureExtractorErrors(t *testing.T) {
	m := tinyResNet(t)
	for _, c := range []struct {
		names []string
		in    []int
		want  string
	}{
		{[]string{"layer5"}, nil, `calls no layer "layer5"; its top-level layers: conv1, bn1, relu, layer1, layer2, layer3, layer4, avgpool, fc`},
		{[]string{"layer1", "layer1"}, nil, `layer "layer1" named twice`},
		{nil, nil, "no layer names"},
		{[]string{"layer1"}, []int{32, 32, 1}, "nn.FeatureExtractor: ag.Conv2D"},
	} {
		_, err := nn.NewFeatureExtractor(m, c.in, c.names...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v %v: error %v; want one containing %q", c.names, c.in, err, c.want)
		}
	}
}

// A layer's Leaf flag tells a convolution from the block around it.
func TestObserveLeaf(t *testing.T) {
	m := tinyResNet(t)
	tp := ag.NewTape()
	tp.SetGradEnabled(false)
	leaf := map[string]bool{}
	m.Forward(&nn.Ctx{Tape: tp, Observe: func(call nn.LayerCall) *ag.Var {
		leaf[call.Path] = call.Leaf
		return call.Out
	}}, ag.Const(tensor.Zeros(1, 32, 32, 3)))
	for name, want := range map[string]bool{"conv1": true, "layer1.0.conv2": true, "layer1.0": false, "layer2": false, "fc": true} {
		if got, ok := leaf[name]; !ok || got != want {
			t.Errorf("%s: leaf %v (seen %v); want %v", name, got, ok, want)
		}
	}
}

// Stage outputs leave the convolution units fused (fewer buffers, the
// same values); a name inside a unit, or an observer of the caller's,
// has them run layer by layer.
func TestFeatureExtractorFusesUnits(t *testing.T) {
	m := tinyResNet(t)
	x := ag.Const(tensor.RandNormal(rand.New(rand.NewPCG(1, 1)), 0, 1, 2, 32, 32, 3))
	peak := func(fx *nn.FeatureExtractor, observe bool) (int64, []float32) {
		tp := ag.NewTape()
		tp.SetGradEnabled(false)
		c := &nn.Ctx{Tape: tp}
		if observe {
			c.Observe = func(call nn.LayerCall) *ag.Var { return call.Out }
		}
		outs, err := fx.Forward(c, x)
		if err != nil {
			t.Fatal(err)
		}
		_, p := tp.Memory()
		return p, slices.Clone(outs[len(outs)-1].Value().Data())
	}
	stages, err := nn.NewFeatureExtractor(m, nil, "layer4")
	if err != nil {
		t.Fatal(err)
	}
	fused, a := peak(stages, false)
	unfused, b := peak(stages, true)
	if fused >= unfused {
		t.Errorf("stage layer4: %d bytes fused, %d layer by layer; want fewer fused", fused, unfused)
	}
	for i := range a {
		if d := a[i] - b[i]; d > 1e-5 || d < -1e-5 {
			t.Fatalf("value %d: fused %v, layer by layer %v", i, a[i], b[i])
		}
	}
	inner, err := nn.NewFeatureExtractor(m, nil, "layer4.0.bn1", "layer4")
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := peak(inner, false); p != unfused {
		t.Errorf("a batch norm named: %d bytes; want the layer-by-layer %d", p, unfused)
	}
}
