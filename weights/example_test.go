package weights_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/tensor"
	"github.com/foveaml/fovea/weights"
)

// Save a model's weights, load them into a model whose head has another
// shape, and refuse a damaged file.
func Example() {
	dir, err := os.MkdirTemp("", "weights-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "model.safetensors")

	w, _ := tensor.FromSlice([]float32{1, 2, 3, 4, 5, 6}, 3, 2)
	trained := []nn.Param{
		{Name: "fc.weight", Var: ag.Param(w)},
		{Name: "fc.bias", Var: ag.Param(tensor.Full(0.5, 2))},
	}
	if err := weights.Save(path, weights.StateDict(trained), map[string]string{"arch": "linear"}); err != nil {
		log.Fatal(err)
	}

	tensors, meta, err := weights.Load(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(meta["arch"], tensors["fc.weight"].Shape(), tensors["fc.bias"])

	// A new model with three classes: the weight fits, the bias does not.
	fresh := []nn.Param{
		{Name: "fc.weight", Var: ag.Param(tensor.Zeros(3, 2))},
		{Name: "fc.bias", Var: ag.Param(tensor.Zeros(3))},
	}
	report, err := weights.LoadStateDict(fresh, tensors, false)
	fmt.Println(report, err)
	fmt.Println(fresh[0].Var.Value().At(2, 1))

	// A truncated file is an error naming the file.
	b, _ := os.ReadFile(path)
	os.WriteFile(path, b[:len(b)-4], 0o644)
	_, _, err = weights.Load(path)
	fmt.Println(strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), ""))
	// Output:
	// linear [3 2] [0.5 0.5]
	// 1 of another shape (fc.bias: model [3], file [2]) <nil>
	// 6
	// weights: model.safetensors: tensor "fc.weight" has data_offsets [8 32], past the end of the data section (28 bytes): the file is truncated
}
