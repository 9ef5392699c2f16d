package models

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/tensor"
	"github.com/foveaml/fovea/weights"
)

// fixture splits a file written by testdata/gen_torchvision.py into the
// state dict and the input and logits.
func fixture(t *testing.T, path string) (state map[string]*tensor.Tensor, x, logits *tensor.Tensor) {
	t.Helper()
	ts, _, err := weights.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	x, logits = ts["fixture.input"], ts["fixture.logits"]
	if x == nil || logits == nil {
		t.Fatalf("%s lacks fixture.input or fixture.logits", path)
	}
	delete(ts, "fixture.input")
	delete(ts, "fixture.logits")
	return ts, x, logits
}

// compareLogits loads the fixture into m, runs it in inference mode and
// checks its logits against torchvision's: the largest difference at most
// 1e-4 of the largest torchvision logit.
func compareLogits(t *testing.T, m nn.Layer, path string) {
	t.Helper()
	state, x, want := fixture(t, path)
	if _, err := LoadTorchvision(m, state, true); err != nil {
		t.Fatal(err)
	}
	tp := ag.NewTape()
	tp.SetGradEnabled(false)
	defer tp.Reset()
	y := m.Forward(&nn.Ctx{Tape: tp}, ag.Const(x))
	if err := tp.Err(); err != nil {
		t.Fatal(err)
	}
	if !y.Value().SameShape(want) {
		t.Fatalf("logits %v, torchvision's %v", y.Shape(), want.Shape())
	}
	diff, scale := maxDiff(y.Value().Data(), want.Data())
	t.Logf("%s: max |Δlogit| %.3g, max |logit| %.3g, relative %.3g", filepath.Base(path), diff, scale, diff/scale)
	if diff > 1e-4*scale {
		t.Errorf("%s: logits differ from torchvision's by %.3g (relative %.3g > 1e-4)\ngot  %v\nwant %v",
			filepath.Base(path), diff, diff/scale, y.Value().Data(), want.Data())
	}
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func TestTorchvisionSmallFixtures(t *testing.T) {
	for _, c := range []struct {
		file  string
		model func() (nn.Layer, error)
	}{
		{"resnet_tiny_cifar", func() (nn.Layer, error) {
			return NewResNet(ResNetConfig{Depth: 18, Blocks: []int{1, 1, 1, 1}, Width: 4, CIFAR: true, Classes: 10})
		}},
		{"resnet_tiny_bottleneck", func() (nn.Layer, error) {
			return NewResNet(ResNetConfig{Depth: 50, Blocks: []int{1, 1, 1, 1}, Width: 4, Classes: 7})
		}},
		{"vgg11_bn_tiny", func() (nn.Layer, error) {
			return NewVGG(VGGConfig{Depth: 11, BatchNorm: true, Width: 32, Input: 32, Classes: 5})
		}},
	} {
		t.Run(c.file, func(t *testing.T) {
			compareLogits(t, must[nn.Layer](t)(c.model()), filepath.Join("testdata", c.file+".safetensors"))
		})
	}
}

func TestLoadTorchvisionStrict(t *testing.T) {
	state, _, _ := fixture(t, filepath.Join("testdata", "resnet_tiny_cifar.safetensors"))
	m := must[*ResNet](t)(NewResNet(ResNetConfig{Depth: 18, Blocks: []int{1, 1, 1, 1}, Width: 4, CIFAR: true, Classes: 9}))
	before := m.FC.Bias.Value().Clone()
	delete(state, "layer1.0.bn2.running_var")
	state["layer9.weight"] = tensor.Zeros(1)
	r, err := LoadTorchvision(m, state, true)
	if err == nil {
		t.Fatal("strict load of a mismatched state dict succeeded")
	}
	for _, want := range []string{"layer1.0.bn2.running_var", "layer9.weight", "fc.weight: model [32 9], file [32 10]", "fc.bias"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if len(r.Missing) != 1 || len(r.Unexpected) != 1 || len(r.Mismatched) != 2 {
		t.Errorf("report %+v", r)
	}
	if m.FC.Bias.Value().Data()[0] != before.Data()[0] || m.Conv1.Weight.Value().Data()[0] == state["conv1.weight"].Data()[0] {
		t.Error("a failed strict load changed the model")
	}
	// Not strict, everything that fits loads: the backbone under a new head.
	if _, err := LoadTorchvision(m, state, false); err != nil {
		t.Fatal(err)
	}
	if got, want := m.Conv1.Weight.Value().At(0, 0, 0, 1), state["conv1.weight"].At(1, 0, 0, 0); got != want {
		t.Errorf("conv1 HWIO[0,0,0,1] = %v, want OIHW[1,0,0,0] = %v", got, want)
	}
}

func TestPermute(t *testing.T) {
	x := tensor.Zeros(2, 3, 4, 5)
	for i := range x.Data() {
		x.Data()[i] = float32(i)
	}
	y := permute4(x, 2, 3, 1, 0)
	if s := y.Shape(); s[0] != 4 || s[1] != 5 || s[2] != 3 || s[3] != 2 || y.At(3, 1, 2, 1) != x.At(1, 2, 3, 1) {
		t.Fatalf("permute: shape %v, y[3,1,2,1] %v want %v", y.Shape(), y.At(3, 1, 2, 1), x.At(1, 2, 3, 1))
	}
	m, _ := tensor.FromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	if tr := transpose(m); tr.At(2, 1) != 6 || tr.At(0, 1) != 4 {
		t.Fatalf("transpose %v", tr)
	}
}

// TestTorchvisionBigModels compares full-size models with torchvision.
// Their weights are too big to check in, so the test makes the fixtures
// with PyTorch when /usr/bin/python3 has torch and torchvision, and skips
// otherwise. FOVEA_BIG_FIXTURES=1 adds alexnet and vgg11_bn at 224×224
// (about 0.8 GB of fixtures).
func TestTorchvisionBigModels(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: not building torchvision fixtures")
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import torch, torchvision").Run(); err != nil {
		t.Skip("no PyTorch and torchvision for /usr/bin/python3 (apt-get install python3-torch python3-torchvision): skipping the full-size torchvision comparisons")
	}
	cases := []struct {
		name  string
		model func() (nn.Layer, error)
	}{
		{"resnet18_cifar", func() (nn.Layer, error) { return NewResNet(ResNetConfig{Depth: 18, CIFAR: true, Classes: 10}) }},
		{"resnet50", func() (nn.Layer, error) { return NewResNet(ResNetConfig{Depth: 50}) }},
		{"resnet18", func() (nn.Layer, error) { return NewResNet(ResNetConfig{Depth: 18}) }},
		{"googlenet_aux", func() (nn.Layer, error) { return NewGoogLeNet(GoogLeNetConfig{AuxLogits: true}) }},
	}
	if os.Getenv("FOVEA_BIG_FIXTURES") == "1" {
		cases = append(cases, []struct {
			name  string
			model func() (nn.Layer, error)
		}{
			{"alexnet", func() (nn.Layer, error) { return NewAlexNet(AlexNetConfig{}) }},
			{"vgg11_bn", func() (nn.Layer, error) { return NewVGG(VGGConfig{Depth: 11, BatchNorm: true}) }},
		}...)
	}
	dir := t.TempDir()
	args := []string{filepath.Join("testdata", "gen_torchvision.py"), dir}
	for _, c := range cases {
		args = append(args, c.name)
	}
	if out, err := exec.Command("/usr/bin/python3", args...).CombinedOutput(); err != nil {
		t.Fatalf("gen_torchvision.py: %v\n%s", err, out)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			compareLogits(t, must[nn.Layer](t)(c.model()), filepath.Join(dir, c.name+".safetensors"))
		})
	}
	// torch.save's file, as a torchvision user has it, through Pretrained.
	_, x, want := fixture(t, filepath.Join(dir, "resnet18.safetensors"))
	m, _, _, err := Pretrained("resnet18", filepath.Join(dir, "resnet18.pth"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := nn.NewPredictor(m).Logits(x)
	if err != nil {
		t.Fatal(err)
	}
	if d, scale := maxDiff(got.Data(), want.Data()); d > 1e-4*scale {
		t.Errorf("resnet18.pth through Pretrained: logits differ from torchvision's by %.3g (relative %.3g > 1e-4)", d, d/scale)
	} else {
		t.Logf("resnet18.pth through Pretrained: max |Δlogit| %.3g, relative %.3g", d, d/scale)
	}
}

// maxDiff returns the largest |a−b| and the largest |b|.
func maxDiff(a, b []float32) (diff, scale float64) {
	for i, w := range b {
		diff = max(diff, math.Abs(float64(a[i]-w)))
		scale = max(scale, math.Abs(float64(w)))
	}
	return diff, scale
}
