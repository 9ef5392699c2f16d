// Package optim holds fovea's optimisers (SGD with momentum, Nesterov
// momentum and weight decay; Adam; AdamW; RMSprop) and learning-rate
// schedules (step, multi-step, exponential, cosine annealing, linear,
// warm-up, and reduce-on-plateau). Each follows torch.optim to the
// letter, and the tests compare trajectories with PyTorch's.
//
//	opt, err := optim.NewSGD(model.Params(), optim.SGDConfig{LR: 0.1, Momentum: 0.9, WeightDecay: 5e-4})
//	sched := optim.Warmup{Steps: 5, StartFactor: 0.1, Then: optim.CosineAnnealingLR{TMax: 85}}
//	for epoch := range 90 {
//		opt.SetLR(sched.LR(opt.BaseLR(), epoch))
//		for _, batch := range batches {
//			... build the loss, tape.Backward(loss) ...
//			opt.Step()
//			opt.ZeroGrad()
//			tape.Reset()
//		}
//	}
//
// Example (below) trains a small classifier this way.
//
// # Frozen parameters and groups
//
// A parameter whose Var does not require a gradient (frozen with
// SetRequiresGrad(false)), or that has no gradient yet, is skipped by
// Step: no update, no weight decay, and no optimiser state, which is
// allocated on a parameter's first update. Unfreezing it later starts
// its state then, with its own step count, as PyTorch does for a
// parameter whose grad was None.
//
// A Group gives some parameters a learning rate scaled from the
// optimiser's (LRScale, so it follows the schedule) and their own weight
// decay, or none: fine-tune a backbone at a tenth of the head's rate
// with
//
//	optim.NewAdamW(head, cfg, optim.Group{Params: backbone, LRScale: 0.1})
//
// # Configuration
//
// A config's zero value means PyTorch's default where zero would be out
// of range or degenerate (Adam's betas and eps, RMSprop's alpha and
// eps, the plateau's factor); elsewhere zero means zero, and schedules
// have no defaults. Constructors return errors for values out of range,
// and Schedule.Validate does for a schedule.
//
// # State
//
// State and LoadState carry an optimiser across a checkpoint: tensors
// keyed "<parameter name>.<slot>" with PyTorch's slot names
// ("layer1.0.conv1.weight.momentum_buffer", "fc.bias.exp_avg") and a
// small string map of scalars (the type, the current learning rate,
// the step counts). Package weights stores both in one safetensors
// file. Schedules are pure functions of the epoch and need no state; a
// Plateau has its own State and LoadState.
package optim
