package main

import (
	"encoding/base64"
	"encoding/json"
	"image"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/foveaml/fovea/models"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/onnx"
	"github.com/foveaml/fovea/serve"
	"github.com/foveaml/fovea/tensor"
	"github.com/foveaml/fovea/weights"
)

// tinyONNX is a small classifier exported by PyTorch (16×16 RGB, 3
// logits, batch norms kept): onnx/testdata/gen_fixtures.py tiny.
const tinyONNX = "../../onnx/testdata/tiny_cnn_op13.onnx"

// colourFolder writes an image folder of three classes told apart by
// their dominant channel (red, green, blue), noisy, in mixed sizes.
func colourFolder(t *testing.T, perClass int) string {
	t.Helper()
	root := t.TempDir()
	rng := rand.New(rand.NewPCG(5, 6))
	for ci, class := range []string{"blue", "green", "red"} {
		dir := filepath.Join(root, class)
		os.MkdirAll(dir, 0o755)
		ch := 2 - ci // blue is channel 2
		for i := range perClass {
			w, h := 16+rng.IntN(16), 16+rng.IntN(16)
			m := image.NewNRGBA(image.Rect(0, 0, w, h))
			for k := 0; k < len(m.Pix); k += 4 {
				for c := range 3 {
					m.Pix[k+c] = uint8(rng.IntN(90))
				}
				m.Pix[k+ch] = uint8(150 + rng.IntN(100))
				m.Pix[k+3] = 255
			}
			writePNG(t, filepath.Join(dir, string(rune('a'+i%26))+string(rune('a'+i/26))+".png"), m)
		}
	}
	return root
}

// runOutput runs fovea run on x with the weights file w and the extra
// flags, and returns the one tensor it writes (the logits, or a
// --layer's output).
func runOutput(t *testing.T, dir, w string, x *tensor.Tensor, extra ...string) *tensor.Tensor {
	t.Helper()
	in, out := filepath.Join(dir, "x.safetensors"), filepath.Join(dir, "y.safetensors")
	if err := weights.Save(in, map[string]*tensor.Tensor{"input": x}, nil); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"run", "--weights", w, "--input", in, "--output", out}, extra...)
	if st, o, e := fovea(args...); st != 0 {
		t.Fatalf("run --weights %s %v: status %d: %s%s", w, extra, st, o, e)
	}
	ts, _, err := weights.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 1 {
		t.Fatalf("run wrote %d tensors; want one", len(ts))
	}
	for _, v := range ts {
		return v
	}
	return nil
}

