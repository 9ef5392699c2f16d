package main

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/foveaml/fovea/weights"
)

// pretrainedLeNet saves an (untrained) 10-class LeNet-5 as fovea train
// would, of another seed than untrainedWeights', and returns its path.
func pretrainedLeNet(t *testing.T, dir string) string {
	return lenetFile(t, filepath.Join(dir, "pretrained.safetensors"), 4)
}

// changedTensors returns the names of the tensors that differ between
// two weights files.
func changedTensors(t *testing.T, a, b string) []string {
	t.Helper()
	ta, _, err := weights.Load(a)
	if err != nil {
		t.Fatal(err)
	}
	tb, _, err := weights.Load(b)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for k, v := range ta {
		if w := tb[k]; w == nil || !slices.Equal(v.Data(), w.Data()) {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	return names
}

// TestFinetune runs fovea finetune with a frozen backbone (on cached
// features) and with a backbone frozen up to a layer, checks the JSON
// summary and that exactly the unfrozen tensors changed, and that eval
// and predict take the result.
func TestFinetune(t *testing.T) {
	dir := t.TempDir()
	from := pretrainedLeNet(t, dir)
	run1 := filepath.Join(dir, "head")
	status, out, errs := fovea("finetune", "--from", from, "--classes", "10", "--limit", "300", "--epochs", "2",
		"--val-split", "0.2", "--lr", "0.01", "--out", run1, "--json")
	if status != 0 {
		t.Fatalf("finetune: status %d, %s", status, errs)
	}
	var res struct {
		Cached    bool `json:"cached_features"`
		Trainable int  `json:"trainable_params"`
		Frozen    int  `json:"frozen_params"`
		Load      struct {
			Reinit  []string `json:"reinitialised"`
			Missing []string `json:"missing"`
		} `json:"load"`
		Epochs  int     `json:"epochs"`
		Weights string  `json:"weights"`
		Top1    float64 `json:"test_top1"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out)
	}
	if !res.Cached || res.Trainable != 850 || res.Frozen != 61706-850 || res.Epochs != 2 ||
		!slices.Equal(res.Load.Reinit, []string{"classifier.5.bias", "classifier.5.weight"}) || len(res.Load.Missing) != 0 {
		t.Errorf("summary %+v", res)
	}
	if got := changedTensors(t, from, res.Weights); !slices.Equal(got, []string{"classifier.5.bias", "classifier.5.weight"}) {
		t.Errorf("changed tensors %v; want the head's only", got)
	}
	if status, _, errs := fovea("eval", "--weights", res.Weights, "--json"); status != 0 {
		t.Errorf("eval of the result: status %d, %s", status, errs)
	}
	if status, out, errs := fovea("predict", "--weights", res.Weights, "--n", "2"); status != 0 || strings.Count(out, "example") != 2 {
		t.Errorf("predict of the result: status %d, %q, %s", status, out, errs)
	}

	// Frozen up to features.3: the classifier trains, through the
	// backbone; the text output names the load and the counts.
	run2 := filepath.Join(dir, "upto")
	status, out, errs = fovea("finetune", "--from", from, "--freeze", "up-to:features.3", "--limit", "200", "--epochs", "2",
		"--warmup", "1", "--backbone-lr-scale", "0.1", "--out", run2, "--quiet")
	if status != 0 {
		t.Fatalf("finetune up-to: status %d, %s", status, errs)
	}
	for _, s := range []string{"every tensor loaded", "freeze up-to:features.3: 59,134 parameters train, 2,572 frozen", "test: 10000 examples"} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
	got := changedTensors(t, from, filepath.Join(run2, "model.safetensors"))
	if len(got) != 6 || slices.ContainsFunc(got, func(n string) bool { return strings.HasPrefix(n, "features.") }) {
		t.Errorf("changed tensors %v; want the classifier's six", got)
	}
}

// TestFinetuneResume: a fine-tuning run stopped after an epoch and
// resumed from its checkpoint ends with the weights of the run that was
// not stopped, on cached features and through the backbone.
func TestFinetuneResume(t *testing.T) {
	dir := t.TempDir()
	from := pretrainedLeNet(t, dir)
	for _, freeze := range []string{"all-but-head", "up-to:features.3"} {
		args := func(out string, epochs string, more ...string) []string {
			return append([]string{"finetune", "--freeze", freeze, "--limit", "200", "--epochs", epochs, "--schedule", "none",
				"--out", out, "--quiet"}, more...)
		}
		whole, parts := filepath.Join(dir, freeze+"-whole"), filepath.Join(dir, freeze+"-parts")
		ck := filepath.Join(parts, "checkpoint.safetensors")
		for _, a := range [][]string{args(whole, "2", "--from", from), args(parts, "1", "--from", from), args(parts, "2", "--resume", ck)} {
			if status, _, errs := fovea(a...); status != 0 {
				t.Fatalf("%v: status %d, %s", a, status, errs)
			}
		}
		if got := changedTensors(t, filepath.Join(whole, "model.safetensors"), filepath.Join(parts, "model.safetensors")); len(got) != 0 {
			t.Errorf("--freeze %s: the resumed run ends with other %v than the whole run", freeze, got)
		}
	}
}

// TestFinetuneMistakes checks that each mistake gives one clear line
// and a non-zero status.
func TestFinetuneMistakes(t *testing.T) {
	dir := t.TempDir()
	from := pretrainedLeNet(t, dir)
	out := filepath.Join(dir, "out")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{}, "--from is required"},
		{[]string{"--from", from, "--freeze", "up-to:layer9"}, `no layer "layer9" with parameters in the model; its layers: features.0, features.3, classifier.1`},
		{[]string{"--from", from, "--freeze", "sideways"}, "want none, all, all-but-head, up-to:LAYER or match:PATTERN"},
		{[]string{"--from", from, "--freeze", "all"}, "leaves nothing to train"},
		{[]string{"--from", from, "--classes", "5"}, "--data mnist has 10 classes but the model has 5 outputs: give it a new head with --classes 10"},
		{[]string{"--from", from, "--model", "lenet5-classic"}, "does not match the model"},
		{[]string{"--from", from, "--allow-missing", "features.["}, "--allow-missing: layer pattern"},
		{[]string{"--from", from, "--unfreeze", "0:features.0"}, "want EPOCH:LAYER steps"},
		{[]string{"--from", from, "--cache", "maybe"}, `--cache "maybe": want auto, on or off`},
		{[]string{"--from", from, "--freeze", "none", "--cache", "on", "--limit", "50"}, "--cache on: train.FitHead: parameter features.0.weight, outside the head classifier.5, trains"},
		{[]string{"--from", filepath.Join(dir, "absent.safetensors")}, "absent.safetensors"},
	} {
		status, stdout, stderr := fovea(append([]string{"finetune", "--out", out, "--epochs", "1"}, c.args...)...)
		if status == 0 || !strings.Contains(stderr, c.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 && !strings.Contains(stderr, "Usage") {
			t.Errorf("%v: status %d, stderr %q (stdout %q); want an error saying %q", c.args, status, stderr, stdout, c.want)
		}
	}
}
