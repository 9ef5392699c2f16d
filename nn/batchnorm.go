package nn

import (
	"fmt"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/tensor"
)

// BatchNorm normalises each of C channels of an NHWC batch (or [N, C]
// features) with the batch's statistics while training and the running
// ones otherwise, then scales by "weight" (γ, starts at 1) and shifts by
// "bias" (β, starts at 0). Its buffers are "running_mean" and
// "running_var", updated with momentum 0.1; eps is 1e-5 (PyTorch's
// defaults, and its names).
//
// A frozen batch norm (weight not trainable) runs in inference mode even
// while the model trains, so fine-tuning does not drift the statistics the
// network was trained with; set KeepTraining to update them anyway.
type BatchNorm struct {
	Weight, Bias *ag.Var
	Stats        *ag.BatchNormStats
	KeepTraining bool
}

// NewBatchNorm returns a batch normalisation over c channels.
func NewBatchNorm(c int) (*BatchNorm, error) {
	if c < 1 {
		return nil, fmt.Errorf("nn.BatchNorm: %d channels: want at least 1", c)
	}
	return &BatchNorm{Weight: ag.Param(tensor.Full(1, c)), Bias: ag.Param(tensor.Zeros(c)), Stats: ag.NewBatchNormStats(c)}, nil
}

// Forward implements Layer.
func (b *BatchNorm) Forward(c *Ctx, x *ag.Var) *ag.Var {
	return c.Tape.BatchNorm(x, b.Weight, b.Bias, b.Stats, b.training(c))
}

// training reports whether the batch norm uses and updates batch
// statistics in the pass c: while the model trains, unless it is frozen
// (and not told to KeepTraining).
func (b *BatchNorm) training(c *Ctx) bool {
	return c.Train && (b.Weight.RequiresGrad() || b.KeepTraining)
}

// Params implements Layer.
func (b *BatchNorm) Params() []Param { return []Param{{"weight", b.Weight}, {"bias", b.Bias}} }

// Buffers implements Buffered.
func (b *BatchNorm) Buffers() []Param {
	return []Param{{"running_mean", ag.Const(b.Stats.Mean)}, {"running_var", ag.Const(b.Stats.Var)}}
}
