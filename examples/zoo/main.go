// Command zoo trains one member of a family of fovea's model zoo on real
// data, MNIST (inside fovea) or Fashion-MNIST (Debian's
// dataset-fashion-mnist, in /usr/share/datasets/fashion-mnist), its 28×28
// grey images converted to the model's input, and reports its accuracy on
// the test set with its training curves in a PNG.
//
//	go run ./examples/zoo -family lenet|alexnet|vgg|resnet|googlenet \
//	    [-data fashion-mnist|mnist] [-train N] [-epochs E] [-width W] \
//	    [-size S] [-test N] [-batch B] [-lr LR] [-seed S] [-out curves.png]
//
// Every flag left at 0 takes the family's default, chosen so that each run
// takes a few minutes at most on two cores:
//
//	family     model                                           input    train   epochs  test    optimiser
//	lenet      LeNet-5 (ReLU, average pooling)                 28×28×1  60,000  5       10,000  Adam 1e-3
//	resnet     ResNet-18, CIFAR form, width 16 (16-32-64-128)  32×32×3  10,000  4       10,000  Adam 1e-3
//	vgg        VGG-11 with batch norm, channels ÷ 4            32×32×3  10,000  4       10,000  Adam 1e-3
//	alexnet    AlexNet (torchvision's, full width)             64×64×3   8,000  3        2,000  Adam 1e-4, batch 32
//	googlenet  GoogLeNet with both auxiliary heads             32×32×3   6,000  4        2,000  Adam 1e-3
//
// -width is ResNet's first-stage channels (64 is torchvision's) or VGG's
// channel divisor (1 is torchvision's); AlexNet, GoogLeNet and LeNet-5
// have no width option. -size is the side of the model's input: the 28×28
// images are padded with black to it when it is 32 and resized
// (bilinear) to it otherwise, then normalised with the dataset's mean and
// deviation and repeated into three channels, all in one augment.Pipeline
// (a data.Transform) — in the loader for training, and through a view of
// the test set for evaluation. LeNet-5 takes the images as they are.
// AlexNet's smallest input is 63×63 (its last pooling leaves a 1×1 map,
// which the adaptive pooling spreads to 6×6). GoogLeNet's is 31×31
// (smaller inputs leave inception 4e a 1×1 map, too small for the 2×2
// pooling after it); at 32×32 its auxiliary heads see 2×2 maps on
// inception 4a and 4d, which they pool adaptively to 4×4.
//
// Training takes the first -train images of the training set, a cosine
// learning-rate schedule over the epochs, and scores the first -test test
// images after every epoch. GoogLeNet trains with loss main + 0.3·(aux1 +
// aux2), as train.Fit does for a train.AuxModel; to show that the
// auxiliary heads train, the program scores each head on the test images
// before training and after every epoch (running the trunk in inference
// mode and the heads, which inference otherwise drops), and plots their
// accuracy beside the main classifier's.
//
// One run of each family with the defaults on Fashion-MNIST (seed 1, two
// cores of an AMD EPYC Zen 5; the seconds include loading the data and
// scoring the test images after every epoch):
//
//	family     test top-1  test images  seconds
//	lenet      0.8745      10,000        18
//	resnet     0.8824      10,000       105
//	vgg        0.8699      10,000        64
//	alexnet    0.8165       2,000       247
//	googlenet  0.8470       2,000        85   aux1 0.8460, aux2 0.8500 (0.1095 and 0.1015 before training)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/augment"
	"github.com/foveaml/fovea/data"
	"github.com/foveaml/fovea/datasets/mnist"
	"github.com/foveaml/fovea/models"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/optim"
	"github.com/foveaml/fovea/train"
)

// options are the command line's; zero numbers take the family's defaults.
type options struct {
	family, data, fashionDir, out string
	train, epochs, width, size    int
	test, batch                   int
	lr                            float64
	seed                          uint64
}

// family describes one family of the zoo: its defaults and how to build
// its member for -width and -size.
type family struct {
	name                string
	train, epochs, test int
	width, size, batch  int
	lr                  float64
	widthDoc            string // what -width means; "" if the family has none
	build               func(o options) (nn.Layer, string, error)
	minSize             int
}

