package inspect

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/optim"
	"github.com/foveaml/fovea/tensor"
)

// MeasureConfig says how long to measure a model for.
type MeasureConfig struct {
	// Batch is the batch size of both measurements; default 8.
	Batch int
	// MinTime is how long each measurement runs at least, after one
	// untimed warm-up batch; default 1 s. MinBatches is the fewest timed
	// batches; default 1.
	MinTime    time.Duration
	MinBatches int
	// NoTrain skips the training measurement (and the model is left as
	// it was: a training step changes its weights).
	NoTrain bool
	// Seed seeds the random images and labels.
	Seed uint64
}

// Measurement is what a model needs on this machine at one batch size.
type Measurement struct {
	Batch   int `json:"batch"`
	Threads int `json:"threads"` // GOMAXPROCS during the run
	// InferenceImagesPerSec is the images per second of inference as
	// nn.Predictor runs it (no gradients, convolution units fused) over
	// InferenceBatches timed batches.
	InferenceImagesPerSec float64 `json:"inference_images_per_second"`
	InferenceBatches      int     `json:"inference_batches"`
	// InferenceBytes is the peak memory of one inference batch's
	// activations (the tape's buffers; see ag.Tape.Memory).
	InferenceBytes int64 `json:"inference_activation_bytes"`
	// TrainImagesPerSec is the images per second of training steps
	// (forward in training mode, softmax cross-entropy on random labels,
	// with an AuxModel's auxiliary losses, backward, an SGD update with
	// momentum) over TrainBatches timed batches; 0 with NoTrain.
	TrainImagesPerSec float64 `json:"train_images_per_second,omitempty"`
	TrainBatches      int     `json:"train_batches,omitempty"`
	// TrainActivationBytes is the peak memory of a training step's tape:
	// activations, the state backward keeps, gradients in flight.
	// TrainPeakBytes adds the weights, their gradients and the SGD
	// momentum: the whole step's memory but for kernels' scratch space.
	TrainActivationBytes int64 `json:"train_activation_bytes,omitempty"`
	TrainPeakBytes       int64 `json:"train_peak_bytes,omitempty"`
}

// Measure times model on random examples of shape in ([H, W, C]) at
// inference and, unless cfg.NoTrain, in training, and records the memory
// each needs. Training steps change the model's weights and batch
// statistics: measure a model built for the purpose.
func Measure(model nn.Layer, in []int, cfg MeasureConfig) (Measurement, error) {
	if cfg.Batch == 0 {
		cfg.Batch = 8
	}
	if cfg.MinTime == 0 {
		cfg.MinTime = time.Second
	}
	cfg.MinBatches = max(cfg.MinBatches, 1)
	if cfg.Batch < 1 || cfg.MinTime < 0 {
		return Measurement{}, fmt.Errorf("inspect.Measure: batch %d, time %v: want a batch of at least 1 and a time of 0 or more", cfg.Batch, cfg.MinTime)
	}
	if len(in) == 0 {
		return Measurement{}, fmt.Errorf("inspect.Measure: no input shape")
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x3ea5))
	x := tensor.RandUniform(rng, 0, 1, append([]int{cfg.Batch}, in...)...)
	m := Measurement{Batch: cfg.Batch, Threads: runtime.GOMAXPROCS(0)}

	tp := ag.NewTape()
	tp.SetGradEnabled(false)
	packs := nn.NewPackCache() // filters packed once, as a Predictor does
	infer := func() error {
		defer tp.Reset()
		model.Forward(&nn.Ctx{Tape: tp, Packs: packs}, ag.Const(x))
		return tp.Err()
	}
	var err error
	if m.InferenceBatches, m.InferenceImagesPerSec, err = timed(infer, cfg); err != nil {
		return Measurement{}, fmt.Errorf("inspect.Measure: inference: %w", err)
	}
	_, m.InferenceBytes = tp.Memory()
	if cfg.NoTrain {
		return m, nil
	}

	ps := model.Params()
	o, err := optim.NewSGD(ps, optim.SGDConfig{LR: 1e-4, Momentum: 0.9})
	if err != nil {
		return Measurement{}, fmt.Errorf("inspect.Measure: %w", err)
	}
	classes := nn.Classes(model)
	labels := make([]int32, cfg.Batch)
	for i := range labels {
		labels[i] = int32(rng.IntN(max(classes, 1)))
	}
	tt := ag.NewTape()
	var step int64
	trainStep := func() error {
		defer tt.Reset()
		c := &nn.Ctx{Tape: tt, Train: true, Step: step}
		step++
		var logits *ag.Var
		var aux []*ag.Var
		if am, ok := model.(nn.AuxModel); ok {
			logits, aux = am.ForwardAux(c, ag.Const(x))
		} else {
			logits = model.Forward(c, ag.Const(x))
		}
		if err := tt.Err(); err != nil {
			return err
		}
		if s := logits.Shape(); len(s) != 2 || s[0] != cfg.Batch {
			return fmt.Errorf("the model gives %v; training needs [N, classes] logits", s)
		}
		loss := tt.SoftmaxCrossEntropy(logits, labels, 0)
		if len(aux) > 0 {
			ws, terms := []float32{1}, []*ag.Var{loss}
			for _, a := range aux {
				ws, terms = append(ws, 0.3), append(terms, tt.SoftmaxCrossEntropy(a, labels, 0))
			}
			loss = tt.WeightedSum(ws, terms...)
		}
		if err := tt.Backward(loss); err != nil {
			return err
		}
		o.Step()
		o.ZeroGrad()
		return nil
	}
	if m.TrainBatches, m.TrainImagesPerSec, err = timed(trainStep, cfg); err != nil {
		return Measurement{}, fmt.Errorf("inspect.Measure: training: %w", err)
	}
	_, m.TrainActivationBytes = tt.Memory()
	trainable, frozen := nn.TrainableCount(model)
	m.TrainPeakBytes = m.TrainActivationBytes + 4*int64(frozen+3*trainable)
	return m, nil
}

// timed runs f once to warm up, then until cfg's time and batches are
// reached, and returns the timed batches and images per second.
func timed(f func() error, cfg MeasureConfig) (int, float64, error) {
	if err := f(); err != nil {
		return 0, 0, err
	}
	n, start := 0, time.Now()
	for n < cfg.MinBatches || time.Since(start) < cfg.MinTime {
		if err := f(); err != nil {
			return 0, 0, err
		}
		n++
	}
	return n, float64(n*cfg.Batch) / time.Since(start).Seconds(), nil
}
