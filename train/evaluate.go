package train

import (
	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/data"
	"github.com/foveaml/fovea/nn"
)

// EvalConfig describes an Evaluate or Predict run.
type EvalConfig struct {
	BatchSize int // default 64
	Workers   int // default GOMAXPROCS
	// Transform rewrites each example before evaluation (a centre crop,
	// say); it must be deterministic.
	Transform data.Transform
}

// Evaluate runs model (in inference mode) over ds and returns its mean
// cross-entropy loss, top-1 and top-5 accuracy, per-class accuracy and
// confusion matrix.
func Evaluate(model nn.Layer, ds data.Dataset, cfg EvalConfig) (Metrics, error) {
	t := NewTally(ds.Classes())
	err := forEachOutput(model, ds, cfg, func(logits *ag.Var, tp *ag.Tape, b data.Batch) error {
		loss := tp.SoftmaxCrossEntropy(logits, b.Y, 0)
		if err := tp.Err(); err != nil {
			return err
		}
		t.Add(logits.Value().Data(), b.Y, float64(loss.Item())*float64(len(b.Y)))
		return nil
	})
	if err != nil {
		return Metrics{}, err
	}
	return t.Metrics(), nil
}

// Predict runs model (in inference mode) over ds and returns the softmax
// probabilities, one row of ds.Classes() values per example, in ds's
// order.
func Predict(model nn.Layer, ds data.Dataset, cfg EvalConfig) ([][]float32, error) {
	out := make([][]float32, ds.Len())
	err := forEachOutput(model, ds, cfg, func(logits *ag.Var, tp *ag.Tape, b data.Batch) error {
		p := tp.Softmax(logits)
		if err := tp.Err(); err != nil {
			return err
		}
		pd := p.Value().Data()
		k := len(pd) / len(b.Indices)
		for i, idx := range b.Indices {
			out[idx] = append([]float32(nil), pd[i*k:(i+1)*k]...)
		}
		return nil
	})
	return out, err
}

// TopK returns the indices of the k largest values of p, largest first.
func TopK(p []float32, k int) []int {
	k = min(k, len(p))
	idx := make([]int, 0, k)
	for len(idx) < k {
		best := -1
		for i, v := range p {
			if (best < 0 || v > p[best]) && !contains(idx, i) {
				best = i
			}
		}
		idx = append(idx, best)
	}
	return idx
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// forEachOutput runs model without gradients over ds in order and calls
// fn with each batch's output.
func forEachOutput(model nn.Layer, ds data.Dataset, cfg EvalConfig, fn func(*ag.Var, *ag.Tape, data.Batch) error) error {
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 64
	}
	loader, err := data.NewLoader(ds, data.LoaderOptions{BatchSize: cfg.BatchSize, Workers: cfg.Workers, Transform: cfg.Transform})
	if err != nil {
		return err
	}
	tp := ag.NewTape()
	tp.SetGradEnabled(false)
	packs := nn.NewPackCache() // the weights do not change during the pass
	it := loader.Epoch(0)
	defer it.Close()
	for b, ok := it.Next(); ok; b, ok = it.Next() {
		c := &nn.Ctx{Tape: tp, Packs: packs}
		logits := model.Forward(c, ag.Const(b.X))
		if err := tp.Err(); err != nil {
			tp.Reset()
			return err
		}
		err := fn(logits, tp, b)
		tp.Reset()
		if err != nil {
			return err
		}
	}
	return it.Err()
}
