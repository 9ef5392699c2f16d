package inspect

import (
	"strings"
	"testing"
	"time"

	"github.com/foveaml/fovea/models"
)

func TestMeasure(t *testing.T) {
	spec, _ := models.Lookup("lenet5")
	m, err := spec.New(models.Options{Classes: 10, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	r, err := Measure(m, spec.Input, MeasureConfig{Batch: 4, MinTime: time.Millisecond, MinBatches: 2})
	if err != nil {
		t.Fatal(err)
	}
	if r.InferenceBatches < 2 || r.TrainBatches < 2 || !(r.InferenceImagesPerSec > 0) || !(r.TrainImagesPerSec > 0) {
		t.Errorf("batches %d, %d, images/s %v, %v; want at least 2 batches each at a positive rate", r.InferenceBatches, r.TrainBatches, r.InferenceImagesPerSec, r.TrainImagesPerSec)
	}
	// Inference keeps at least the logits and the first convolution's
	// output (4 × 28×28×6 floats); training keeps more than inference.
	if r.InferenceBytes < 4*4*(28*28*6+10) || r.TrainActivationBytes <= r.InferenceBytes {
		t.Errorf("inference %d bytes, training %d: want inference ≥ %d and training above it", r.InferenceBytes, r.TrainActivationBytes, 4*4*(28*28*6+10))
	}
	if want := r.TrainActivationBytes + 4*3*61_706; r.TrainPeakBytes != want {
		t.Errorf("train peak %d bytes; want activations + weights, gradients and momentum = %d", r.TrainPeakBytes, want)
	}
	// The same batch size gives the same memory: the figure is exact, not sampled.
	r2, err := Measure(m, spec.Input, MeasureConfig{Batch: 4, MinTime: time.Millisecond, NoTrain: true})
	if err != nil {
		t.Fatal(err)
	}
	if r2.InferenceBytes != r.InferenceBytes || r2.TrainBatches != 0 {
		t.Errorf("a second run: %d bytes (want %d), %d training batches (want 0)", r2.InferenceBytes, r.InferenceBytes, r2.TrainBatches)
	}
	if _, err := Measure(m, []int{32, 32, 3}, MeasureConfig{MinTime: time.Millisecond}); err == nil || !strings.Contains(err.Error(), "inspect.Measure: inference:") {
		t.Errorf("a wrong input: error %v", err)
	}
	if _, err := Measure(m, spec.Input, MeasureConfig{Batch: -1}); err == nil {
		t.Error("batch -1: no error")
	}
}
