package optim_test

import (
	"fmt"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/optim"
	"github.com/foveaml/fovea/tensor"
)

// A linear classifier of 2-D points trained with SGD, Nesterov momentum
// and a warm-up into cosine annealing; the output layer's bias is in a
// group without weight decay.
func Example() {
	points, _ := tensor.FromSlice([]float32{2, 1, 1, 2, -2, -1, -1, -2}, 4, 2)
	labels := []int32{0, 0, 1, 1}
	w := nn.Param{Name: "fc.weight", Var: ag.Param(tensor.Full(0.1, 2, 2))}
	b := nn.Param{Name: "fc.bias", Var: ag.Param(tensor.Zeros(2))}

	opt, err := optim.NewSGD([]nn.Param{w},
		optim.SGDConfig{LR: 0.5, Momentum: 0.9, Nesterov: true, WeightDecay: 1e-4},
		optim.Group{Params: []nn.Param{b}, NoDecay: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	sched := optim.Warmup{Steps: 2, StartFactor: 0.1, Then: optim.CosineAnnealingLR{TMax: 4}}

	tp := ag.NewTape()
	for epoch := range 6 {
		opt.SetLR(sched.LR(opt.BaseLR(), epoch))
		logits := tp.Dense(ag.Const(points), w.Var, b.Var)
		loss := tp.SoftmaxCrossEntropy(logits, labels, 0)
		if err := tp.Backward(loss); err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("epoch %d: lr %.3f loss %.3g\n", epoch, opt.LR(), loss.Item())
		opt.Step()
		opt.ZeroGrad()
		tp.Reset()
	}
	state, meta := opt.State()
	fmt.Println(len(state), "state tensors, steps", meta["steps"])

	// A group's LRScale cannot be negative.
	_, err = optim.NewSGD(nil, optim.SGDConfig{LR: 0.1}, optim.Group{Params: []nn.Param{b}, LRScale: -1})
	fmt.Println(err)
	// Output:
	// epoch 0: lr 0.050 loss 0.693
	// epoch 1: lr 0.275 loss 0.502
	// epoch 2: lr 0.500 loss 0.0367
	// epoch 3: lr 0.427 loss 0.00126
	// epoch 4: lr 0.250 loss 0.000105
	// epoch 5: lr 0.073 loss 2.85e-05
	// 2 state tensors, steps 6
	// optim.SGD: group 1 has LRScale -1; want a finite value > 0 (0 means 1)
}
