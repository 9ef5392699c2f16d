package models

import (
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/tensor"
	"github.com/foveaml/fovea/weights"
)

// saveLeNet writes a 10-class LeNet-5 (seed 3) as fovea train does and
// returns it with the file's path.
func saveLeNet(t *testing.T, mutate func(map[string]*tensor.Tensor)) (nn.Layer, string) {
	t.Helper()
	m, err := NewLeNet5(LeNetConfig{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	sd := map[string]*tensor.Tensor{}
	for k, v := range weights.StateDict(nn.State(m)) {
		sd[k] = v.Clone()
	}
	if mutate != nil {
		mutate(sd)
	}
	path := filepath.Join(t.TempDir(), "lenet.safetensors")
	if err := weights.Save(path, sd, map[string]string{"model": "lenet5", "classes": "10"}); err != nil {
		t.Fatal(err)
	}
	return m, path
}

func values(m nn.Layer) map[string][]float32 {
	out := map[string][]float32{}
	for _, p := range nn.State(m) {
		out[p.Name] = slices.Clone(p.Var.Value().Data())
	}
	return out
}

// TestPretrainedNewHead loads a 10-class LeNet-5 into a 5-class one:
// the backbone is the file's, the head a fresh one, and the report lists
// the head as skipped and nothing else.
func TestPretrainedNewHead(t *testing.T) {
	src, path := saveLeNet(t, nil)
	want := values(src)
	m, spec, r, err := Pretrained("lenet5", path, WithClasses(5), WithSeed(9))
	if err != nil {
		t.Fatal(err)
	}
	if spec.Name != "lenet5" || !r.OK() || !slices.Equal(r.Skipped, []string{"classifier.5.bias", "classifier.5.weight"}) {
		t.Fatalf("spec %s, report %+v; want lenet5 with classifier.5 skipped", spec.Name, r)
	}
	for name, v := range values(m) {
		switch {
		case strings.HasPrefix(name, "classifier.5."):
			if slices.Equal(v, want[name]) || name == "classifier.5.weight" && len(v) != 84*5 {
				t.Errorf("%s: %d values, equal to the file's: want a new 84×5 head", name, len(v))
			}
		case !slices.Equal(v, want[name]):
			t.Errorf("%s was not loaded", name)
		}
	}
	// Without WithClasses the file's 10 classes and its head are kept.
	m, _, r, err = Pretrained("lenet5", path)
	if err != nil || !r.OK() || len(r.Skipped) != 0 {
		t.Fatalf("plain load: %v, %+v", err, r)
	}
	for name, v := range values(m) {
		if !slices.Equal(v, want[name]) {
			t.Errorf("plain load: %s differs from the file", name)
		}
	}
}

// TestPretrainedPartialReport checks that a strict load of a file with a
// missing, an unexpected and a wrongly shaped tensor fails naming each,
// and that allowing them loads the rest and reports exactly those.
func TestPretrainedPartialReport(t *testing.T) {
	src, path := saveLeNet(t, func(sd map[string]*tensor.Tensor) {
		delete(sd, "features.0.bias")
		sd["extra.weight"] = tensor.Zeros(3)
		sd["classifier.3.weight"] = tensor.Zeros(120, 42)
	})
	_, _, _, err := Pretrained("lenet5", path)
	if err == nil {
		t.Fatal("strict load succeeded")
	}
	for _, s := range []string{"1 missing (features.0.bias)", "1 unexpected (extra.weight)", "classifier.3.weight: model [120 84], file [120 42]", "--allow-missing head"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q lacks %q", err, s)
		}
	}
	m, _, r, err := Pretrained("lenet5", path, AllowMissing("features.0", "extra", "classifier.3"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Missing, []string{"features.0.bias"}) || !slices.Equal(r.Unexpected, []string{"extra.weight"}) ||
		len(r.Mismatched) != 1 || r.Mismatched[0].Name != "classifier.3.weight" || len(r.Skipped) != 0 {
		t.Errorf("report %+v", r)
	}
	want, got := values(src), values(m)
	for name := range want {
		loaded := slices.Equal(want[name], got[name])
		if loaded == (name == "features.0.bias" || name == "classifier.3.weight") {
			t.Errorf("%s loaded %v", name, loaded)
		}
	}
	if _, _, _, err := Pretrained("lenet5", path, AllowMissing("head")); err == nil || !strings.Contains(err.Error(), "features.0.bias") {
		t.Errorf("allowing only the head: %v", err)
	}
}

// toTorch returns a small ResNet's state in PyTorch's layout, as a
// torchvision checkpoint holds it.
func toTorch(m nn.Layer) map[string]*tensor.Tensor {
	out := map[string]*tensor.Tensor{}
	for _, p := range nn.State(m) {
		v := p.Var.Value()
		switch v.Rank() {
		case 4: // HWIO → OIHW
			out[p.Name] = permute4(v, 3, 2, 0, 1)
		case 2:
			out[p.Name] = transpose(v)
		default:
			out[p.Name] = v.Clone()
		}
		if strings.HasSuffix(p.Name, "running_var") {
			out[strings.TrimSuffix(p.Name, "running_var")+"num_batches_tracked"] = tensor.Zeros(1)
		}
	}
	return out
}

// TestPretrainedTorchLayout loads a 1000-class ResNet saved in PyTorch's
// layout into a 10-class one with a new head: the layout is detected, the
// backbone computes what the source's does, and only fc is skipped.
func TestPretrainedTorchLayout(t *testing.T) {
	src, err := NewResNet(ResNetConfig{Depth: 18, Width: 4, Classes: 1000, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, p := range nn.BuffersOf(src) { // non-trivial statistics
		for i, d := 0, p.Var.Value().Data(); i < len(d); i++ {
			d[i] = 0.5 + r.Float32()
		}
	}
	path := filepath.Join(t.TempDir(), "resnet.safetensors")
	if err := weights.Save(path, toTorch(src), nil); err != nil {
		t.Fatal(err)
	}
	dst, err := NewResNet(ResNetConfig{Depth: 18, Width: 4, Classes: 10, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadPretrained(dst, path); err == nil || !strings.Contains(err.Error(), "fc.weight: model [32 10], file [32 1000]") {
		t.Fatalf("strict load into 10 classes: %v", err)
	}
	rep, err := LoadPretrained(dst, path, WithClasses(10))
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || !slices.Equal(rep.Skipped, []string{"fc.bias", "fc.weight"}) {
		t.Fatalf("report %+v", rep)
	}
	x := tensor.Zeros(2, 32, 32, 3)
	for i, d := 0, x.Data(); i < len(d); i++ {
		d[i] = r.Float32()
	}
	feat := func(m nn.Layer) []float32 {
		tp := ag.NewTape()
		tp.SetGradEnabled(false)
		_, in, err := nn.Capture(tp, m, "fc", ag.Const(x))
		if err != nil {
			t.Fatal(err)
		}
		return slices.Clone(in.Value().Data())
	}
	if a, b := feat(src), feat(dst); !slices.Equal(a, b) {
		t.Errorf("features differ after loading: %v vs %v", a[:4], b[:4])
	}
}

// TestFreezePolicies checks FreezeUpTo, FreezeAllButHead, ApplyFreeze and
// their errors on a ResNet, and the summary's counts.
func TestFreezePolicies(t *testing.T) {
	m, err := NewResNet(ResNetConfig{Depth: 18, Width: 4, Classes: 10, CIFAR: true})
	if err != nil {
		t.Fatal(err)
	}
	trains := func() (names []string) {
		for _, p := range m.Params() {
			if p.Trainable() {
				names = append(names, p.Name)
			}
		}
		return names
	}
	if err := nn.FreezeUpTo(m, "layer3"); err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Params() {
		frozen := !strings.HasPrefix(p.Name, "layer4.") && !strings.HasPrefix(p.Name, "fc.")
		if p.Trainable() == frozen {
			t.Errorf("FreezeUpTo(layer3): %s trainable %v", p.Name, p.Trainable())
		}
	}
	before := trains()
	err = nn.FreezeUpTo(m, "layer9")
	if err == nil || !strings.Contains(err.Error(), `no layer "layer9"`) || !strings.Contains(err.Error(), "conv1, bn1, layer1, layer2, layer3, layer4, fc") {
		t.Errorf("bad layer: %v", err)
	}
	if !slices.Equal(before, trains()) {
		t.Error("a failed FreezeUpTo changed the model")
	}
	if err := nn.ApplyFreeze(m, "all-but-head"); err != nil || !slices.Equal(trains(), []string{"fc.weight", "fc.bias"}) {
		t.Errorf("all-but-head: %v, trains %v", err, trains())
	}
	info, err := nn.Summarize(m, 32, 32, 3)
	if err != nil {
		t.Fatal(err)
	}
	if info.Trainable != 32*10+10 || info.Frozen != info.Total-info.Trainable {
		t.Errorf("summary: %d trainable, %d frozen of %d", info.Trainable, info.Frozen, info.Total)
	}
	s, _ := nn.Summary(m, 32, 32, 3)
	if !strings.Contains(s, "Trains") || !strings.Contains(s, "Frozen params:") {
		t.Errorf("summary lacks the Trains column:\n%s", s)
	}
	if err := nn.ApplyFreeze(m, "match:layer[12]"); err != nil || slices.Contains(trains(), "layer1.0.conv1.weight") || !slices.Contains(trains(), "layer3.0.conv1.weight") {
		t.Errorf("match:layer[12]: %v, trains %v", err, trains())
	}
	if err := nn.ApplyFreeze(m, "up-to"); err == nil || !strings.Contains(err.Error(), "want none, all, all-but-head, up-to:LAYER or match:PATTERN") {
		t.Errorf("bad policy: %v", err)
	}
	if err := nn.ApplyFreeze(m, "none"); err != nil || len(trains()) != len(m.Params()) {
		t.Errorf("none: %v", err)
	}
	g, err := NewGoogLeNet(GoogLeNetConfig{AuxLogits: true, Classes: 3})
	if err != nil {
		t.Fatal(err)
	}
	if h := nn.Heads(g); !slices.Equal(h, []string{"aux1.fc2", "aux2.fc2", "fc"}) {
		t.Errorf("GoogLeNet heads %v", h)
	}
}

// TestBuildForCheckpoint builds the model a checkpoint names, with its
// classes, and leaves its weights to the resumed run: they are fresh,
// not the checkpoint's.
func TestBuildForCheckpoint(t *testing.T) {
	m, err := NewLeNet5(LeNetConfig{Classes: 4, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "checkpoint.safetensors")
	ck := &weights.Checkpoint{Weights: weights.StateDict(nn.State(m)), Meta: FileInfo{Model: "lenet5", Classes: 4}.Meta()}
	if err := weights.SaveCheckpoint(path, ck); err != nil {
		t.Fatal(err)
	}
	if ck, err = weights.LoadCheckpoint(path); err != nil {
		t.Fatal(err)
	}
	got, spec, err := BuildForCheckpoint("", path, ck, 2)
	if err != nil || spec.Name != "lenet5" || nn.Classes(got) != 4 {
		t.Fatalf("BuildForCheckpoint: %v, model %s of %d classes; want lenet5 of 4", err, spec.Name, nn.Classes(got))
	}
	w := got.Params()[0]
	if slices.Equal(w.Var.Value().Data(), ck.Weights[w.Name].Data()) {
		t.Errorf("%s holds the checkpoint's values; want fresh ones, for the resumed run to load", w.Name)
	}
	delete(ck.Meta, "model")
	if _, _, err := BuildForCheckpoint("", path, ck, 2); err == nil || !strings.Contains(err.Error(), "names no model") {
		t.Errorf("a checkpoint naming no model: %v", err)
	}
}
