package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"image"
	"image/color"
	"image/color/palette"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/weights"
)

// cifarRecords returns n CIFAR-10 records whose label is i%10 and whose
// image is that label's brightness, with noise: a task a model learns.
func cifarRecords(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	var b []byte
	for i := range n {
		l := byte(i % 10)
		b = append(b, l)
		for range 3 * 1024 {
			b = append(b, l*25+byte(rng.IntN(10)))
		}
	}
	return b
}

// cifarFolder writes a small CIFAR-10 folder as distributed, and its
// .tar.gz, and returns both.
func cifarFolder(t *testing.T, train, test int) (dir, archive string) {
	t.Helper()
	root := t.TempDir()
	dir = filepath.Join(root, "cifar-10-batches-bin")
	os.MkdirAll(dir, 0o755)
	files := map[string][]byte{
		"data_batch_1.bin": cifarRecords(train, 1),
		"test_batch.bin":   cifarRecords(test, 2),
		"batches.meta.txt": []byte("plane\ncar\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n"),
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
		tw.WriteHeader(&tar.Header{Name: "cifar-10-batches-bin/" + name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg})
		tw.Write(b)
	}
	tw.Close()
	zw.Close()
	archive = filepath.Join(root, "cifar-10-binary.tar.gz")
	if err := os.WriteFile(archive, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, archive
}

// imageFolder writes an image folder of three classes — dark, mid and
// bright images — in mixed sizes and colour models: RGB and CMYK JPEG,
// grey, paletted, 16-bit and alpha PNG.
func imageFolder(t *testing.T, perClass int) string {
	t.Helper()
	root := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 4))
	for ci, class := range []string{"dark", "mid", "bright"} {
		dir := filepath.Join(root, class, "nested")
		os.MkdirAll(dir, 0o755)
		base := uint8(30 + 90*ci)
		for i := range perClass {
			w, h := 20+rng.IntN(40), 20+rng.IntN(40)
			v := func() uint8 { return base + uint8(rng.IntN(20)) }
			p := filepath.Join(dir, strings.Repeat("x", i%3)+string(rune('a'+i))+".png")
			var img image.Image
			switch i % 6 {
			case 0:
				m := image.NewRGBA(image.Rect(0, 0, w, h))
				for k := range m.Pix {
					m.Pix[k] = v()
				}
				f, _ := os.Create(strings.TrimSuffix(p, ".png") + ".jpg")
				jpeg.Encode(f, m, nil)
				f.Close()
				continue
			case 1:
				m := image.NewCMYK(image.Rect(0, 0, w, h))
				for k := 0; k < len(m.Pix); k += 4 {
					m.Pix[k+3] = 255 - v()
				}
				f, _ := os.Create(strings.TrimSuffix(p, ".png") + ".jpeg")
				jpeg.Encode(f, m, nil)
				f.Close()
				continue
			case 2:
				m := image.NewGray(image.Rect(0, 0, w, h))
				for k := range m.Pix {
					m.Pix[k] = v()
				}
				img = m
			case 3:
				m := image.NewPaletted(image.Rect(0, 0, w, h), palette.Plan9)
				for y := range h {
					for x := range w {
						g := v()
						m.Set(x, y, color.RGBA{g, g, g, 255})
					}
				}
				img = m
			case 4:
				m := image.NewGray16(image.Rect(0, 0, w, h))
				for y := range h {
					for x := range w {
						m.SetGray16(x, y, color.Gray16{uint16(v()) << 8})
					}
				}
				img = m
			default:
				m := image.NewNRGBA(image.Rect(0, 0, w, h))
				for k := range m.Pix {
					m.Pix[k] = v()
				}
				img = m
			}
			writePNG(t, p, img)
		}
	}
	return root
}

