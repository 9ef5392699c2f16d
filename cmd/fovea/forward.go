package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/tensor"
	"github.com/foveaml/fovea/weights"
)

// cmdRun runs a model's raw forward pass on a tensor from a file.
func cmdRun(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fovea run", flag.ContinueOnError)
	w := fs.String("weights", "", "the model: a fovea model file or checkpoint, a torchvision state dict, or an .onnx file")
	model := fs.String("model", "", "the zoo model the weights are for (default: the one their metadata names)")
	in := fs.String("input", "", "safetensors file holding the tensor \"input\", a batch")
	out := fs.String("output", "", "safetensors file to write \"logits\" (or the --layer's output) to")
	layout := fs.String("layout", "nchw", "layout of rank-4 input and output tensors: nchw (PyTorch, ONNX) or nhwc (fovea)")
	layer := fs.String("layer", "", "write this layer's output instead of the logits (a name from fovea summary)")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	if *w == "" || *in == "" || *out == "" || fs.NArg() > 0 {
		return usagef("want --weights FILE --input IN.safetensors --output OUT.safetensors")
	}
	if *layout != "nchw" && *layout != "nhwc" {
		return usagef("--layout %q: want nchw or nhwc", *layout)
	}
	ts, _, err := weights.Load(*in)
	if err != nil {
		return err
	}
	x := ts["input"]
	if x == nil {
		names := make([]string, 0, len(ts))
		for k := range ts {
			names = append(names, k)
		}
		return fmt.Errorf("%s holds no tensor named \"input\" (it has %v)", *in, names)
	}
	if *layout == "nchw" && x.Rank() == 4 {
		x = permute4(x, [4]int{0, 2, 3, 1})
	}
	m, _, _, err := loadAnyModel(*w, *model)
	if err != nil {
		return err
	}
	var y *tensor.Tensor
	key := "logits"
	if *layer == "" {
		if y, err = nn.NewPredictor(m).Logits(x); err != nil {
			return err
		}
	} else {
		key = *layer
		if y, err = layerOutput(m, *layer, x); err != nil {
			return err
		}
	}
	if *layout == "nchw" && y.Rank() == 4 {
		y = permute4(y, [4]int{0, 3, 1, 2})
	}
	meta := map[string]string{"layout": *layout}
	if *layer != "" {
		meta["layer"] = *layer
	}
	if err := weights.Save(*out, map[string]*tensor.Tensor{key: y}, meta); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %q %v\n", *out, key, y.Shape())
	return nil
}

// layerOutput runs model at inference on x and returns the output of the
// layer called name.
func layerOutput(model nn.Layer, name string, x *tensor.Tensor) (*tensor.Tensor, error) {
	tp := ag.NewTape()
	tp.SetGradEnabled(false)
	defer tp.Reset()
	l, input, err := nn.Capture(tp, model, name, ag.Const(x))
	if err != nil {
		return nil, err
	}
	y := l.Forward(&nn.Ctx{Tape: tp}, input)
	if err := tp.Err(); err != nil {
		return nil, fmt.Errorf("layer %s: %w", name, err)
	}
	return y.Value().Clone(), nil
}

// permute4 reorders the axes of a rank-4 tensor: output axis i is input
// axis p[i].
func permute4(t *tensor.Tensor, p [4]int) *tensor.Tensor {
	s := t.Shape()
	os := []int{s[p[0]], s[p[1]], s[p[2]], s[p[3]]}
	out := tensor.Zeros(os...)
	src, dst := t.Data(), out.Data()
	st := [4]int{s[1] * s[2] * s[3], s[2] * s[3], s[3], 1}
	i := 0
	for a := 0; a < os[0]; a++ {
		for b := 0; b < os[1]; b++ {
			for c := 0; c < os[2]; c++ {
				for d := 0; d < os[3]; d++ {
					dst[i] = src[a*st[p[0]]+b*st[p[1]]+c*st[p[2]]+d*st[p[3]]]
					i++
				}
			}
		}
	}
	return out
}
