package inspect

import (
	"bytes"
	"slices"
	"testing"

	"github.com/foveaml/fovea/models"
	"github.com/foveaml/fovea/onnx"
)

// A zoo model's stages are its children; an imported ONNX graph's are
// its nodes, dotted names and all, and Grad-CAM's default layer is the
// graph's last convolution, not its first.
func TestStages(t *testing.T) {
	m, err := models.NewResNet(models.ResNetConfig{Depth: 18, Width: 4, Blocks: []int{1, 1, 1, 1}, CIFAR: true, Classes: 5, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	st, err := Stages(m, 32, 32, 3)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range st {
		names = append(names, s.Name)
	}
	if want := []string{"conv1", "bn1", "relu", "layer1", "layer2", "layer3", "layer4", "avgpool", "fc"}; !slices.Equal(names, want) {
		t.Errorf("stages %q; want %q", names, want)
	}
	if l4 := st[6]; !l4.Conv || !slices.Equal(l4.Shape, []int{4, 4, 32}) || l4.Calls != 1 || st[1].Conv {
		t.Errorf("layer4 %+v, bn1 %+v", l4, st[1])
	}

	var buf bytes.Buffer
	if err := onnx.Export(&buf, m, onnx.ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	g, err := onnx.Read(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	st, err = Stages(g, 32, 32, 3)
	if err != nil {
		t.Fatal(err)
	}
	names = names[:0]
	for _, s := range st {
		names = append(names, s.Name)
	}
	t.Logf("the graph's stages: %q", names)
	last, err := LastConvStage(g, 32, 32, 3)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.Index(names, last)
	if i < 0 || !st[i].Conv || st[i].Calls != 1 || !slices.Equal(st[i].Shape[:2], []int{4, 4}) {
		t.Fatalf("the graph's last convolutional stage %q (%+v); want a convolution with a 4×4 map", last, st)
	}
	for _, s := range st[i+1:] {
		if s.Conv {
			t.Errorf("%q, after %q, is a convolution too", s.Name, last)
		}
	}
}
