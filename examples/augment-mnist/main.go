// Command augment-mnist shows what data augmentation buys on a small
// training set: it trains LeNet-5 twice on the same 1,000 MNIST images,
// once as they are and once under the "mnist" augmentation preset
// (rotation ±15°, x shear ±10°, zoom 0.9–1.1, shift ±10%), with the same
// seed, optimiser and epochs, and reports the test accuracy of both,
// with their curves in a PNG.
//
//	go run ./examples/augment-mnist                  # 1,000 images, 30 epochs: about 2 minutes on 2 cores
//	go run ./examples/augment-mnist --epochs 5 --test 2000   # a quick look
//
// Without augmentation the network soon fits the 1,000 images and stops
// learning; with it, every epoch shows it new variants of the digits, and
// the test accuracy ends higher. One run with the defaults (seed 1, Adam
// 0.001, cosine schedule, batch 32), on the 10,000 test images:
//
//	plain                  test top-1 0.9122  loss 0.2916
//	augmented (mnist)      test top-1 0.9413  loss 0.1979
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/foveaml/fovea/augment"
	"github.com/foveaml/fovea/data"
	"github.com/foveaml/fovea/datasets/mnist"
	"github.com/foveaml/fovea/models"
	"github.com/foveaml/fovea/optim"
	"github.com/foveaml/fovea/train"
)

func main() {
	n := flag.Int("n", 1000, "training images (the first n of MNIST's training set)")
	epochs := flag.Int("epochs", 30, "epochs for each run")
	testN := flag.Int("test", 10000, "test images to score (the first of MNIST's test set)")
	preset := flag.String("preset", "mnist", "augmentation preset")
	seed := flag.Uint64("seed", 1, "seed of the weights, the shuffling and the augmentation")
	out := flag.String("out", "augment-mnist.png", "PNG of the test accuracy and training loss per epoch")
	flag.Parse()
	if err := run(*n, *epochs, *testN, *preset, *seed, *out); err != nil {
		fmt.Fprintln(os.Stderr, "augment-mnist:", err)
		os.Exit(1)
	}
}

func run(n, epochs, testN int, preset string, seed uint64, out string) error {
	if n < 1 || epochs < 1 || testN < 1 {
		return fmt.Errorf("--n, --epochs and --test must be at least 1")
	}
	trainAll, err := mnist.Train()
	if err != nil {
		return err
	}
	testAll, err := mnist.Test()
	if err != nil {
		return err
	}
	trainSet, err := first(trainAll, n)
	if err != nil {
		return err
	}
	testSet, err := first(testAll, testN)
	if err != nil {
		return err
	}
	pipe, err := augment.Preset(preset)
	if err != nil {
		return err
	}
	runs := []struct {
		name string
		tf   data.Transform
	}{{"plain", nil}, {"augmented (" + preset + ")", pipe}}
	acc := train.Chart{Title: "test accuracy"}
	loss := train.Chart{Title: "training loss"}
	var results []string
	for _, r := range runs {
		fmt.Printf("training LeNet-5 on %d images, %s, %d epochs\n", trainSet.Len(), r.name, epochs)
		model, err := models.NewLeNet5(models.LeNetConfig{Classes: 10, Seed: seed})
		if err != nil {
			return err
		}
		opt, err := optim.NewAdam(model.Params(), optim.AdamConfig{LR: 1e-3})
		if err != nil {
			return err
		}
		hist, err := train.Fit(context.Background(), model, trainSet, train.Config{
			Epochs: epochs, BatchSize: 32, Optimizer: opt, Seed: seed,
			Schedule:   optim.CosineAnnealingLR{TMax: epochs},
			Validation: testSet, Transform: r.tf,
			Hooks: []train.Hook{train.HookFuncs{EpochEnd: func(s *train.State) error {
				m := s.Metrics
				fmt.Printf("  epoch %2d  loss %.4f  train acc %.4f  test acc %.4f\n", m.Epoch+1, m.Loss, m.Acc, m.ValAcc)
				return nil
			}}},
		})
		if err != nil {
			return err
		}
		var x, a, l []float64
		for _, e := range hist.Epochs {
			x, a, l = append(x, float64(e.Epoch+1)), append(a, e.ValAcc), append(l, e.Loss)
		}
		acc.Series = append(acc.Series, train.Series{Name: r.name, X: x, Y: a})
		loss.Series = append(loss.Series, train.Series{Name: r.name, X: x, Y: l})
		m, err := train.Evaluate(model, testSet, train.EvalConfig{BatchSize: 256})
		if err != nil {
			return err
		}
		results = append(results, fmt.Sprintf("%-22s test top-1 %.4f  loss %.4f", r.name, m.Top1, m.Loss))
	}
	fmt.Printf("\nLeNet-5, %d training images, %d epochs, %d test images:\n", trainSet.Len(), epochs, testSet.Len())
	for _, r := range results {
		fmt.Println(" ", r)
	}
	if err := train.PlotPNG(out, acc, loss); err != nil {
		return err
	}
	fmt.Println("wrote", out)
	return nil
}

// first returns the first n examples of ds (all if it has fewer).
func first(ds data.Dataset, n int) (data.Dataset, error) {
	idx := make([]int, min(n, ds.Len()))
	for i := range idx {
		idx[i] = i
	}
	return data.Subset(ds, idx)
}
