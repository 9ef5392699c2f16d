package nn_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/foveaml/fovea/nn"
)

// A small classifier, built from layers and summarised as Keras does.
func Example() {
	rng := rand.New(rand.NewPCG(1, 1))
	conv, _ := nn.NewConv2D(nn.Conv2DConfig{In: 1, Out: 8, Kernel: 3, Same: true}, rng)
	dense, _ := nn.NewDense(nn.DenseConfig{In: 8, Out: 10}, rng)
	model := nn.NewSequential(conv, nn.ReLU, nn.MaxPool2D{KH: 2, KW: 2}, nn.GlobalAvgPool{}, dense)
	info, _ := nn.Summarize(model, 28, 28, 1)
	for _, l := range info.Layers {
		fmt.Println(l.Name, l.Kind, l.Output[1:], l.Params)
	}
	fmt.Println("total", info.Total)
	// Output:
	// 0 Conv2D [28 28 8] 80
	// 1 ReLU [28 28 8] 0
	// 2 MaxPool2D [14 14 8] 0
	// 3 GlobalAvgPool [8] 0
	// 4 Dense [10] 90
	// total 170
}
