package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/foveaml/fovea/data"
	"github.com/foveaml/fovea/inspect"
	"github.com/foveaml/fovea/models"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/tensor"
)

// inspected is a model loaded for the inspecting commands (explain,
// features, embed), with what its inputs need.
type inspected struct {
	model nn.Layer
	spec  models.Spec
	names []string // class names, nil if unknown
	// pre is how an image becomes the model's input: the weights file's
	// preprocessing (as fovea predict replays it), --normalize's if given.
	pre models.Preprocessing
}

// inspectFlags are the flags that choose the model to inspect and how
// its inputs are prepared, and, for a command that shows classes, where
// their names come from.
type inspectFlags struct {
	weights, model, normalize, labels, dataset string
	fs                                         *flag.FlagSet
	withNames                                  bool // --labels and --data were registered
}

func (f *inspectFlags) register(fs *flag.FlagSet, needWeights bool) {
	f.fs = fs
	req := "; required"
	if !needWeights {
		req = " (or --model for its random initial weights)"
	}
	fs.StringVar(&f.weights, "weights", "", "weights file: a fovea model or checkpoint (of a zoo model or an imported ONNX graph), a torchvision/timm state dict in safetensors, or an .onnx file"+req)
	fs.StringVar(&f.model, "model", "", "zoo model the weights are for (default: the one their metadata names)")
	fs.StringVar(&f.normalize, "normalize", "auto", "input normalisation after decoding to [0, 1]: imagenet (torchvision's mean and std), none, or auto (as the weights file describes, as fovea predict does; for a file that does not say, imagenet for models of 64 pixels and more)")
}

// registerNames adds the flags that name the classes, for a command that
// shows them.
func (f *inspectFlags) registerNames(fs *flag.FlagSet) {
	f.withNames = true
	fs.StringVar(&f.labels, "labels", "", "class names, one per line (default: those of --data, or of the data the weights were trained on)")
	fs.StringVar(&f.dataset, "data", "", "data set whose class names to show (any --data fovea train takes; default: the names the weights file holds)")
}

// load builds the model and everything its inputs need.
func (f *inspectFlags) load() (*inspected, error) {
	var in inspected
	switch {
	case f.weights != "":
		info, err := models.ReadFileInfo(f.weights)
		if err != nil {
			return nil, err
		}
		if f.model == "" && info.Model == "" {
			return nil, usagef("%s names no model in its metadata: say which it is for with --model", f.weights)
		}
		model, spec, _, err := models.Pretrained(f.model, f.weights)
		if err != nil {
			return nil, err
		}
		in.model, in.spec = model, spec
	case f.model != "":
		spec, err := models.Lookup(f.model)
		if err != nil {
			return nil, usageError{err.Error()}
		}
		model, err := spec.New(models.Options{Seed: 1})
		if err != nil {
			return nil, err
		}
		in.model, in.spec = model, spec
	default:
		return nil, usagef("--weights is required")
	}
	if len(in.spec.Input) != 3 {
		return nil, fmt.Errorf("%s has no fixed input size to resize images to", in.spec.Name)
	}
	info, err := models.ReadFileInfo(f.weights)
	if f.weights == "" || err != nil {
		info = models.FileInfo{} // no file, or one without fovea's description: the defaults
	}
	in.pre = models.PreprocessingOf(info, in.spec.Input)
	switch f.normalize {
	case "auto":
	case "imagenet":
		if in.spec.Input[2] != 3 {
			return nil, usagef("--normalize imagenet needs RGB input; %s takes %d channel(s)", in.spec.Name, in.spec.Input[2])
		}
		in.pre.Mean, in.pre.Std = models.ImageNetMean, models.ImageNetStd
	case "none":
		in.pre.Mean, in.pre.Std = nil, nil
	default:
		return nil, usagef("--normalize %q: want imagenet, none or auto", f.normalize)
	}
	switch {
	case !f.withNames:
	case f.labels != "":
		if in.names, err = readLabels(f.labels); err != nil {
			return nil, err
		}
	case f.dataset != "":
		src, err := openSource(f.dataset)
		if err != nil {
			return nil, err
		}
		in.names = src.Names
	default:
		in.names = info.NamesFor(nn.Classes(in.model))
		if in.names == nil && info.Data != "" { // an older file: the names of the data it was trained on
			if src, err := openSource(info.Data); err == nil && len(src.Names) == nn.Classes(in.model) {
				in.names = src.Names
			}
		}
	}
	return &in, nil
}

