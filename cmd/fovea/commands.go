package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/foveaml/fovea/data"
	"github.com/foveaml/fovea/internal/atomicfile"
	"github.com/foveaml/fovea/models"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/optim"
	"github.com/foveaml/fovea/train"
	"github.com/foveaml/fovea/weights"
)

// modelFlags are the flags that choose and build a model.
type modelFlags struct {
	model   string
	classes int
	seed    uint64
	// given records the flags set on the command line, which win over a
	// weights file's metadata.
	given map[string]bool
}

// noteGiven records which flags of fs the command line set.
func (m *modelFlags) noteGiven(fs *flag.FlagSet) {
	m.given = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { m.given[f.Name] = true })
}

func (m *modelFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&m.model, "model", "lenet5", "model name (fovea models lists them)")
	fs.IntVar(&m.classes, "classes", 10, "number of classes")
	fs.Uint64Var(&m.seed, "seed", 1, "random seed: initial weights, shuffling, dropout")
}

func (m *modelFlags) build() (nn.Layer, models.Spec, error) {
	spec, err := models.Lookup(m.model)
	if err != nil {
		return nil, spec, usageError{err.Error()}
	}
	if m.classes < 1 {
		return nil, spec, usagef("--classes %d: want at least 1", m.classes)
	}
	l, err := spec.New(models.Options{Classes: m.classes, Seed: m.seed})
	return l, spec, err
}

// testData returns the test split of dataset, checked to fit the model.
func testData(spec models.Spec, dataset string, classes int) (*data.InMemory, error) {
	ds, err := loadData(dataset, false)
	if err != nil {
		return nil, err
	}
	if err := checkInput(spec, ds, classes); err != nil {
		return nil, fmt.Errorf("--data %s: %w", dataset, err)
	}
	return ds, nil
}

// checkInput verifies that the dataset's examples fit the model.
func checkInput(spec models.Spec, ds data.Dataset, classes int) error {
	h, w, c := ds.Shape()
	if want := spec.Input; len(want) == 3 && (want[0] != h || want[1] != w || want[2] != c) {
		return fmt.Errorf("the data's images are %d×%d×%d but %s takes %d×%d×%d", h, w, c, spec.Name, want[0], want[1], want[2])
	}
	if ds.Classes() > classes {
		return fmt.Errorf("the data has %d classes but the model has %d outputs (set --classes)", ds.Classes(), classes)
	}
	return nil
}

