package inspect

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/foveaml/fovea/models"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/weights"
)

// MACs at 224×224, counted with forward hooks on torchvision's models
// (conv: out_h·out_w·out_c·k_h·k_w·in_c/groups; linear: in·out), the
// figures behind torchvision's published "GFLOPS".
func TestProfileMACsMatchTorchvision(t *testing.T) {
	for name, want := range map[string]int64{
		"resnet18":  1_814_073_344,
		"resnet50":  4_089_184_256,
		"alexnet":   714_188_480,
		"googlenet": 1_498_376_192,
		"vgg16":     15_470_264_320,
	} {
		spec, err := models.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		m, err := spec.New(models.Options{})
		if err != nil {
			t.Fatal(err)
		}
		p, err := Profile(m, 224, 224, 3)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if p.MACs != want {
			t.Errorf("%s: %d MACs; want %d (torchvision)", name, p.MACs, want)
		}
		if p.ConvMACs+p.DenseMACs != p.MACs {
			t.Errorf("%s: convolutions %d + dense %d ≠ %d", name, p.ConvMACs, p.DenseMACs, p.MACs)
		}
		var sum int64
		for _, l := range p.Layers {
			sum += l.MACs
		}
		if sum != p.MACs {
			t.Errorf("%s: the layers' MACs add up to %d, not %d", name, sum, p.MACs)
		}
	}
}

// GoogLeNet's auxiliary classifiers add parameters but, not running at
// inference, no MACs.
func TestProfileAuxAndParams(t *testing.T) {
	spec, _ := models.Lookup("googlenet_aux")
	m, err := spec.New(models.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := Profile(m, 224, 224, 3)
	if err != nil {
		t.Fatal(err)
	}
	if p.MACs != 1_498_376_192 {
		t.Errorf("googlenet_aux: %d MACs; want googlenet's 1,498,376,192", p.MACs)
	}
	if p.Params != 13_004_888 { // torchvision's GoogLeNet(aux_logits=True)
		t.Errorf("googlenet_aux: %d parameters; want 13,004,888", p.Params)
	}
}

func TestProfileSmallModel(t *testing.T) {
	spec, _ := models.Lookup("lenet5")
	m, err := spec.New(models.Options{Classes: 10})
	if err != nil {
		t.Fatal(err)
	}
	nn.Freeze(m, true)
	p, err := Profile(m, 28, 28, 1)
	if err != nil {
		t.Fatal(err)
	}
	// conv1 5×5×1→6 on 28×28 (same), conv2 5×5×6→16 on 10×10, then
	// 400·120 + 120·84 + 84·10.
	want := int64(28*28*6*25 + 10*10*16*150 + 400*120 + 120*84 + 84*10)
	if p.MACs != want {
		t.Errorf("lenet5: %d MACs; want %d", p.MACs, want)
	}
	if p.Params != 61_706 || p.Frozen != 61_706 || p.Trainable != 0 {
		t.Errorf("params %d, frozen %d, trainable %d; want 61,706 all frozen", p.Params, p.Frozen, p.Trainable)
	}
	// The file size is that of the file weights.Save writes.
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := weights.Save(path, weights.StateDict(nn.State(m)), map[string]string{"model": nn.Kind(m), "classes": "10"}); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() != p.FileBytes {
		t.Errorf("file bytes %d; the saved file has %d", p.FileBytes, st.Size())
	}
	if p.StateBytes != 4*61_706 {
		t.Errorf("state bytes %d; want %d", p.StateBytes, 4*61_706)
	}
	table := p.Table()
	for _, s := range []string{"features.3 ", "(Conv2D)", "240,000", "417 k", "MACs per example:", "Frozen params:     61,706"} {
		if !strings.Contains(table, s) {
			t.Errorf("the table lacks %q:\n%s", s, table)
		}
	}
	if _, err := Profile(m, 32, 32, 3); err == nil || !strings.Contains(err.Error(), "inspect.Profile: input [32 32 3]") {
		t.Errorf("a wrong input: error %v", err)
	}
}

// LeNet-5's C3 is a masked convolution (it embeds an nn.Conv2D): it
// counts as the full 5×5×6→16 convolution it runs.
func TestProfileEmbeddedConv(t *testing.T) {
	spec, _ := models.Lookup("lenet5-classic")
	m, err := spec.New(models.Options{Classes: 10})
	if err != nil {
		t.Fatal(err)
	}
	p, err := Profile(m, 28, 28, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range p.Layers {
		if l.Kind == "Conv2D, Table I" && l.MACs != 10*10*16*150 {
			t.Errorf("%s: %d MACs; want %d", l.Name, l.MACs, 10*10*16*150)
		}
	}
	if p.ConvMACs < 10*10*16*150 {
		t.Errorf("convolution MACs %d: C3 is not counted", p.ConvMACs)
	}
}
