package models

import (
	"fmt"
	"image"

	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/tensor"
)

// Classifier is a weights file made ready to classify images from Go in
// one call: its model behind an nn.Predictor (fused, recycled buffers,
// safe for concurrent use), the preprocessing its file describes and the
// names of its classes.
//
//	c, err := models.LoadClassifier("", "runs/resnet18/model.safetensors")
//	if err != nil { ... }
//	probs, err := c.Probabilities(img1, img2) // [2, classes]
type Classifier struct {
	// Predictor runs the model on batches already prepared.
	Predictor *nn.Predictor
	// Spec is the model's registry entry.
	Spec Spec
	// Info is what the file says of itself.
	Info FileInfo
	// Preprocessing turns an image into one example, as the file says
	// (PreprocessingOf).
	Preprocessing Preprocessing
	// Classes names the outputs by index (FileInfo.NamesFor); nil when
	// the file names none.
	Classes []string
}

// LoadClassifier reads the weights file at path into its model as
// Pretrained(name, path) does (name "": the model the file names) and
// returns it as a Classifier.
func LoadClassifier(name, path string) (*Classifier, error) {
	model, spec, _, err := Pretrained(name, path)
	if err != nil {
		return nil, err
	}
	info, err := ReadFileInfo(path)
	if err != nil {
		return nil, err
	}
	input := nn.AboutOf(model).Input
	if len(input) != 3 {
		input = spec.Input
	}
	if len(input) != 3 {
		return nil, fmt.Errorf("models.LoadClassifier: %s: the model tells no [H, W, C] input shape, so images cannot be prepared for it", path)
	}
	return &Classifier{Predictor: nn.NewPredictor(model), Spec: spec, Info: info,
		Preprocessing: PreprocessingOf(info, input), Classes: info.NamesFor(nn.Classes(model))}, nil
}

// Probabilities returns, for each image, the softmax of the model's
// logits, [len(imgs), classes]: the images prepared as the file says and
// run as one batch.
func (c *Classifier) Probabilities(imgs ...image.Image) (*tensor.Tensor, error) {
	x, err := c.Batch(imgs...)
	if err != nil {
		return nil, err
	}
	return c.Predictor.Probabilities(x)
}

// Batch returns the images prepared as one batch [N, H, W, C].
func (c *Classifier) Batch(imgs ...image.Image) (*tensor.Tensor, error) {
	if len(imgs) == 0 {
		return nil, fmt.Errorf("models.Classifier: no images: want at least one")
	}
	in := c.Preprocessing.Input
	per := in[0] * in[1] * in[2]
	x := tensor.Zeros(len(imgs), in[0], in[1], in[2])
	for i, img := range imgs {
		if img == nil {
			return nil, fmt.Errorf("models.Classifier: image %d is nil: want a decoded image", i)
		}
		v, err := c.Preprocessing.Image(img)
		if err != nil {
			return nil, fmt.Errorf("models.Classifier: image %d: %w", i, err)
		}
		copy(x.Data()[i*per:(i+1)*per], v)
	}
	return x, nil
}
