package onnx_test

import (
	"bytes"
	"fmt"

	"github.com/foveaml/fovea/models"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/onnx"
	"github.com/foveaml/fovea/tensor"
)

// Export a zoo model, read the file back and run it.
func Example() {
	model, err := models.NewLeNet5(models.LeNetConfig{Seed: 1})
	if err != nil {
		panic(err)
	}
	var file bytes.Buffer
	if err := onnx.Export(&file, model, onnx.ExportOptions{Metadata: map[string]string{"model": "lenet5"}}); err != nil {
		panic(err)
	}
	m, err := onnx.Read(file.Bytes())
	if err != nil {
		panic(err)
	}
	logits, err := nn.NewPredictor(m).Logits(tensor.Zeros(2, 28, 28, 1))
	if err != nil {
		panic(err)
	}
	fmt.Println(m.Metadata()["model"], m.Opset(), logits.Shape(), nn.Heads(m))
	// Output: lenet5 17 [2 10] [classifier.5]
}
