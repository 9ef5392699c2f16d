package main

import (
	"fmt"
	"io"

	"github.com/foveaml/fovea/models"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/weights"
)

// cmdConvert writes weights from elsewhere as a fovea model file.
func cmdConvert(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("fovea convert", "usage: fovea convert IN OUT.safetensors [--model NAME]\n\n"+
		"Writes the weights in IN — a PyTorch .pth/.pt/.bin state dict (torch.save), a torchvision or\n"+
		"timm state dict in safetensors, an .onnx graph, or any fovea file — as a fovea model file\n"+
		"for the zoo model --model (default: the one IN's metadata names; for an .onnx, the graph\n"+
		"itself, kept in the file's metadata): fovea's layouts, the model, classes and class names in\n"+
		"its metadata, so that every command that takes --weights reads it.\n\n")
	model := fs.String("model", "", "the zoo model the weights are for (default: the one their metadata names)")
	pos, err := parseArgs(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usagef("want IN and OUT, e.g. fovea convert resnet18.pth resnet18.safetensors --model resnet18")
	}
	in, out := pos[0], pos[1]
	// An ONNX graph converts into the zoo model --model, or, without
	// it, into a fovea file of the graph itself.
	m, spec, _, err := models.Pretrained(*model, in)
	if err != nil {
		return err
	}
	info, err := models.ReadFileInfo(in)
	if err != nil {
		info = models.FileInfo{}
	}
	if info, err = info.Of(m, spec); err != nil {
		return err
	}
	if err := weights.Save(out, weights.StateDict(nn.State(m)), info.Meta()); err != nil {
		return err
	}
	trainable, frozen := nn.TrainableCount(m)
	fmt.Fprintf(stdout, "wrote %s: %s, %d classes, %s parameters\n", out, spec.Name, info.Classes, commas(trainable+frozen))
	return nil
}
