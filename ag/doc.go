// Package ag is fovea's reverse-mode automatic differentiation: a Tape
// records coarse, fused operations (convolution, batch norm, pooling,
// dense, softmax cross-entropy, ...) as they run, each with one backward
// closure, and Backward replays them in reverse to fill in gradients.
//
//	w := ag.Param(tensor.RandNormal(rng, 0, 0.1, 784, 10)) // [in, out]
//	b := ag.Param(tensor.Zeros(10))
//	tp := ag.NewTape()
//	for _, batch := range batches {
//		logits := tp.Dense(ag.Const(batch.Images), w, b) // [N, 784] in
//		loss := tp.SoftmaxCrossEntropy(logits, batch.Labels, 0)
//		if err := tp.Backward(loss); err != nil {
//			return err // a shape mistake anywhere above, with both shapes named
//		}
//		fmt.Println(loss.Item())
//		sgd(w, b)  // update with w.Grad(), b.Grad(), then ZeroGrad
//		tp.Reset() // recycle the step's buffers; logits and loss are dead now
//	}
//
// Example (below) runs the same loop on four points.
//
// # Vars
//
// A Var holds a tensor value and, when it requires one, a gradient.
// Leaves are made with Param (trainable: requires a gradient) and Const
// (inputs, labels, frozen weights); every other Var is the output of an
// op on a Tape. A Var requires a gradient when any of its op's inputs does
// and the tape records gradients. A leaf's gradient is its own buffer,
// kept across steps: Backward adds into it, ZeroGrad (or an optimiser)
// clears it. SetRequiresGrad(false) freezes a leaf: the ops that use it
// skip the work of its gradient (a frozen filter costs no backward-filter
// convolution; an input image costs no backward-data one). Gradients of
// intermediate Vars are not kept: Backward hands them back as soon as
// they have been propagated.
//
// # Memory
//
// Values, gradients and saved state (max-pooling indices, batch
// statistics, dropout masks) of op outputs come from a pool of buffers
// keyed by size, the one the kernels' workspaces come from. Reset
// returns every buffer of the step to the pool, so a steady-state
// training step allocates none anew.
// Every step, training or inference, ends with Reset; from then on the
// step's Vars are dead: Value panics, and a tensor or slice taken from
// one before Reset may already hold another step's numbers. Copy out
// what must outlive the step (Item, Clone). Leaves are never pooled.
// ReLUInPlace and AddInPlace write over an input that nothing else reads
// (PyTorch's inplace=True), sparing its buffer; nn's convolution units
// use them in training. With SetReleaseInBackward, Backward hands each
// op's buffers back as soon as nothing will read them, and gradients move
// from an op's output to its input where the math allows (ReLU's, Add's)
// instead of being copied; train.Stepper's tapes work so.
//
// # Errors
//
// Shape mistakes are errors, not panics, and they are sticky, as in
// bufio.Writer: an op that cannot run records an error naming the op and
// the shapes involved, and returns nil; every later op on the tape
// returns nil at once, and Err and Backward report the first error. So a
// model is written as plain expressions and checked once per step.
// Reset clears the error.
//
// # Modes
//
// SetGradEnabled(false) is PyTorch's no_grad: ops record nothing to
// backpropagate, for inference. Training-time behaviour of BatchNorm
// (batch statistics) and Dropout is chosen per call by their train
// argument, so a frozen batch norm can sit in a model that trains.
//
// A Tape is not safe for concurrent use; use one per goroutine, and do
// not backpropagate into one parameter from two goroutines at once.
package ag
