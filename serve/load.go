package serve

import (
	"fmt"

	"github.com/foveaml/fovea/inspect"
	"github.com/foveaml/fovea/models"
	"github.com/foveaml/fovea/nn"
	_ "github.com/foveaml/fovea/onnx" // models.Pretrained reads ONNX graphs
)

// Load reads a weights file any fovea command reads (a model file, a
// checkpoint, a state dict with its model named in the metadata or by
// model, an ONNX graph or a fovea file of one) and returns it as a Model to serve: its class names and its
// preprocessing (resize, crop, normalisation) from the file's
// description, as fovea predict replays them, answering embeddings at
// embedLayer ("": the last convolutional stage, when the model has one).
func Load(path, model, embedLayer string) (*Model, error) {
	m, spec, _, err := models.Pretrained(model, path)
	if err != nil {
		return nil, err
	}
	info, err := models.ReadFileInfo(path)
	if err != nil {
		info = models.FileInfo{} // a file Pretrained reads but that has no fovea header (.pth): the defaults
	}
	sm, err := NewModel(spec.Name, m, info.NamesFor(nn.Classes(m)))
	if err != nil {
		return nil, err
	}
	pre := models.PreprocessingOf(info, sm.Input[:])
	shown := info
	shown.Graph = nil // an imported graph's file carries it: the model, not its description
	sm.Source, sm.Meta, sm.Preprocessing = path, shown.Meta(), &pre
	if embedLayer == "" {
		if embedLayer, err = inspect.LastConvStage(m, sm.Input[:]...); err != nil {
			return sm, nil // no stage to embed at: /v1/embed says so
		}
	}
	if err := sm.WithEmbedding(m, embedLayer); err != nil {
		return nil, fmt.Errorf("--embed-layer: %w", err)
	}
	return sm, nil
}
