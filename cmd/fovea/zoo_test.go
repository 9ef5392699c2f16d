package main

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/foveaml/fovea/models"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/weights"
)

// TestZooFromCommandLine trains zoo models for two steps on an image
// folder of mixed files, at each model's own input size, then evaluates
// and predicts with what they wrote: each prints the folder's class
// names. By default it runs one model of each kind of input (28×28 grey,
// 32×32, 224 with GoogLeNet's auxiliary heads); FOVEA_ZOO=all runs every
// model of the registry (some minutes). googlenet_aux must train its
// auxiliary heads, which only their losses reach.
func TestZooFromCommandLine(t *testing.T) {
	if testing.Short() {
		t.Skip("trains zoo models at 224; skipped with -short")
	}
	names := []string{"lenet5-classic", "resnet18_cifar", "googlenet_aux"}
	if os.Getenv("FOVEA_ZOO") == "all" {
		names = models.Names()
	}
	photos := imageFolder(t, 2)
	img := filepath.Join(photos, "mid", "nested", "xb.jpeg")
	classes := []string{"bright", "dark", "mid"}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			out := t.TempDir()
			status, stdout, stderr := fovea("train", "--model", name, "--data", photos, "--epochs", "1", "--batch", "2",
				"--val-split", "0.34", "--out", out, "--quiet")
			if status != 0 {
				t.Fatalf("train: status %d: %s", status, stderr)
			}
			spec, _ := models.Lookup(name)
			if in := spec.Input; !strings.Contains(stdout, "×"+strconv.Itoa(in[2])) || !strings.Contains(stdout, strconv.Itoa(in[0])+"×"+strconv.Itoa(in[1])) {
				t.Errorf("train says %q; want images at %v", stdout, in)
			}
			status, stdout, stderr = fovea("eval", "--weights", filepath.Join(out, "model.safetensors"))
			if status != 0 || !strings.Contains(stdout, "examples 6 ") || !containsAny(stdout, classes) {
				t.Errorf("eval: status %d, %q, %s", status, stdout, stderr)
			}
			status, stdout, stderr = fovea("predict", img, "--weights", filepath.Join(out, "checkpoint.safetensors"), "--k", "3")
			if status != 0 || !strings.HasPrefix(stdout, img+":") || !containsAny(stdout+" ", classes) {
				t.Errorf("predict: status %d, %q, %s", status, stdout, stderr)
			}
			if name == "googlenet_aux" {
				auxTrained(t, spec, filepath.Join(out, "model.safetensors"))
			}
		})
	}
}

// auxTrained fails unless every auxiliary head's weight in the model file
// differs from its initial value (the same seed's).
func auxTrained(t *testing.T, spec models.Spec, path string) {
	t.Helper()
	init, err := spec.New(models.Options{Classes: 3, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := weights.StateDict(nn.State(init))
	got, _, err := weights.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for k, w := range want {
		if !strings.HasPrefix(k, "aux") || !strings.HasSuffix(k, ".weight") {
			continue
		}
		n++
		if g, ok := got[k]; !ok || slices.Equal(g.Data(), w.Data()) {
			t.Errorf("%s: missing or unchanged by training: the auxiliary losses did not reach it", k)
		}
	}
	if n == 0 {
		t.Errorf("%s has no auxiliary heads' weights", spec.Name)
	}
}