// readLabels reads class names, one per line; blank lines end nothing
// and count as names, so that line i is class i.
func readLabels(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var names []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		if len(names) >= 1<<20 {
			return nil, fmt.Errorf("--labels %s: more than %d lines", path, 1<<20)
		}
		names = append(names, strings.TrimSpace(s.Text()))
	}
	if err := s.Err(); err != nil {
		return nil, fmt.Errorf("--labels %s: %w", path, err)
	}
	for len(names) > 0 && names[len(names)-1] == "" {
		names = names[:len(names)-1]
	}
	return names, nil
}

// image decodes path at the model's input size: the picture as decoded
// (for display) and the model's input (normalised).
func (in *inspected) image(path string) (inspect.Picture, *tensor.Tensor, error) {
	h, w, c := in.spec.Input[0], in.spec.Input[1], in.spec.Input[2]
	img, err := decodeFile(path)
	if err != nil {
		return inspect.Picture{}, nil, err
	}
	shown := in.pre
	shown.Mean, shown.Std = nil, nil // the picture, before normalisation
	pix, err := shown.Image(img)
	if err != nil {
		return inspect.Picture{}, nil, err
	}
	x, err := in.pre.Image(img)
	if err != nil {
		return inspect.Picture{}, nil, err
	}
	t, err := tensor.FromSlice(x, 1, h, w, c)
	if err != nil {
		return inspect.Picture{}, nil, err
	}
	return inspect.Picture{H: h, W: w, C: c, Pix: pix}, t, nil
}

// decodeFile decodes the image file at path within the readers' bounds.
func decodeFile(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s: a folder, not an image file", path)
	}
	return data.DecodeImage(path, f, st.Size())
}

// class resolves --class: a class name, or a number.
func (in *inspected) class(s string) (int, error) {
	if s == "" {
		return -1, nil
	}
	for i, n := range in.names {
		if strings.EqualFold(n, s) {
			return i, nil
		}
	}
	k := nn.Classes(in.model)
	if i, err := strconv.Atoi(s); err == nil {
		if i < 0 || i >= k {
			return 0, usagef("--class %d: the model has %d classes (0 to %d)", i, k, k-1)
		}
		return i, nil
	}
	if len(in.names) == 0 {
		return 0, usagef("--class %q: no class names are known (--labels, --data); give a number from 0 to %d", s, k-1)
	}
	return 0, usagef("--class %q: not one of the %d class names (%s, ...)", s, len(in.names), strings.Join(in.names[:min(5, len(in.names))], ", "))
}

// displayScale is the whole factor that brings a side up to about 224
// pixels, so that a 28×28 digit is not a speck.
func displayScale(side int) int { return max(1, 224/max(side, 1)) }

type explainTop struct {
	Class int     `json:"class"`
	Name  string  `json:"name,omitempty"`
	Prob  float32 `json:"probability"`
}

type explainResult struct {
	File      string       `json:"file"`
	Method    string       `json:"method"`
	Layer     string       `json:"layer,omitempty"`
	Class     int          `json:"class"`
	ClassName string       `json:"class_name,omitempty"`
	Top       []explainTop `json:"top"`
	Map       struct {
		H      int       `json:"height"`
		W      int       `json:"width"`
		Values []float32 `json:"values"`
	} `json:"map"`
}

