// Command transfer shows what transfer learning buys when labelled data
// is scarce. Modelled on Keras' mnist_transfer_cnn example, it trains
// LeNet-5 on MNIST's digits 0–4 (the source task), then learns digits 5–9
// (the target task) from only 10, 50 and 500 labelled images per class:
//
//   - frozen features: the source network with its feature layers (the
//     two convolutions, up to features.3) frozen and its dense
//     classifier trained, the last dense layer drawn anew for the new
//     classes (nn.FreezeUpTo; through the frozen convolutions, train.Fit);
//   - fine-tuned: the source network with a new last dense layer, every
//     layer training; --backbone-lr-scale (1 by default) scales the rate
//     of all but that last layer (optim.Discriminative);
//   - from scratch: a freshly initialised LeNet-5;
//   - head only (an extra column): everything frozen but the new last
//     dense layer (84 → classes), trained on cached features
//     (train.FitHead).
//
// Every run of a size gets the same recipe: Adam at --lr (0.003) with a
// cosine schedule over the run and no warm-up, batch 32, the same number
// of optimiser steps (at least --steps, at least --min-epochs epochs) and
// the same seed. The source network trains for --source-epochs (3)
// epochs of Adam at 0.001, batch 64, cosine schedule.
//
// It prints the test accuracy of each on all of MNIST's test images of
// digits 5–9, writes their learning curves (accuracy on 1,000 held-out
// images per epoch) to transfer-mnist.png in --out, and times the
// head-only run at the largest size twice, on the feature cache and
// through the frozen backbone (train.Fit), to measure what the cache
// saves.
//
// A second pair does the same from all of MNIST to Fashion-MNIST
// (clothes, 10 classes), written to transfer-fashion.png. It needs
// Debian's Fashion-MNIST package, which installs the IDX files under
// /usr/share/datasets/fashion-mnist:
//
//	sudo apt-get install dataset-fashion-mnist
//
// Without it the program stops with that instruction; --fashion=false
// skips the pair.
//
//	go run ./examples/transfer                       # both pairs: about 3 minutes on 2 cores
//	go run ./examples/transfer --fashion=false --per-class 10,50
//
// One run with the defaults (seed 1) on the development machine, test
// top-1 (held-out accuracy after the first epoch in brackets):
//
//	MNIST 0–4 → MNIST 5–9 (4,861 test images)
//	per class  epochs   frozen features  fine-tuned      from scratch    head only
//	10         150      0.8893 (0.428)   0.8801 (0.436)  0.8574 (0.200)  0.7011 (0.307)
//	50         38       0.9512 (0.855)   0.9515 (0.878)  0.9379 (0.497)  0.7496 (0.520)
//	500        10       0.9788 (0.962)   0.9813 (0.958)  0.9782 (0.930)  0.8206 (0.675)
//	head only, 2500 images, 10 epochs: 0.27 s on cached features, 2.37 s through the backbone (8.8×)
//
//	MNIST 0–9 → Fashion-MNIST (10,000 test images)
//	10         75       0.7118 (0.355)   0.7144 (0.329)  0.6911 (0.302)  0.5999 (0.168)
//	50         19       0.7732 (0.659)   0.7791 (0.628)  0.7588 (0.356)  0.6407 (0.387)
//	500        10       0.8356 (0.797)   0.8522 (0.780)  0.8444 (0.695)  0.7221 (0.645)
//
// Both transferred methods start above training from scratch at every
// size. Fine-tuning ends above it at every size; frozen features end
// above it at 10 and 50 per class, level with it (MNIST) or below it
// (Fashion-MNIST) at 500. The gains shrink as labels grow: at 500 per
// class they are within a run's noise (the same seed moves the
// transferred columns by up to half a point from run to run). The head
// alone ends lowest: LeNet-5's last hidden layer (84 units) is too
// specific to the source task to carry a new one.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/foveaml/fovea/data"
	"github.com/foveaml/fovea/datasets/mnist"
	"github.com/foveaml/fovea/models"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/optim"
	"github.com/foveaml/fovea/train"
	"github.com/foveaml/fovea/weights"
)

