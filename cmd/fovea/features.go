package main

import (
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/inspect"
	"github.com/foveaml/fovea/internal/atomicfile"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/tensor"
	"github.com/foveaml/fovea/weights"
)

func cmdFeatures(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fovea features", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: fovea features (--weights FILE | --model NAME) [--layer NAME,...] [--filters] [IMAGE] [--out FILE]\n\n"+
			"Without IMAGE or --filters, lists the --layer outputs (default: the model's top-level layers)\n"+
			"with their shapes, channels and strides, as a feature extractor returns them.\n"+
			"With IMAGE, writes a PNG grid of --layer's feature maps for it, a grey tile per channel.\n"+
			"With --filters, writes a PNG grid of a convolution's filters (default: the first), in\n"+
			"colour for one that reads RGB.\n\n")
		fs.PrintDefaults()
	}
	var f inspectFlags
	f.register(fs, false)
	layers := fs.String("layer", "", "comma-separated layers, dotted names as fovea summary lists them")
	filters := fs.Bool("filters", false, "draw a convolution's filters (--layer's, or the first convolution's)")
	limit := fs.Int("max", 64, "most channels or filters to draw")
	out := fs.String("out", "", "PNG to write (default maps.png, or filters.png with --filters)")
	asJSON := fs.Bool("json", false, "print the layers (or what was drawn) as JSON")
	files, err := parseArgs(fs, args, stderr)
	if err != nil {
		return err
	}
	switch {
	case len(files) > 1:
		return usagef("one IMAGE at a time, have %d", len(files))
	case *filters && len(files) > 0:
		return usagef("--filters draws weights, not an image's maps: drop IMAGE or --filters")
	case *limit < 1:
		return usagef("--max %d: want at least 1", *limit)
	}
	in, err := f.load()
	if err != nil {
		return err
	}
	var names []string
	if *layers != "" {
		for _, n := range strings.Split(*layers, ",") {
			names = append(names, strings.TrimSpace(n))
		}
	}
	switch {
	case *filters:
		return drawFilters(stdout, in, names, *limit, orDefault(*out, "filters.png"), *asJSON)
	case len(files) == 1:
		if len(names) != 1 {
			return usagef("--layer: name the one layer whose maps to draw (fovea features --model %s lists them)", in.spec.Name)
		}
		return drawMaps(stdout, in, names[0], files[0], *limit, orDefault(*out, "maps.png"), *asJSON)
	}
	if names == nil {
		if names, err = topLevel(in.model, in.spec.Input); err != nil {
			return err
		}
	}
	fx, err := nn.NewFeatureExtractor(in.model, in.spec.Input, names...)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]any{"model": in.spec.Name, "input_shape": in.spec.Input, "features": fx.Info()})
	}
	fmt.Fprintf(stdout, "%s at %d×%d×%d:\n", in.spec.Name, in.spec.Input[0], in.spec.Input[1], in.spec.Input[2])
	nameW := 14
	for _, fi := range fx.Info() {
		nameW = max(nameW, len(fi.Name))
	}
	for _, fi := range fx.Info() {
		stride := "-"
		if fi.Stride > 0 {
			stride = strconv.Itoa(fi.Stride)
		}
		fmt.Fprintf(stdout, "  %-*s %-16s channels %-6d stride %s\n", nameW, fi.Name, fmt.Sprint(fi.Shape), fi.Channels, stride)
	}
	return nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// topLevel returns the names of the model's stages (inspect.Stages)
// that are called once, in call order: the outputs a feature extractor
// can return.
func topLevel(model nn.Layer, in []int) ([]string, error) {
	st, err := inspect.Stages(model, in...)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, s := range st {
		if s.Calls == 1 {
			names = append(names, s.Name)
		}
	}
	return names, nil
}

func drawFilters(stdout io.Writer, in *inspected, names []string, limit int, out string, asJSON bool) error {
	var conv *nn.Conv2D
	var name string
	switch len(names) {
	case 0:
		tp := ag.NewTape()
		tp.SetGradEnabled(false)
		in.model.Forward(&nn.Ctx{Tape: tp, Observe: func(call nn.LayerCall) *ag.Var {
			if c, ok := call.Layer.(*nn.Conv2D); ok && conv == nil {
				conv, name = c, call.Path
			}
			return call.Out
		}}, ag.Const(tensor.Zeros(append([]int{1}, in.spec.Input...)...)))
		tp.Reset()
		if conv == nil {
			return fmt.Errorf("%s calls no convolution", in.spec.Name)
		}
	case 1:
		name = names[0]
		l, _, err := nn.Capture(ag.NewTape(), in.model, name, ag.Const(tensor.Zeros(append([]int{1}, in.spec.Input...)...)))
		if err != nil {
			return err
		}
		c, ok := l.(*nn.Conv2D)
		if !ok {
			return usagef("--layer %s is a %s, not a convolution", name, nn.Kind(l))
		}
		conv = c
	default:
		return usagef("--filters draws one layer's filters; --layer names %d", len(names))
	}
	tiles := inspect.FilterTiles(conv)
	n := len(tiles)
	tiles = tiles[:min(limit, n)]
	scale := max(1, 48/max(conv.Cfg.KH, conv.Cfg.KW))
	grid := inspect.Tiles(tiles, 0, scale)
	caption := fmt.Sprintf("%s %s: %d of %d filters %d×%d×%d", in.spec.Name, name, len(tiles), n, conv.Cfg.KH, conv.Cfg.KW, conv.Cfg.In/max(conv.Cfg.Groups, 1))
	if err := inspect.WritePNG(out, inspect.Sheet([]inspect.Panel{{Images: []image.Image{grid}, Caption: []string{caption}}})); err != nil {
		return err
	}
	if asJSON {
		return json.NewEncoder(stdout).Encode(map[string]any{"out": out, "layer": name, "filters": n, "drawn": len(tiles)})
	}
	fmt.Fprintf(stdout, "%s\nwrote %s\n", caption, out)
	return nil
}

