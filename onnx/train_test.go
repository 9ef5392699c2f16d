package onnx

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/tensor"
	"github.com/foveaml/fovea/weights"
)

func fixtureInput(t *testing.T, name string) *tensor.Tensor {
	t.Helper()
	ref, _, err := weights.Load("testdata/" + name + ".ref.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	return nchwToNHWCTensor(ref["input"])
}

// project is Σ r·y in float64.
func project(y *ag.Var, r []float32) float64 {
	s := 0.0
	for i, v := range y.Value().Data() {
		s += float64(v) * float64(r[i])
	}
	return s
}

// TestGradientsFiniteDifferences checks the gradient of every parameter
// of an imported graph (gathers, broadcasting, MatMul, Concat off the
// channels, ConvTranspose) against central differences.
func TestGradientsFiniteDifferences(t *testing.T) {
	for _, name := range []string{"shapes_op17", "ops_op13", "deconv_op17"} {
		t.Run(name, func(t *testing.T) {
			m, err := Load("testdata/" + name + ".onnx")
			if err != nil {
				t.Fatal(err)
			}
			x := fixtureInput(t, name)
			rng := rand.New(rand.NewPCG(1, 2))
			tp := ag.NewTape()
			loss := func() (float64, *ag.Var, []float32) {
				y := m.Forward(&nn.Ctx{Tape: tp}, ag.Const(x))
				if tp.Err() != nil {
					t.Fatal(tp.Err())
				}
				r := make([]float32, y.Value().Len())
				rr := rand.New(rand.NewPCG(3, 4))
				for i := range r {
					r[i] = float32(rr.NormFloat64())
				}
				return project(y, r), y, r
			}
			_, y, r := loss()
			// Backpropagate Σ r·y through a Func seeded with r.
			seed := tp.Apply(ag.Func{Name: "project",
				Forward: func(out []float32, in [][]float32) {
					s := 0.0
					for i, v := range in[0] {
						s += float64(v) * float64(r[i])
					}
					out[0] = float32(s)
				},
				Backward: func(dxs [][]float32, dy, _ []float32, _ [][]float32) { kscale(dxs[0], dy[0], r) },
			}, []int{}, y)
			if err := tp.Backward(seed); err != nil {
				t.Fatal(err)
			}
			grads := map[string][]float32{}
			for _, p := range m.Params() {
				if p.Var.Grad() == nil {
					t.Fatalf("parameter %s got no gradient", p.Name)
				}
				grads[p.Name] = append([]float32(nil), p.Var.Grad().Data()...)
			}
			tp.Reset()
			h := 1e-2
			if name == "deconv_op17" {
				h = 1e-3
			}
			bad := 0
			for _, p := range m.Params() {
				d := p.Var.Value().Data()
				for k := 0; k < 4; k++ {
					i := rng.IntN(len(d))
					v := d[i]
					d[i] = v + float32(h)
					vp := d[i]
					lp, _, _ := loss()
					tp.Reset()
					d[i] = v - float32(h)
					vm := d[i]
					lm, _, _ := loss()
					tp.Reset()
					d[i] = v
					num, ana := (lp-lm)/float64(vp-vm), float64(grads[p.Name][i])
					if math.Abs(num-ana) > 2e-2+5e-2*math.Max(math.Abs(num), math.Abs(ana)) {
						bad++
						t.Logf("%s[%d]: analytic %.5g, numeric %.5g", p.Name, i, ana, num)
					}
				}
			}
			// A few may straddle a ReLU or max-pooling kink.
			if bad > 2 {
				t.Errorf("%d gradients disagree with finite differences", bad)
			}
		})
	}
}

func kscale(dst []float32, a float32, src []float32) {
	for i, v := range src {
		dst[i] = a * v
	}
}

// TestFineTune: the imported model trains (batch statistics, dropout),
// freezes by ONNX names, gets a new head, and lists its layers in Summary.
func TestFineTune(t *testing.T) {
	m, err := Load("testdata/ops_op13.onnx")
	if err != nil {
		t.Fatal(err)
	}
	if got := nn.Heads(m); len(got) != 1 || got[0] != "fc2" {
		t.Fatalf("heads %v; want [fc2]", got)
	}
	if err := m.NewHead(3, 1); err != nil {
		t.Fatal(err)
	}
	ps := m.Params()
	last := ps[len(ps)-1]
	if last.Name != "fc2.bias" || last.Var.Value().Dim(0) != 3 {
		t.Fatalf("last parameter %s %v; want fc2.bias [3]", last.Name, last.Var.Shape())
	}
	nn.FreezeAllButHead(m)
	x := fixtureInput(t, "ops_op13")
	tp := ag.NewTape()
	y := m.Forward(&nn.Ctx{Tape: tp, Train: true}, ag.Const(x))
	if tp.Err() != nil {
		t.Fatal(tp.Err())
	}
	if s := y.Shape(); len(s) != 2 || s[1] != 3 {
		t.Fatalf("output %v after NewHead(3)", s)
	}
	loss := tp.SoftmaxCrossEntropy(tp.Reshape(y, 2, 3), []int32{0, 2}, 0)
	if err := tp.Backward(loss); err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Params() {
		if trains := strings.HasPrefix(p.Name, "fc2."); trains != (p.Var.Grad() != nil) {
			t.Errorf("%s: trainable %v, has gradient %v", p.Name, trains, p.Var.Grad() != nil)
		}
	}
	tp.Reset()
	if err := nn.FreezeUpTo(m, "conv3"); err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Params() {
		frozen := !p.Trainable()
		early := strings.HasPrefix(p.Name, "conv1") || strings.HasPrefix(p.Name, "bn") || p.Name == "scale" ||
			strings.HasPrefix(p.Name, "conv2") || strings.HasPrefix(p.Name, "conv3")
		if frozen != early {
			t.Errorf("after FreezeUpTo(conv3): %s frozen %v", p.Name, frozen)
		}
	}
	s, err := nn.Summary(m, 8, 8, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"conv1", "bn1", "conv2", "bn2", "fc1", "fc2", "(LeakyRelu)", "(MaxPool)"} {
		if !strings.Contains(s, want) {
			t.Errorf("Summary lacks %q:\n%s", want, s)
		}
	}
	// Capture finds the head's input, the features a new head reads.
	_, feats, err := nn.Capture(tp, m, "fc2", ag.Const(x))
	if err != nil {
		t.Fatal(err)
	}
	if fs := feats.Shape(); len(fs) != 2 || fs[1] != 10 {
		t.Errorf("fc2 reads %v; want [2 10]", fs)
	}
	tp.Reset()
	// The state round-trips through a weights file by ONNX names.
	st := weights.StateDict(nn.State(m))
	if _, ok := st["bn1.running_var"]; !ok {
		t.Errorf("state dict lacks bn1.running_var: %d entries", len(st))
	}
}