// TestDataKinds trains on a CIFAR-format folder, its archive and an
// image folder of mixed files, and runs eval and predict on each file
// the runs wrote: all print class names.
func TestDataKinds(t *testing.T) {
	if testing.Short() {
		t.Skip("trains several small models; skipped with -short")
	}
	cifarDir, archive := cifarFolder(t, 40, 20)
	photos := imageFolder(t, 12)
	for _, c := range []struct {
		name, data, model string
		extra             []string
		kind              string
		names             []string
	}{
		{"cifar", cifarDir, "lenet5", nil, "CIFAR-10", []string{"plane", "truck"}},
		{"archive", archive, "resnet18_cifar", []string{"--limit", "16", "--batch", "8", "--augment", "hflip,crop:4,rotate:15,shear:0.2,pca:0.1"}, "CIFAR-10", []string{"plane", "truck"}},
		{"images", photos, "lenet5", []string{"--val-split", "0.25"}, "image folder", []string{"bright", "dark"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "run")
			args := append([]string{"train", "--model", c.model, "--data", c.data, "--epochs", "1", "--out", out, "--json", "--threads", "2"}, c.extra...)
			status, stdout, stderr := fovea(args...)
			if status != 0 {
				t.Fatalf("%v: status %d: %s", args, status, stderr)
			}
			var res struct {
				Kind    string   `json:"data_kind"`
				Names   []string `json:"class_names"`
				Weights string
			}
			if err := json.Unmarshal([]byte(stdout), &res); err != nil || res.Kind != c.kind || len(res.Names) < 3 {
				t.Fatalf("train printed %q (%v)", stdout, err)
			}
			for _, f := range []string{"model", "best", "checkpoint"} {
				w := filepath.Join(out, f+".safetensors")
				if status, out, stderr := fovea("eval", "--weights", w); status != 0 || !strings.Contains(out, "top-1") ||
					!strings.Contains(out, "\n"+c.names[0]+" ") || !strings.Contains(out, " "+c.names[1]+" ") {
					t.Errorf("eval %s: status %d, %q, %s", f, status, out, stderr)
				}
				status, out, stderr := fovea("predict", "--weights", w, "--n", "4")
				if status != 0 || strings.Count(out, "\n") != 4 || !strings.Contains(out, "(label "+c.names[0]+")") {
					t.Errorf("predict %s: status %d, %q, %s", f, status, out, stderr)
				}
			}
			// Flags after the file names, and the names of classes.
			img := filepath.Join(t.TempDir(), "grey.png")
			writePNG(t, img, image.NewGray(image.Rect(0, 0, 50, 30)))
			status, stdout, stderr = fovea("predict", img, "--weights", filepath.Join(out, "model.safetensors"), "--k", "2")
			if status != 0 || !strings.HasPrefix(stdout, img+":") || !containsAny(stdout, res.Names) {
				t.Errorf("predict FILE: status %d, %q, %s", status, stdout, stderr)
			}
			// The checkpoint resumes without --model or --data.
			if status, _, stderr := fovea("train", "--resume", filepath.Join(out, "checkpoint.safetensors"), "--epochs", "1", "--out", out, "--quiet"); status != 0 {
				t.Errorf("resume: status %d, %s", status, stderr)
			}
			// A model file resumes too, as the weights a run starts from.
			status, stdout, stderr = fovea("train", "--resume", filepath.Join(out, "model.safetensors"), "--epochs", "1", "--out", filepath.Join(out, "again"), "--quiet")
			if status != 0 || !strings.Contains(stdout, "training starts from its weights") || !strings.Contains(stdout, "data: "+c.kind) {
				t.Errorf("resume from model.safetensors: status %d, %q, %s", status, stdout, stderr)
			}
		})
	}
}

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, " "+w+" ") {
			return true
		}
	}
	return false
}

