package onnx

import (
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/models"
	"github.com/foveaml/fovea/nn"
	pb "github.com/foveaml/fovea/onnx/onnxpb"
	"github.com/foveaml/fovea/tensor"
	"github.com/foveaml/fovea/weights"
)

// nchwToNHWCTensor turns an NCHW tensor into fovea's NHWC.
func nchwToNHWCTensor(t *tensor.Tensor) *tensor.Tensor {
	if t.Rank() != 4 {
		return t
	}
	d, s := nchwToNHWC(t.Data(), t.Shape())
	out, _ := tensor.FromSlice(d, s...)
	return out
}

// relErr is max |got − want| over max |want|.
func relErr(got, want []float32) float64 {
	var d, m float64
	for i := range want {
		d = math.Max(d, math.Abs(float64(got[i])-float64(want[i])))
		m = math.Max(m, math.Abs(float64(want[i])))
	}
	return d / math.Max(m, 1e-30)
}

// checkParity runs the model at dir/name.onnx on its reference input and
// compares with PyTorch's output.
func checkParity(t *testing.T, path string, tol float64) (*Model, float64) {
	t.Helper()
	m, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ref, _, err := weights.Load(path[:len(path)-len(".onnx")] + ".ref.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	x := nchwToNHWCTensor(ref["input"])
	want := nchwToNHWCTensor(ref["output"])
	got, err := nn.NewPredictor(m).Logits(x)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if !got.SameShape(want) {
		t.Fatalf("%s: output %v, want %v", path, got.Shape(), want.Shape())
	}
	e := relErr(got.Data(), want.Data())
	if e > tol {
		t.Errorf("%s: relative error %.3g > %.0g", path, e, tol)
	}
	// The layer-by-layer path (as in training) agrees with the fused one.
	tp := ag.NewTape()
	y := m.Forward(&nn.Ctx{Tape: tp}, ag.Param(x))
	if tp.Err() != nil {
		t.Fatalf("%s unfused: %v", path, tp.Err())
	}
	if e2 := relErr(y.Value().Data(), want.Data()); e2 > tol {
		t.Errorf("%s unfused: relative error %.3g > %.0g", path, e2, tol)
	}
	return m, e
}

func TestFixtures(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.onnx")
	if len(files) == 0 {
		t.Fatal("no fixtures in testdata")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			_, e := checkParity(t, f, 1e-5)
			t.Logf("relative error %.2g", e)
		})
	}
}

// zooDir returns a directory of torchvision exports for the parity
// test: FOVEA_ONNX_ZOO, else a cache filled by testdata/gen_fixtures.py
// when /usr/bin/python3 has PyTorch (a few minutes, 900 MB, once).
func zooDir(t *testing.T, names []string) string {
	t.Helper()
	if d := os.Getenv("FOVEA_ONNX_ZOO"); d != "" {
		return d
	}
	if testing.Short() {
		t.Skip("torchvision parity skipped in -short mode")
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Skipf("torchvision parity skipped: no cache directory: %v", err)
	}
	dir := filepath.Join(cache, "fovea", "onnx-zoo")
	var missing []string
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(dir, n+".ref.safetensors")); err != nil {
			missing = append(missing, n)
		}
	}
	if len(missing) == 0 {
		return dir
	}
	if exec.Command("/usr/bin/python3", "-c", "import torch, torchvision").Run() != nil {
		t.Skip("torchvision parity skipped: /usr/bin/python3 has no torch and torchvision to export the models")
	}
	out, err := exec.Command("/usr/bin/python3", "testdata/gen_fixtures.py", "zoo", dir, strings.Join(missing, ",")).CombinedOutput()
	if err != nil {
		t.Fatalf("exporting %v with PyTorch: %v\n%s", missing, err, out)
	}
	return dir
}

