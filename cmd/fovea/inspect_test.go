package main

import (
	"encoding/csv"
	"encoding/json"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/foveaml/fovea/data"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/tensor"
	"github.com/foveaml/fovea/weights"
)

// pngSize returns a PNG file's size, failing the test if it is not one.
func pngSize(t *testing.T, path string) (int, int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c.Width, c.Height
}

func TestCompare(t *testing.T) {
	dir := t.TempDir()
	plot := filepath.Join(dir, "compare.png")
	status, out, errs := fovea("compare", "lenet5", "lenet5-classic", "--batch", "2", "--time", "1ms", "--json", "--plot", plot)
	if status != 0 {
		t.Fatalf("status %d: %s", status, errs)
	}
	var rows []compareRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(rows) != 2 || rows[0].Model != "lenet5" || rows[0].MACs != 416_520 || rows[0].Params != 61_706 {
		t.Fatalf("rows %+v", rows)
	}
	for _, r := range rows {
		if m := r.Measured; m == nil || !(m.InferenceImagesPerSec > 0) || !(m.TrainImagesPerSec > 0) || m.Batch != 2 || m.TrainPeakBytes <= m.TrainActivationBytes {
			t.Errorf("%s: measured %+v", r.Model, r.Measured)
		}
	}
	if w, h := pngSize(t, plot); w != 800 || h != 560 {
		t.Errorf("chart %d×%d", w, h)
	}
	status, out, _ = fovea("compare", "lenet5", "--no-measure")
	if status != 0 || !strings.Contains(out, "416,520") || strings.Contains(out, "img/s") {
		t.Errorf("--no-measure: status %d, output:\n%s", status, out)
	}
}

func TestCompareTrains(t *testing.T) {
	plot := filepath.Join(t.TempDir(), "acc.png")
	status, out, errs := fovea("compare", "lenet5", "--no-measure", "--data", "mnist", "--limit", "600", "--batch", "32", "--json", "--plot", plot)
	if status != 0 {
		t.Fatalf("status %d: %s", status, errs)
	}
	var rows []compareRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) != 1 {
		t.Fatalf("%v: %s", err, out)
	}
	// The per-layer rows are fovea summary --macs's, not compare's.
	if strings.Contains(out, `"layers"`) {
		t.Errorf("compare --json carries per-layer rows: %.200s", out)
	}
	// 600 digits, one epoch: better than chance, far from done.
	if tr := rows[0].Trained; tr == nil || tr.Examples != 600 || !(tr.Top1 > 0.2) || tr.Data != "mnist" || rows[0].Measured != nil {
		t.Errorf("trained %+v, measured %+v", rows[0].Trained, rows[0].Measured)
	}
	pngSize(t, plot)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"lenet5", "--data", "mnist", "--classes", "3", "--no-measure"}, "--data mnist has 10 classes but --classes is 3"},
		{[]string{"lenet5", "--plot-y", "accuracy", "--plot", plot}, "--plot-y accuracy needs --data"},
		{[]string{"lenet5", "--no-measure", "--plot", plot}, "drop --no-measure"},
		{[]string{"nonet"}, `unknown model "nonet"`},
		{[]string{"lenet5", "--batch", "0"}, "--batch 0"},
	} {
		status, _, errs := fovea(append([]string{"compare"}, c.args...)...)
		if status == 0 || !strings.Contains(errs, c.want) || strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: status %d, stderr %q; want one line containing %q", c.args, status, errs, c.want)
		}
	}
}

func TestSummaryMACs(t *testing.T) {
	status, out, _ := fovea("summary", "--macs", "lenet5")
	if status != 0 || !strings.Contains(out, "MACs per example:  416,520") || !strings.Contains(out, "240,000") {
		t.Errorf("status %d, output:\n%s", status, out)
	}
	status, out, _ = fovea("summary", "--macs", "--json", "lenet5")
	var p struct {
		Model string `json:"model"`
		MACs  int64  `json:"macs"`
	}
	if status != 0 || json.Unmarshal([]byte(out), &p) != nil || p.Model != "lenet5" || p.MACs != 416_520 {
		t.Errorf("--json: status %d, %+v from %s", status, p, out)
	}
}