func cmdTrain(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fovea train", flag.ContinueOnError)
	var mf modelFlags
	mf.register(fs)
	dataset := fs.String("data", "mnist", "training data: mnist, fashion-mnist, or a folder of MNIST-named IDX files")
	epochs := fs.Int("epochs", 12, "epochs to train (with the defaults, LeNet-5 reaches ~99.1% on the MNIST test set)")
	batch := fs.Int("batch", 64, "batch size")
	lr := fs.Float64("lr", 1e-3, "learning rate")
	opt := fs.String("optimizer", "adam", "adam, adamw, sgd (momentum 0.9) or rmsprop")
	wd := fs.Float64("weight-decay", 0, "weight decay")
	sched := fs.String("schedule", "cosine", "learning-rate schedule over the epochs: cosine (annealed to 0), step:N:GAMMA (times GAMMA every N epochs) or none (constant)")
	valSplit := fs.Float64("val-split", 0.1, "fraction of the training data held out for validation")
	limitN := fs.Int("limit", 0, "train on the first N examples only (0: all)")
	out := fs.String("out", "", "output folder (default runs/MODEL)")
	resume := fs.String("resume", "", "checkpoint to resume from")
	every := fs.Int("checkpoint-every", 1000, "also save the checkpoint every N steps within an epoch (0: at epoch ends only); Ctrl-C saves one too")
	clipNorm := fs.Float64("clip-norm", 0, "clip the gradients to this global L2 norm (0: no clipping)")
	quiet := fs.Bool("quiet", false, "no progress bar")
	asJSON := fs.Bool("json", false, "end with one JSON object (metrics, images/s, output paths) instead of the text summary")
	threads := fs.Int("threads", 0, "worker threads (0: all cores, GOMAXPROCS)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to this file")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	if *threads < 0 {
		return usagef("--threads %d: want 0 (all cores) or more", *threads)
	}
	if *threads > 0 {
		runtime.GOMAXPROCS(*threads)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	switch {
	case *epochs < 1:
		return usagef("--epochs %d: want at least 1", *epochs)
	case *batch < 1:
		return usagef("--batch %d: want at least 1", *batch)
	case !(*lr > 0):
		return usagef("--lr %v: want a positive learning rate", *lr)
	case !(*valSplit >= 0 && *valSplit < 1):
		return usagef("--val-split %v: want a fraction in [0, 1)", *valSplit)
	case *every < 0:
		return usagef("--checkpoint-every %d: want 0 (epoch ends only) or more steps", *every)
	case !(*clipNorm >= 0) || math.IsInf(*clipNorm, 0):
		return usagef("--clip-norm %v: want 0 (no clipping) or a positive norm", *clipNorm)
	}
	model, spec, err := mf.build()
	if err != nil {
		return err
	}
	trainSet, err := loadData(*dataset, true)
	if err != nil {
		return err
	}
	testSet, err := loadData(*dataset, false)
	if err != nil {
		return err
	}
	if err := checkInput(spec, trainSet, mf.classes); err != nil {
		return fmt.Errorf("--data %s: %w", *dataset, err)
	}
	o, err := newOptimizer(*opt, model.Params(), *lr, *wd)
	if err != nil {
		return err
	}
	schedule, err := parseSchedule(*sched, *epochs)
	if err != nil {
		return err
	}
	dir := *out
	if dir == "" {
		dir = filepath.Join("runs", spec.Name)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	checkpointPath, bestPath := filepath.Join(dir, "checkpoint.safetensors"), filepath.Join(dir, "best.safetensors")
	historyPath, curvesPath := filepath.Join(dir, "history.csv"), filepath.Join(dir, "curves.png")
	modelPath := filepath.Join(dir, "model.safetensors")
	// A run killed while writing leaves a temporary file: the files
	// themselves are whole, old or new.
	for _, p := range []string{checkpointPath, bestPath, historyPath, curvesPath, modelPath} {
		if _, err := atomicfile.RemoveStale(p); err != nil {
			return err
		}
	}
	cfg := train.Config{Epochs: *epochs, BatchSize: *batch, Optimizer: o, Schedule: schedule, Seed: mf.seed,
		ValidationSplit: *valSplit, MaxGradNorm: *clipNorm,
		Hooks: []train.Hook{
			&train.ModelCheckpoint{Path: checkpointPath, EverySteps: *every, OnStop: true, Best: bestPath}, // after every epoch too, and on Ctrl-C
			train.CSVLogger{Path: historyPath},
		}}
	if !*quiet {
		cfg.Progress = stdout
	}
	if *resume != "" {
		ck, err := weights.LoadCheckpoint(*resume)
		if err != nil {
			return err
		}
		cfg.Resume = ck // Fit loads it, and says what does not fit
	}
	// Ctrl-C (or SIGTERM) stops training after the batch in progress and
	// saves a checkpoint; a second one kills at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop()
	}()
	ds := limit(trainSet, *limitN)
	if !*quiet {
		schedName := *sched
		if schedule == nil {
			schedName = "constant"
		}
		fmt.Fprintf(stdout, "training %s on %s: %d examples (%.0f%% held out for validation), %d epochs, batch %d, %s lr %g, %s schedule\n",
			spec.Name, *dataset, ds.Len(), 100**valSplit, *epochs, *batch, *opt, *lr, schedName)
	}
	start := time.Now()
	hist, err := train.Fit(ctx, model, ds, cfg)
	if hist != nil && len(hist.Epochs) > 0 {
		if perr := hist.PlotPNG(curvesPath); perr != nil && err == nil {
			err = perr
		}
	}
	if err != nil {
		var re *train.ResumeError
		switch {
		case errors.As(err, &re):
			hint := map[string]string{"weights": " (was it saved by a run of another --model or --classes?)",
				"optimiser": " (was it saved by a run with another --optimizer?)"}[re.Part]
			return fmt.Errorf("%s: %w%s", *resume, re.Err, hint)
		case errors.Is(err, train.ErrNonFinite):
			return fmt.Errorf("%w (--lr, --clip-norm); %s holds the last good state", err, lastCheckpoint(checkpointPath, *resume))
		case ctx.Err() != nil && errors.Is(err, ctx.Err()):
			return fmt.Errorf("interrupted: %w; continue with the same flags and --resume %s", err, checkpointPath)
		}
		return err
	}
	meta := map[string]string{"model": spec.Name, "classes": strconv.Itoa(mf.classes), "data": *dataset}
	if err := weights.Save(modelPath, weights.StateDict(nn.State(model)), meta); err != nil {
		return err
	}
	m, err := train.Evaluate(model, testSet, train.EvalConfig{BatchSize: 256})
	if err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	rate := trainingRate(hist)
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]any{
			"model": spec.Name, "data": *dataset, "epochs": len(hist.Epochs), "test_loss": m.Loss,
			"test_top1": m.Top1, "test_top5": m.Top5, "seconds": secs, "images_per_second": rate,
			"weights": modelPath, "checkpoint": checkpointPath, "best": bestPath, "history_csv": historyPath,
			"curves": curvesPath, "history": hist.Epochs})
	}
	fmt.Fprintf(stdout, "test: %d examples  loss %.4f  top-1 %.4f  top-5 %.4f   (%.1f s in all; training %.0f img/s)\n",
		m.Count, m.Loss, m.Top1, m.Top5, secs, rate)
	fmt.Fprintf(stdout, "wrote %s, %s, %s, %s and %s\n", modelPath, checkpointPath, bestPath, historyPath, curvesPath)
	return nil
}