var families = []family{
	{name: "lenet", train: 60000, epochs: 5, test: 10000, size: 28, batch: 64, lr: 1e-3, minSize: 28,
		build: func(o options) (nn.Layer, string, error) {
			if o.size != 28 {
				return nil, "", fmt.Errorf("LeNet-5 takes 28×28 images; -size %d is not offered", o.size)
			}
			m, err := models.NewLeNet5(models.LeNetConfig{Classes: 10, Seed: o.seed})
			return m, "LeNet-5 (ReLU, average pooling)", err
		}},
	{name: "resnet", train: 10000, epochs: 4, test: 10000, width: 16, size: 32, batch: 64, lr: 1e-3, minSize: 8,
		widthDoc: "the first stage's channels (64: torchvision's)",
		build: func(o options) (nn.Layer, string, error) {
			m, err := models.NewResNet(models.ResNetConfig{Depth: 18, CIFAR: true, Classes: 10, Width: o.width, Seed: o.seed})
			return m, fmt.Sprintf("ResNet-18, CIFAR form, width %d (%d-%d-%d-%d)", o.width, o.width, 2*o.width, 4*o.width, 8*o.width), err
		}},
	{name: "vgg", train: 10000, epochs: 4, test: 10000, width: 4, size: 32, batch: 64, lr: 1e-3, minSize: 32,
		widthDoc: "the divisor of every layer's channels and of the 4096-unit dense layers (1: torchvision's)",
		build: func(o options) (nn.Layer, string, error) {
			m, err := models.NewVGG(models.VGGConfig{Depth: 11, BatchNorm: true, Classes: 10, Input: o.size, Width: o.width, Seed: o.seed})
			return m, fmt.Sprintf("VGG-11 with batch norm, channels ÷ %d (%d-%d-%d-%d-%d, dense %d)", o.width,
				64/o.width, 128/o.width, 256/o.width, 512/o.width, 512/o.width, 4096/o.width), err
		}},
	{name: "alexnet", train: 8000, epochs: 3, test: 2000, size: 64, batch: 32, lr: 1e-4, minSize: 63,
		build: func(o options) (nn.Layer, string, error) {
			m, err := models.NewAlexNet(models.AlexNetConfig{Classes: 10, Input: o.size, Seed: o.seed})
			return m, "AlexNet (torchvision's: 64-192-384-256-256, full width)", err
		}},
	{name: "googlenet", train: 6000, epochs: 4, test: 2000, size: 32, batch: 64, lr: 1e-3, minSize: 31,
		build: func(o options) (nn.Layer, string, error) {
			m, err := models.NewGoogLeNet(models.GoogLeNetConfig{Classes: 10, AuxLogits: true, Input: o.size, Seed: o.seed})
			return m, "GoogLeNet (torchvision's, batch norm) with its two auxiliary heads, full width", err
		}},
}

func main() {
	var o options
	var names []string
	for _, f := range families {
		names = append(names, f.name)
	}
	flag.StringVar(&o.family, "family", "", "the family to train: "+strings.Join(names, ", "))
	flag.StringVar(&o.data, "data", "fashion-mnist", "the data: fashion-mnist or mnist")
	flag.StringVar(&o.fashionDir, "fashion-dir", "/usr/share/datasets/fashion-mnist", "the folder of Fashion-MNIST's IDX files (apt-get install dataset-fashion-mnist)")
	flag.IntVar(&o.train, "train", 0, "training images, the first of the training set (0: the family's default)")
	flag.IntVar(&o.epochs, "epochs", 0, "epochs (0: the family's default)")
	flag.IntVar(&o.width, "width", 0, "ResNet: the first stage's channels; VGG: the channel divisor (0: the family's default)")
	flag.IntVar(&o.size, "size", 0, "side of the model's input images (0: the family's default)")
	flag.IntVar(&o.test, "test", 0, "test images scored, the first of the test set (0: the family's default)")
	flag.IntVar(&o.batch, "batch", 0, "batch size (0: the family's default)")
	flag.Float64Var(&o.lr, "lr", 0, "Adam's learning rate (0: the family's default)")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the weights, the shuffling and dropout")
	flag.StringVar(&o.out, "out", "", "PNG of the training curves (default zoo-FAMILY.png)")
	flag.Parse()
	if err := run(o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "zoo:", err)
		os.Exit(1)
	}
}

