package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/foveaml/fovea/data"
	"github.com/foveaml/fovea/internal/chart"
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

func (m *modelFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&m.model, "model", "lenet5", "model name (fovea models lists them)")
	fs.IntVar(&m.classes, "classes", 10, "number of classes (train: default the data's)")
	fs.Uint64Var(&m.seed, "seed", 1, "random seed: initial weights, shuffling, augmentation, dropout")
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

func cmdTrain(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("fovea train", "")
	var mf modelFlags
	mf.register(fs)
	var r runFlags
	r.register(fs, 12, "epochs to train (with the defaults, LeNet-5 reaches ~99.1% on the MNIST test set)")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	mf.given = noteGiven(fs)
	r.data.given = mf.given
	if err := r.check(); err != nil {
		return err
	}
	if mf.given["classes"] && mf.classes < 1 {
		return usagef("--classes %d: want at least 1", mf.classes)
	}
	// A checkpoint names its model and classes; the flags say otherwise
	// only when given.
	var from models.FileInfo
	if r.resume != "" {
		info, err := models.ReadFileInfo(r.resume)
		if err != nil {
			return err
		}
		from = info
		if info.Model == models.ONNXModel {
			return usagef("%s is a checkpoint of a fine-tuned ONNX graph; continue it with fovea finetune --resume %s", r.resume, r.resume)
		}
		if info.Model != "" && !mf.given["model"] {
			mf.model = info.Model
		}
		if info.Classes > 0 && !mf.given["classes"] {
			mf.classes = info.Classes
		}
		if info.Data != "" && !mf.given["data"] {
			r.data.spec = info.Data
		}
	}
	// The model has as many classes as the data, unless told otherwise.
	src, err := openSource(r.data.spec)
	if err != nil {
		return err
	}
	if !mf.given["classes"] && from.Classes == 0 {
		mf.classes = src.Train.Classes()
	}
	model, spec, err := mf.build()
	if err != nil {
		return err
	}
	return r.execute(&job{cmd: "train", model: model, spec: spec, seed: mf.seed, from: from, src: src,
		info: models.FileInfo{Model: spec.Name},
		optimizer: func(lr, wd float64) (optim.Optimizer, error) {
			return newOptimizer(r.opt, model.Params(), nil, lr, wd)
		},
		classHint: "set --classes",
		outName:   spec.Name,
		describe: func(w io.Writer, n int, kind string) {
			schedName := r.sched
			if schedName == "none" {
				schedName = "constant"
			}
			fmt.Fprintf(w, "training %s on %s: %d examples (%.0f%% held out for validation), %d epochs, batch %d, %s lr %g, %s schedule\n",
				spec.Name, r.data.spec, n, 100*r.valSplit, r.epochs, r.batch, r.opt, r.lr, schedName)
		}}, stdout)
}

