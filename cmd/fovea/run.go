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

// runFlags are the flags of a training run: train's and finetune's.
type runFlags struct {
	data       dataFlags
	epochs     int
	batch      int
	lr, wd     float64
	opt, sched string
	warmup     int
	valSplit   float64
	out        string
	resume     string
	every      int
	clipNorm   float64
	quiet      bool
	asJSON     bool
	threads    int
	cpuProfile string
}

func (r *runFlags) register(fs *flag.FlagSet, epochs int, epochsDoc string) {
	r.data.register(fs, "training data", true)
	fs.IntVar(&r.epochs, "epochs", epochs, epochsDoc)
	fs.IntVar(&r.batch, "batch", 64, "batch size")
	fs.Float64Var(&r.lr, "lr", 1e-3, "learning rate")
	fs.StringVar(&r.opt, "optimizer", "adam", "adam, adamw, sgd (momentum 0.9) or rmsprop")
	fs.Float64Var(&r.wd, "weight-decay", 0, "weight decay (never applied to frozen parameters)")
	fs.StringVar(&r.sched, "schedule", "cosine", "learning-rate schedule over the epochs (after the warm-up): cosine (annealed to 0), step:N:GAMMA (times GAMMA every N epochs) or none (constant)")
	fs.IntVar(&r.warmup, "warmup", 0, "epochs of linear learning-rate warm-up (from a tenth of the rate) before --schedule")
	fs.Float64Var(&r.valSplit, "val-split", 0.1, "fraction of the training data held out for validation")
	fs.StringVar(&r.out, "out", "", "output folder (default runs/MODEL)")
	fs.StringVar(&r.resume, "resume", "", "continue the run of this checkpoint (checkpoint.safetensors or best.safetensors of an earlier run with the same flags), or start from the weights of a model.safetensors")
	fs.IntVar(&r.every, "checkpoint-every", 1000, "also save the checkpoint every N steps within an epoch (0: at epoch ends only); Ctrl-C and SIGTERM save one too")
	fs.Float64Var(&r.clipNorm, "clip-norm", 0, "clip the gradients to this global L2 norm (0: no clipping)")
	fs.BoolVar(&r.quiet, "quiet", false, "no progress bar")
	fs.BoolVar(&r.asJSON, "json", false, "end with one JSON object (metrics, images/s, output paths) instead of the text summary")
	fs.IntVar(&r.threads, "threads", 0, "worker threads (0: all cores, GOMAXPROCS)")
	fs.StringVar(&r.cpuProfile, "cpuprofile", "", "write a CPU profile to this file")
}

// check validates the flags' values.
func (r *runFlags) check() error {
	switch {
	case r.threads < 0:
		return usagef("--threads %d: want 0 (all cores) or more", r.threads)
	case r.epochs < 1:
		return usagef("--epochs %d: want at least 1", r.epochs)
	case r.batch < 1:
		return usagef("--batch %d: want at least 1", r.batch)
	case !(r.lr > 0):
		return usagef("--lr %v: want a positive learning rate", r.lr)
	case r.warmup < 0 || r.warmup >= r.epochs:
		return usagef("--warmup %d: want 0 or more epochs, fewer than --epochs (%d)", r.warmup, r.epochs)
	case !(r.valSplit >= 0 && r.valSplit < 1):
		return usagef("--val-split %v: want a fraction in [0, 1)", r.valSplit)
	case r.every < 0:
		return usagef("--checkpoint-every %d: want 0 (epoch ends only) or more steps", r.every)
	case !(r.clipNorm >= 0) || math.IsInf(r.clipNorm, 0):
		return usagef("--clip-norm %v: want 0 (no clipping) or a positive norm", r.clipNorm)
	}
	if _, err := parseSchedule(r.sched, r.epochs-r.warmup); err != nil {
		return err
	}
	return r.data.check()
}

// schedule returns the learning-rate schedule the flags describe.
func (r *runFlags) schedule() (optim.Schedule, error) {
	s, err := parseSchedule(r.sched, r.epochs-r.warmup)
	if err != nil || r.warmup == 0 {
		return s, err
	}
	return optim.Warmup{Steps: r.warmup, StartFactor: 0.1, Then: s}, nil
}