func drawMaps(stdout io.Writer, in *inspected, name, file string, limit int, out string, asJSON bool) error {
	fx, err := nn.NewFeatureExtractor(in.model, in.spec.Input, name)
	if err != nil {
		return err
	}
	if s := fx.Info()[0].Shape; len(s) != 3 {
		return usagef("--layer %s gives a vector of %d, not maps; name a convolutional layer or stage", name, s[0])
	}
	_, x, err := in.image(file)
	if err != nil {
		return err
	}
	maps, err := fx.Extract(x)
	if err != nil {
		return err
	}
	s := maps[0].Shape()
	h, w, c := s[1], s[2], s[3]
	tiles := inspect.MapTiles(h, w, c, maps[0].Data(), limit)
	grid := inspect.Tiles(tiles, 0, max(1, 64/max(h, w)))
	caption := fmt.Sprintf("%s: %s of %s, %d of %d channels %d×%d", file, name, in.spec.Name, len(tiles), c, h, w)
	if err := inspect.WritePNG(out, inspect.Sheet([]inspect.Panel{{Images: []image.Image{grid}, Caption: []string{caption}}})); err != nil {
		return err
	}
	if asJSON {
		return json.NewEncoder(stdout).Encode(map[string]any{"out": out, "layer": name, "shape": s[1:], "drawn": len(tiles)})
	}
	fmt.Fprintf(stdout, "%s\nwrote %s\n", caption, out)
	return nil
}

func cmdEmbed(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fovea embed", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: fovea embed --weights FILE [--layer NAME] [--out FILE.safetensors|FILE.csv] IMAGE...\n\n"+
			"Writes one feature vector per IMAGE: --layer's output (default: the last convolutional\n"+
			"stage), a map averaged over its positions to one value per channel. A .safetensors --out\n"+
			"holds \"embeddings\" [images, features] with the files, model and layer in its metadata;\n"+
			"a .csv one has a row per image: the file, then the values.\n\n")
		fs.PrintDefaults()
	}
	var f inspectFlags
	f.register(fs, true)
	layer := fs.String("layer", "", "layer whose output to write, a dotted name as fovea summary lists it")
	out := fs.String("out", "embeddings.safetensors", "file to write: .safetensors or .csv")
	batch := fs.Int("batch", 16, "images per forward pass")
	asJSON := fs.Bool("json", false, "print what was written as one JSON object")
	files, err := parseArgs(fs, args, stderr)
	if err != nil {
		return err
	}
	ext := strings.ToLower(filepath.Ext(*out))
	switch {
	case f.weights == "":
		return usagef("--weights is required")
	case len(files) == 0:
		return usagef("no IMAGE to embed")
	case ext != ".safetensors" && ext != ".csv":
		return usagef("--out %s: want a .safetensors or .csv file", *out)
	case *batch < 1:
		return usagef("--batch %d: want at least 1", *batch)
	}
	in, err := f.load()
	if err != nil {
		return err
	}
	if *layer == "" {
		if *layer, err = inspect.LastConvStage(in.model, in.spec.Input...); err != nil {
			return err
		}
	}
	fx, err := nn.NewFeatureExtractor(in.model, in.spec.Input, *layer)
	if err != nil {
		return err
	}
	dim := fx.Info()[0].Channels
	vecs := make([]float32, 0, len(files)*dim)
	h, w, c := in.spec.Input[0], in.spec.Input[1], in.spec.Input[2]
	for lo := 0; lo < len(files); lo += *batch {
		hi := min(lo+*batch, len(files))
		x := tensor.Zeros(hi-lo, h, w, c)
		for i, file := range files[lo:hi] {
			_, one, err := in.image(file)
			if err != nil {
				return err
			}
			copy(x.Data()[i*h*w*c:], one.Data())
		}
		e, err := fx.Embed(x)
		if err != nil {
			return err
		}
		vecs = append(vecs, e.Data()...)
	}
	if ext == ".csv" {
		err = writeEmbeddingsCSV(*out, files, vecs, dim)
	} else {
		t, _ := tensor.FromSlice(vecs, len(files), dim)
		list, _ := json.Marshal(files)
		meta := map[string]string{"model": in.spec.Name, "layer": *layer, "weights": f.weights, "files": string(list)}
		err = weights.Save(*out, map[string]*tensor.Tensor{"embeddings": t}, meta)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]any{"out": *out, "model": in.spec.Name, "layer": *layer, "images": len(files), "features": dim})
	}
	fmt.Fprintf(stdout, "wrote %s: %d images × %d features of %s's %s\n", *out, len(files), dim, in.spec.Name, *layer)
	return nil
}

func writeEmbeddingsCSV(path string, files []string, vecs []float32, dim int) error {
	return atomicfile.Write(path, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		row := make([]string, dim+1)
		row[0] = "file"
		for k := range dim {
			row[k+1] = strconv.Itoa(k)
		}
		if err := cw.Write(row); err != nil {
			return err
		}
		for i, file := range files {
			row[0] = file
			for k, v := range vecs[i*dim : (i+1)*dim] {
				row[k+1] = strconv.FormatFloat(float64(v), 'g', -1, 32)
			}
			if err := cw.Write(row); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	})
}
