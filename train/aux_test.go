package train

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/data"
	"github.com/foveaml/fovea/models"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/optim"
	"github.com/foveaml/fovea/tensor"
)

// auxNet has a main dense head and an auxiliary one on the flattened
// image, each with its own weights, so that each head's update shows the
// weight of its loss.
type auxNet struct {
	Main, Aux *nn.Dense
	calls     int // ForwardAux calls in training mode
}

func (m *auxNet) Forward(c *nn.Ctx, x *ag.Var) *ag.Var {
	return c.Call("main", m.Main, c.Tape.Flatten(x))
}

func (m *auxNet) ForwardAux(c *nn.Ctx, x *ag.Var) (*ag.Var, []*ag.Var) {
	main := m.Forward(c, x)
	if !c.Train {
		return main, nil
	}
	m.calls++
	return main, []*ag.Var{c.Call("aux", m.Aux, c.Tape.Flatten(x))}
}

func (m *auxNet) Params() []nn.Param {
	return append(nn.Prefix("main", m.Main.Params()), nn.Prefix("aux", m.Aux.Params())...)
}

// gradOf returns the gradient of the cross-entropy of head on b.
func gradOf(t *testing.T, head *nn.Dense, b data.Batch) []float32 {
	t.Helper()
	tp := ag.NewTape()
	defer tp.Reset()
	head.Weight.ZeroGrad()
	loss := tp.SoftmaxCrossEntropy(head.Forward(&nn.Ctx{Tape: tp}, tp.Flatten(ag.Const(b.X))), b.Y, 0)
	if err := tp.Backward(loss); err != nil {
		t.Fatal(err)
	}
	g := append([]float32(nil), head.Weight.Grad().Data()...)
	head.Weight.ZeroGrad()
	return g
}

func TestAuxLossWeights(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	main, _ := nn.NewDense(nn.DenseConfig{In: 64, Out: 3}, r)
	aux, _ := nn.NewDense(nn.DenseConfig{In: 64, Out: 3}, r)
	m := &auxNet{Main: main, Aux: aux}
	ds := bars(t, 8, 5)
	x := tensor.Zeros(8, 8, 8, 1)
	var y []int32
	for i := range 8 {
		label, err := ds.Example(i, x.Data()[i*64:(i+1)*64])
		if err != nil {
			t.Fatal(err)
		}
		y = append(y, int32(label))
	}
	b := data.Batch{X: x, Y: y, Indices: []int{0, 1, 2, 3, 4, 5, 6, 7}}
	gMain, gAux := gradOf(t, main, b), gradOf(t, aux, b)
	w0, a0 := main.Weight.Value().Clone(), aux.Weight.Value().Clone()
	const lr = 0.5
	opt, err := optim.NewSGD(m.Params(), optim.SGDConfig{LR: lr})
	if err != nil {
		t.Fatal(err)
	}
	if err := newStepper(m, 1, Config{Optimizer: opt}).step(b, 0, NewTally(3)); err != nil {
		t.Fatal(err)
	}
	for i, g := range gMain {
		if d := w0.Data()[i] - main.Weight.Value().Data()[i]; math.Abs(float64(d-lr*g)) > 1e-6 {
			t.Fatalf("main weight %d moved %v, want %v (weight 1)", i, d, lr*g)
		}
	}
	for i, g := range gAux {
		if d := a0.Data()[i] - aux.Weight.Value().Data()[i]; math.Abs(float64(d-lr*AuxLossWeight*g)) > 1e-6 {
			t.Fatalf("aux weight %d moved %v, want %v (weight %v)", i, d, lr*AuxLossWeight*g, AuxLossWeight)
		}
	}
	// Fit trains through ForwardAux; Evaluate does not call it.
	m.calls = 0
	opt2, _ := optim.NewSGD(m.Params(), optim.SGDConfig{LR: 0.1})
	h, err := Fit(context.Background(), m, bars(t, 64, 6), Config{Epochs: 1, BatchSize: 16, Optimizer: opt2, Validation: bars(t, 16, 7), Workers: 1, DataParallel: 1})
	if err != nil {
		t.Fatal(err)
	}
	if m.calls != 4 || !h.Epochs[0].HasVal {
		t.Fatalf("ForwardAux ran %d times for 4 batches; history %+v", m.calls, h.Epochs)
	}
}

// GoogLeNet's auxiliary heads train through Fit.
var _ AuxModel = (*models.GoogLeNet)(nil)