func run(o options, w io.Writer) error {
	start := time.Now()
	var f *family
	for i := range families {
		if families[i].name == strings.ToLower(o.family) {
			f = &families[i]
		}
	}
	if f == nil {
		return fmt.Errorf("-family %q: want one of lenet, alexnet, vgg, resnet, googlenet", o.family)
	}
	if o.width != 0 && f.widthDoc == "" {
		return fmt.Errorf("%s has no width option (only resnet and vgg have one)", f.name)
	}
	if o.train < 0 || o.epochs < 0 || o.width < 0 || o.size < 0 || o.test < 0 || o.batch < 0 || o.lr < 0 {
		return errors.New("-train, -epochs, -width, -size, -test, -batch and -lr must not be negative")
	}
	o.train, o.epochs, o.test = or(o.train, f.train), or(o.epochs, f.epochs), or(o.test, f.test)
	o.width, o.size, o.batch = or(o.width, f.width), or(o.size, f.size), or(o.batch, f.batch)
	if o.lr == 0 {
		o.lr = f.lr
	}
	if o.out == "" {
		o.out = "zoo-" + f.name + ".png"
	}
	if o.size < f.minSize {
		return fmt.Errorf("-size %d: %s takes at least %d×%d", o.size, f.name, f.minSize, f.minSize)
	}

	trainAll, testAll, norm, err := load(o.data, o.fashionDir)
	if err != nil {
		return err
	}
	trainSet, err := first(trainAll, o.train)
	if err != nil {
		return err
	}
	testSet, err := first(testAll, o.test)
	if err != nil {
		return err
	}
	// The conversion to the model's input: pad or resize, normalise,
	// grey to RGB. LeNet-5 reads the 28×28 grey images as they are.
	var tf *augment.Pipeline
	if f.name != "lenet" {
		var fit augment.Transform = augment.Resize{Height: o.size, Width: o.size}
		if o.size == 32 {
			// A 32×32 crop of the image padded by 2: the one crop there is,
			// so the same in training and inference.
			fit = augment.RandomCrop{Height: 32, Width: 32, Padding: 2}
		}
		tf = augment.New(fit, norm, augment.Of(greyToRGB{}))
		testSet = &transformed{ds: testSet, tf: tf.Inference()}
	}

	model, desc, err := f.build(o)
	if err != nil {
		return err
	}
	params := 0
	for _, p := range model.Params() {
		params += p.Var.Value().Len()
	}
	inC := 3
	if tf == nil {
		inC = 1
	}
	fmt.Fprintf(w, "%s: %s, %s parameters, %d×%d×%d input\n", f.name, desc, commas(params), o.size, o.size, inC)
	fmt.Fprintf(w, "training on %s images of %s for %s (batch %d, Adam lr %g, cosine schedule, seed %d); testing on %s test images\n",
		commas(trainSet.Len()), o.data, plural(o.epochs, "epoch"), o.batch, o.lr, o.seed, commas(testSet.Len()))

	opt, err := optim.NewAdam(model.Params(), optim.AdamConfig{LR: o.lr})
	if err != nil {
		return err
	}
	cfg := train.Config{
		Epochs: o.epochs, BatchSize: o.batch, Optimizer: opt, Seed: o.seed,
		Schedule: optim.CosineAnnealingLR{TMax: o.epochs},
	}
	if tf != nil {
		cfg.Transform = tf
	}
	if isTerminal(os.Stderr) {
		cfg.Progress = os.Stderr
	}

	// GoogLeNet: every head is scored on the test images after every
	// epoch (and once before training), in one pass; the main head's
	// figures stand in for Fit's validation, which would score it again.
	g, _ := model.(*models.GoogLeNet)
	var heads [][3]headMetrics
	if g != nil && g.Aux1 != nil {
		hm, err := evalHeads(g, testSet, 128)
		if err != nil {
			return err
		}
		heads = append(heads, hm)
		fmt.Fprintf(w, "before training: test acc main %.4f  aux1 %.4f  aux2 %.4f\n", hm[0].acc, hm[1].acc, hm[2].acc)
	} else {
		cfg.Validation = testSet
	}
	cfg.Hooks = []train.Hook{train.HookFuncs{EpochEnd: func(s *train.State) error {
		m := &s.History.Epochs[len(s.History.Epochs)-1]
		line := fmt.Sprintf("epoch %d/%d  loss %.4f  train acc %.4f", m.Epoch+1, o.epochs, m.Loss, m.Acc)
		if len(heads) > 0 {
			hm, err := evalHeads(g, testSet, 128)
			if err != nil {
				return err
			}
			heads = append(heads, hm)
			m.ValLoss, m.ValAcc, m.HasVal = hm[0].loss, hm[0].acc, true
			line += fmt.Sprintf("  test loss %.4f acc %.4f  aux1 loss %.4f acc %.4f  aux2 loss %.4f acc %.4f",
				hm[0].loss, hm[0].acc, hm[1].loss, hm[1].acc, hm[2].loss, hm[2].acc)
		} else {
			line += fmt.Sprintf("  test loss %.4f acc %.4f", m.ValLoss, m.ValAcc)
		}
		fmt.Fprintf(w, "%s  %.1fs  %.0f img/s\n", line, m.Seconds, float64(m.Images)/m.Seconds)
		return nil
	}}}

	hist, err := train.Fit(context.Background(), model, trainSet, cfg)
	if err != nil {
		return err
	}
	last := hist.Last()
	trainSec := 0.0
	for _, e := range hist.Epochs {
		trainSec += e.Seconds
	}
	charts := hist.Charts()
	for i := range charts { // the validation data is the test set
		for j := range charts[i].Series {
			if charts[i].Series[j].Name == "validation" {
				charts[i].Series[j].Name = "test"
			}
		}
	}
	if len(heads) > 0 {
		charts = append(charts, headChart(heads))
	}
	if err := train.PlotPNG(o.out, charts...); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%s on %s: test top-1 %.4f (loss %.4f) on %s test images after %s on %s images\n",
		f.name, o.data, last.ValAcc, last.ValLoss, commas(testSet.Len()), plural(len(hist.Epochs), "epoch"), commas(trainSet.Len()))
	if len(heads) > 0 {
		hm := heads[len(heads)-1]
		fmt.Fprintf(w, "auxiliary heads: aux1 (on inception 4a) test top-1 %.4f, aux2 (on 4d) %.4f; before training %.4f and %.4f\n",
			hm[1].acc, hm[2].acc, heads[0][1].acc, heads[0][2].acc)
	}
	fmt.Fprintf(w, "%.0f s in all, %.0f s training (%.0f img/s); wrote %s\n",
		time.Since(start).Seconds(), trainSec, float64(trainSet.Len()*len(hist.Epochs))/trainSec, o.out)
	return nil
}