func TestExplain(t *testing.T) {
	dir := t.TempDir()
	w := untrainedWeights(t, dir)
	a, b := filepath.Join(dir, "a.png"), filepath.Join(dir, "b.png")
	writeTestDigit(t, a, 0)
	writeTestDigit(t, b, 1)
	out := filepath.Join(dir, "cam.png")
	status, stdout, errs := fovea("explain", "--weights", w, a, b, "--out", out, "--json")
	if status != 0 {
		t.Fatalf("status %d: %s", status, errs)
	}
	var res struct {
		Results []explainResult `json:"results"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || len(res.Results) != 2 {
		t.Fatalf("%v: %s", err, stdout)
	}
	r := res.Results[0]
	if r.Layer != "features" || r.Map.H != 5 || r.Map.W != 5 || len(r.Top) != 3 || r.Class != r.Top[0].Class {
		t.Errorf("result %+v", r)
	}
	// Two rows of three 224×224 images, with captions.
	if w, h := pngSize(t, out); w < 3*224 || h < 2*224 {
		t.Errorf("sheet %d×%d", w, h)
	}
	status, stdout, errs = fovea("explain", "--weights", w, "--method", "saliency", "--class", "3", a, "--out", out)
	if status != 0 || !strings.Contains(stdout, "saliency class 3") {
		t.Errorf("saliency: status %d, %s%s", status, stdout, errs)
	}
	status, _, errs = fovea("explain", "--weights", w, "--layer", "features.0", a, "--out", out)
	if status != 0 {
		t.Errorf("--layer features.0: status %d, %s", status, errs)
	}
	// The same model as an ONNX graph, whose stages are its nodes: the
	// default is its last convolution, and features lists the nodes.
	graph := filepath.Join(dir, "lenet5.onnx")
	if st, o, e := fovea("export", "--weights", w, "--out", graph); st != 0 {
		t.Fatalf("export: status %d, %s%s", st, o, e)
	}
	status, stdout, errs = fovea("explain", "--weights", graph, a, "--out", out)
	if status != 0 || !strings.Contains(stdout, "grad-cam class") || !strings.Contains(stdout, " at features.3;") {
		t.Errorf("explain of the ONNX graph: status %d, %s%s; want Grad-CAM at features.3", status, stdout, errs)
	}
	status, stdout, errs = fovea("features", "--weights", graph)
	if status != 0 || !strings.Contains(stdout, "features.3     [10 10 16]") || !strings.Contains(stdout, "classifier.5") {
		t.Errorf("features of the ONNX graph: status %d, %s%s", status, stdout, errs)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{a}, "--weights is required"},
		{[]string{"--weights", w}, "no IMAGE"},
		{[]string{"--weights", w, "--method", "lime", a}, `--method "lime"`},
		{[]string{"--weights", w, "--layer", "nope", a}, `calls no layer "nope"; its top-level layers: features, classifier`},
		{[]string{"--weights", w, "--layer", "classifier.5", a}, "not a map"},
		{[]string{"--weights", w, "--class", "12", a}, "--class 12: the model has 10 classes"},
		{[]string{"--weights", w, "--class", "cat", a}, `--class "cat": not one of the 10 class names`},
		{[]string{"--weights", w, "--normalize", "imagenet", a}, "needs RGB input"},
		{[]string{"--weights", w, filepath.Join(dir, "missing.png")}, "missing.png"},
	} {
		status, _, errs := fovea(append([]string{"explain", "--out", out}, c.args...)...)
		if status == 0 || !strings.Contains(errs, c.want) || strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: status %d, stderr %q; want one line containing %q", c.args, status, errs, c.want)
		}
	}
}

func TestFeaturesAndEmbed(t *testing.T) {
	dir := t.TempDir()
	w := untrainedWeights(t, dir)
	a, b := filepath.Join(dir, "a.png"), filepath.Join(dir, "b.png")
	writeTestDigit(t, a, 0)
	writeTestDigit(t, b, 1)
	status, out, errs := fovea("features", "--model", "lenet5", "--json")
	var info struct {
		Features []nn.FeatureInfo `json:"features"`
	}
	if status != 0 || json.Unmarshal([]byte(out), &info) != nil || len(info.Features) != 2 || info.Features[0].Name != "features" || info.Features[0].Channels != 16 {
		t.Fatalf("features: status %d, %s%s", status, out, errs)
	}
	maps := filepath.Join(dir, "maps.png")
	if status, _, errs := fovea("features", "--weights", w, "--layer", "features.3", a, "--out", maps); status != 0 {
		t.Fatalf("maps: status %d, %s", status, errs)
	}
	pngSize(t, maps)
	filters := filepath.Join(dir, "filters.png")
	if status, out, errs := fovea("features", "--weights", w, "--filters", "--out", filters); status != 0 || !strings.Contains(out, "features.0: 6 of 6 filters") {
		t.Fatalf("filters: status %d, %s%s", status, out, errs)
	}
	pngSize(t, filters)

	emb := filepath.Join(dir, "emb.safetensors")
	if status, _, errs := fovea("embed", "--weights", w, "--layer", "features", a, b, "--out", emb, "--batch", "1"); status != 0 {
		t.Fatalf("embed: status %d, %s", status, errs)
	}
	ts, meta, err := weights.Load(emb)
	if err != nil {
		t.Fatal(err)
	}
	e := ts["embeddings"]
	if e == nil || e.Dim(0) != 2 || e.Dim(1) != 16 || meta["layer"] != "features" || !strings.Contains(meta["files"], "b.png") {
		t.Fatalf("embeddings %v, metadata %v", e, meta)
	}
	// The vectors are the layer's maps averaged over their positions.
	model := lenet(t, 10)
	wts, _, _ := weights.Load(w)
	if _, err := weights.LoadStateDict(nn.State(model), wts, true); err != nil {
		t.Fatal(err)
	}
	fx, err := nn.NewFeatureExtractor(model, nil, "features")
	if err != nil {
		t.Fatal(err)
	}
	px, err := data.LoadImage(b, 28, 28, 1)
	if err != nil {
		t.Fatal(err)
	}
	x, _ := tensor.FromSlice(px, 1, 28, 28, 1)
	got, err := fx.Extract(x)
	if err != nil {
		t.Fatal(err)
	}
	for k := range 16 {
		var mean float64
		for p := range 25 {
			mean += float64(got[0].Data()[p*16+k]) / 25
		}
		if math.Abs(mean-float64(e.Data()[16+k])) > 1e-5 {
			t.Fatalf("channel %d of b.png: %v; want the map's mean %v", k, e.Data()[16+k], mean)
		}
	}
	csvPath := filepath.Join(dir, "emb.csv")
	if status, _, errs := fovea("embed", "--weights", w, a, b, "--out", csvPath); status != 0 {
		t.Fatalf("embed csv: status %d, %s", status, errs)
	}
	f, err := os.Open(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil || len(recs) != 3 || len(recs[0]) != 17 || recs[2][0] != b {
		t.Fatalf("csv %v, %v", err, recs)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"embed", a}, "--weights is required"},
		{[]string{"embed", "--weights", w, "--out", "x.txt", a}, "want a .safetensors or .csv"},
		{[]string{"embed", "--weights", w, "--layer", "nope", a}, `calls no layer "nope"`},
		{[]string{"features"}, "--weights is required"},
		{[]string{"features", "--model", "lenet5", a}, "--layer: name the one layer"},
		{[]string{"features", "--model", "lenet5", "--layer", "classifier", a}, "gives a vector of 10"},
		{[]string{"features", "--model", "lenet5", "--filters", "--layer", "features.1"}, "is a ReLU, not a convolution"},
	} {
		status, _, errs := fovea(c.args...)
		if status == 0 || !strings.Contains(errs, c.want) || strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: status %d, stderr %q; want one line containing %q", c.args, status, errs, c.want)
		}
	}
}