// TestFinetuneONNX: fovea finetune --from an .onnx trains the graph on
// new classes, and every file it writes (model, best, checkpoint) is
// read by every command that takes weights — eval, predict, run,
// summary, convert, explain, features, embed, serve, finetune --from and
// --resume — and exported as an ONNX file that gives run's logits.
func TestFinetuneONNX(t *testing.T) {
	dir := t.TempDir()
	data := colourFolder(t, 24)
	out := filepath.Join(dir, "ft")
	st, o, e := fovea("finetune", "--from", tinyONNX, "--classes", "3", "--data", data, "--epochs", "4", "--freeze", "none",
		"--lr", "0.02", "--batch", "16", "--val-split", "0.25", "--out", out, "--json")
	if st != 0 {
		t.Fatalf("finetune: status %d: %s%s", st, o, e)
	}
	var res struct {
		Model   string `json:"model"`
		Weights string `json:"weights"`
		History []struct{ Loss float64 }
		Load    struct {
			Reinit []string `json:"reinitialised"`
		} `json:"load"`
	}
	if err := json.Unmarshal([]byte(o), &res); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, o)
	}
	if res.Model != models.ONNXModel || len(res.History) != 4 || strings.Join(res.Load.Reinit, ",") != "fc.bias,fc.weight" {
		t.Errorf("finetune: %+v", res)
	}
	if first, last := res.History[0].Loss, res.History[len(res.History)-1].Loss; !(last < first) {
		t.Errorf("training loss went from %.4f to %.4f; want it to fall", first, last)
	}
	model, best, ck := filepath.Join(out, "model.safetensors"), filepath.Join(out, "best.safetensors"), filepath.Join(out, "checkpoint.safetensors")

	// The file carries the graph, small, and its preparation.
	info, err := models.ReadFileInfo(model)
	if err != nil {
		t.Fatal(err)
	}
	if info.Model != models.ONNXModel || info.Classes != 3 || len(info.Graph) == 0 || len(info.Graph) > 8000 ||
		strings.Join(info.ClassNames, ",") != "blue,green,red" || len(info.Input) != 3 || info.Input[0] != 16 || info.Normalize != "data" {
		t.Errorf("file info %+v (graph of %d bytes)", info, len(info.Graph))
	}

	// eval learned something: above chance (1/3) on the set.
	st, o, e = fovea("eval", "--weights", model, "--data", data, "--json")
	if st != 0 {
		t.Fatalf("eval: status %d: %s%s", st, o, e)
	}
	var ev struct{ Top1 float64 }
	json.Unmarshal([]byte(o), &ev)
	if ev.Top1 < 0.6 {
		t.Errorf("eval top-1 %.3f; want the colours learned (chance is 0.33)", ev.Top1)
	}
	red := filepath.Join(data, "red", "aa.png")
	for _, w := range []string{model, best, ck} {
		if st, o, e := fovea("predict", "--weights", w, red); st != 0 || !strings.Contains(o, "red") {
			t.Errorf("predict --weights %s: status %d: %s%s", filepath.Base(w), st, o, e)
		}
		if st, o, e := fovea("summary", "--weights", w); st != 0 || !strings.Contains(o, "ONNX graph") || !strings.Contains(o, "fc") {
			t.Errorf("summary --weights %s: status %d: %s%s", filepath.Base(w), st, o, e)
		}
	}

	// run on the fovea file and on its export give the same logits; the
	// export is an ONNX file onnx.Load reads to them too.
	x := tensor.RandNormal(rand.New(rand.NewPCG(1, 2)), 0, 1, 5, 3, 16, 16)
	a := runOutput(t, dir, model, x)
	exported := filepath.Join(dir, "ft.onnx")
	if st, o, e := fovea("export", "--weights", model, "--out", exported); st != 0 {
		t.Fatalf("export: status %d: %s%s", st, o, e)
	}
	g, err := onnx.Load(exported)
	if err != nil {
		t.Fatal(err)
	}
	if md := g.Metadata(); md["model"] != models.ONNXModel || md["classes"] != "3" || md["onnx_graph"] != "" {
		t.Errorf("the export's metadata_props %v", md)
	}
	nhwc := permute4(x, [4]int{0, 2, 3, 1})
	direct, err := nn.NewPredictor(g).Logits(nhwc)
	if err != nil {
		t.Fatal(err)
	}
	if s := a.Shape(); len(s) != 2 || s[0] != 5 || s[1] != 3 {
		t.Fatalf("run gives logits %v; want [5 3]", s)
	}
	for name, b := range map[string]*tensor.Tensor{"run on the export": runOutput(t, dir, exported, x), "onnx.Load of the export": direct} {
		num, den := 0.0, 0.0
		for i := range a.Data() {
			num = math.Max(num, math.Abs(float64(a.Data()[i]-b.Data()[i])))
			den = math.Max(den, math.Abs(float64(a.Data()[i])))
		}
		if !b.SameShape(a) || num > 1e-4*den {
			t.Errorf("%s: logits differ from run on the fovea file: %g of %g", name, num, den)
		}
	}
	for _, w := range []string{best, ck} {
		if st, o, e := fovea("export", "--weights", w, "--out", filepath.Join(dir, "other.onnx")); st != 0 {
			t.Errorf("export --weights %s: status %d: %s%s", filepath.Base(w), st, o, e)
		}
	}

	// convert keeps the graph; the inspection commands and serve read it.
	conv := filepath.Join(dir, "conv.safetensors")
	if st, o, e := fovea("convert", model, conv); st != 0 || !strings.Contains(o, "onnx, 3 classes") {
		t.Errorf("convert: status %d: %s%s", st, o, e)
	}
	if b := runOutput(t, dir, conv, x); !b.SameShape(a) || b.Data()[0] != a.Data()[0] {
		t.Errorf("the converted file gives other logits")
	}
	for _, args := range [][]string{
		{"explain", "--weights", model, "--out", filepath.Join(dir, "explain.png"), red},
		{"features", "--weights", model, "--layer", "conv2", "--out", filepath.Join(dir, "features.png"), red},
		{"embed", "--weights", model, "--out", filepath.Join(dir, "embed.csv"), red},
	} {
		if st, o, e := fovea(args...); st != 0 {
			t.Errorf("%s: status %d: %s%s", args[0], st, o, e)
		}
	}
	sm, err := serve.Load(model, "", "")
	if err != nil {
		t.Fatalf("serve.Load: %v", err)
	}
	if sm.Input != [3]int{16, 16, 3} || sm.Preprocessing == nil || sm.Meta["model"] != models.ONNXModel || sm.Meta["onnx_graph"] != "" {
		t.Errorf("served model: input %v, metadata %v", sm.Input, sm.Meta)
	}

	// finetune again from the fine-tuned file (a new head of 3), and
	// resume its checkpoint for one more epoch.
	again := filepath.Join(dir, "again")
	if st, o, e := fovea("finetune", "--from", best, "--classes", "3", "--data", data, "--epochs", "1", "--out", again, "--quiet"); st != 0 ||
		!strings.Contains(o, "new head (fc.bias, fc.weight)") {
		t.Errorf("finetune --from best: status %d: %s%s", st, o, e)
	}
	if st, o, e := fovea("finetune", "--resume", ck, "--data", data, "--epochs", "5", "--freeze", "none", "--lr", "0.02", "--batch", "16",
		"--val-split", "0.25", "--out", out, "--quiet"); st != 0 || !strings.Contains(o, "Epoch 5/5") && !strings.Contains(o, "wrote") {
		t.Errorf("finetune --resume: status %d: %s%s", st, o, e)
	}
	// The resumed run's files still say what it was fine-tuned from.
	if info, err := models.ReadFileInfo(model); err != nil || info.FinetunedFrom != tinyONNX {
		t.Errorf("after finetune --resume, %s says it was fine-tuned from %q (%v); want %s", model, info.FinetunedFrom, err, tinyONNX)
	}
	if st, _, e := fovea("train", "--resume", ck, "--data", data); st != 2 || !strings.Contains(e, "finetune --resume") {
		t.Errorf("train --resume of the checkpoint: status %d, %q; want it to point to finetune --resume", st, e)
	}
}