func cmdExplain(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fovea explain", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: fovea explain --weights FILE [flags] IMAGE...\n\n"+
			"Shows where the model looks: for each IMAGE (resized to the model's input), the image,\n"+
			"the map over it and the map alone, captioned with the top classes, in one PNG (--out).\n"+
			"grad-cam (Selvaraju et al. 2017) weighs --layer's maps (default: the last convolutional\n"+
			"stage, e.g. ResNet's layer4) by the mean gradient of the class's logit; saliency is the\n"+
			"largest absolute gradient of the logit over each pixel's channels (Simonyan et al. 2013).\n\n")
		fs.PrintDefaults()
	}
	var f inspectFlags
	f.register(fs, true)
	f.registerNames(fs)
	method := fs.String("method", "grad-cam", "grad-cam or saliency")
	layer := fs.String("layer", "", "grad-cam's layer, a dotted name as fovea summary lists it (default: the last convolutional stage)")
	class := fs.String("class", "", "class to explain, a name or a number (default: each image's top class)")
	k := fs.Int("k", 3, "top classes in the caption")
	alpha := fs.Float64("alpha", 0.5, "opacity of the map over the image")
	out := fs.String("out", "explain.png", "PNG to write")
	asJSON := fs.Bool("json", false, "print the maps and classes as one JSON array")
	files, err := parseArgs(fs, args, stderr)
	if err != nil {
		return err
	}
	switch {
	case f.weights == "":
		return usagef("--weights is required")
	case len(files) == 0:
		return usagef("no IMAGE to explain")
	case *method != "grad-cam" && *method != "saliency":
		return usagef("--method %q: want grad-cam or saliency", *method)
	case *method == "saliency" && *layer != "":
		return usagef("--layer is grad-cam's; saliency is at the input")
	case *k < 1:
		return usagef("--k %d: want at least 1", *k)
	case !(*alpha >= 0 && *alpha <= 1):
		return usagef("--alpha %v: want an opacity from 0 to 1", *alpha)
	case *out == "":
		return usagef("--out is empty")
	}
	in, err := f.load()
	if err != nil {
		return err
	}
	cls, err := in.class(*class)
	if err != nil {
		return err
	}
	if *method == "grad-cam" && *layer == "" {
		if *layer, err = inspect.LastConvStage(in.model, in.spec.Input...); err != nil {
			return err
		}
	}
	var panels []inspect.Panel
	var results []explainResult
	for _, file := range files {
		pic, x, err := in.image(file)
		if err != nil {
			return err
		}
		var m *inspect.Map
		if *method == "grad-cam" {
			m, err = inspect.GradCAM(in.model, x, *layer, cls)
		} else {
			m, err = inspect.Saliency(in.model, x, cls)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		r := explainResult{File: file, Method: *method, Layer: m.Layer, Class: m.Class, ClassName: className(in.names, m.Class)}
		r.Map.H, r.Map.W, r.Map.Values = m.H, m.W, m.Values
		var top []string
		for _, j := range inspect.TopK(m.Probs, *k) {
			r.Top = append(r.Top, explainTop{j, nameOrEmpty(in.names, j), m.Probs[j]})
			top = append(top, fmt.Sprintf("%s %.3f", className(in.names, j), m.Probs[j]))
		}
		results = append(results, r)
		heat := m.Upsampled(pic.H, pic.W)
		s := displayScale(max(pic.H, pic.W))
		over, err := inspect.Overlay(pic, heat, *alpha, s)
		if err != nil {
			return err
		}
		what := "saliency"
		if *method == "grad-cam" {
			what = fmt.Sprintf("Grad-CAM at %s (%d×%d)", m.Layer, m.H, m.W)
		}
		panels = append(panels, inspect.Panel{
			Images: []image.Image{pic.Image(s), over, inspect.Heat(pic.H, pic.W, heat, s)},
			Caption: []string{file, fmt.Sprintf("%s for class %s (p %.3f)", what, className(in.names, m.Class), m.Probs[m.Class]),
				"top: " + strings.Join(top, ", ")},
		})
	}
	if err := inspect.WritePNG(*out, inspect.Sheet(panels)); err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]any{"out": *out, "model": in.spec.Name, "results": results})
	}
	for _, r := range results {
		fmt.Fprintf(stdout, "%s: %s class %s", r.File, r.Method, className(in.names, r.Class))
		if r.Layer != "" {
			fmt.Fprintf(stdout, " at %s", r.Layer)
		}
		fmt.Fprint(stdout, "; top:")
		for _, t := range r.Top {
			fmt.Fprintf(stdout, " %s %.3f", className(in.names, t.Class), t.Prob)
		}
		fmt.Fprintln(stdout)
	}
	fmt.Fprintf(stdout, "wrote %s\n", *out)
	return nil
}

func nameOrEmpty(names []string, i int) string {
	if i >= 0 && i < len(names) {
		return names[i]
	}
	return ""
}
