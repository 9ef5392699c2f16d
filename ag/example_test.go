package ag_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/tensor"
)

// A linear classifier of 2-D points trained by plain gradient descent:
// build the loss on the tape, Backward, update the parameters, ZeroGrad,
// Reset.
func Example() {
	rng := rand.New(rand.NewPCG(1, 2))
	points, _ := tensor.FromSlice([]float32{2, 1, 1, 2, -2, -1, -1, -2}, 4, 2)
	labels := []int32{0, 0, 1, 1}
	w := ag.Param(tensor.RandNormal(rng, 0, 0.1, 2, 2)) // [in, out]
	b := ag.Param(tensor.Zeros(2))

	tp := ag.NewTape()
	for step := range 3 {
		logits := tp.Dense(ag.Const(points), w, b)
		loss := tp.SoftmaxCrossEntropy(logits, labels, 0)
		if err := tp.Backward(loss); err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("step %d: loss %.3f\n", step, loss.Item())
		for _, p := range []*ag.Var{w, b} {
			for i, g := range p.Grad().Data() {
				p.Value().Data()[i] -= 0.5 * g
			}
			p.ZeroGrad()
		}
		tp.Reset() // loss and logits are dead from here
	}

	// A shape mistake is an error naming both shapes.
	tp.Dense(ag.Const(tensor.Zeros(4, 3)), w, b)
	fmt.Println(tp.Err())
	// Output:
	// step 0: loss 0.579
	// step 1: loss 0.103
	// step 2: loss 0.068
	// ag.Dense: weight has shape [2 2]; want [3 out] for input [4 3]
}