// newOptimizer returns the optimiser called name over params, or over
// parameter groups.
func newOptimizer(name string, ps []nn.Param, groups []optim.Group, lr, wd float64) (optim.Optimizer, error) {
	switch strings.ToLower(name) {
	case "adam":
		return optim.NewAdam(ps, optim.AdamConfig{LR: lr, WeightDecay: wd}, groups...)
	case "adamw":
		return optim.NewAdamW(ps, optim.AdamConfig{LR: lr, WeightDecay: wd}, groups...)
	case "sgd":
		return optim.NewSGD(ps, optim.SGDConfig{LR: lr, Momentum: 0.9, WeightDecay: wd}, groups...)
	case "rmsprop":
		return optim.NewRMSprop(ps, optim.RMSpropConfig{LR: lr, WeightDecay: wd}, groups...)
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

// loadModel builds the model a weights file is of (its metadata's, or
// --model's) and loads the file into it — a model file, a checkpoint, a
// state dict, an ONNX graph — through models.Pretrained, as every
// command reads weights, and returns what the file says about itself.
// --classes, if given, must be the file's.
func loadModel(mf *modelFlags, path string) (nn.Layer, models.Spec, models.FileInfo, error) {
	info, err := models.ReadFileInfo(path)
	if err != nil {
		if models.IsONNX(path) {
			return nil, models.Spec{}, info, err
		}
		_, _, err = weights.Load(path) // says best what is wrong with the file
		return nil, models.Spec{}, info, err
	}
	name := ""
	switch {
	case mf.given["model"] || info.Model == "": // a state dict: --model's default
		name = mf.model
	case info.Model != models.ONNXModel:
		if _, err := models.Lookup(info.Model); err != nil {
			return nil, models.Spec{}, info, usagef("%s: its metadata names model %q: %v", path, info.Model, err)
		}
	}
	model, spec, _, err := models.Pretrained(name, path)
	if err != nil {
		return nil, spec, info, err
	}
	if mf.given["classes"] && mf.classes != nn.Classes(model) {
		return nil, spec, info, usagef("--classes %d: %s is a model of %d classes", mf.classes, path, nn.Classes(model))
	}
	if info, err = info.Of(model, spec); err != nil {
		return nil, spec, info, err
	}
	return model, spec, info, nil
}

// evalFlags are the flags of the commands that run saved weights on
// data: eval and predict.
type evalFlags struct {
	mf      modelFlags
	data    dataFlags
	weights string
}

func (e *evalFlags) register(fs *flag.FlagSet, what string) {
	e.mf.register(fs)
	e.data.register(fs, what, false)
	fs.StringVar(&e.weights, "weights", "", "weights file: model.safetensors, best.safetensors or checkpoint.safetensors of a fovea run, or a state dict; required")
}

// load checks the flags and loads the weights; the data flags not given
// take what the file says.
func (e *evalFlags) load(fs *flag.FlagSet) (nn.Layer, models.Spec, models.FileInfo, prep, error) {
	e.mf.given = noteGiven(fs)
	e.data.given = e.mf.given
	if e.weights == "" {
		return nil, models.Spec{}, models.FileInfo{}, prep{}, usagef("--weights is required")
	}
	if err := e.data.check(); err != nil {
		return nil, models.Spec{}, models.FileInfo{}, prep{}, err
	}
	model, spec, info, err := loadModel(&e.mf, e.weights)
	if err != nil {
		return nil, spec, info, prep{}, err
	}
	if info.Data != "" && !e.data.given["data"] {
		e.data.spec = info.Data
	}
	p, err := newPrep(spec.Name, modelInput(model, spec), info, &e.data)
	return model, spec, info, p, err
}

// evalData returns the test split of the --data set (the whole set if it
// has none), prepared for the model.
func (e *evalFlags) evalData(p prep, classes int) (data.Dataset, *data.Source, error) {
	src, err := openSource(e.data.spec)
	if err != nil {
		return nil, nil, err
	}
	if err := checkClasses(&e.data, src, classes, "its weights would need"); err != nil {
		return nil, nil, err
	}
	set := src.Test
	if set == nil {
		set = src.Train
	}
	budget := int64(0) // read once: nothing to cache
	pr, err := prepare(context.Background(), set, p, &e.data, 0, "", &budget)
	if err != nil {
		return nil, nil, err
	}
	ds, err := p.evalSet(pr.ds)
	return ds, src, err
}

func cmdEval(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("fovea eval", "")
	var e evalFlags
	e.register(fs, "test data (default: the data the weights were trained on)")
	asJSON := fs.Bool("json", false, "print the metrics as one JSON object")
	plotPath := fs.String("plot", "", "also write the confusion matrix as a heat map PNG to this file")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	model, spec, info, p, err := e.load(fs)
	if err != nil {
		return err
	}
	ds, src, err := e.evalData(p, nn.Classes(model))
	if err != nil {
		return err
	}
	m, err := train.Evaluate(model, ds, train.EvalConfig{BatchSize: 64})
	if err != nil {
		return err
	}
	names := info.ClassNames
	if names == nil && len(src.Names) == nn.Classes(model) {
		names = src.Names
	}
	if *plotPath != "" {
		pl, err := chart.Confusion(fmt.Sprintf("%s on %s: top-1 %.4f", spec.Name, e.data.spec, m.Top1), m.Confusion, names)
		if err != nil {
			return err
		}
		side := min(1200, 360+24*len(m.Confusion))
		if err := chart.Save(*plotPath, side, side, pl); err != nil {
			return err
		}
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]any{"model": spec.Name, "weights": e.weights, "data": e.data.spec,
			"examples": m.Count, "loss": m.Loss, "top1": m.Top1, "top5": m.Top5, "class_names": names, "per_class": m.PerClass,
			"confusion": m.Confusion, "plot": *plotPath})
	}
	fmt.Fprint(stdout, m.Report(names))
	if *plotPath != "" {
		fmt.Fprintf(stdout, "wrote %s\n", *plotPath)
	}
	return nil
}