// lastCheckpoint names the checkpoint a failed run leaves: its own, if
// it saved one, else the one it resumed from.
func lastCheckpoint(own, resumed string) string {
	if _, err := os.Stat(own); err == nil || resumed == "" {
		return own
	}
	return resumed
}

// trainingRate returns the images trained on per second of training
// (validation excluded) over the epochs of h, or 0 if none ran.
func trainingRate(h *train.History) float64 {
	var images, secs float64
	for _, e := range h.Epochs {
		images += float64(e.Images)
		secs += e.Seconds
	}
	if secs <= 0 {
		return 0
	}
	return images / secs
}

func newOptimizer(name string, ps []nn.Param, lr, wd float64) (optim.Optimizer, error) {
	switch strings.ToLower(name) {
	case "adam":
		return optim.NewAdam(ps, optim.AdamConfig{LR: lr, WeightDecay: wd})
	case "adamw":
		return optim.NewAdamW(ps, optim.AdamConfig{LR: lr, WeightDecay: wd})
	case "sgd":
		return optim.NewSGD(ps, optim.SGDConfig{LR: lr, Momentum: 0.9, WeightDecay: wd})
	case "rmsprop":
		return optim.NewRMSprop(ps, optim.RMSpropConfig{LR: lr, WeightDecay: wd})
	}
	return nil, usagef("--optimizer %q: want adam, adamw, sgd or rmsprop", name)
}

func parseSchedule(s string, epochs int) (optim.Schedule, error) {
	switch {
	case s == "" || s == "none":
		return nil, nil
	case s == "cosine":
		return optim.CosineAnnealingLR{TMax: epochs}, nil
	case strings.HasPrefix(s, "step:"):
		parts := strings.Split(s, ":")
		if len(parts) == 3 {
			n, err1 := strconv.Atoi(parts[1])
			g, err2 := strconv.ParseFloat(parts[2], 64)
			if err1 == nil && err2 == nil {
				sch := optim.StepLR{StepSize: n, Gamma: g}
				if err := sch.Validate(); err != nil {
					return nil, usagef("--schedule %q: %v", s, err)
				}
				return sch, nil
			}
		}
	}
	return nil, usagef("--schedule %q: want cosine, step:N:GAMMA or none", s)
}

