package main

import (
	"fmt"
	"io"

	"github.com/foveaml/fovea/models"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/onnx"
	"github.com/foveaml/fovea/weights"
)

// cmdConvert writes weights from elsewhere as a fovea model file.
func cmdConvert(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("fovea convert", "usage: fovea convert IN OUT.safetensors [--model NAME]\n\n"+
		"Writes the weights in IN — a PyTorch .pth/.pt/.bin state dict (torch.save), a torchvision or\n"+
		"timm state dict in safetensors, an .onnx graph of a zoo architecture, or any fovea file —\n"+
		"as a fovea model file for the zoo model --model (default: the one IN's metadata names):\n"+
		"fovea's layouts, the model, classes and class names in its metadata, so that every\n"+
		"command that takes --weights reads it.\n\n")
	model := fs.String("model", "", "the zoo model the weights are for (default: the one their metadata names)")
	pos, err := parseArgs(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usagef("want IN and OUT, e.g. fovea convert resnet18.pth resnet18.safetensors --model resnet18")
	}
	in, out := pos[0], pos[1]
	var m nn.Layer
	var spec models.Spec
	if isONNX(in) {
		if *model == "" {
			return usagef("%s: an ONNX graph converts into a zoo model; name it with --model (fovea models lists them)", in)
		}
		g, err := onnx.Load(in)
		if err != nil {
			return err
		}
		if spec, err = models.Lookup(*model); err != nil {
			return usageError{err.Error()}
		}
		if m, err = spec.New(models.Options{Classes: nn.Classes(g)}); err != nil {
			return err
		}
		if _, err := models.LoadPretrainedTensors(m, weights.StateDict(nn.State(g)), nil, models.WithLayout(models.LayoutFovea)); err != nil {
			return err
		}
	} else if m, spec, _, err = models.Pretrained(*model, in); err != nil {
		return err
	}
	info, err := models.ReadFileInfo(in)
	if err != nil {
		info = models.FileInfo{}
	}
	info.Model, info.Classes = spec.Name, nn.Classes(m)
	info.ClassNames = info.NamesFor(info.Classes)
	if err := weights.Save(out, weights.StateDict(nn.State(m)), info.Meta()); err != nil {
		return err
	}
	trainable, frozen := nn.TrainableCount(m)
	fmt.Fprintf(stdout, "wrote %s: %s, %d classes, %s parameters\n", out, spec.Name, info.Classes, commas(trainable+frozen))
	return nil
}
