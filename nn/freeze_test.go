package nn

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/tensor"
)

// TestMatchName checks that patterns select whole dotted components.
func TestMatchName(t *testing.T) {
	for _, c := range []struct {
		pattern, name string
		want          bool
	}{
		{"layer3", "layer3.0.conv1.weight", true},
		{"layer3", "layer30.weight", false},
		{"layer[34]", "layer4.1.bn2.bias", true},
		{"layer[34]", "layer2.1.bn2.bias", false},
		{"features.*", "features.3.weight", true},
		{"*.bn1", "layer1.0.bn1.weight", true},
		{"*", "fc.bias", true},
		{"fc.bias", "fc.bias", true},
		{"fc.bias", "fc.weight", false},
		{"[", "fc.bias", false},
	} {
		if got := MatchName(c.pattern, c.name); got != c.want {
			t.Errorf("MatchName(%q, %q) = %v; want %v", c.pattern, c.name, got, c.want)
		}
	}
	if CheckPattern("[") == nil || CheckPattern("") == nil || CheckPattern("layer*") != nil {
		t.Error("CheckPattern")
	}
}

// TestHeadsAndCapture checks the default head of a Sequential, what
// Capture returns for it, and Capture's errors.
func TestHeadsAndCapture(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	d1, _ := NewDense(DenseConfig{In: 4, Out: 3}, r)
	d2, _ := NewDense(DenseConfig{In: 3, Out: 2}, r)
	m := NewSequential(d1, ReLU, d2)
	if h := Heads(m); !slices.Equal(h, []string{"2"}) {
		t.Fatalf("heads %v; want [2]", h)
	}
	if Heads(NewSequential(ReLU)) != nil {
		t.Error("a model without parameters has a head")
	}
	x, _ := tensor.FromSlice([]float32{1, -2, 3, 4, 0, 1, -1, 2}, 2, 4)
	tp := ag.NewTape()
	tp.SetGradEnabled(false)
	layer, in, err := Capture(tp, m, "2", ag.Const(x))
	if err != nil || layer != Layer(d2) || !slices.Equal(in.Shape(), []int{2, 3}) {
		t.Fatalf("Capture: %v, %T, %v", err, layer, in)
	}
	for _, v := range in.Value().Data() {
		if v < 0 {
			t.Errorf("captured %v: want the ReLU's output", in.Value().Data())
		}
	}
	tp.Reset()
	if _, _, err := Capture(tp, m, "7", ag.Const(x)); err == nil || !strings.Contains(err.Error(), `calls no layer "7"`) {
		t.Errorf("unknown layer: %v", err)
	}
	nested := &Sequential{Layers: []Layer{&Sequential{Layers: []Layer{d1}}, ReLU}}
	if layer, _, err := Capture(tp, nested, "0.0", ag.Const(x)); err != nil || layer != Layer(d1) {
		t.Errorf("nested name: %v, %T", err, layer)
	}
	tp.Reset()
	if _, _, err := Capture(tp, twice{d1}, "h", ag.Const(x)); err == nil || !strings.Contains(err.Error(), `calls layer "h" 2 times`) {
		t.Errorf("a layer called twice: %v", err)
	}
}

// twice calls its layer twice under one name.
type twice struct{ d *Dense }

func (w twice) Forward(c *Ctx, x *ag.Var) *ag.Var {
	c.Call("h", w.d, x)
	return c.Call("h", w.d, x)
}

func (w twice) Params() []Param { return Prefix("h", w.d.Params()) }