// loadModel builds the model named in a weights file's metadata (or by
// --model), loads the weights into it, and returns the metadata too.
func loadModel(mf *modelFlags, path string) (nn.Layer, models.Spec, map[string]string, error) {
	ts, meta, err := weights.Load(path)
	if err != nil {
		return nil, models.Spec{}, nil, err
	}
	if name := meta["model"]; name != "" && !mf.given["model"] {
		mf.model = name
	}
	if c, err := strconv.Atoi(meta["classes"]); err == nil && !mf.given["classes"] {
		mf.classes = c
	}
	model, spec, err := mf.build()
	if err != nil {
		if !mf.given["model"] && meta["model"] != "" {
			return nil, spec, nil, fmt.Errorf("%s: its metadata names model %q: %w", path, meta["model"], err)
		}
		return nil, spec, nil, err
	}
	if _, err := weights.LoadStateDict(nn.State(model), ts, true); err != nil {
		return nil, spec, nil, fmt.Errorf("%s: %w", path, err)
	}
	return model, spec, meta, nil
}

func cmdEval(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fovea eval", flag.ContinueOnError)
	var mf modelFlags
	mf.register(fs)
	w := fs.String("weights", "", "weights file (model.safetensors from fovea train); required")
	dataset := fs.String("data", "mnist", "test data: mnist, fashion-mnist, or a folder of MNIST-named IDX files")
	asJSON := fs.Bool("json", false, "print the metrics as one JSON object")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	mf.noteGiven(fs)
	if *w == "" {
		return usagef("--weights is required")
	}
	model, spec, _, err := loadModel(&mf, *w)
	if err != nil {
		return err
	}
	ds, err := testData(spec, *dataset, mf.classes)
	if err != nil {
		return err
	}
	m, err := train.Evaluate(model, ds, train.EvalConfig{BatchSize: 256})
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]any{"model": spec.Name, "weights": *w, "data": *dataset,
			"examples": m.Count, "loss": m.Loss, "top1": m.Top1, "top5": m.Top5, "per_class": m.PerClass, "confusion": m.Confusion})
	}
	fmt.Fprint(stdout, m)
	return nil
}

func cmdPredict(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fovea predict", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: fovea predict --weights FILE [flags] [IMAGE...]\n\n"+
			"Prints the top classes of each IMAGE (PNG, JPEG or GIF, resized to the model's input;\n"+
			"for MNIST models white digits on black, as MNIST has them: nothing is inverted),\n"+
			"or, with no IMAGE, of the first --n examples of the test set.\n\n")
		fs.PrintDefaults()
	}
	var mf modelFlags
	mf.register(fs)
	w := fs.String("weights", "", "weights file; required")
	dataset := fs.String("data", "mnist", "examples: the test split of mnist, fashion-mnist or an IDX folder; with IMAGEs, where the class names come from (default: the data the weights were trained on)")
	n := fs.Int("n", 10, "number of test examples to predict (without IMAGEs)")
	k := fs.Int("k", 3, "classes to show per example")
	files, err := parseInterleaved(fs, args, stderr)
	if err != nil {
		return err
	}
	mf.noteGiven(fs)
	if *w == "" {
		return usagef("--weights is required")
	}
	if *n < 1 || *k < 1 {
		return usagef("--n and --k must be at least 1")
	}
	model, spec, meta, err := loadModel(&mf, *w)
	if err != nil {
		return err
	}
	if len(files) > 0 {
		names, err := predictNames(*dataset, mf.given["data"], meta["data"])
		if err != nil {
			return err
		}
		return predictFiles(stdout, model, spec, mf.classes, names, files, *k)
	}
	ds, err := testData(spec, *dataset, mf.classes)
	if err != nil {
		return err
	}
	sub := limit(ds, *n)
	probs, err := train.Predict(model, sub, train.EvalConfig{})
	if err != nil {
		return err
	}
	names := data.ClassNames(ds)
	h, wd, c := ds.Shape()
	img := make([]float32, h*wd*c)
	for i, p := range probs {
		label, err := sub.Example(i, img)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "example %d (label %s):", i, className(names, label))
		printTopK(stdout, names, p, *k)
	}
	return nil
}