// job is what a command hands the run: the model, built and loaded, and
// what it alone adds.
type job struct {
	cmd   string // "train" or "finetune"
	model nn.Layer
	spec  models.Spec
	// info describes the model for its files; the run adds the data and
	// the preparation.
	info models.FileInfo
	// from describes the weights file the model was loaded from, if any:
	// its preparation is replayed unless the flags say otherwise. loaded
	// is its path, if the command loaded it into the model already.
	from   models.FileInfo
	loaded string
	seed   uint64
	// src is the data, and resume the --resume checkpoint, if the
	// command read them already.
	src    *data.Source
	resume *weights.Checkpoint
	// optimizer builds the optimiser.
	optimizer func(lr, wd float64) (optim.Optimizer, error)
	// hooks are added to the run's own.
	hooks []train.Hook
	// headCache is finetune's --cache: auto, on or off.
	headCache string
	// classHint ends the error of data with more classes than the model.
	classHint string
	// describe prints the lines before training; report adds to the JSON.
	describe func(w io.Writer, examples int, dataKind string)
	report   map[string]any
	outName  string // the default output folder's name under runs/
}

// execute runs a training job: data, preparation, checkpoints, signals,
// resume, progress, the files written and the report.
func (r *runFlags) execute(j *job, stdout io.Writer) (err error) {
	started := false // once training begins, what the run wrote is kept
	if r.threads > 0 {
		runtime.GOMAXPROCS(r.threads)
	}
	if r.cpuProfile != "" {
		f, err := os.Create(r.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	// Everything that can be found wrong is, before anything is written.
	df := &r.data
	src := j.src
	if src == nil {
		if src, err = openSource(df.spec); err != nil {
			return err
		}
	}
	classes := nn.Classes(j.model)
	if err := checkClasses(df, src, classes, j.classHint); err != nil {
		return err
	}
	p, err := newPrep(j.spec.Name, modelInput(j.model, j.spec), j.from, df)
	if err != nil {
		return err
	}
	transform, random, err := p.trainTransform(df.augment)
	if err != nil {
		return err
	}
	schedule, err := r.schedule()
	if err != nil {
		return err
	}
	o, err := j.optimizer(r.lr, r.wd)
	if err != nil {
		return err
	}
	// --resume takes a checkpoint (checkpoint or best.safetensors), which
	// continues its run, or a model file, whose weights a run starts from.
	resume := j.resume
	weightsOnly := false
	if resume == nil && r.resume != "" {
		ck, err := isCheckpoint(r.resume)
		if err != nil {
			return err
		}
		if weightsOnly = !ck; weightsOnly {
			if r.resume != j.loaded {
				if _, err := models.LoadPretrained(j.model, r.resume); err != nil {
					return err
				}
			}
		} else if resume, err = weights.LoadCheckpoint(r.resume); err != nil {
			return err
		}
	}
	dir := r.out
	if dir == "" {
		dir = filepath.Join("runs", j.outName)
		// A new run from a model file's weights would write its files over
		// the run that made it (its best, its checkpoint, the file itself).
		if _, err := os.Stat(filepath.Join(dir, "checkpoint.safetensors")); weightsOnly && err == nil {
			return usagef("--resume %s starts a new run from a model file's weights, and %s holds a run already: name another folder with --out (a checkpoint.safetensors continues its run in place)", r.resume, dir)
		}
	}
	made := missingDirs(dir)
	var cacheFiles []string // those this run creates
	cacheFile := func(name string) string {
		f := filepath.Join(dir, "data-cache-"+name+".u8")
		if _, err := os.Stat(f); os.IsNotExist(err) {
			cacheFiles = append(cacheFiles, f)
		}
		return f
	}
	defer func() {
		// A run that could not start leaves nothing behind: neither its
		// cache files nor the folders it made for them.
		if err != nil && !started {
			for _, f := range cacheFiles {
				os.Remove(f)
			}
			for _, d := range made {
				os.Remove(d)
			}
		}
	}()
	// Ctrl-C (or SIGTERM) from here on, while the data is read, stops
	// the run, which leaves nothing behind; in training, it stops after
	// the batch in progress and saves a checkpoint. A second one kills at
	// once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop()
	}()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	budget := cacheMemory()
	trainSet, err := prepare(ctx, src.Train, p, df, df.limit, cacheFile("train"), &budget)
	if err != nil {
		return err
	}
	defer trainSet.close()
	var testSet *prepared
	if src.Test != nil {
		if testSet, err = prepare(ctx, src.Test, p, df, 0, cacheFile("test"), &budget); err != nil {
			return err
		}
		defer testSet.close()
	}
	ds, val := trainSet.ds, data.Dataset(nil)
	if r.valSplit > 0 {
		if ds, val, err = data.Split(ds, r.valSplit, j.seed); err != nil {
			return fmt.Errorf("--val-split %v: %w", r.valSplit, err)
		}
	}
	if err := p.fitNormalization(ds); err != nil {
		return err
	}
	// The normalisation is known only now.
	if transform, random, err = p.trainTransform(df.augment); err != nil {
		return err
	}
	if transform != nil && !random {
		// Deterministic steps are the data's, so a frozen backbone's
		// features can be cached.
		if ds, err = data.WithTransform(ds, transform); err != nil {
			return err
		}
		transform = nil
	}
	if val != nil {
		if val, err = p.evalSet(val); err != nil {
			return err
		}
	}
	test, testName := val, "validation"
	if testSet != nil {
		if test, err = p.evalSet(testSet.ds); err != nil {
			return err
		}
		testName = "test"
	}

	info := j.info
	info.Classes, info.Data = classes, df.spec
	if len(src.Names) == classes {
		info.ClassNames = src.Names
	}
	p.info(&info)
	meta := info.Meta()
	checkpointPath, bestPath := filepath.Join(dir, "checkpoint.safetensors"), filepath.Join(dir, "best.safetensors")
	historyPath, curvesPath := filepath.Join(dir, "history.csv"), filepath.Join(dir, "curves.png")
	modelPath := filepath.Join(dir, "model.safetensors")
	// A run killed while writing leaves a temporary file: the files
	// themselves are whole, old or new.
	for _, f := range []string{checkpointPath, bestPath, historyPath, curvesPath, modelPath} {
		if _, err := atomicfile.RemoveStale(f); err != nil {
			return err
		}
	}
	ck := &train.ModelCheckpoint{Path: checkpointPath, EverySteps: r.every, OnStop: true, Meta: meta}
	if val != nil {
		ck.Best = bestPath
	}
	cfg := train.Config{Epochs: r.epochs, BatchSize: r.batch, Optimizer: o, Schedule: schedule, Seed: j.seed,
		Validation: val, Transform: transform, MaxGradNorm: r.clipNorm, Resume: resume,
		Hooks: append([]train.Hook{ck, train.CSVLogger{Path: historyPath}}, j.hooks...)}
	if !r.quiet && !r.asJSON {
		cfg.Progress = stdout
	}
	if !r.asJSON {
		j.describe(stdout, ds.Len(), src.Kind)
		fmt.Fprintf(stdout, "  data: %s; %s", src.Kind, r.dataNote(p, trainSet, val))
		if weightsOnly {
			fmt.Fprintf(stdout, "  %s is a model file, not a checkpoint: training starts from its weights at epoch 1, with a new optimiser state\n", r.resume)
		}
	}
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted before training began; nothing was written")
	}
	started = true
	start := time.Now()
	hist, useCache, err := fit(ctx, j, ds, cfg)
	if hist != nil && len(hist.Epochs) > 0 {
		if perr := hist.PlotPNG(curvesPath); perr != nil && err == nil {
			err = perr
		}
	}
	if err != nil {
		var re *train.ResumeError
		switch {
		case errors.As(err, &re):
			started = false // the checkpoint did not fit: no step ran, nothing is kept
			hint := map[string]string{"weights": " (was it saved by a run of another --model or --classes?)",
				"optimiser": " (was it saved by a run with another --optimizer?)"}[re.Part]
			return fmt.Errorf("%s: %w%s", r.resume, re.Err, hint)
		case errors.Is(err, train.ErrNonFinite):
			return fmt.Errorf("%w (--lr, --clip-norm); %s holds the last good state", err, lastCheckpoint(checkpointPath, r.resume))
		case ctx.Err() != nil && errors.Is(err, ctx.Err()):
			return fmt.Errorf("interrupted: %w; continue with the same flags and --resume %s", err, checkpointPath)
		}
		return err
	}
	if err := weights.Save(modelPath, weights.StateDict(nn.State(j.model)), meta); err != nil {
		return err
	}
	var m train.Metrics
	if test != nil {
		if m, err = train.Evaluate(j.model, test, train.EvalConfig{BatchSize: 256}); err != nil {
			return err
		}
	}
	secs := time.Since(start).Seconds()
	rate := trainingRate(hist)
	written := []string{modelPath, checkpointPath, historyPath, curvesPath}
	if ck.Best != "" {
		written = append(written, bestPath)
	}
	if r.asJSON {
		res := map[string]any{
			"model": j.spec.Name, "data": df.spec, "data_kind": src.Kind, "classes": classes, "class_names": info.ClassNames,
			"epochs": len(hist.Epochs), "evaluated_on": testName, "test_examples": m.Count, "test_loss": m.Loss,
			"test_top1": m.Top1, "test_top5": m.Top5, "seconds": secs, "images_per_second": rate, "skipped_files": trainSet.skipped,
			"weights": modelPath, "checkpoint": checkpointPath, "best": bestPath, "history_csv": historyPath,
			"curves": curvesPath, "history": hist.Epochs, "cached_features": useCache}
		for k, v := range j.report {
			res[k] = v
		}
		return json.NewEncoder(stdout).Encode(res)
	}
	if test != nil {
		fmt.Fprintf(stdout, "%s: %d examples  loss %.4f  top-1 %.4f  top-5 %.4f   (%.1f s in all; training %.0f img/s)\n",
			testName, m.Count, m.Loss, m.Top1, m.Top5, secs, rate)
	} else {
		fmt.Fprintf(stdout, "no test split or validation: %.1f s in all; training %.0f img/s\n", secs, rate)
	}
	fmt.Fprintf(stdout, "wrote %s\n", joinAnd(written))
	return nil
}