func TestZooParity(t *testing.T) {
	names := []string{"resnet18", "resnet18_bn", "googlenet", "alexnet", "vgg11_bn"}
	dir := zooDir(t, names)
	for _, n := range names {
		t.Run(n, func(t *testing.T) {
			m, e := checkParity(t, filepath.Join(dir, n+".onnx"), 1e-4)
			t.Logf("%s: max|fovea-torch|/max|torch| = %.2g", n, e)
			if h := nn.Heads(m); len(h) != 1 || h[0] != "fc" && h[0] != "classifier.6" {
				t.Errorf("heads %v", h)
			}
			if n == "resnet18" || n == "resnet18_bn" {
				checkZooNames(t, m, n == "resnet18_bn")
			}
			// The graph a fine-tuned file carries rebuilds the model.
			st, _ := os.Stat(filepath.Join(dir, n+".onnx"))
			x := tensor.RandNormal(rand.New(rand.NewPCG(2, 3)), 0, 1, 1, 224, 224, 3)
			checkGraphRoundTrip(t, m, x, st.Size(), n)
		})
	}
}

// checkZooNames: an imported torchvision ResNet has torchvision's
// parameter names (the folded export's anonymous ones named after their
// layers), freezes by them, and with batch norms kept its state loads
// into fovea's own resnet18 to the same logits.
func checkZooNames(t *testing.T, m *Model, bn bool) {
	t.Helper()
	names := map[string]bool{}
	for _, p := range m.Params() {
		names[p.Name] = true
	}
	for _, want := range []string{"conv1.weight", "layer1.0.conv1.weight", "layer2.0.downsample.0.weight", "fc.weight", "fc.bias"} {
		if !names[want] {
			t.Errorf("no parameter %s", want)
		}
	}
	if err := nn.FreezeUpTo(m, "layer3"); err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Params() {
		if early := !strings.HasPrefix(p.Name, "layer4") && !strings.HasPrefix(p.Name, "fc"); early == p.Trainable() {
			t.Errorf("FreezeUpTo(layer3): %s trainable %v", p.Name, p.Trainable())
		}
	}
	nn.Freeze(m, false)
	if !bn {
		return
	}
	spec, err := models.Lookup("resnet18")
	if err != nil {
		t.Fatal(err)
	}
	zoo, err := spec.New(models.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := weights.LoadStateDict(nn.State(zoo), weights.StateDict(nn.State(m)), true); err != nil {
		t.Fatalf("the imported state does not load into fovea's resnet18: %v", err)
	}
	x := tensor.RandNormal(rand.New(rand.NewPCG(1, 1)), 0, 1, 2, 224, 224, 3)
	a, err := nn.NewPredictor(zoo).Logits(x)
	if err != nil {
		t.Fatal(err)
	}
	b, err := nn.NewPredictor(m).Logits(x)
	if err != nil {
		t.Fatal(err)
	}
	if e := relErr(b.Data(), a.Data()); e > 1e-5 {
		t.Errorf("fovea's resnet18 with the imported weights differs: relative error %.3g", e)
	}
}

// TestLaterOpsets: the fixture's ops mean the same up to opset 21, so
// the graph relabelled to opsets 18 and 21 gives PyTorch's output too;
// opset 22 is refused.
func TestLaterOpsets(t *testing.T) {
	b, err := os.ReadFile("testdata/ops_op17.onnx")
	if err != nil {
		t.Fatal(err)
	}
	x := fixtureInput(t, "ops_op17")
	ref, _, _ := weights.Load("testdata/ops_op17.ref.safetensors")
	for _, opset := range []int64{18, 21, 22} {
		mp := &pb.ModelProto{}
		if err := proto.Unmarshal(b, mp); err != nil {
			t.Fatal(err)
		}
		mp.OpsetImport[0].Version = proto.Int64(opset)
		mb, _ := proto.Marshal(mp)
		m, err := Read(mb)
		if opset > MaxOpset {
			if err == nil || !strings.Contains(err.Error(), "opset 22") {
				t.Errorf("opset 22: %v", err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		y, err := nn.NewPredictor(m).Logits(x)
		if err != nil {
			t.Fatal(err)
		}
		if e := relErr(y.Data(), ref["output"].Data()); e > 1e-5 {
			t.Errorf("opset %d: relative error %.3g", opset, e)
		}
	}
	if _, err := (Options{MaxBytes: 1000}).Read(b); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("a file over MaxBytes: %v", err)
	}
}
