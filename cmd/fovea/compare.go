package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/foveaml/fovea/data"
	"github.com/foveaml/fovea/inspect"
	"github.com/foveaml/fovea/models"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/optim"
	"github.com/foveaml/fovea/train"
)

// defaultCompare is the ImageNet-size zoo under torchvision's names, one
// of each family's sizes that a 2-core machine measures in a minute or
// two; name the others (vgg19, resnet152, ...) to add them.
var defaultCompare = []string{"alexnet", "vgg11", "vgg16", "resnet18", "resnet34", "resnet50", "googlenet"}

// compareRow is one model's line of fovea compare.
type compareRow struct {
	Model string `json:"model"`
	Input []int  `json:"input_shape"`
	inspect.ProfileInfo
	Measured *inspect.Measurement `json:"measured,omitempty"`
	Trained  *compareTrained      `json:"trained,omitempty"`
}

// compareTrained is what a model reaches when fovea compare trains it.
type compareTrained struct {
	Data     string  `json:"data"`
	Epochs   int     `json:"epochs"`
	Examples int     `json:"examples"`
	Seconds  float64 `json:"seconds"`
	Top1     float64 `json:"test_top1"`
	Top5     float64 `json:"test_top5"`
	Loss     float64 `json:"test_loss"`
}

func cmdCompare(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fovea compare", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: fovea compare [flags] [MODEL...]\n\n"+
			"Compares zoo models in one table (default: %s):\n"+
			"parameters (trainable/frozen), multiply-accumulates per image (convolutions and dense layers, the\n"+
			"convention of torchvision's \"GFLOPS\"), the weights file's size, and, measured on this\n"+
			"machine on random images, the peak activation memory of inference and of a training\n"+
			"step (with the weights, gradients and SGD momentum) at --batch, and inference and\n"+
			"training images/s. Each measurement runs one warm-up batch, then --time or at least\n"+
			"one batch. With --data, each model is also trained on it for --epochs (Adam, cosine\n"+
			"schedule, --limit examples) and its test accuracy reported.\n\n", strings.Join(defaultCompare, ", "))
		fs.PrintDefaults()
	}
	batch := fs.Int("batch", 8, "batch size of the measurements")
	perRun := fs.Duration("time", time.Second, "how long each measurement runs, after its warm-up batch")
	threads := fs.Int("threads", 0, "worker threads (0: all cores, GOMAXPROCS)")
	classes := fs.Int("classes", 0, "number of classes (0: each model's default)")
	noMeasure := fs.Bool("no-measure", false, "only what the models' structure tells (parameters, MACs, file size): nothing runs but one trace")
	noTrain := fs.Bool("no-train", false, "measure inference only")
	plotPath := fs.String("plot", "", "also draw a PNG chart of images/s against MACs, markers sized by parameters")
	plotY := fs.String("plot-y", "", "what the chart's y axis shows: inference or train (images/s), or accuracy (with --data; the default then)")
	dataset := fs.String("data", "", "also train each model on this data (mnist, fashion-mnist, an IDX folder) and report its test accuracy")
	epochs := fs.Int("epochs", 1, "epochs of training with --data")
	limitN := fs.Int("limit", 0, "train on the first N examples only (0: all)")
	lr := fs.Float64("lr", 1e-3, "learning rate of the training with --data")
	asJSON := fs.Bool("json", false, "print the comparison as one JSON array")
	names, err := parseArgs(fs, args, stderr)
	if err != nil {
		return err
	}
	switch {
	case *batch < 1:
		return usagef("--batch %d: want at least 1", *batch)
	case *perRun < 0:
		return usagef("--time %v: want 0 or more", *perRun)
	case *threads < 0:
		return usagef("--threads %d: want 0 (all cores) or more", *threads)
	case *classes < 0:
		return usagef("--classes %d: want 0 (the default) or more", *classes)
	case *plotY != "" && *plotY != "inference" && *plotY != "train" && *plotY != "accuracy":
		return usagef("--plot-y %q: want inference, train or accuracy", *plotY)
	case *plotY == "accuracy" && *dataset == "":
		return usagef("--plot-y accuracy needs --data to train on")
	case *epochs < 1:
		return usagef("--epochs %d: want at least 1", *epochs)
	case *limitN < 0:
		return usagef("--limit %d: want 0 (all) or more", *limitN)
	case !(*lr > 0):
		return usagef("--lr %v: want a positive learning rate", *lr)
	}
	if *plotY == "" {
		*plotY = "inference"
		if *dataset != "" {
			*plotY = "accuracy"
		}
	}
	switch {
	case *plotPath != "" && *noMeasure && *plotY != "accuracy":
		return usagef("--plot-y %s draws measured images/s: drop --no-measure", *plotY)
	case *plotPath != "" && *plotY == "train" && *noTrain:
		return usagef("--plot-y train needs the training measurement: drop --no-train")
	}
	if *threads > 0 {
		runtime.GOMAXPROCS(*threads)
	}
	if len(names) == 0 {
		names = defaultCompare
	}
	specs := make([]models.Spec, len(names))
	for i, n := range names {
		if specs[i], err = models.Lookup(n); err != nil {
			return usageError{err.Error()}
		}
		if len(specs[i].Input) != 3 {
			return usagef("%s has no fixed input shape to compare at", n)
		}
	}
	var src *data.Source
	if *dataset != "" {
		if src, err = openSource(*dataset); err != nil {
			return err
		}
		if src.Test == nil {
			return fmt.Errorf("--data %s has no test split to score the models on", *dataset)
		}
		if *classes > 0 && src.Train.Classes() > *classes {
			return fmt.Errorf("--data %s has %d classes but --classes is %d", *dataset, src.Train.Classes(), *classes)
		}
	}
	var rows []compareRow
	for _, spec := range specs {
		if !*asJSON {
			fmt.Fprintf(stderr, "%s...\n", spec.Name)
		}
		m, err := spec.New(models.Options{Classes: *classes, Seed: 1})
		if err != nil {
			return fmt.Errorf("%s: %w", spec.Name, err)
		}
		p, err := inspect.Profile(m, spec.Input...)
		if err != nil {
			return fmt.Errorf("%s: %w", spec.Name, err)
		}
		row := compareRow{Model: spec.Name, Input: spec.Input, ProfileInfo: p}
		row.Layers = nil // per layer: fovea summary --macs
		if !*noMeasure {
			r, err := inspect.Measure(m, spec.Input, inspect.MeasureConfig{Batch: *batch, MinTime: *perRun, NoTrain: *noTrain, Seed: 1})
			if err != nil {
				return fmt.Errorf("%s: %w", spec.Name, err)
			}
			row.Measured = &r
		}
		if src != nil {
			// A model of its own, from the same seed: the measurement's
			// steps on random images do not count towards the budget.
			k := *classes
			if k == 0 {
				k = src.Train.Classes()
			}
			fresh, err := spec.New(models.Options{Classes: k, Seed: 1})
			if err != nil {
				return fmt.Errorf("%s: %w", spec.Name, err)
			}
			trainSet, testSet, err := compareData(spec, src)
			if err != nil {
				return fmt.Errorf("%s on %s: %w", spec.Name, *dataset, err)
			}
			tr, err := compareTrain(fresh, trainSet, testSet, *epochs, *limitN, *lr, *batch)
			if err != nil {
				return fmt.Errorf("%s on %s: %w", spec.Name, *dataset, err)
			}
			tr.Data = *dataset
			row.Trained = tr
		}
		rows = append(rows, row)
	}
	if *plotPath != "" {
		if err := comparePlot(*plotPath, rows, *plotY); err != nil {
			return err
		}
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(rows)
	}
	printCompare(stdout, rows, *batch, *perRun, *noMeasure, *noTrain)
	if src != nil {
		fmt.Fprintf(stdout, "Accuracy: the test top-1 of each model after %d epoch(s) on %d examples of %s (Adam, lr %g, cosine schedule, batch %d, seed 1).\n",
			*epochs, rows[0].Trained.Examples, *dataset, *lr, *batch)
	}
	if *plotPath != "" {
		fmt.Fprintf(stdout, "wrote %s\n", *plotPath)
	}
	return nil
}