// TestBadData is the table of bad data sets: one line naming the
// problem, a non-zero status, no panic, and no output folder.
func TestBadData(t *testing.T) {
	cifarDir, _ := cifarFolder(t, 4, 2)
	shortCIFAR := t.TempDir()
	b, _ := os.ReadFile(filepath.Join(cifarDir, "data_batch_1.bin"))
	os.WriteFile(filepath.Join(shortCIFAR, "data_batch_1.bin"), b[:len(b)-7], 0o644)
	os.WriteFile(filepath.Join(shortCIFAR, "test_batch.bin"), b, 0o644)
	noImages := t.TempDir()
	os.MkdirAll(filepath.Join(noImages, "cats"), 0o755)
	os.WriteFile(filepath.Join(noImages, "cats", "notes.txt"), []byte("x"), 0o644)
	emptyClass := imageFolder(t, 2)
	os.MkdirAll(filepath.Join(emptyClass, "zebra"), 0o755)
	badFile := imageFolder(t, 3)
	broken := filepath.Join(badFile, "mid", "broken.jpg")
	os.WriteFile(broken, []byte("\xff\xd8 not really a jpeg"), 0o644)
	badLabel := t.TempDir()
	b = cifarRecords(4, 5)
	b[3073] = 17 // record 1's label, of 10 classes
	os.WriteFile(filepath.Join(badLabel, "data_batch_1.bin"), b, 0o644)
	os.WriteFile(filepath.Join(badLabel, "test_batch.bin"), cifarRecords(2, 6), 0o644)
	empty := t.TempDir()
	out := filepath.Join(t.TempDir(), "never")
	for _, c := range []struct {
		args   []string
		status int
		want   string
	}{
		{[]string{"--data", shortCIFAR}, 1, "data_batch_1.bin: size 12285 bytes is not a positive multiple of the 3073-byte CIFAR record"},
		{[]string{"--data", badLabel}, 1, "data_batch_1.bin: label 17 of record 1 is outside [0, 10)"},
		{[]string{"--data", noImages}, 1, filepath.Join(noImages, "cats") + " has no .jpg, .jpeg, .png or .gif files"},
		{[]string{"--data", emptyClass}, 1, filepath.Join(emptyClass, "zebra") + " has no .jpg"},
		{[]string{"--data", empty}, 1, empty + ": found no data; looked for a CIFAR-10 folder"},
		{[]string{"--data", badFile}, 1, broken + ": "},
		{[]string{"--data", badFile, "--classes", "2"}, 1, "has 3 classes but the model has 2 outputs"},
		{[]string{"--data", cifarDir, "--augment", "twirl:3"}, 2, `unknown transform "twirl"`},
		{[]string{"--data", cifarDir, "--augment", "rotate"}, 2, `"rotate" wants a value`},
		{[]string{"--data", cifarDir, "--normalize", "sometimes"}, 2, `--normalize "sometimes"`},
		{[]string{"--data", cifarDir, "--input", "exact"}, 1, "the data's images are 32×32×3 but lenet5 takes 28×28×1"},
		{[]string{"--data", cifarDir, "--model", "lenet5", "--normalize", "imagenet"}, 2, "ImageNet's statistics are for RGB"},
	} {
		for _, cmd := range []string{"train", "finetune"} {
			args := append([]string{cmd, "--out", out, "--epochs", "1"}, c.args...)
			if cmd == "finetune" {
				args = append(args, "--from", untrainedWeights(t, t.TempDir()))
			}
			status, _, stderr := fovea(args...)
			if status != c.status || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 || strings.Contains(stderr, "goroutine") {
				t.Errorf("fovea %s: status %d, stderr %q; want status %d and one line with %q", strings.Join(args, " "), status, stderr, c.status, c.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("fovea %s wrote %s although it could not start", strings.Join(args, " "), out)
				os.RemoveAll(out)
			}
		}
	}
	// eval and predict: data of more classes than the model, and an
	// undecodable file.
	two := filepath.Join(t.TempDir(), "two.safetensors")
	mustSave(t, two, weights.StateDict(nn.State(lenet(t, 2))), map[string]string{"model": "lenet5", "classes": "2"})
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"eval", "--weights", two, "--data", imageFolder(t, 2)}, "has 3 classes but the model has 2 outputs"},
		{[]string{"predict", "--weights", two, "--data", cifarDir}, "has 10 classes but the model has 2 outputs"},
		{[]string{"eval", "--weights", untrainedWeights(t, t.TempDir()), "--data", badFile}, broken + ": "},
		{[]string{"predict", broken, "--weights", two}, broken + ": "},
	} {
		status, _, stderr := fovea(c.args...)
		if status != 1 || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 || strings.Contains(stderr, "goroutine") {
			t.Errorf("fovea %s: status %d, stderr %q; want status 1 and one line with %q", strings.Join(c.args, " "), status, stderr, c.want)
		}
	}
	// With --skip-bad the undecodable file is left out and counted.
	status, stdout, stderr := fovea("train", "--data", badFile, "--skip-bad", "--epochs", "1", "--out", out, "--json")
	if status != 0 || !strings.Contains(stdout, `"skipped_files":1`) {
		t.Errorf("--skip-bad: status %d, %q, %s", status, stdout, stderr)
	}
}

// TestFlagsAnywhere checks that flags may follow positional arguments
// and that -- ends them.
func TestFlagsAnywhere(t *testing.T) {
	status, out, stderr := fovea("summary", "alexnet", "--json")
	if status != 0 || !strings.HasPrefix(out, `{"model":"alexnet"`) {
		t.Errorf("summary alexnet --json: status %d, %q, %s", status, out[:min(len(out), 80)], stderr)
	}
	status, _, stderr = fovea("summary", "--", "--json")
	if status != 2 || !strings.Contains(stderr, `unknown model "--json"`) {
		t.Errorf("summary -- --json: status %d, %s", status, stderr)
	}
	status, _, stderr = fovea("train", "stray", "--epochs", "1")
	if status != 2 || !strings.Contains(stderr, `unexpected argument "stray"`) {
		t.Errorf("train stray: status %d, %s", status, stderr)
	}
}