// TestFinetuneONNXBadFiles: a file whose graph is not base64 or not a
// graph, or whose tensors are not its graph's, gives one line naming
// what was expected and what was found, in every command.
func TestFinetuneONNXBadFiles(t *testing.T) {
	dir := t.TempDir()
	m, err := onnx.Load(tinyONNX)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.NewHead(2, 1); err != nil {
		t.Fatal(err)
	}
	info, err := models.FileInfo{Input: []int{16, 16, 3}, Normalize: "none"}.Of(m, models.Spec{Name: models.ONNXModel})
	if err != nil {
		t.Fatal(err)
	}
	state := weights.StateDict(nn.State(m))
	good := filepath.Join(dir, "good.safetensors")
	mustSave(t, good, state, info.Meta())
	write := func(name string, ts map[string]*tensor.Tensor, edit func(map[string]string)) string {
		meta := info.Meta()
		edit(meta)
		p := filepath.Join(dir, name)
		mustSave(t, p, ts, meta)
		return p
	}
	keep := func(map[string]string) {}
	notBase64 := write("not-base64.safetensors", state, func(m map[string]string) { m["onnx_graph"] = "%%% not base64 at all %%%" })
	noGraph := write("no-graph.safetensors", state, func(m map[string]string) { delete(m, "onnx_graph") })
	notGraph := write("not-graph.safetensors", state, func(m map[string]string) {
		m["onnx_graph"] = base64.StdEncoding.EncodeToString([]byte("\x08\x07\x12\x05not a graph"))
	})
	short := map[string]*tensor.Tensor{}
	for k, v := range state {
		short[k] = v
	}
	delete(short, "conv2.weight")
	missing := write("missing.safetensors", short, keep)
	other := map[string]*tensor.Tensor{}
	for k, v := range state {
		other[k] = v
	}
	other["conv1.weight"] = tensor.Zeros(3, 3, 3, 4)
	shape := write("shape.safetensors", other, keep)
	same := map[string]*tensor.Tensor{}
	for k, v := range state {
		same[k] = v
	}
	same["conv1.weight"] = tensor.Zeros(3, 3, 6, 4) // as many values, in another shape
	reshaped := write("reshaped.safetensors", same, keep)

	in := filepath.Join(dir, "x.safetensors")
	weights.Save(in, map[string]*tensor.Tensor{"input": tensor.Zeros(1, 3, 16, 16)}, nil)
	if st, o, e := fovea("run", "--weights", good, "--input", in, "--output", filepath.Join(dir, "y.safetensors")); st != 0 {
		t.Fatalf("the good file: status %d: %s%s", st, o, e)
	}
	for _, c := range []struct {
		file string
		want []string
	}{
		{notBase64, []string{`"onnx_graph"`, "not base64", "want the base64 of an ONNX graph"}},
		{noGraph, []string{`"onnx_graph"`, "missing"}},
		{notGraph, []string{`"onnx_graph"`, "not an ONNX graph"}},
		{missing, []string{`"conv2.weight"`, "[16 8 3 3]", "no tensor"}},
		{shape, []string{`"conv1.weight"`, "[8 3 3 3] (216 values)", "[3 3 3 4] (108 values)"}},
		{reshaped, []string{"conv1.weight", "[3 3 3 8]", "[3 3 6 4]"}},
	} {
		for _, args := range [][]string{
			{"eval", "--weights", c.file},
			{"predict", "--weights", c.file, filepath.Join(dir, "x.png")},
			{"run", "--weights", c.file, "--input", in, "--output", filepath.Join(dir, "y.safetensors")},
			{"export", "--weights", c.file, "--out", filepath.Join(dir, "y.onnx")},
			{"finetune", "--from", c.file, "--classes", "2", "--data", dir},
			{"summary", "--weights", c.file},
		} {
			st, _, e := fovea(args...)
			ok := st != 0 && strings.Count(strings.TrimSpace(e), "\n") == 0
			for _, w := range c.want {
				ok = ok && strings.Contains(e, w)
			}
			if !ok {
				t.Errorf("%s %s: status %d, stderr %q; want one line with %q", args[0], filepath.Base(c.file), st, e, c.want)
			}
		}
	}
}
