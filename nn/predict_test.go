package nn

import (
	"math"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/tensor"
)

// testBlock is a hand-written container: a unit with a residual, then a
// head, declared with Module.
type testBlock struct {
	Module
	Conv  *Conv2D
	BN    *BatchNorm
	Dense *Dense
}

func newTestBlock(t *testing.T) *testBlock {
	t.Helper()
	r := rng()
	conv, err := NewConv2D(Conv2DConfig{In: 4, Out: 4, Kernel: 3, Pad: 1}, r)
	if err != nil {
		t.Fatal(err)
	}
	bn, _ := NewBatchNorm(4)
	for i := range 4 {
		bn.Stats.Mean.Data()[i], bn.Stats.Var.Data()[i] = float32(i)*0.1, 1+float32(i)*0.3
	}
	dense, _ := NewDense(DenseConfig{In: 4, Out: 3}, r)
	b := &testBlock{}
	b.Conv = Add(&b.Module, "conv", conv)
	b.BN = Add(&b.Module, "bn", bn)
	b.Dense = Add(&b.Module, "fc", dense)
	return b
}

func (b *testBlock) Forward(c *Ctx, x *ag.Var) *ag.Var {
	y := b.Unit(c, x, Unit{Conv: b.Conv, BN: b.BN, ReLU: true}, func() *ag.Var { return x })
	return b.Call(c, b.Dense, c.Call("pool", GlobalAvgPool{}, y))
}

// The Predictor gives the layer-by-layer logits (it runs the fused
// path), probabilities that are their softmax, the same answers from
// many goroutines at once, and errors for batches the model cannot take.
func TestPredictor(t *testing.T) {
	m := newTestBlock(t)
	if got := m.Params(); len(got) != 6 || got[0].Name != "conv.weight" || got[5].Name != "fc.bias" {
		t.Fatalf("params %v", got)
	}
	if got := m.Buffers(); len(got) != 2 || got[0].Name != "bn.running_mean" {
		t.Fatalf("buffers %v", got)
	}
	inputs := make([]*tensor.Tensor, 8)
	want := make([]*tensor.Tensor, len(inputs))
	for i := range inputs {
		inputs[i] = tensor.RandNormal(rng(), float64(i)*0.1, 1, 2, 6, 6, 4)
		// The reference: traced, so layer by layer.
		tp := ag.NewTape()
		tp.SetGradEnabled(false)
		want[i] = m.Forward(&Ctx{Tape: tp, trace: &[]traceRow{}}, ag.Const(inputs[i])).Value().Clone()
		tp.Reset()
	}
	p := NewPredictor(m)
	var wg sync.WaitGroup
	errs := make([]string, len(inputs))
	for g := range len(inputs) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for rep := range 20 {
				i := (g + rep) % len(inputs)
				logits, err := p.Logits(inputs[i])
				if err != nil {
					errs[g] = err.Error()
					return
				}
				probs, err := p.Probabilities(inputs[i])
				if err != nil {
					errs[g] = err.Error()
					return
				}
				for r := range 2 {
					var sum, z float64
					for j := range 3 {
						z += math.Exp(float64(logits.At(r, j)))
					}
					for j := range 3 {
						if d := math.Abs(float64(logits.At(r, j) - want[i].At(r, j))); d > 1e-5 {
							errs[g] = "logits differ from the layer-by-layer pass"
						}
						if d := math.Abs(float64(probs.At(r, j)) - math.Exp(float64(logits.At(r, j)))/z); d > 1e-6 {
							errs[g] = "probabilities are not the logits' softmax"
						}
						sum += float64(probs.At(r, j))
					}
					if math.Abs(sum-1) > 1e-5 {
						errs[g] = "probabilities do not sum to 1"
					}
				}
			}
		}()
	}
	wg.Wait()
	for g, e := range errs {
		if e != "" {
			t.Errorf("goroutine %d: %s", g, e)
		}
	}
	for _, c := range []struct {
		x    *tensor.Tensor
		want string
	}{
		{tensor.Zeros(1, 6, 6, 3), "for input [1 6 6 3]"},
		{tensor.Zeros(6), "want a batch"},
		{nil, "want a batch"},
	} {
		if _, err := p.Logits(c.x); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v", c.want, err)
		}
	}
}

// A Predictor packs the filters once and answers for the weights it saw
// first; Refresh makes it read them again, as a new Predictor would.
func TestPredictorPacksOnce(t *testing.T) {
	m := newTestBlock(t)
	x := tensor.RandNormal(rng(), 0, 1, 2, 6, 6, 4)
	p := NewPredictor(m)
	before, err := p.Logits(x)
	if err != nil {
		t.Fatal(err)
	}
	if p.packs.Bytes() == 0 {
		t.Fatal("the Predictor kept no packed filter")
	}
	w := m.Conv.Weight.Value().Data()
	for i := range w {
		w[i] *= -1.5 // a training step, in place
	}
	stale, _ := p.Logits(x)
	if !slices.Equal(stale.Data(), before.Data()) {
		t.Fatal("a Predictor read changed convolution weights without Refresh: it packs at every call")
	}
	p.Refresh()
	got, _ := p.Logits(x)
	want, _ := NewPredictor(m).Logits(x)
	if !slices.Equal(got.Data(), want.Data()) || slices.Equal(got.Data(), before.Data()) {
		t.Fatal("after Refresh the Predictor does not answer for the new weights")
	}
}
