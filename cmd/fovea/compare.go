package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/foveaml/fovea/inspect"
	"github.com/foveaml/fovea/models"
	"github.com/foveaml/fovea/nn"
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
}

func cmdCompare(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fovea compare", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: fovea compare [flags] [MODEL...]\n\n"+
			"Compares zoo models (default: %s) in one table: parameters\n"+
			"(trainable/frozen), multiply-accumulates per image (convolutions and dense layers, the\n"+
			"convention of torchvision's \"GFLOPS\"), the weights file's size, and, measured on this\n"+
			"machine on random images, the peak activation memory of inference and of a training\n"+
			"step (with the weights, gradients and SGD momentum) at --batch, and inference and\n"+
			"training images/s. Each measurement runs one warm-up batch, then --time or at least\n"+
			"one batch.\n\n", strings.Join(defaultCompare, ", "))
		fs.PrintDefaults()
	}
	batch := fs.Int("batch", 8, "batch size of the measurements")
	perRun := fs.Duration("time", time.Second, "how long each measurement runs, after its warm-up batch")
	threads := fs.Int("threads", 0, "worker threads (0: all cores, GOMAXPROCS)")
	classes := fs.Int("classes", 0, "number of classes (0: each model's default)")
	noMeasure := fs.Bool("no-measure", false, "only what the models' structure tells (parameters, MACs, file size): nothing runs but one trace")
	noTrain := fs.Bool("no-train", false, "measure inference only")
	plotPath := fs.String("plot", "", "also draw a PNG chart of images/s against MACs, markers sized by parameters")
	plotY := fs.String("plot-y", "inference", "what the chart's y axis shows: inference or train (images/s)")
	asJSON := fs.Bool("json", false, "print the comparison as one JSON array")
	names, err := parseInterleaved(fs, args, stderr)
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
	case *plotY != "inference" && *plotY != "train":
		return usagef("--plot-y %q: want inference or train", *plotY)
	case *plotPath != "" && *noMeasure:
		return usagef("--plot draws measured images/s: drop --no-measure")
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
	s := inspect.Scatter{Title: "fovea: " + y + " speed against cost", XLabel: "multiply-accumulates per image (log)",
		YLabel: y + " images/s (log)", LogX: true, LogY: true}
	for _, r := range rows {
		v := r.Measured.InferenceImagesPerSec
		if y == "train" {
			v = r.Measured.TrainImagesPerSec
		}
		s.Title = fmt.Sprintf("%s images/s against MACs, batch %d, %d threads (marker area: parameters)", y, r.Measured.Batch, r.Measured.Threads)
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