func cmdPredict(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("fovea predict", "usage: fovea predict [IMAGE...] --weights FILE [flags]\n\n"+
		"Prints the top classes of each IMAGE (PNG, JPEG or GIF, prepared as the weights file says:\n"+
		"resized, cropped, normalised; for MNIST models white digits on black, as MNIST has them),\n"+
		"or, with no IMAGE, of the first --n examples of the test set.\n\n")
	var e evalFlags
	e.register(fs, "examples, without IMAGEs: the test split (default: the data the weights were trained on)")
	n := fs.Int("n", 10, "number of test examples to predict (without IMAGEs)")
	k := fs.Int("k", 3, "classes to show per example")
	files, err := parseArgs(fs, args, stderr)
	if err != nil {
		return err
	}
	if *n < 1 || *k < 1 {
		return usagef("--n and --k must be at least 1")
	}
	model, _, info, p, err := e.load(fs)
	if err != nil {
		return err
	}
	names := info.ClassNames
	var ds data.Dataset
	if len(files) > 0 {
		if e.data.given["data"] { // the names of the classes of the data named
			src, err := openSource(e.data.spec)
			if err != nil {
				return err
			}
			if len(src.Names) == nn.Classes(model) {
				names = src.Names
			}
		}
		for _, f := range files {
			if st, err := os.Stat(f); err == nil && st.IsDir() {
				return fmt.Errorf("%s: a folder, not an image file", f)
			}
		}
		imgs, err := data.NewImages(files, make([]int32, len(files)), nil)
		if err != nil {
			return err
		}
		if ds, err = p.sized(imgs, false); err != nil {
			return err
		}
	} else {
		test, src, err := e.evalData(p, nn.Classes(model))
		if err != nil {
			return err
		}
		if names == nil && len(src.Names) == nn.Classes(model) {
			names = src.Names
		}
		ds = limit(test, *n)
	}
	if len(files) > 0 {
		if ds, err = p.evalSet(ds); err != nil {
			return err
		}
	}
	loader, err := data.NewLoader(ds, data.LoaderOptions{BatchSize: 32})
	if err != nil {
		return err
	}
	pred := nn.NewPredictor(model)
	for b, err := range loader.All(0) {
		if err != nil {
			return err
		}
		probs, err := pred.Probabilities(b.X)
		if err != nil {
			return err
		}
		c := probs.Dim(1)
		for i, idx := range b.Indices {
			p := probs.Data()[i*c : (i+1)*c]
			if len(files) > 0 {
				fmt.Fprintf(stdout, "%s:", files[idx])
			} else {
				fmt.Fprintf(stdout, "example %d (label %s):", idx, className(names, int(b.Y[i])))
			}
			printTopK(stdout, names, p, *k)
		}
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
	w := fs.String("weights", "", "describe the model of this weights file (any --weights fovea reads: a zoo model's, an imported ONNX graph's, an .onnx) instead of a zoo model by name")
	names, err := parseArgs(fs, args, stderr)
	if err != nil {
		return err
	}
	var spec models.Spec
	var m nn.Layer
	switch {
	case *w != "" && len(names) <= 1:
		name := ""
		if len(names) == 1 {
			name = names[0]
		}
		if m, spec, _, err = models.Pretrained(name, *w); err != nil {
			return err
		}
		spec.Input = modelInput(m, spec)
		if spec.Name == models.ONNXModel {
			spec.Doc = fmt.Sprintf("an imported ONNX graph (%s), %d classes", *w, nn.Classes(m))
		}
	case len(names) != 1:
		return usagef("want one model name, e.g. fovea summary lenet5 (fovea models lists them), or --weights FILE")
	default:
		if spec, err = models.Lookup(names[0]); err != nil {
			return usageError{err.Error()}
		}
		if m, err = spec.New(models.Options{Classes: *classes}); err != nil {
			return err
		}
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
