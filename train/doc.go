// Package train fits models the way Keras does: Fit runs epochs of
// softmax cross-entropy training and returns the History, which plots
// itself as a PNG. It is one loop, which runs a Stepper's steps and calls
// hooks around them (Hook: the progress bar, validation, schedules,
// checkpoints, early stopping, learning-rate reduction, CSV logs,
// unfreezing); FitHead runs the same loop on a head's cached features,
// and a program with a loop of its own runs the same Stepper. Evaluate
// reports loss, top-1/top-5 accuracy, per-class accuracy and the
// confusion matrix; Predict returns class probabilities.
//
//	model, _ := models.NewLeNet5(models.LeNetConfig{Seed: 1})
//	opt, _ := optim.NewAdam(model.Params(), optim.AdamConfig{LR: 1e-3})
//	hist, err := train.Fit(ctx, model, trainSet, train.Config{
//		Epochs: 12, BatchSize: 64, Optimizer: opt,
//		Schedule:        optim.CosineAnnealingLR{TMax: 12},
//		ValidationSplit: 0.1, Progress: os.Stdout,
//		Hooks: []train.Hook{&train.ModelCheckpoint{Path: "ck.safetensors"}},
//	})
//	metrics, err := train.Evaluate(model, testSet, train.EvalConfig{})
//
// A run resumed from its checkpoint (Config.Resume) continues exactly as
// the uninterrupted run would have, bit for bit on one thread.
package train