func printCompare(w io.Writer, rows []compareRow, batch int, perRun time.Duration, noMeasure, noTrain bool) {
	mib := func(n int64) string {
		if v := float64(n) / (1 << 20); v < 10 {
			return fmt.Sprintf("%.2f", v)
		} else {
			return fmt.Sprintf("%.0f", v)
		}
	}
	head := []string{"model", "input", "params", "trainable", "frozen", "MACs", "file MiB"}
	if !noMeasure {
		head = append(head, "infer MiB", "infer img/s")
		if !noTrain {
			head = append(head, "train MiB", "train img/s")
		}
	}
	if len(rows) > 0 && rows[0].Trained != nil {
		head = append(head, "top-1", "train s")
	}
	table := [][]string{head}
	for _, r := range rows {
		line := []string{r.Model, fmt.Sprintf("%d×%d×%d", r.Input[0], r.Input[1], r.Input[2]),
			inspect.Commas(int64(r.Params)), inspect.Short(int64(r.Trainable)), inspect.Short(int64(r.Frozen)),
			inspect.Commas(r.MACs), mib(r.FileBytes)}
		if m := r.Measured; m != nil {
			line = append(line, mib(m.InferenceBytes), fmt.Sprintf("%.1f", m.InferenceImagesPerSec))
			if !noTrain {
				line = append(line, mib(m.TrainPeakBytes), fmt.Sprintf("%.1f", m.TrainImagesPerSec))
			}
		}
		if t := r.Trained; t != nil {
			line = append(line, fmt.Sprintf("%.4f", t.Top1), fmt.Sprintf("%.0f", t.Seconds))
		}
		table = append(table, line)
	}
	widths := make([]int, len(head))
	for _, l := range table {
		for i, c := range l {
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	for _, l := range table {
		for i, c := range l {
			pad := strings.Repeat(" ", widths[i]-len([]rune(c)))
			if i == 0 {
				fmt.Fprint(w, c+pad)
			} else {
				fmt.Fprint(w, "  "+pad+c)
			}
		}
		fmt.Fprintln(w)
	}
	if !noMeasure && len(rows) > 0 {
		m := rows[0].Measured
		fmt.Fprintf(w, "MACs per image (convolutions and dense layers, as torchvision's GFLOPS). Memory at batch %d: inference activations; a training step's activations, weights, gradients and SGD momentum. Speed with %d threads, batch %d, over %v or one batch after a warm-up batch.\n",
			batch, m.Threads, batch, perRun)
	}
}

func comparePlot(path string, rows []compareRow, y string) error {
	s := inspect.Scatter{XLabel: "multiply-accumulates per image (log)", YLabel: y + " images/s (log)", LogX: true, LogY: true}
	for _, r := range rows {
		var v float64
		switch y {
		case "accuracy":
			t := r.Trained
			v, s.LogY, s.YLabel = t.Top1, false, "test top-1 accuracy"
			s.Title = fmt.Sprintf("accuracy on %s after %d epoch(s) against MACs (marker area: parameters)", t.Data, t.Epochs)
		case "train":
			v = r.Measured.TrainImagesPerSec
		default:
			v = r.Measured.InferenceImagesPerSec
		}
		if y != "accuracy" {
			s.Title = fmt.Sprintf("%s images/s against MACs, batch %d, %d threads (marker area: parameters)", y, r.Measured.Batch, r.Measured.Threads)
		}
		s.Points = append(s.Points, inspect.ChartPoint{Label: r.Model, X: float64(r.MACs), Y: v, Size: float64(r.Params)})
	}
	return s.WritePNG(path, 800, 560)
}

// printProfile is fovea summary --macs: the summary with each layer's
// multiply-accumulates.
func printProfile(w io.Writer, spec models.Spec, m nn.Layer, asJSON bool) error {
	p, err := inspect.Profile(m, spec.Input...)
	if err != nil {
		return err
	}
	if asJSON {
		return json.NewEncoder(w).Encode(struct {
			Model string `json:"model"`
			inspect.ProfileInfo
		}{spec.Name, p})
	}
	fmt.Fprintf(w, "%s: %s\n%s", spec.Name, spec.Doc, p.Table())
	return nil
}

// compareData returns src's splits prepared for spec's input as
// evaluation prepares them (no augmentation: the budget is the same for
// every model).
func compareData(spec models.Spec, src *data.Source) (train, test data.Dataset, err error) {
	p, err := newPrep(spec.Name, spec.Input, models.FileInfo{}, &dataFlags{normalize: "none"})
	if err != nil {
		return nil, nil, err
	}
	for i, set := range []data.Set{src.Train, src.Test} {
		ds, err := p.sized(set, false)
		if err != nil {
			return nil, nil, err
		}
		if ds, err = p.evalSet(ds); err != nil {
			return nil, nil, err
		}
		if i == 0 {
			train = ds
		} else {
			test = ds
		}
	}
	return train, test, nil
}

// compareTrain trains model on the first limit examples of trainSet (all
// with 0) for epochs and evaluates it on testSet.
func compareTrain(model nn.Layer, trainSet, testSet data.Dataset, epochs, limitN int, lr float64, batch int) (*compareTrained, error) {
	o, err := optim.NewAdam(model.Params(), optim.AdamConfig{LR: lr})
	if err != nil {
		return nil, err
	}
	ds := limit(trainSet, limitN)
	start := time.Now()
	cfg := train.Config{Epochs: epochs, BatchSize: batch, Optimizer: o, Schedule: optim.CosineAnnealingLR{TMax: epochs}, Seed: 1}
	if _, err := train.Fit(context.Background(), model, ds, cfg); err != nil {
		return nil, err
	}
	secs := time.Since(start).Seconds()
	m, err := train.Evaluate(model, testSet, train.EvalConfig{BatchSize: 256})
	if err != nil {
		return nil, err
	}
	return &compareTrained{Epochs: epochs, Examples: ds.Len(), Seconds: secs, Top1: m.Top1, Top5: m.Top5, Loss: m.Loss}, nil
}
