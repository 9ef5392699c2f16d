package main

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/foveaml/fovea/models"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/onnx"
)

// cmdExport writes a model as an ONNX file.
func cmdExport(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fovea export", flag.ContinueOnError)
	w := fs.String("weights", "", "weights to export: a fovea model file or checkpoint (of a zoo model or a fine-tuned ONNX graph), a torchvision state dict, or an .onnx file")
	out := fs.String("out", "", "the ONNX file to write (opset 17, NCHW input, dynamic batch)")
	model := fs.String("model", "", "the zoo model the weights are for (default: the one their metadata names)")
	shape := fs.String("shape", "", "the shape of one example, H,W,C for images (default: the model's)")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	if *w == "" || *out == "" || fs.NArg() > 0 {
		return usagef("want --weights FILE --out MODEL.onnx")
	}
	var in []int
	if *shape != "" {
		for _, f := range strings.Split(*shape, ",") {
			d, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || d < 1 {
				return usagef("--shape %q: want positive sizes separated by commas, such as 224,224,3", *shape)
			}
			in = append(in, d)
		}
	}
	m, modelIn, meta, err := loadAnyModel(*w, *model)
	if err != nil {
		return err
	}
	if in == nil {
		in = modelIn
	}
	if in == nil {
		return usagef("%s does not fix the shape of its input; give it with --shape (H,W,C for images)", *w)
	}
	if err := onnx.ExportFile(*out, m, onnx.ExportOptions{Input: in, Metadata: meta}); err != nil {
		return fmt.Errorf("%s: %w", *out, err)
	}
	name := meta["model"]
	if name == "" {
		name = "model"
	}
	shown := fmt.Sprint(in)
	if len(in) == 3 {
		shown = fmt.Sprintf("[N %d %d %d] NCHW", in[2], in[0], in[1])
	}
	fmt.Fprintf(stdout, "wrote %s (%s, input %s, opset %d)\n", *out, name, shown, onnx.ExportOpset)
	return nil
}

// loadAnyModel reads any weights fovea reads (models.Pretrained): an
// ONNX file, a fovea model file or checkpoint (of a zoo model or of an
// imported graph), or a state dict for a zoo model (named by the file's
// metadata or by name). It returns the model, the shape of one input
// [H W C] when known, and the file's description as metadata, without
// what is about training (a checkpoint's epoch, optimiser state) or the
// graph a fovea file of an imported one carries.
func loadAnyModel(path, name string) (nn.Layer, []int, map[string]string, error) {
	if name == "" {
		if info, err := models.ReadFileInfo(path); err == nil && info.Model == "" {
			return nil, nil, nil, usagef("%s names no model in its metadata; say which with --model (fovea models lists them)", path)
		}
	}
	m, spec, _, err := models.Pretrained(name, path)
	if err != nil {
		return nil, nil, nil, err
	}
	info, err := models.ReadFileInfo(path)
	if err != nil {
		info = models.FileInfo{} // a PyTorch file describes nothing
	}
	if info, err = info.Of(m, spec); err != nil {
		return nil, nil, nil, err
	}
	info.Graph = nil
	return m, modelInput(m, spec), info.Meta(), nil
}