// fit trains j's model: on cached backbone features when finetune's
// --cache allows and FitHead can, else with Fit.
func fit(ctx context.Context, j *job, ds data.Dataset, cfg train.Config) (*train.History, bool, error) {
	if j.headCache == "auto" || j.headCache == "on" {
		hist, err := train.FitHead(ctx, j.model, ds, cfg)
		switch {
		case !errors.Is(err, train.ErrNoHeadCache):
			return hist, true, err
		case j.headCache == "on":
			return nil, false, fmt.Errorf("--cache on: %w", err)
		}
	}
	hist, err := train.Fit(ctx, j.model, ds, cfg)
	return hist, false, err
}

// dataNote says in one line how the data was prepared.
func (r *runFlags) dataNote(p prep, tr *prepared, val data.Dataset) string {
	h, w := p.stored()
	s := fmt.Sprintf("images %d×%d×%d", h, w, p.c)
	if h != p.h {
		s += fmt.Sprintf(" (shorter side %d), cropped to %d×%d", p.resize, p.h, p.w)
	}
	s += fmt.Sprintf(", augment %s, normalize %s", r.data.augment, p.norm)
	if tr.cache != nil {
		s += ", cached in " + tr.cache.Where()
	}
	if tr.skipped > 0 {
		s += fmt.Sprintf(", %d unreadable %s skipped", tr.skipped, map[bool]string{true: "file", false: "files"}[tr.skipped == 1])
	}
	if val != nil {
		s += fmt.Sprintf(", %d held out for validation", val.Len())
	}
	return s + "\n"
}

// isCheckpoint says whether the weights file at path is a checkpoint
// (checkpoint.safetensors, best.safetensors) rather than a model file,
// from its header.
func isCheckpoint(path string) (bool, error) {
	meta, err := weights.LoadMetadata(path)
	if err != nil {
		return false, err
	}
	return meta["format"] == weights.CheckpointFormat, nil
}

// missingDirs returns the folders that making dir would create, dir
// first and its missing parents after it.
func missingDirs(dir string) []string {
	var out []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); !os.IsNotExist(err) {
			return out
		}
		out = append(out, d)
		if filepath.Dir(d) == d {
			return out
		}
	}
}

// modelInput returns the input shape of one example of model.
func modelInput(model nn.Layer, spec models.Spec) []int {
	if in := nn.AboutOf(model).Input; len(in) == 3 {
		return in
	}
	return spec.Input
}

// joinAnd joins names as "a, b and c".
func joinAnd(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	s := ""
	for i, n := range names[:len(names)-1] {
		if i > 0 {
			s += ", "
		}
		s += n
	}
	return s + " and " + names[len(names)-1]
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