// fashionDir is where Debian's dataset-fashion-mnist installs.
const fashionDir = "/usr/share/datasets/fashion-mnist"

type options struct {
	perClass      []int
	sourceEpochs  int
	steps         int
	minEpochs     int
	batch         int
	lr            float64
	backboneScale float64
	seed          uint64
	fashion       bool
	out           string
	quiet         bool
}

func main() {
	var o options
	perClass := flag.String("per-class", "10,50,500", "labelled target images per class, comma-separated")
	flag.IntVar(&o.sourceEpochs, "source-epochs", 3, "epochs of training on the source task")
	flag.IntVar(&o.steps, "steps", 300, "least optimiser steps of each target run")
	flag.IntVar(&o.minEpochs, "min-epochs", 10, "least epochs of each target run")
	flag.IntVar(&o.batch, "batch", 32, "batch size")
	flag.Float64Var(&o.lr, "lr", 3e-3, "Adam learning rate of every method (cosine schedule, no warm-up)")
	flag.Float64Var(&o.backboneScale, "backbone-lr-scale", 1, "fine-tuning: the backbone's learning rate as a fraction of the head's")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the weights, the samples and the shuffling")
	flag.BoolVar(&o.fashion, "fashion", true, "also transfer from MNIST to Fashion-MNIST (needs apt-get install dataset-fashion-mnist)")
	flag.StringVar(&o.out, "out", ".", "folder for the PNGs")
	flag.BoolVar(&o.quiet, "quiet", false, "only the results")
	flag.Parse()
	for _, s := range strings.Split(*perClass, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "transfer: --per-class %q: want positive integers separated by commas\n", *perClass)
			os.Exit(2)
		}
		o.perClass = append(o.perClass, n)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "transfer:", err)
		os.Exit(1)
	}
}

// relabeled is a view of some examples of a dataset with new labels.
type relabeled struct {
	parent  data.Dataset
	idx     []int
	labels  []int32
	classes int
	names   []string
}

func (r *relabeled) Len() int             { return len(r.idx) }
func (r *relabeled) Shape() (h, w, c int) { return r.parent.Shape() }
func (r *relabeled) Classes() int         { return r.classes }
func (r *relabeled) ClassNames() []string { return r.names }
func (r *relabeled) Example(i int, dst []float32) (int, error) {
	if _, err := r.parent.Example(r.idx[i], dst); err != nil {
		return 0, err
	}
	return int(r.labels[i]), nil
}

// task is the examples of ds whose labels are in classes, relabelled
// 0, 1, ... in that order, grouped by class.
type task struct {
	ds      data.Dataset
	byClass [][]int // indices into ds per new label
	names   []string
}

func newTask(ds *data.InMemory, classes []int) task {
	t := task{ds: ds, byClass: make([][]int, len(classes))}
	pos := map[int32]int{}
	names := ds.ClassNames()
	for i, c := range classes {
		pos[int32(c)] = i
		if c < len(names) {
			t.names = append(t.names, names[c])
		} else {
			t.names = append(t.names, strconv.Itoa(c))
		}
	}
	for i, l := range ds.Labels() {
		if k, ok := pos[l]; ok {
			t.byClass[k] = append(t.byClass[k], i)
		}
	}
	return t
}

// all returns every example of the task.
func (t task) all() data.Dataset { return t.pick(func(k int, idx []int) []int { return idx }) }

// pick builds a dataset from the indices choose keeps of each class.
func (t task) pick(choose func(k int, idx []int) []int) data.Dataset {
	r := &relabeled{parent: t.ds, classes: len(t.byClass), names: t.names}
	for k, idx := range t.byClass {
		for _, i := range choose(k, idx) {
			r.idx = append(r.idx, i)
			r.labels = append(r.labels, int32(k))
		}
	}
	return r
}

