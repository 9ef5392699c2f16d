package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/foveaml/fovea/models"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/optim"
	"github.com/foveaml/fovea/train"
	"github.com/foveaml/fovea/weights"
)

// cmdFinetune trains a pretrained model on a new task: it loads weights
// into a zoo model (a new head if --classes says so), freezes what
// --freeze says and trains it as fovea train does, with the same flags,
// data, checkpoints, resume and files.
func cmdFinetune(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("fovea finetune", "usage: fovea finetune --from WEIGHTS [--model NAME] [--classes N] [--freeze POLICY] [--data DIR] [flags]\n\n"+
		"Loads WEIGHTS (a fovea model file or checkpoint, a torchvision/timm state dict in safetensors or\n"+
		".pth, or an .onnx graph) into its model — the zoo model its metadata names, else --model; an\n"+
		".onnx without --model is its own model, its last Gemm the head — freezes part of it and trains\n"+
		"it on --data, preparing images as WEIGHTS says (an .onnx: at its input's size, with the zoo's\n"+
		"defaults). --classes N, if given, gives the model a new head of N classes; the rest must load\n"+
		"unless --allow-missing says otherwise. The files written (checkpoint, best, model) of an ONNX\n"+
		"graph carry the graph in their metadata: every command that takes --weights reads them, and\n"+
		"fovea export writes them as .onnx again.\n\n")
	var mf modelFlags
	mf.register(fs)
	var r runFlags
	r.register(fs, 10, "epochs to train")
	from := fs.String("from", "", "pretrained weights (safetensors, .pth or .onnx); required, unless --resume names a checkpoint of this run")
	freeze := fs.String("freeze", "all-but-head", "what does not train: all-but-head, up-to:LAYER (LAYER and all before it), match:PATTERN, none")
	allow := fs.String("allow-missing", "", "comma-separated layers whose tensors may be missing, unexpected or of another shape (head: the model's head; *: all)")
	newHead := fs.Bool("new-head", false, "re-initialise the head even with as many classes as the weights have")
	backboneScale := fs.Float64("backbone-lr-scale", 1, "the learning rate of everything but the head, as a fraction of --lr (0.1: ten times slower)")
	unfreeze := fs.String("unfreeze", "", "gradual unfreezing: comma-separated EPOCH:LAYER steps (after EPOCH epochs, LAYER trains too), e.g. 2:layer4,4:layer3")
	cache := fs.String("cache", "auto", "train the head on cached backbone features: auto (when only the head trains and nothing is random below it), on, off")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	mf.given = noteGiven(fs)
	r.data.given = mf.given
	if *from == "" {
		*from = r.resume // the checkpoint holds the model
	}
	switch {
	case *from == "":
		return usagef("--from is required: the pretrained weights to start from")
	case !(*backboneScale > 0):
		return usagef("--backbone-lr-scale %v: want a positive fraction", *backboneScale)
	case mf.given["classes"] && mf.classes < 1:
		return usagef("--classes %d: want at least 1", mf.classes)
	case *cache != "auto" && *cache != "on" && *cache != "off":
		return usagef("--cache %q: want auto, on or off", *cache)
	}
	if err := r.check(); err != nil {
		return err
	}
	plan, err := parseUnfreeze(*unfreeze, r.epochs)
	if err != nil {
		return err
	}
	if *cache == "on" && len(plan) > 0 {
		return usagef("--cache on cannot be used with --unfreeze: the backbone changes during training")
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
	var (
		model  nn.Layer
		spec   models.Spec
		report weights.Report
		resume *weights.Checkpoint
	)
	loaded := *from
	ck := false
	if r.resume != "" {
		if ck, err = isCheckpoint(r.resume); err != nil {
			return err
		}
	}
	if ck {
		// The checkpoint holds the model: read once, its weights loaded
		// once, by the resumed run.
		loaded = r.resume
		if resume, err = weights.LoadCheckpoint(r.resume); err != nil {
			return err
		}
		model, spec, err = models.BuildForCheckpoint(name, r.resume, resume, mf.seed)
	} else {
		// --from (a model file --resume names, without --from): its
		// weights are the run's start.
		model, spec, report, err = models.Pretrained(name, *from, opts...)
	}
	if err != nil {
		return err
	}
	fromInfo, err := models.ReadFileInfo(*from)
	if err != nil {
		return err
	}
	if err := nn.ApplyFreeze(model, *freeze); err != nil {
		return usagef("--freeze: %v", err)
	}
	trainable, frozen := nn.TrainableCount(model)
	if trainable == 0 {
		return usagef("--freeze %s leaves nothing to train", *freeze)
	}
	// The files describe the model: an imported graph's carry the graph,
	// its new head's shape in it; the run adds classes and names.
	info, err := models.FileInfo{}.Of(model, spec)
	if err != nil {
		return err
	}
	info.Classes, info.ClassNames = 0, nil
	j := &job{cmd: "finetune", model: model, spec: spec, seed: mf.seed, from: fromInfo, loaded: *from, resume: resume, headCache: *cache,
		info:      info,
		classHint: "give it a new head with --classes",
		outName:   "finetune-" + spec.Name,
		// The optimiser: the head at --lr, the rest at --backbone-lr-scale times it.
		optimizer: func(lr, wd float64) (optim.Optimizer, error) {
			heads := nn.Heads(model)
			groups, err := optim.Discriminative(model.Params(), func(n string) bool { return nn.MatchAny(heads, n) }, *backboneScale)
			if err != nil {
				return nil, err
			}
			return newOptimizer(r.opt, nil, groups, lr, wd)
		},
		describe: func(w io.Writer, n int, kind string) {
			fmt.Fprintf(w, "loaded %s into %s: %s\n", loaded, spec.Name, describeReport(report))
			fmt.Fprintf(w, "fine-tuning %s on %s: %d examples (%.0f%% held out for validation), %d classes, %d epochs, freeze %s: %s parameters train, %s frozen\n",
				spec.Name, r.data.spec, n, 100*r.valSplit, nn.Classes(model), r.epochs, *freeze, commas(trainable), commas(frozen))
		}}
	j.info.FinetunedFrom = *from
	if ck { // resumed: the run's own checkpoint says what it started from
		j.info.FinetunedFrom = fromInfo.FinetunedFrom
	}
	if len(plan) > 0 {
		g := &train.GradualUnfreezing{Plan: plan}
		if !r.quiet && !r.asJSON {
			g.Log = stdout
		}
		j.hooks = append(j.hooks, g)
		j.headCache = "off"
	}
	mis := []map[string]any{}
	for _, x := range report.Mismatched {
		mis = append(mis, map[string]any{"name": x.Name, "model_shape": x.Want, "file_shape": x.Got})
	}
	j.report = map[string]any{"from": *from, "freeze": *freeze, "trainable_params": trainable, "frozen_params": frozen,
		"load": map[string]any{"missing": nonNil(report.Missing), "unexpected": nonNil(report.Unexpected),
			"mismatched": mis, "reinitialised": nonNil(report.Skipped)}}
	return r.execute(j, stdout)
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

// commas formats n with thousands separators.
func commas(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
