package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"syscall"

	"github.com/foveaml/fovea/models"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/optim"
	"github.com/foveaml/fovea/tensor"
	"github.com/foveaml/fovea/train"
)

// trainCase is one line of the training table: a model trained on one
// fixed batch of random images, and the peer arguments that train the
// same model the same way in PyTorch.
type trainCase struct {
	name  string
	batch int
	setup func() (step func() error, err error) // returns one timed training step
	peer  []string
}

var trainCases = []trainCase{
	{
		name:  "train-lenet5",
		batch: 64,
		setup: func() (func() error, error) {
			m, err := models.NewLeNet5(models.LeNetConfig{Act: nn.ReLU, Seed: 1})
			if err != nil {
				return nil, err
			}
			return sgdTrainer(m, 64, 28, 28, 1, 10)
		},
		peer: []string{"train", "--model", "lenet5", "--batch", "64"},
	},
	zooTrainCase("train-resnet18_cifar", "resnet18_cifar", 64, 32, 10),
	zooTrainCase("train-resnet18", "resnet18", 16, 224, 1000),
}

// peakRSSMiB returns the process's peak resident memory so far, in MiB:
// per case only when one case runs per process (-run NAME).
func peakRSSMiB() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024 // kilobytes on Linux
}

// zooTrainCase trains the registered model name on batches of size×size
// RGB images, as the peer's model of the same name.
func zooTrainCase(caseName, model string, batch, size, classes int) trainCase {
	return trainCase{
		name:  caseName,
		batch: batch,
		setup: func() (func() error, error) {
			spec, err := models.Lookup(model)
			if err != nil {
				return nil, err
			}
			m, err := spec.New(models.Options{Classes: classes, Seed: 1})
			if err != nil {
				return nil, err
			}
			return sgdTrainer(m, batch, size, size, 3, classes)
		},
		peer: []string{"train", "--model", model, "--batch", fmt.Sprint(batch)},
	}
}

// sgdTrainer returns a function that runs one training step of model on
// a fixed batch of random h×w×c images with random labels, as Fit runs
// them (train.Stepper): forward, softmax cross-entropy, backward and an
// SGD update with momentum 0.9 and learning rate 0.01, as the peer's
// train case does.
func sgdTrainer(model nn.Layer, batch, h, w, c, classes int) (func() error, error) {
	opt, err := optim.NewSGD(model.Params(), optim.SGDConfig{LR: 0.01, Momentum: 0.9})
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	x := tensor.RandNormal(rng, 0, 1, batch, h, w, c)
	y := make([]int32, batch)
	for i := range y {
		y[i] = int32(rng.IntN(classes))
	}
	st, err := train.NewStepper(model, train.Config{Optimizer: opt, BatchSize: batch})
	if err != nil {
		return nil, err
	}
	return func() error {
		_, err := st.Step(x, y)
		return err
	}, nil
}

// runTrain prints the training table: images per second of fovea and of
// the peer, and their ratio.
func runTrain(o options) error {
	fmt.Printf("# fovea training steps, %d threads (GOMAXPROCS), SGD momentum 0.9 on one fixed random batch; images/s, median of %d\n",
		o.threads, o.reps)
	if o.why != "" {
		fmt.Printf("# PyTorch column skipped: %s\n", o.why)
	}
	fmt.Printf("%-20s %12s %18s %6s %16s\n", "case", "fovea_img/s", "torch_img/s", "ratio", "fovea_peak_MiB")
	for _, c := range trainCases {
		if o.only != "" && !strings.Contains(c.name, o.only) {
			continue
		}
		step, err := c.setup()
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		var stepErr error
		f := medianRate(func() {
			if err := step(); err != nil && stepErr == nil {
				stepErr = err
			}
		}, float64(c.batch), o.reps)
		if stepErr != nil {
			return fmt.Errorf("%s: %w", c.name, stepErr)
		}
		torchCol, ratio := "-", "-"
		if o.why == "" {
			if r, err := timeTorch(o.peer, c.peer, o.reps); err != nil {
				torchCol = "error"
				fmt.Fprintf(os.Stderr, "%s: torch: %v\n", c.name, err)
			} else {
				torchCol = fmt.Sprintf("%.0f (%s)", r.Best, r.Layout)
				ratio = fmt.Sprintf("%.2f", f/r.Best)
			}
		}
		fmt.Printf("%-20s %12.0f %18s %6s %16.0f\n", c.name, f, torchCol, ratio, peakRSSMiB())
	}
	return nil
}
