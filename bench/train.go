package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
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
// a case's when the process runs one case (see runTrain).
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
// the peer, and their ratio; the peak resident memory of fovea's process
// and of the peer's, in PyTorch's default NCHW layout and channels_last,
// and the ratio of fovea's to NCHW's. A process's peak is all it tells
// of a case, so when more than one case is to run, each runs in a
// process of its own (this program again, with the case named in
// caseEnv).
func runTrain(o options) error {
	var cases []trainCase
	for _, c := range trainCases {
		if name, ok := os.LookupEnv(caseEnv); ok && c.name != name || o.only != "" && !strings.Contains(c.name, o.only) {
			continue
		}
		cases = append(cases, c)
	}
	if _, child := os.LookupEnv(caseEnv); !child {
		fmt.Printf("# fovea training steps, %d threads (GOMAXPROCS), SGD momentum 0.9 on one fixed random batch; images/s, median of %d;\n"+
			"# peak resident memory (MiB) of each case's process, fovea's and PyTorch's\n", o.threads, o.reps)
		if o.why != "" {
			fmt.Printf("# PyTorch column skipped: %s\n", o.why)
		}
		fmt.Printf("%-20s %12s %18s %6s %14s %15s %13s %6s\n", "case", "fovea_img/s", "torch_img/s", "ratio",
			"fovea_peak_MiB", "torch_nchw_peak", "torch_cl_peak", "x_peak")
		if len(cases) > 1 {
			return trainEach(cases)
		}
	}
	for _, c := range cases {
		if err := trainOne(o, c); err != nil {
			return err
		}
	}
	return nil
}

// caseEnv names the one training case a child process of runTrain runs.
const caseEnv = "FOVEA_BENCH_TRAIN_CASE"

// trainEach runs each case in a child process, which prints its line.
func trainEach(cases []trainCase) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	for _, c := range cases {
		cmd := exec.Command(exe, os.Args[1:]...)
		cmd.Env = append(os.Environ(), caseEnv+"="+c.name)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
	}
	return nil
}

// trainOne times case c, in fovea then in the peer, and prints its line.
func trainOne(o options, c trainCase) error {
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
	peak := peakRSSMiB() // before the peer runs: its memory is its own, but not to be muddled
	torchCol, ratio, nchwPeak, clPeak, xPeak := "-", "-", "-", "-", "-"
	if o.why == "" {
		if r, err := timeTorch(o.peer, c.peer, o.reps); err != nil {
			torchCol = "error"
			fmt.Fprintf(os.Stderr, "%s: torch: %v\n", c.name, err)
		} else {
			torchCol = fmt.Sprintf("%.0f (%s)", r.Best, r.Layout)
			ratio = fmt.Sprintf("%.2f", f/r.Best)
			if m, ok := r.PeakRSS["nchw"]; ok {
				nchwPeak, xPeak = fmt.Sprintf("%.0f", m), fmt.Sprintf("%.2f", peak/m)
			}
			if m, ok := r.PeakRSS["cl"]; ok {
				clPeak = fmt.Sprintf("%.0f", m)
			}
		}
	}
	fmt.Printf("%-20s %12.0f %18s %6s %14.0f %15s %13s %6s\n", c.name, f, torchCol, ratio, peak, nchwPeak, clPeak, xPeak)
	return nil
}
