// Package tta evaluates a model with test-time augmentation: AlexNet's
// ten crops (four corners and the centre, each mirrored), the model's
// softmax probabilities averaged over the views.
//
//	m, err := tta.TenCropEvaluate(model, testSet, 224, train.EvalConfig{Transform: augment.Resize{Height: 256, Width: 256}})
//	fmt.Print(m) // loss, top-1, top-5, per class, confusion
//
// It is a package apart from augment because it runs models: augment sits
// below train in fovea's layers, and this sits above it.
package tta

import (
	"fmt"
	"math"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/augment"
	"github.com/foveaml/fovea/data"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/tensor"
	"github.com/foveaml/fovea/train"
)

// TenCropPredict runs model (in inference mode) on the ten size×size
// views of each example of ds (after cfg.Transform, if any) and returns
// the softmax probabilities averaged over the views, one row per
// example, in ds's order. It is an error if the crop is larger than the
// images.
func TenCropPredict(model nn.Layer, ds data.Dataset, size int, cfg train.EvalConfig) ([][]float32, error) {
	out := make([][]float32, ds.Len())
	err := forEachAveraged(model, ds, size, cfg, func(probs [][]float64, b data.Batch) error {
		for i, idx := range b.Indices {
			row := make([]float32, len(probs[i]))
			for j, p := range probs[i] {
				row[j] = float32(p)
			}
			out[idx] = row
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// TenCropEvaluate is train.Evaluate with ten-crop test-time
// augmentation: it scores the probabilities averaged over the ten
// size×size views of each example (after cfg.Transform, if any). The
// loss is the mean cross-entropy of the averaged probabilities.
func TenCropEvaluate(model nn.Layer, ds data.Dataset, size int, cfg train.EvalConfig) (train.Metrics, error) {
	t := train.NewTally(ds.Classes())
	var row []float32
	err := forEachAveraged(model, ds, size, cfg, func(probs [][]float64, b data.Batch) error {
		for i, y := range b.Y {
			p := probs[i]
			if int(y) >= len(p) {
				return fmt.Errorf("label %d is outside the model's %d outputs", y, len(p))
			}
			row = row[:0]
			for _, v := range p {
				row = append(row, float32(v))
			}
			t.Add(row, b.Y[i:i+1], -math.Log(max(p[y], 1e-45)))
		}
		return nil
	})
	if err != nil {
		return train.Metrics{}, err
	}
	return t.Metrics(), nil
}

// forEachAveraged runs model over the ten views of every example of ds,
// in order, and calls fn with each batch's view-averaged probabilities.
func forEachAveraged(model nn.Layer, ds data.Dataset, size int, cfg train.EvalConfig, fn func([][]float64, data.Batch) error) error {
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 64
	}
	// Ten views of each example make the model's batches ten times the
	// loader's, so the loader's batch is a tenth of the one asked for.
	loader, err := data.NewLoader(ds, data.LoaderOptions{BatchSize: max(1, cfg.BatchSize/augment.Views), Workers: cfg.Workers, Transform: cfg.Transform})
	if err != nil {
		return fmt.Errorf("tta: %w", err)
	}
	h, w, c := loader.Shape()
	tc := augment.TenCrop{Height: size, Width: size}
	if _, err := tc.Boxes(h, w); err != nil {
		return fmt.Errorf("tta: %w", err)
	}
	in, view := h*w*c, size*size*c
	tp := ag.NewTape()
	packs := nn.NewPackCache() // the weights do not change during the pass
	tp.SetGradEnabled(false)
	var views []float32
	it := loader.Epoch(0)
	defer it.Close()
	for b, ok := it.Next(); ok; b, ok = it.Next() {
		n := len(b.Y)
		views = append(views[:0], make([]float32, n*augment.Views*view)...)
		x := b.X.Data()
		for i := range n {
			if err := tc.Apply(views[i*augment.Views*view:(i+1)*augment.Views*view], x[i*in:(i+1)*in], h, w, c); err != nil {
				return fmt.Errorf("tta: %w", err)
			}
		}
		xt, err := tensor.FromSlice(views, n*augment.Views, size, size, c)
		if err != nil {
			return fmt.Errorf("tta: %w", err)
		}
		logits := model.Forward(&nn.Ctx{Tape: tp, Packs: packs}, ag.Const(xt))
		if err := tp.Err(); err != nil {
			tp.Reset()
			return fmt.Errorf("tta: %w", err)
		}
		probs := averageSoftmax(logits.Value().Data(), n)
		tp.Reset()
		if err := fn(probs, b); err != nil {
			return fmt.Errorf("tta: %w", err)
		}
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("tta: %w", err)
	}
	return nil
}

// averageSoftmax returns, for each of n examples, the mean of the
// softmax of its ten rows of logits (n·10 rows in all), in float64.
func averageSoftmax(logits []float32, n int) [][]float64 {
	k := len(logits) / (n * augment.Views)
	out := make([][]float64, n)
	for i := range out {
		avg := make([]float64, k)
		for v := range augment.Views {
			row := logits[(i*augment.Views+v)*k : (i*augment.Views+v+1)*k]
			m := math.Inf(-1)
			for _, z := range row {
				m = max(m, float64(z))
			}
			var sum float64
			for _, z := range row {
				sum += math.Exp(float64(z) - m)
			}
			for j, z := range row {
				avg[j] += math.Exp(float64(z)-m) / sum / augment.Views
			}
		}
		out[i] = avg
	}
	return out
}
