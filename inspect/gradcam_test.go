package inspect

import (
	"math"
	"strings"
	"testing"

	"github.com/foveaml/fovea/models"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/tensor"
	"github.com/foveaml/fovea/weights"
)

// gradcamFixture loads testdata/gradcam.safetensors (gen_gradcam.py):
// torchvision's tiny CIFAR ResNet in fovea, the input and PyTorch's maps.
func gradcamFixture(t *testing.T) (nn.Layer, *tensor.Tensor, map[string]*tensor.Tensor) {
	t.Helper()
	ts, _, err := weights.Load("testdata/gradcam.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	fx := map[string]*tensor.Tensor{}
	for name, v := range ts {
		if strings.HasPrefix(name, "fixture.") {
			fx[strings.TrimPrefix(name, "fixture.")] = v
			delete(ts, name)
		}
	}
	m, err := models.NewResNet(models.ResNetConfig{Depth: 18, Width: 4, Blocks: []int{1, 1, 1, 1}, CIFAR: true, Classes: 10})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := models.LoadTorchvision(m, ts, true); err != nil {
		t.Fatal(err)
	}
	return m, fx["input"], fx
}

// near checks got against PyTorch's float64 want within 1e-4 of want's
// largest value (the maps' scale is arbitrary).
func near(t *testing.T, what string, got []float32, want *tensor.Tensor) {
	t.Helper()
	w := want.Data()
	if len(got) != len(w) {
		t.Fatalf("%s: %d values; want %d", what, len(got), len(w))
	}
	var top, worst float64
	for _, v := range w {
		top = max(top, math.Abs(float64(v)))
	}
	if top == 0 {
		t.Fatalf("%s: the reference map is all zeros; the fixture tests nothing", what)
	}
	for i := range w {
		worst = max(worst, math.Abs(float64(got[i]-w[i])))
	}
	t.Logf("%s: largest difference from PyTorch %.3g (maximum %.3g)", what, worst, top)
	if worst > 1e-4*top {
		t.Errorf("%s: differs from PyTorch's by up to %.3g (%.3g of its maximum %.3g)", what, worst, worst/top, top)
	}
}

func TestGradCAMMatchesPyTorch(t *testing.T) {
	m, x, fx := gradcamFixture(t)
	for _, c := range []struct {
		layer string
		class int
		want  string
	}{
		{"layer4", -1, "cam.layer4.top"},
		{"layer4", 4, "cam.layer4.class4"},
		{"layer3", 4, "cam.layer3.class4"},
	} {
		cam, err := GradCAM(m, x, c.layer, c.class)
		if err != nil {
			t.Fatal(err)
		}
		want := fx[c.want]
		if cam.H != want.Dim(0) || cam.W != want.Dim(1) {
			t.Fatalf("%s: map %d×%d; want %v", c.want, cam.H, cam.W, want.Shape())
		}
		near(t, c.want, cam.Values, want)
		near(t, c.want+" logits", cam.Logits, fx["logits"])
		if c.class < 0 && cam.Class != argmax(fx["logits"].Data()) {
			t.Errorf("top class %d; PyTorch's is %d", cam.Class, argmax(fx["logits"].Data()))
		}
	}
	// The model's own gradients and trainability are left alone.
	for _, p := range m.Params() {
		if !p.Var.RequiresGrad() || p.Var.Grad() != nil {
			t.Fatalf("%s: requires grad %v, gradient %v after GradCAM; want trainable with none", p.Name, p.Var.RequiresGrad(), p.Var.Grad() != nil)
		}
	}
}

func TestSaliencyMatchesPyTorch(t *testing.T) {
	m, x, fx := gradcamFixture(t)
	s, err := Saliency(m, x, -1)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "saliency", s.Values, fx["saliency.top"])
	var sum float32
	for _, p := range s.Probs {
		sum += p
	}
	if math.Abs(float64(sum-1)) > 1e-5 {
		t.Errorf("probabilities sum to %v", sum)
	}
}

func TestGradCAMErrors(t *testing.T) {
	m, x, _ := gradcamFixture(t)
	for _, c := range []struct {
		layer string
		class int
		x     *tensor.Tensor
		want  string
	}{
		{"layer9", -1, x, `calls no layer "layer9"; its top-level layers: conv1, bn1, relu, layer1, layer2, layer3, layer4, avgpool, fc`},
		{"fc", -1, x, `layer "fc" gives [1 10], not a map`},
		{"layer4", 10, x, "class 10: the model has 10 classes (0 to 9)"},
		{"layer4", -1, tensor.Zeros(2, 32, 32, 3), "want one example"},
		{"layer4", -1, tensor.Zeros(1, 32, 32, 1), "ag.Conv2D"},
	} {
		_, err := GradCAM(m, c.x, c.layer, c.class)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s class %d: error %v; want one containing %q", c.layer, c.class, err, c.want)
		}
	}
}

func TestLastConvStage(t *testing.T) {
	for name, want := range map[string]string{"resnet18": "layer4", "alexnet": "features", "googlenet": "inception5b", "lenet5": "features"} {
		spec, _ := models.Lookup(name)
		m, err := spec.New(models.Options{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := LastConvStage(m, spec.Input...)
		if err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", name, got, err, want)
		}
	}
	// VGG: features' 7×7 map, not the pooling or the classifier after it;
	// at 32×32 its 1×1 map is no map, and the error says to name a layer.
	vgg, err := models.NewVGG(models.VGGConfig{Depth: 11, Width: 16, Input: 224})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := LastConvStage(vgg, 224, 224, 3); err != nil || got != "features" {
		t.Errorf("vgg11: %q, %v; want features", got, err)
	}
	vgg, _ = models.NewVGG(models.VGGConfig{Depth: 11, Width: 16, Input: 32})
	if _, err := LastConvStage(vgg, 32, 32, 3); err == nil || !strings.Contains(err.Error(), "name one") {
		t.Errorf("vgg11 at 32×32: error %v; want one asking for a layer", err)
	}
}

func TestUpsampled(t *testing.T) {
	m := &Map{H: 2, W: 2, Values: []float32{0, 2, 4, 8}}
	got := m.Upsampled(4, 4)
	// PyTorch: F.interpolate(torch.tensor([[[[0., 2], [4, 8]]]]), size=4, mode="bilinear") / 8
	want := []float32{0, 0.5, 1.5, 2, 1, 1.625, 2.875, 3.5, 3, 3.875, 5.625, 6.5, 4, 5, 7, 8}
	for i := range want {
		if math.Abs(float64(got[i]-want[i]/8)) > 1e-6 {
			t.Fatalf("upsampled %v; want %v / 8", got, want)
		}
	}
}
