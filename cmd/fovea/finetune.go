package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/foveaml/fovea/models"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/optim"
	"github.com/foveaml/fovea/train"
	"github.com/foveaml/fovea/weights"
)

// cmdFinetune trains a pretrained model on a new task: it loads weights
// into a zoo model (a new head if --classes says so), freezes what
// --freeze says, trains, and writes what fovea train writes.
func cmdFinetune(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fovea finetune", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: fovea finetune --from WEIGHTS [--model NAME] [--classes N] [--freeze POLICY] [--data DIR] [flags]\n\n"+
			"Loads WEIGHTS (a fovea model or checkpoint, or a torchvision/timm state dict in safetensors)\n"+
			"into a zoo model, freezes part of it and trains it on --data. --classes N, if given, gives the\n"+
			"model a new head of N classes; the rest must load unless --allow-missing says otherwise.\n\n")
		fs.PrintDefaults()
	}
	var mf modelFlags
	mf.register(fs)
	from := fs.String("from", "", "pretrained weights (safetensors); required")
	freeze := fs.String("freeze", "all-but-head", "what does not train: all-but-head, up-to:LAYER (LAYER and all before it), match:PATTERN, none")
	allow := fs.String("allow-missing", "", "comma-separated layers whose tensors may be missing, unexpected or of another shape (head: the model's head; *: all)")
	newHead := fs.Bool("new-head", false, "re-initialise the head even with as many classes as the weights have")
	dataset := fs.String("data", "mnist", "training data: mnist, fashion-mnist, or a folder of MNIST-named IDX files")
	epochs := fs.Int("epochs", 10, "epochs to train")
	batch := fs.Int("batch", 64, "batch size")
	lr := fs.Float64("lr", 1e-3, "learning rate (the head's)")
	backboneScale := fs.Float64("backbone-lr-scale", 1, "the learning rate of everything but the head, as a fraction of --lr (0.1: ten times slower)")
	warmup := fs.Int("warmup", 0, "epochs of linear learning-rate warm-up (from a tenth of the rate) before --schedule")
	opt := fs.String("optimizer", "adam", "adam, adamw, sgd (momentum 0.9) or rmsprop")
	wd := fs.Float64("weight-decay", 0, "weight decay (never applied to frozen parameters)")
	sched := fs.String("schedule", "cosine", "learning-rate schedule after the warm-up: cosine, step:N:GAMMA or none")
	unfreeze := fs.String("unfreeze", "", "gradual unfreezing: comma-separated EPOCH:LAYER steps (after EPOCH epochs, LAYER trains too), e.g. 2:layer4,4:layer3")
	cache := fs.String("cache", "auto", "train the head on cached backbone features: auto (when only the head trains and nothing is random below it), on, off")
	valSplit := fs.Float64("val-split", 0.1, "fraction of the training data held out for validation")
	limitN := fs.Int("limit", 0, "train on the first N examples only (0: all)")
	out := fs.String("out", "", "output folder (default runs/finetune-MODEL)")
	quiet := fs.Bool("quiet", false, "no progress bar")
	asJSON := fs.Bool("json", false, "end with one JSON object (load report, metrics, output paths, history) instead of the text summary")
	threads := fs.Int("threads", 0, "worker threads (0: all cores, GOMAXPROCS)")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	mf.noteGiven(fs)
	switch {
	case *from == "":
		return usagef("--from is required: the pretrained weights to start from")
	case fs.NArg() > 0:
		return usagef("unexpected argument %q", fs.Arg(0))
	case *threads < 0:
		return usagef("--threads %d: want 0 (all cores) or more", *threads)
	case *epochs < 1:
		return usagef("--epochs %d: want at least 1", *epochs)
	case *batch < 1:
		return usagef("--batch %d: want at least 1", *batch)
	case !(*lr > 0):
		return usagef("--lr %v: want a positive learning rate", *lr)
	case !(*backboneScale > 0):
		return usagef("--backbone-lr-scale %v: want a positive fraction", *backboneScale)
	case *warmup < 0 || *warmup >= *epochs:
		return usagef("--warmup %d: want 0 or more epochs, fewer than --epochs (%d)", *warmup, *epochs)
	case !(*valSplit >= 0 && *valSplit < 1):
		return usagef("--val-split %v: want a fraction in [0, 1)", *valSplit)
	case mf.given["classes"] && mf.classes < 1:
		return usagef("--classes %d: want at least 1", mf.classes)
	case *cache != "auto" && *cache != "on" && *cache != "off":
		return usagef("--cache %q: want auto, on or off", *cache)
	}
	plan, err := parseUnfreeze(*unfreeze, *epochs)
	if err != nil {
		return err
	}
	if *threads > 0 {
		runtime.GOMAXPROCS(*threads)
	}
	schedule, err := parseSchedule(*sched, *epochs-*warmup)
	if err != nil {
		return err
	}
	if *warmup > 0 {
		schedule = optim.Warmup{Steps: *warmup, StartFactor: 0.1, Then: schedule}
	}

	// The model and its weights.
	opts := []models.PretrainedOption{models.WithSeed(mf.seed)}
	if mf.given["classes"] {
		opts = append(opts, models.WithClasses(mf.classes))
	}
	if *newHead {
		opts = append(opts, models.NewHead())
	}
	if *allow != "" {
		for _, p := range strings.Split(*allow, ",") {
			p = strings.TrimSpace(p)
			if p != "head" {
				if err := nn.CheckPattern(p); err != nil {
					return usagef("--allow-missing: %v", err)
				}
			}
			opts = append(opts, models.AllowMissing(p))
		}
	}
	name := ""
	if mf.given["model"] {
		name = mf.model
	}
	model, spec, report, err := models.Pretrained(name, *from, opts...)
	if err != nil {
		return err
	}
	classes := nn.Classes(model)
	if err := nn.ApplyFreeze(model, *freeze); err != nil {
		return usagef("--freeze: %v", err)
	}
	trainable, frozen := nn.TrainableCount(model)
	if trainable == 0 {
		return usagef("--freeze %s leaves nothing to train", *freeze)
	}

	// The data.
	trainSet, err := loadData(*dataset, true)
	if err != nil {
		return err
	}
	testSet, err := loadData(*dataset, false)
	if err != nil {
		return err
	}
	h, w, c := trainSet.Shape()
	if want := spec.Input; len(want) == 3 && (want[0] != h || want[1] != w || want[2] != c) {
		return fmt.Errorf("--data %s: the images are %d×%d×%d but %s takes %d×%d×%d", *dataset, h, w, c, spec.Name, want[0], want[1], want[2])
	}
	if trainSet.Classes() > classes {
		return fmt.Errorf("--data %s has %d classes but the model has %d outputs: give it a new head with --classes %d", *dataset, trainSet.Classes(), classes, trainSet.Classes())
	}
	ds := limit(trainSet, *limitN)

	// The optimiser: the head at --lr, the rest at --backbone-lr-scale times it.
	heads := nn.Heads(model)
	groups, err := optim.Discriminative(model.Params(), func(n string) bool { return nn.MatchAny(heads, n) }, *backboneScale)
	if err != nil {
		return err
	}
	o, err := newGroupOptimizer(*opt, groups, *lr, *wd)
	if err != nil {
		return err
	}

	dir := *out
	if dir == "" {
		dir = filepath.Join("runs", "finetune-"+spec.Name)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	checkpointPath, bestPath := filepath.Join(dir, "checkpoint.safetensors"), filepath.Join(dir, "best.safetensors")
	historyPath, curvesPath := filepath.Join(dir, "history.csv"), filepath.Join(dir, "curves.png")
	cfg := train.Config{Epochs: *epochs, BatchSize: *batch, Optimizer: o, Schedule: schedule, Seed: mf.seed,
		ValidationSplit: *valSplit,
		Hooks: []train.Hook{
			&train.ModelCheckpoint{Path: checkpointPath, Best: bestPath},
			train.CSVLogger{Path: historyPath},
		}}
	if !*quiet && !*asJSON {
		cfg.Progress = stdout
	}
	if len(plan) > 0 {
		g := &train.GradualUnfreezing{Plan: plan}
		if cfg.Progress != nil {
			g.Log = stdout
		}
		cfg.Hooks = append(cfg.Hooks, g)
	}
	if *cache == "on" && len(plan) > 0 {
		return usagef("--cache on cannot be used with --unfreeze: the backbone changes during training")
	}
	// FitHead checks whether the cache can serve, and says why not.
	useCache := *cache != "off" && len(plan) == 0

	if !*asJSON {
		fmt.Fprintf(stdout, "loaded %s into %s: %s\n", *from, spec.Name, describeReport(report))
		fmt.Fprintf(stdout, "fine-tuning %s on %s: %d examples (%.0f%% held out for validation), %d classes, %d epochs, freeze %s: %s parameters train, %s frozen\n",
			spec.Name, *dataset, ds.Len(), 100**valSplit, classes, *epochs, *freeze, commas(trainable), commas(frozen))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	var hist *train.History
	if useCache {
		hist, err = train.FitHead(ctx, model, ds, cfg)
		if errors.Is(err, train.ErrNoHeadCache) {
			if *cache == "on" {
				return fmt.Errorf("--cache on: %w", err)
			}
			useCache = false
		}
	}
	if !useCache {
		hist, err = train.Fit(ctx, model, ds, cfg)
	}
	if hist != nil && len(hist.Epochs) > 0 {
		if perr := hist.PlotPNG(curvesPath); perr != nil && err == nil {
			err = perr
		}
	}
	if err != nil {
		return err
	}
	meta := map[string]string{"model": spec.Name, "classes": strconv.Itoa(classes), "data": *dataset, "finetuned_from": *from}
	modelPath := filepath.Join(dir, "model.safetensors")
	if err := weights.Save(modelPath, weights.StateDict(nn.State(model)), meta); err != nil {
		return err
	}
	m, err := train.Evaluate(model, testSet, train.EvalConfig{BatchSize: 256})
	if err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	if *asJSON {
		mis := []map[string]any{}
		for _, x := range report.Mismatched {
			mis = append(mis, map[string]any{"name": x.Name, "model_shape": x.Want, "file_shape": x.Got})
		}
		return json.NewEncoder(stdout).Encode(map[string]any{
			"model": spec.Name, "from": *from, "data": *dataset, "classes": classes, "freeze": *freeze,
			"trainable_params": trainable, "frozen_params": frozen, "cached_features": useCache,
			"load": map[string]any{"missing": nonNil(report.Missing), "unexpected": nonNil(report.Unexpected),
				"mismatched": mis, "reinitialised": nonNil(report.Skipped)},
			"epochs": len(hist.Epochs), "test_loss": m.Loss, "test_top1": m.Top1, "test_top5": m.Top5,
			"seconds": secs, "images_per_second": trainingRate(hist),
			"weights": modelPath, "checkpoint": checkpointPath, "best": bestPath, "history_csv": historyPath,
			"curves": curvesPath, "history": hist.Epochs})
	}
	fmt.Fprintf(stdout, "test: %d examples  loss %.4f  top-1 %.4f  top-5 %.4f   (%.1f s in all)\n", m.Count, m.Loss, m.Top1, m.Top5, secs)
	fmt.Fprintf(stdout, "wrote %s, %s, %s, %s and %s\n", modelPath, checkpointPath, bestPath, historyPath, curvesPath)
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// describeReport says in one line what a load did.
func describeReport(r weights.Report) string {
	var parts []string
	if len(r.Skipped) > 0 {
		parts = append(parts, "new head ("+strings.Join(r.Skipped, ", ")+")")
	}
	if p := r.String(); p != "" {
		parts = append(parts, "left at their initial values: "+p)
	}
	if len(parts) == 0 {
		return "every tensor loaded"
	}
	return "the rest loaded; " + strings.Join(parts, "; ")
}

// parseUnfreeze parses --unfreeze: EPOCH:LAYER steps, comma-separated.
func parseUnfreeze(s string, epochs int) ([]train.Unfreeze, error) {
	if s == "" {
		return nil, nil
	}
	var plan []train.Unfreeze
	for _, step := range strings.Split(s, ",") {
		e, layer, ok := strings.Cut(strings.TrimSpace(step), ":")
		n, err := strconv.Atoi(e)
		if !ok || err != nil || n < 1 || n >= epochs || layer == "" {
			return nil, usagef("--unfreeze %q: want EPOCH:LAYER steps separated by commas, 1 <= EPOCH < --epochs (%d), such as 2:layer4,4:layer3", s, epochs)
		}
		if layer != "head" {
			if err := nn.CheckPattern(layer); err != nil {
				return nil, usagef("--unfreeze: %v", err)
			}
		}
		plan = append(plan, train.Unfreeze{Epoch: n, Pattern: layer})
	}
	return plan, nil
}

// newGroupOptimizer is newOptimizer over parameter groups.
func newGroupOptimizer(name string, groups []optim.Group, lr, wd float64) (optim.Optimizer, error) {
	switch strings.ToLower(name) {
	case "adam":
		return optim.NewAdam(nil, optim.AdamConfig{LR: lr, WeightDecay: wd}, groups...)
	case "adamw":
		return optim.NewAdamW(nil, optim.AdamConfig{LR: lr, WeightDecay: wd}, groups...)
	case "sgd":
		return optim.NewSGD(nil, optim.SGDConfig{LR: lr, Momentum: 0.9, WeightDecay: wd}, groups...)
	case "rmsprop":
		return optim.NewRMSprop(nil, optim.RMSpropConfig{LR: lr, WeightDecay: wd}, groups...)
	}
	return nil, usagef("--optimizer %q: want adam, adamw, sgd or rmsprop", name)
}

// commas formats n with thousands separators.
func commas(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
