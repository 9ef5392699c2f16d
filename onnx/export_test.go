package onnx

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/foveaml/fovea/models"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/tensor"
	"github.com/foveaml/fovea/weights"
)

// roundTripModels are the zoo models every test run exports; set
// FOVEA_ONNX_ALL=1 for the whole registry.
var roundTripModels = []string{"lenet5", "lenet5-classic", "lenet5-tanh", "resnet18_cifar", "alexnet_paper_groups", "googlenet", "googlenet_aux"}

// perturbStats gives every batch norm running statistics of its own,
// so that a mix-up of mean and variance, or of channels, shows.
func perturbStats(model nn.Layer, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 9))
	for _, b := range nn.BuffersOf(model) {
		d := b.Var.Value().Data()
		for i := range d {
			if strings.HasSuffix(b.Name, "running_var") {
				d[i] = 0.5 + r.Float32()
			} else {
				d[i] = 0.1 * float32(r.NormFloat64())
			}
		}
	}
}

// exportAndReload exports model, checks the file with onnx.checker when
// it is installed, and imports it again.
func exportAndReload(t *testing.T, name string, model nn.Layer, in []int) (*Model, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name+".onnx")
	meta := map[string]string{"model": name, "classes": "10"}
	if in == nil {
		in = nn.AboutOf(model).Input
	}
	if err := ExportFile(path, model, ExportOptions{Input: in, Metadata: meta}); err != nil {
		t.Fatal(err)
	}
	checkWithOnnxChecker(t, path)
	m, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if m.Metadata()["model"] != name || m.Metadata()["classes"] != "10" {
		t.Errorf("metadata after the round trip: %v", m.Metadata())
	}
	return m, path
}

// checkWithOnnxChecker runs onnx.checker (Debian's python3-onnx) on the
// file, with full shape inference, when it is there.
func checkWithOnnxChecker(t *testing.T, path string) {
	t.Helper()
	py := "/usr/bin/python3"
	if exec.Command(py, "-c", "import onnx").Run() != nil {
		t.Log("onnx.checker not run: /usr/bin/python3 has no onnx module (apt install python3-onnx)")
		return
	}
	out, err := exec.Command(py, "-c", "import onnx, sys; onnx.checker.check_model(sys.argv[1], full_check=True)", path).CombinedOutput()
	if err != nil {
		t.Errorf("onnx.checker rejects %s: %v\n%s", filepath.Base(path), err, out)
	}
}

func TestExportRoundTrip(t *testing.T) {
	names := roundTripModels
	if testing.Short() {
		names = names[:4]
	}
	if os.Getenv("FOVEA_ONNX_ALL") != "" {
		names = models.Names()
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			spec, err := models.Lookup(name)
			if err != nil {
				t.Fatal(err)
			}
			model, err := spec.New(models.Options{Classes: 10, Seed: 3})
			if err != nil {
				t.Fatal(err)
			}
			perturbStats(model, 4)
			back, _ := exportAndReload(t, name, model, spec.Input)
			x := tensor.RandNormal(rand.New(rand.NewPCG(5, 6)), 0, 1, append([]int{2}, spec.Input...)...)
			want, err := nn.NewPredictor(model).Logits(x)
			if err != nil {
				t.Fatal(err)
			}
			got, err := nn.NewPredictor(back).Logits(x)
			if err != nil {
				t.Fatal(err)
			}
			if e := relErr(got.Data(), want.Data()); e > 1e-5 {
				t.Errorf("import(export(%s)) differs from %s: relative error %.3g", name, name, e)
			} else {
				t.Logf("round trip: relative error %.2g", e)
			}
			// The parameters come back under their names.
			bp := map[string][]float32{}
			for _, p := range back.Params() {
				bp[p.Name] = p.Var.Value().Data()
			}
			// All but the auxiliary classifiers, which inference does not run.
			aux := nn.AboutOf(model).Aux
			for _, p := range model.Params() {
				if nn.MatchAny(aux, p.Name) {
					if _, ok := bp[p.Name]; ok {
						t.Errorf("auxiliary parameter %s was exported", p.Name)
					}
					continue
				}
				if d, ok := bp[p.Name]; !ok || len(d) != p.Var.Value().Len() {
					t.Fatalf("parameter %s did not come back (have %d values)", p.Name, len(d))
				}
			}
		})
	}
}

func TestExportDeterministic(t *testing.T) {
	spec, _ := models.Lookup("lenet5")
	model, _ := spec.New(models.Options{Seed: 1})
	var a, b bytes.Buffer
	if err := Export(&a, model, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := Export(&b, model, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two exports of one model differ")
	}
}

// TestReexportFixtures exports imported graphs (their gathers,
// broadcasts and element-wise Funcs included) and checks the file
// against PyTorch's output, imported again and in ONNX Runtime.
func TestReexportFixtures(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.onnx")
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".onnx")
		t.Run(name, func(t *testing.T) {
			m, err := Load(f)
			if err != nil {
				t.Fatal(err)
			}
			x := fixtureInput(t, name)
			ref, _, err := weights.Load("testdata/" + name + ".ref.safetensors")
			if err != nil {
				t.Fatal(err)
			}
			want := ref["output"].Data() // NCHW, as ONNX Runtime gives it
			back, path := exportAndReload(t, name, m, nil)
			got, err := nn.NewPredictor(back).Logits(x)
			if err != nil {
				t.Fatal(err)
			}
			if e := relErr(got.Data(), nchwToNHWCTensor(ref["output"]).Data()); e > 1e-5 {
				t.Errorf("re-exported %s: relative error %.3g against PyTorch", name, e)
			}
			if !ortAccepts(t, f, x) {
				t.Logf("ONNX Runtime refuses PyTorch's own %s (opset 9 and before: ceil_mode emulated with pads as large as the window); not run on the re-export", name)
				return
			}
			ort, _ := runORTIfThere(t, path, x)
			if ort != nil {
				if e := relErr(ort, want); e > 1e-5 {
					t.Errorf("ONNX Runtime on re-exported %s: relative error %.3g against PyTorch", name, e)
				}
			}
		})
	}
}