func or(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// load reads the training and test sets of MNIST or Fashion-MNIST, with
// the normalisation of their pixels (the training set's mean and
// standard deviation).
func load(name, fashionDir string) (trainSet, testSet data.Dataset, norm augment.Normalize, err error) {
	var tr, te *data.InMemory
	switch strings.ToLower(name) {
	case "mnist":
		if tr, err = mnist.Train(); err == nil {
			te, err = mnist.Test()
		}
		norm = augment.Normalize{Mean: []float64{0.1307}, Std: []float64{0.3081}}
	case "fashion-mnist":
		if tr, err = data.FashionMNIST(fashionDir, true); err == nil {
			te, err = data.FashionMNIST(fashionDir, false)
		}
		if err != nil {
			err = fmt.Errorf("%w (Debian ships Fashion-MNIST: apt-get install dataset-fashion-mnist)", err)
		}
		norm = augment.Normalize{Mean: []float64{0.2860}, Std: []float64{0.3530}}
	default:
		err = fmt.Errorf("-data %q: want fashion-mnist or mnist", name)
	}
	if err != nil {
		return nil, nil, norm, err
	}
	return tr, te, norm, nil
}

// first returns the first n examples of ds (all if it has fewer).
func first(ds data.Dataset, n int) (data.Dataset, error) {
	idx := make([]int, min(n, ds.Len()))
	for i := range idx {
		idx[i] = i
	}
	return data.Subset(ds, idx)
}

// greyToRGB repeats a grey image into three channels (an RGB image is
// left as it is): the zoo's ImageNet models take RGB input.
type greyToRGB struct{}

func (greyToRGB) OutShape(h, w, c int) (int, int, int, error) {
	if c != 1 && c != 3 {
		return 0, 0, 0, fmt.Errorf("grey to RGB: %d channels, want 1 (or 3)", c)
	}
	return h, w, 3, nil
}

func (greyToRGB) Sample(*rand.Rand, int, int, int) augment.NoParams { return augment.NoParams{} }

func (greyToRGB) Inference(int, int, int) augment.NoParams { return augment.NoParams{} }

// Apply runs in a pipeline, which has checked the shape and the sizes.
func (greyToRGB) Apply(dst, src []float32, h, w, c int, _ augment.NoParams) error {
	if c == 3 {
		copy(dst, src)
		return nil
	}
	for i, v := range src {
		dst[3*i], dst[3*i+1], dst[3*i+2] = v, v, v
	}
	return nil
}

// transformed is a view of a dataset through a deterministic transform
// (Fit transforms only the training examples, so the test set is
// converted here).
type transformed struct {
	ds data.Dataset
	tf data.Transform
}

func (t *transformed) Len() int     { return t.ds.Len() }
func (t *transformed) Classes() int { return t.ds.Classes() }

func (t *transformed) Shape() (h, w, c int) {
	h, w, c, _ = t.tf.OutShape(t.ds.Shape())
	return h, w, c
}

func (t *transformed) Example(i int, dst []float32) (int, error) {
	h, w, c := t.ds.Shape()
	src := make([]float32, h*w*c)
	label, err := t.ds.Example(i, src)
	if err != nil {
		return 0, err
	}
	return label, t.tf.Apply(dst, src, h, w, c, nil)
}

// headMetrics are one classifier's mean loss and top-1 accuracy.
type headMetrics struct{ loss, acc float64 }

// evalHeads scores GoogLeNet's main classifier and its two auxiliary heads
// on ds, in inference mode (batch norms on their running statistics, no
// dropout), in one pass. It runs the trunk as GoogLeNet.Forward does,
// from the model's exported layers, and takes the heads' logits on
// inception 4a and 4d, which Forward drops.
func evalHeads(g *models.GoogLeNet, ds data.Dataset, batch int) ([3]headMetrics, error) {
	var sums [3]headMetrics
	loader, err := data.NewLoader(ds, data.LoaderOptions{BatchSize: batch})
	if err != nil {
		return sums, err
	}
	tp := ag.NewTape()
	tp.SetGradEnabled(false)
	it := loader.Epoch(0)
	defer it.Close()
	n := 0
	for b, ok := it.Next(); ok; b, ok = it.Next() {
		c := &nn.Ctx{Tape: tp}
		logits := googLeNetHeads(c, g, ag.Const(b.X))
		for k, l := range logits {
			loss := tp.SoftmaxCrossEntropy(l, b.Y, 0)
			if err := tp.Err(); err != nil {
				tp.Reset()
				return sums, err
			}
			sums[k].loss += float64(loss.Item()) * float64(len(b.Y))
			sums[k].acc += float64(correct(l.Value().Data(), b.Y))
		}
		n += len(b.Y)
		tp.Reset()
	}
	if err := it.Err(); err != nil {
		return sums, err
	}
	for k := range sums {
		sums[k].loss /= float64(n)
		sums[k].acc /= float64(n)
	}
	return sums, nil
}

// googLeNetHeads returns the logits of GoogLeNet's main classifier, aux1
// and aux2 for x (GoogLeNet's forward pass, with the heads).
func googLeNetHeads(c *nn.Ctx, g *models.GoogLeNet, x *ag.Var) [3]*ag.Var {
	pool := nn.MaxPool2D{KH: 3, KW: 3, SH: 2, SW: 2, Ceil: true}
	x = c.Call("maxpool1", pool, c.Call("conv1", g.Conv1, x))
	x = c.Call("maxpool2", pool, c.Call("conv3", g.Conv3, c.Call("conv2", g.Conv2, x)))
	var out [3]*ag.Var
	for i, inc := range g.Inception {
		x = c.Call(fmt.Sprint("inception", i), inc, x)
		switch i {
		case 1:
			x = c.Call("maxpool3", pool, x)
		case 2:
			out[1] = c.Call("aux1", g.Aux1, x)
		case 5:
			out[2] = c.Call("aux2", g.Aux2, x)
		case 6:
			x = c.Call("maxpool4", nn.MaxPool2D{KH: 2, KW: 2, Ceil: true}, x)
		}
	}
	x = c.Call("dropout", g.Dropout, c.Call("avgpool", nn.GlobalAvgPool{}, x))
	out[0] = c.Call("fc", g.FC, x)
	return out
}

// correct counts the rows of logits whose largest value is at the label.
func correct(logits []float32, y []int32) int {
	k, n := len(logits)/len(y), 0
	for i, label := range y {
		row, best := logits[i*k:(i+1)*k], 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		if best == int(label) {
			n++
		}
	}
	return n
}

// headChart plots each GoogLeNet head's test accuracy per epoch (epoch 0:
// before training).
func headChart(heads [][3]headMetrics) train.Chart {
	ch := train.Chart{Title: "test accuracy by head"}
	for k, name := range []string{"main", "aux1 (4a)", "aux2 (4d)"} {
		s := train.Series{Name: name}
		for e, hm := range heads {
			s.X, s.Y = append(s.X, float64(e)), append(s.Y, hm[k].acc)
		}
		ch.Series = append(ch.Series, s)
	}
	return ch
}

// isTerminal reports whether f is a terminal, where Fit's progress bar
// redraws in place; elsewhere the per-epoch lines say enough.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// plural returns "1 epoch" or "n epochs".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// commas formats n with thousands separators.
func commas(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
