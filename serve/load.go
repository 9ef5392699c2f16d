package serve

import (
	"encoding/json"
	"fmt"

	"github.com/foveaml/fovea/inspect"

	"github.com/foveaml/fovea/models"
	"github.com/foveaml/fovea/weights"
)

// Load reads a weights file any fovea command reads (a model file, a
// checkpoint, a state dict with its model named in the metadata or by
// model) and returns it as a Model to serve, with the class names its
// metadata holds, answering embeddings at embedLayer ("": the last
// convolutional stage, when the model has one).
func Load(path, model, embedLayer string) (*Model, error) {
	m, spec, _, err := models.Pretrained(model, path)
	if err != nil {
		return nil, err
	}
	_, meta, err := weights.Load(path)
	if err != nil {
		return nil, err
	}
	sm, err := NewModel(spec.Name, m, classNames(meta))
	if err != nil {
		return nil, err
	}
	sm.Source, sm.Meta = path, meta
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

// classNames returns the class names a weights file's metadata holds
// (a JSON list under "class_names"), or nil.
func classNames(meta map[string]string) []string {
	var names []string
	if s := meta["class_names"]; s != "" {
		if err := json.Unmarshal([]byte(s), &names); err != nil {
			return nil
		}
	}
	return names
}
