package nn

import (
	"fmt"
	"sync"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/tensor"
)

// Predictor runs a model at inference in one call: no gradients, batch
// norms on their running statistics, dropout off, convolution units
// fused (see Unit), and each call's activations recycled for the next.
// It is safe for concurrent use by several goroutines: each call runs on
// a tape of its own, and the model is only read.
//
// A Predictor packs each convolution's filter for the kernels on its
// first call and keeps it (see PackCache), as an inference session does:
// it answers for the weights the model had then. After changing them
// (training, loading into the model) make a new Predictor, or call
// Refresh; changing them while a call runs is not safe.
//
//	p := nn.NewPredictor(model)
//	probs, err := p.Probabilities(batch) // [N, classes], rows sum to 1
type Predictor struct {
	model Layer
	tapes sync.Pool
	packs *PackCache
}

// NewPredictor returns a Predictor for model.
func NewPredictor(model Layer) *Predictor {
	p := &Predictor{model: model, packs: NewPackCache()}
	p.tapes.New = func() any {
		tp := ag.NewTape()
		tp.SetGradEnabled(false)
		return tp
	}
	return p
}

// Refresh drops the filters p has packed, so that the next call reads
// the model's weights as they are then.
func (p *Predictor) Refresh() { p.packs.Reset() }

// Model returns the model p runs.
func (p *Predictor) Model() Layer { return p.model }

// Logits returns the model's output for the batch x (NHWC images for
// the zoo, [N, H, W, C]) as a new tensor, [N, classes] for a classifier.
// A batch the model cannot take is an error naming the layer and the
// shapes.
func (p *Predictor) Logits(x *tensor.Tensor) (*tensor.Tensor, error) {
	return p.run(x, false)
}

// Probabilities returns the softmax of each row of the model's logits
// for the batch x.
func (p *Predictor) Probabilities(x *tensor.Tensor) (*tensor.Tensor, error) {
	return p.run(x, true)
}

func (p *Predictor) run(x *tensor.Tensor, softmax bool) (*tensor.Tensor, error) {
	if x == nil || x.Rank() < 2 || x.Dim(0) < 1 {
		shape := "none"
		if x != nil {
			shape = fmt.Sprint(x.Shape())
		}
		return nil, fmt.Errorf("nn.Predictor: input of shape %s: want a batch [N, ...] with N ≥ 1", shape)
	}
	tp := p.tapes.Get().(*ag.Tape)
	defer func() {
		tp.Reset()
		p.tapes.Put(tp)
	}()
	y := p.model.Forward(&Ctx{Tape: tp, Packs: p.packs}, ag.Const(x))
	if err := tp.Err(); err != nil {
		return nil, fmt.Errorf("nn.Predictor: input %v: %w", x.Shape(), err)
	}
	if y == nil || y.Value().Rank() < 1 || y.Value().Dim(0) != x.Dim(0) {
		return nil, fmt.Errorf("nn.Predictor: the model gave no output of one row per example")
	}
	if softmax {
		if y.Value().Rank() != 2 {
			return nil, fmt.Errorf("nn.Predictor: probabilities need [N, classes] logits; the model gives %v", y.Shape())
		}
		y = tp.Softmax(y)
	}
	return y.Value().Clone(), nil
}