// sample returns n examples per class for training and val per class
// for validation, disjoint, drawn from seed.
func (t task) sample(n, val int, seed uint64) (trainSet, valSet data.Dataset, err error) {
	perm := map[int][]int{}
	rng := rand.New(rand.NewPCG(seed, 0x7a5))
	for k, idx := range t.byClass {
		if len(idx) < n+val {
			return nil, nil, fmt.Errorf("class %s has %d examples; %d per class wanted", t.names[k], len(idx), n+val)
		}
		p := append([]int(nil), idx...)
		rng.Shuffle(len(p), func(i, j int) { p[i], p[j] = p[j], p[i] })
		perm[k] = p
	}
	return t.pick(func(k int, _ []int) []int { return perm[k][:n] }), t.pick(func(k int, _ []int) []int { return perm[k][n : n+val] }), nil
}

// pair is a source task and a target task.
type pair struct {
	name           string
	source, target task
	testTarget     task
	png            string
}

func run(o options) error {
	mTrain, err := mnist.Train()
	if err != nil {
		return err
	}
	mTest, err := mnist.Test()
	if err != nil {
		return err
	}
	pairs := []pair{{
		name:       "MNIST 0–4 → MNIST 5–9",
		source:     newTask(mTrain, []int{0, 1, 2, 3, 4}),
		target:     newTask(mTrain, []int{5, 6, 7, 8, 9}),
		testTarget: newTask(mTest, []int{5, 6, 7, 8, 9}),
		png:        "transfer-mnist.png",
	}}
	if o.fashion {
		if _, err := os.Stat(filepath.Join(fashionDir, "train-images-idx3-ubyte.gz")); err != nil {
			return fmt.Errorf("Fashion-MNIST not found in %s: install it with 'sudo apt-get install dataset-fashion-mnist' (Debian, Ubuntu), or run with --fashion=false to skip the MNIST → Fashion-MNIST pair", fashionDir)
		}
		fTrain, err := data.FashionMNIST(fashionDir, true)
		if err != nil {
			return err
		}
		fTest, err := data.FashionMNIST(fashionDir, false)
		if err != nil {
			return err
		}
		ten := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
		pairs = append(pairs, pair{
			name:       "MNIST 0–9 → Fashion-MNIST",
			source:     newTask(mTrain, ten),
			target:     newTask(fTrain, ten),
			testTarget: newTask(fTest, ten),
			png:        "transfer-fashion.png",
		})
	}
	tmp, err := os.MkdirTemp("", "fovea-transfer-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	start := time.Now()
	var tables []string
	for pi, p := range pairs {
		src := filepath.Join(tmp, fmt.Sprintf("source%d.safetensors", pi))
		if err := trainSource(o, p, src); err != nil {
			return err
		}
		table, err := transfer(o, p, src, pi == 0)
		if err != nil {
			return err
		}
		tables = append(tables, table)
	}
	fmt.Println()
	for _, t := range tables {
		fmt.Println(t)
	}
	fmt.Printf("(%.0f s in all)\n", time.Since(start).Seconds())
	return nil
}

// trainSource trains LeNet-5 on the source task and saves it to path as
// fovea train would.
func trainSource(o options, p pair, path string) error {
	ds := p.source.all()
	model, err := models.NewLeNet5(models.LeNetConfig{Classes: ds.Classes(), Seed: o.seed + 100})
	if err != nil {
		return err
	}
	opt, err := optim.NewAdam(model.Params(), optim.AdamConfig{LR: 1e-3})
	if err != nil {
		return err
	}
	fmt.Printf("%s: training the source network on %d images, %d epochs\n", p.name, ds.Len(), o.sourceEpochs)
	cfg := train.Config{Epochs: o.sourceEpochs, BatchSize: 64, Optimizer: opt, Seed: o.seed,
		Schedule: optim.CosineAnnealingLR{TMax: o.sourceEpochs}}
	if !o.quiet {
		cfg.Progress = os.Stdout
	}
	if _, err := train.Fit(context.Background(), model, ds, cfg); err != nil {
		return err
	}
	return weights.Save(path, weights.StateDict(nn.State(model)), map[string]string{
		"model": "lenet5", "classes": strconv.Itoa(ds.Classes()), "data": p.name})
}

// The methods, in the order of the table's columns.
const (
	mFrozen    = iota // convolutions frozen, dense classifier trained
	mFineTuned        // every layer trained
	mScratch          // a fresh LeNet-5
	mHead             // everything frozen but the last dense layer
	nMethods
)

var methods = [nMethods]string{"frozen features", "fine-tuned", "from scratch", "head only"}

// lastConv is LeNet-5's last convolution: FreezeUpTo it freezes the
// feature layers.
const lastConv = "features.3"

type result struct {
	top1  [nMethods]float64
	first [nMethods]float64 // validation accuracy after the first epoch
}

// transfer runs the three methods at each size and returns the table;
// timeCache also times the head-only run through the backbone.
func transfer(o options, p pair, src string, timeCache bool) (string, error) {
	test := p.testTarget.all()
	classes := test.Classes()
	var charts []train.Chart
	var b strings.Builder
	fmt.Fprintf(&b, "%s: test top-1 on %d images (accuracy on 1,000 held-out images after epoch 1 in brackets)\n", p.name, test.Len())
	fmt.Fprintf(&b, "  %-10s %-8s", "per class", "epochs")
	for _, m := range methods {
		fmt.Fprintf(&b, " %-18s", m)
	}
	b.WriteString("\n")
	var speed string
	for si, n := range o.perClass {
		trainSet, valSet, err := p.target.sample(n, 1000/classes, o.seed+uint64(n))
		if err != nil {
			return "", err
		}
		stepsPer := (trainSet.Len() + o.batch - 1) / o.batch
		epochs := max(o.minEpochs, (o.steps+stepsPer-1)/stepsPer)
		chart := train.Chart{Title: fmt.Sprintf("%s, %d/class: val acc", shortName(p.name), n)}
		var r result
		for mi := range methods {
			if !o.quiet {
				fmt.Printf("%s: %d images per class, %s, %d epochs\n", p.name, n, methods[mi], epochs)
			}
			model, hist, _, err := fitTarget(o, mi, src, classes, trainSet, valSet, epochs, true)
			if err != nil {
				return "", fmt.Errorf("%d per class, %s: %w", n, methods[mi], err)
			}
			m, err := train.Evaluate(model, test, train.EvalConfig{BatchSize: 256})
			if err != nil {
				return "", err
			}
			r.top1[mi], r.first[mi] = m.Top1, hist.Epochs[0].ValAcc
			var x, y []float64
			for _, e := range hist.Epochs {
				x, y = append(x, float64(e.Epoch+1)), append(y, e.ValAcc)
			}
			chart.Series = append(chart.Series, train.Series{Name: methods[mi], X: x, Y: y})
		}
		charts = append(charts, chart)
		fmt.Fprintf(&b, "  %-10d %-8d", n, epochs)
		for mi := range methods {
			fmt.Fprintf(&b, " %-18s", fmt.Sprintf("%.4f (%.3f)", r.top1[mi], r.first[mi]))
		}
		b.WriteString("\n")
		if timeCache && si == len(o.perClass)-1 {
			s, err := measureCache(o, src, classes, trainSet, valSet, epochs)
			if err != nil {
				return "", err
			}
			speed = s
		}
	}
	out := filepath.Join(o.out, p.png)
	if err := train.PlotPNG(out, charts...); err != nil {
		return "", err
	}
	fmt.Fprintf(&b, "  learning curves: %s\n", out)
	b.WriteString(speed)
	return b.String(), nil
}

// shortName is an ASCII name for a chart title (the chart font has no
// arrows or dashes), short enough for the title of a 500/class panel.
func shortName(s string) string {
	if strings.Contains(s, "Fashion") {
		return "MNIST to Fashion"
	}
	return "0-4 to 5-9"
}

// fitTarget trains one target run with method mFrozen, mFineTuned,
// mScratch or mHead; cache puts mHead on the feature cache
// (train.FitHead) instead of through the backbone. Every method gets the
// same recipe: Adam at o.lr with a cosine schedule and no warm-up (the
// fine-tuned backbone's rate scaled by o.backboneScale, 1 by default).
func fitTarget(o options, method int, src string, classes int, trainSet, valSet data.Dataset, epochs int, cache bool) (nn.Layer, *train.History, time.Duration, error) {
	var model nn.Layer
	var err error
	if method == mScratch {
		model, err = models.NewLeNet5(models.LeNetConfig{Classes: classes, Seed: o.seed})
	} else {
		// The source network's weights, but for the last dense layer
		// (classifier.5), which is drawn anew for the target's classes.
		var rep weights.Report
		model, _, rep, err = models.Pretrained("lenet5", src, models.WithClasses(classes), models.WithSeed(o.seed))
		if err == nil && (!rep.OK() || len(rep.Skipped) != 2) {
			err = fmt.Errorf("unexpected load report: %v, skipped %v", rep, rep.Skipped)
		}
	}
	if err != nil {
		return nil, nil, 0, err
	}
	cfg := train.Config{Epochs: epochs, BatchSize: o.batch, Seed: o.seed, Validation: valSet,
		Schedule: optim.CosineAnnealingLR{TMax: epochs}}
	switch method {
	case mFrozen:
		// Keras' mnist_transfer_cnn: the feature layers (both
		// convolutions) frozen, the dense classifier trained.
		if err = nn.FreezeUpTo(model, lastConv); err == nil {
			cfg.Optimizer, err = optim.NewAdam(model.Params(), optim.AdamConfig{LR: o.lr})
		}
	case mFineTuned:
		heads := nn.Heads(model)
		var groups []optim.Group
		groups, err = optim.Discriminative(model.Params(), func(n string) bool { return nn.MatchAny(heads, n) }, o.backboneScale)
		if err == nil {
			cfg.Optimizer, err = optim.NewAdam(nil, optim.AdamConfig{LR: o.lr}, groups...)
		}
	case mScratch:
		cfg.Optimizer, err = optim.NewAdam(model.Params(), optim.AdamConfig{LR: o.lr})
	case mHead:
		nn.FreezeAllButHead(model)
		cfg.Optimizer, err = optim.NewAdam(model.Params(), optim.AdamConfig{LR: o.lr})
	}
	if err != nil {
		return nil, nil, 0, err
	}
	start := time.Now()
	var hist *train.History
	if method == mHead && cache {
		hist, err = train.FitHead(context.Background(), model, trainSet, cfg)
	} else {
		hist, err = train.Fit(context.Background(), model, trainSet, cfg)
	}
	return model, hist, time.Since(start), err
}

// measureCache trains the frozen head at one size twice, on the cache and
// through the backbone, and reports the times and how far the two heads
// are apart.
func measureCache(o options, src string, classes int, trainSet, valSet data.Dataset, epochs int) (string, error) {
	var secs [2]time.Duration
	var heads [2][]float32
	for i, cache := range []bool{true, false} {
		model, _, d, err := fitTarget(o, mHead, src, classes, trainSet, valSet, epochs, cache)
		if err != nil {
			return "", err
		}
		secs[i] = d
		for _, p := range model.Params() {
			if p.Trainable() {
				heads[i] = append(heads[i], p.Var.Value().Data()...)
			}
		}
	}
	if len(heads[0]) != len(heads[1]) || len(heads[0]) == 0 {
		return "", errors.New("the two frozen runs train different heads")
	}
	var diff float64
	for j := range heads[0] {
		diff = math.Max(diff, math.Abs(float64(heads[0][j]-heads[1][j])))
	}
	return fmt.Sprintf("  head only, %d images, %d epochs (validation included): %.2f s on cached features, %.2f s through the backbone: %.1f× faster; heads differ by at most %.1e\n",
		trainSet.Len(), epochs, secs[0].Seconds(), secs[1].Seconds(), secs[1].Seconds()/secs[0].Seconds(), diff), nil
}