// predictNames returns the class names for predictions on image files:
// those of the --data set when the command line names one, otherwise
// those of the data the weights were trained on if it can be read here,
// otherwise none (classes print as numbers).
func predictNames(dataset string, given bool, trainedOn string) ([]string, error) {
	if !given {
		if trainedOn == "" {
			return nil, nil
		}
		dataset = trainedOn
	}
	ds, err := loadData(dataset, false)
	if err != nil {
		if given {
			return nil, err
		}
		return nil, nil
	}
	return data.ClassNames(ds), nil
}

// predictFiles decodes the image files, resized to the model's input,
// and prints each one's top k classes.
func predictFiles(stdout io.Writer, model nn.Layer, spec models.Spec, classes int, names, files []string, k int) error {
	if len(spec.Input) != 3 {
		return fmt.Errorf("%s has no fixed input size to resize images to", spec.Name)
	}
	h, w, c := spec.Input[0], spec.Input[1], spec.Input[2]
	pixels := make([]float32, 0, len(files)*h*w*c)
	for _, f := range files {
		img, err := data.LoadImage(f, h, w, c)
		if err != nil {
			return err // names the file
		}
		pixels = append(pixels, img...)
	}
	ds, err := data.NewInMemory(pixels, make([]int32, len(files)), h, w, c, classes)
	if err != nil {
		return err
	}
	probs, err := train.Predict(model, ds, train.EvalConfig{})
	if err != nil {
		return err
	}
	for i, p := range probs {
		fmt.Fprintf(stdout, "%s:", files[i])
		printTopK(stdout, names, p, k)
	}
	return nil
}

// printTopK prints the k most probable classes of p and ends the line.
func printTopK(w io.Writer, names []string, p []float32, k int) {
	for _, j := range train.TopK(p, k) {
		fmt.Fprintf(w, "  %s %.3f", className(names, j), p[j])
	}
	fmt.Fprintln(w)
}

func className(names []string, i int) string {
	if i >= 0 && i < len(names) {
		return names[i]
	}
	return strconv.Itoa(i)
}

func cmdSummary(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fovea summary", flag.ContinueOnError)
	classes := fs.Int("classes", 0, "number of classes (0: the model's default)")
	asJSON := fs.Bool("json", false, "print the summary as one JSON object")
	macs := fs.Bool("macs", false, "also count each layer's multiply-accumulates per image (torchvision's convention) and the weights' sizes")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("want one model name, e.g. fovea summary lenet5 (fovea models lists them)")
	}
	spec, err := models.Lookup(fs.Arg(0))
	if err != nil {
		return usageError{err.Error()}
	}
	m, err := spec.New(models.Options{Classes: *classes})
	if err != nil {
		return err
	}
	if *macs {
		return printProfile(stdout, spec, m, *asJSON)
	}
	if *asJSON {
		info, err := nn.Summarize(m, spec.Input...)
		if err != nil {
			return err
		}
		return json.NewEncoder(stdout).Encode(struct {
			Model string `json:"model"`
			nn.SummaryInfo
		}{spec.Name, info})
	}
	s, err := nn.Summary(m, spec.Input...)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %s\n%s", spec.Name, spec.Doc, s)
	return nil
}

func cmdModels(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fovea models", flag.ContinueOnError)
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	for _, n := range models.Names() {
		s, _ := models.Lookup(n)
		fmt.Fprintf(stdout, "%-14s %s\n", n, s.Doc)
	}
	return nil
}
