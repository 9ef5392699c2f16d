package models

import (
	"image"
	"math"

	"github.com/foveaml/fovea/augment"
	"github.com/foveaml/fovea/data"
)

// Preprocessing is how an image becomes one example of a model's input
// at inference, as fovea eval and predict prepare it: decoded to [0, 1],
// converted to the model's channels, its shorter side resized to Resize
// and its centre square kept (or, with Resize 0, resized to cover the
// input), its centre cut to the input, then normalised by Mean and Std.
type Preprocessing struct {
	Input     []int // [H, W, C]
	Resize    int
	Mean, Std []float32 // per channel; nil: none
}

// bigInput is the side from which a model is ImageNet-size.
const bigInput = 64

// ImageNetMean and ImageNetStd are torchvision's normalisation
// (augment.ImageNetNormalize), per channel.
var (
	ImageNetMean = float32s(augment.ImageNetNormalize.Mean)
	ImageNetStd  = float32s(augment.ImageNetNormalize.Std)
)

func float32s(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// ImageNetSize reports whether a model of input [H, W, C] is
// ImageNet-size, 64 pixels a side or more: its images are kept with the
// shorter side at side/0.875 (torchvision's 256 for 224) and
// centre-cropped, it trains on random resized crops, and its default
// normalisation is ImageNet's. Smaller models take their images resized
// to their input.
func ImageNetSize(input []int) bool {
	return len(input) == 3 && min(input[0], input[1]) >= bigInput
}

// DefaultNormalization names the normalisation a model of input
// [H, W, C] gets when neither a flag nor its weights file says:
// "imagenet" for ImageNet-size colour models, "data" (fitted on the
// training data) for smaller colour ones, "none" for grey ones (digits).
func DefaultNormalization(input []int) string {
	switch {
	case len(input) != 3 || input[2] != 3:
		return "none"
	case ImageNetSize(input):
		return "imagenet"
	}
	return "data"
}

// PreprocessingOf returns the preprocessing a weights file describes
// for a model of the given input ([H, W, C]): the file's own when it was
// written for that input; otherwise the field's defaults — torchvision's
// resize to side/0.875 for ImageNet-size models (ImageNetSize), a plain
// resize for smaller ones, and DefaultNormalization when it needs no
// statistics of the data.
func PreprocessingOf(info FileInfo, input []int) Preprocessing {
	p := Preprocessing{Input: input}
	if len(input) != 3 {
		return p
	}
	if len(info.Input) == 3 && info.Input[0] == input[0] && info.Input[1] == input[1] && info.Input[2] == input[2] && info.Normalize != "" {
		p.Resize = info.Resize
		if len(info.Mean) == input[2] && len(info.Std) == input[2] {
			p.Mean, p.Std = info.Mean, info.Std
		}
		return p
	}
	if ImageNetSize(input) {
		p.Resize = int(math.Round(float64(min(input[0], input[1])) / 0.875))
	}
	if DefaultNormalization(input) == "imagenet" {
		p.Mean, p.Std = ImageNetMean, ImageNetStd
	}
	return p
}

// Image returns img prepared as one example, H·W·C values.
func (p Preprocessing) Image(img image.Image) ([]float32, error) {
	h, w, c := p.Input[0], p.Input[1], p.Input[2]
	sh, sw := h, w // the size the image is kept at before the crop
	if p.Resize > max(h, w) {
		sh, sw = p.Resize, p.Resize
	}
	stored := make([]float32, sh*sw*c)
	data.FitImage(stored, img, sh, sw, c, p.Resize)
	out := stored
	if sh != h || sw != w {
		out = make([]float32, h*w*c)
		crop := augment.CenterCrop{Height: h, Width: w}
		if err := augment.Apply(crop, out, stored, sh, sw, c, crop.Inference(sh, sw, c)); err != nil {
			return nil, err
		}
	}
	if p.Mean != nil {
		n := augment.Normalize{}
		for i := range p.Mean {
			n.Mean, n.Std = append(n.Mean, float64(p.Mean[i])), append(n.Std, float64(p.Std[i]))
		}
		if err := augment.Apply(n, out, out, h, w, c, augment.NoParams{}); err != nil {
			return nil, err
		}
	}
	return out, nil
}
