package serve

import (
	"fmt"
	"image"
	"io"
	"strconv"

	"github.com/foveaml/fovea/data"
	"github.com/foveaml/fovea/models"
	"github.com/foveaml/fovea/nn"
)

// Model is what a Server runs: a model at inference with what it needs
// to answer in names. It is immutable once serving; a reload swaps in a
// whole new Model.
type Model struct {
	// Name is the model's name ("resnet18"); Source the file it came from.
	Name, Source string
	// Predictor runs the model (fused, safe for concurrent use).
	Predictor *nn.Predictor
	// Classes names the outputs by index; missing names print as the
	// index.
	Classes []string
	// Input is one example's shape, [H, W, C].
	Input [3]int
	// Params is the model's parameter count.
	Params int
	// Preprocessing is how a decoded image becomes one input example, as
	// the weights file describes it (resize, centre crop, normalisation);
	// GET /v1/model shows it. Nil: resized to Input as `fovea predict`
	// does (data.ImageInput).
	Preprocessing *models.Preprocessing
	// Preprocess, if set, replaces Preprocessing: a program's own way to
	// turn a decoded image into H×W×C floats in the model's layout.
	Preprocess func(img image.Image) ([]float32, error)
	// Meta is the weights file's metadata, shown by GET /v1/model.
	Meta map[string]string
	// Embedder, if set, answers POST /v1/embed: one vector per image at
	// its layer (see nn.FeatureExtractor.Embed).
	Embedder *nn.FeatureExtractor
}

// NewModel returns the Model for model as trained: its input from
// nn.AboutOf, its parameter count, classes named by names (may be nil).
func NewModel(name string, model nn.Layer, names []string) (*Model, error) {
	in := nn.AboutOf(model).Input
	if len(in) != 3 {
		return nil, fmt.Errorf("serve: model %s tells no input shape (nn.About.Input); it cannot be served from images", name)
	}
	trainable, frozen := nn.TrainableCount(model)
	return &Model{Name: name, Predictor: nn.NewPredictor(model), Classes: names,
		Input: [3]int{in[0], in[1], in[2]}, Params: trainable + frozen}, nil
}

// WithEmbedding makes m answer POST /v1/embed with the output of layer
// (a dotted name as fovea summary lists it), pooled to one vector per
// image.
func (m *Model) WithEmbedding(model nn.Layer, layer string) error {
	fx, err := nn.NewFeatureExtractor(model, m.Input[:], layer)
	if err != nil {
		return err
	}
	m.Embedder = fx
	return nil
}

// input decodes the image in r (size bytes; name names it in errors)
// within the data package's pixel and expansion bounds, and returns it
// as one example of m's input.
func (m *Model) input(name string, r io.ReadSeeker, size int64) ([]float32, error) {
	img, err := data.DecodeImage(name, r, size)
	if err != nil {
		return nil, err
	}
	switch {
	case m.Preprocess != nil:
		return m.Preprocess(img)
	case m.Preprocessing != nil:
		return m.Preprocessing.Image(img)
	}
	return data.ImageInput(img, m.Input[0], m.Input[1], m.Input[2]), nil
}

// className returns the name of class i.
func (m *Model) className(i int) string {
	if i < len(m.Classes) && m.Classes[i] != "" {
		return m.Classes[i]
	}
	return strconv.Itoa(i)
}
