package ag

import (
	"github.com/foveaml/fovea/internal/kern"
	"github.com/foveaml/fovea/tensor"
)

// BatchNormStats is the state of a batch normalisation besides its
// learnt scale and shift: the running mean and variance ([C] each) that
// inference uses and training updates, and the constants of the update.
type BatchNormStats struct {
	Mean, Var *tensor.Tensor
	// Momentum weighs the new batch in the running statistics:
	// run = (1−Momentum)·run + Momentum·batch (PyTorch's momentum, 0.1).
	Momentum float32
	Eps      float32 // added to the variance, 1e-5 in PyTorch
}

// NewBatchNormStats returns the statistics PyTorch starts c channels
// with: mean 0, variance 1, momentum 0.1, epsilon 1e-5.
func NewBatchNormStats(c int) *BatchNormStats {
	return &BatchNormStats{Mean: tensor.Zeros(c), Var: tensor.Full(1, c), Momentum: 0.1, Eps: 1e-5}
}

// BatchNorm normalises x per channel and applies the scale gamma and the
// shift beta ([C] each; Const(ones) and Const(zeros) for none):
//
//	y = (x − μ) / sqrt(σ² + Eps) · gamma + beta
//
// x is an NHWC batch [N, H, W, C], or features [N, C]. With train set, μ
// and σ² are the batch's mean and biased variance over N·H·W (at least two
// values per channel are needed), the gradient flows through them, and
// s's running statistics move towards the batch (with the unbiased
// variance, as PyTorch); otherwise μ and σ² are s's running statistics,
// held fixed.
func (t *Tape) BatchNorm(x, gamma, beta *Var, s *BatchNormStats, train bool) *Var {
	const op = "BatchNorm"
	if !t.ok(op, x, gamma, beta) {
		return nil
	}
	if r := x.val.Rank(); r != 2 && r != 4 {
		return t.fail(op, "input has shape %v; want [N H W C] or [N C]", x.val.Shape())
	}
	d := dims(x.val)
	sh := x.val.Shape()
	if !t.isVector(op, "gamma", gamma, d.C, "input", sh) || !t.isVector(op, "beta", beta, d.C, "input", sh) {
		return nil
	}
	if !t.statsFit(op, s, d.C, "input", sh) {
		return nil
	}
	if train && d.N*d.H*d.W < 2 {
		return t.fail(op, "training needs more than one value per channel; input has shape %v", sh)
	}
	bn := kern.BatchNorm{Gamma: gamma.val.Data(), Beta: beta.val.Data(),
		RunMean: s.Mean.Data(), RunVar: s.Var.Data(), Momentum: s.Momentum, Eps: s.Eps}
	y := t.newOutput(sh, x, gamma, beta)
	y.spare = true // backward reads x, not y
	xd, yd := x.val.Data(), y.val.Data()
	var mean, invStd []float32
	if train {
		mean, invStd = t.alloc(d.C), t.alloc(d.C)
		bn.ForwardTrain(yd, xd, d, mean, invStd)
	} else {
		bn.ForwardInfer(yd, xd, d)
	}
	if t.tracer != nil {
		t.trace(op, BatchNormAttrs{Stats: s, Train: train}, y, x, gamma, beta)
	}
	return t.record(y, func(dy []float32) {
		// dx may be dy: the kernels take their sums over dy before
		// they write dx, element by element.
		take := t.canTake(x, y)
		dx := dy
		if !take {
			dx = t.sink(x)
		}
		dg, db := t.sink(gamma), t.sink(beta)
		if train {
			bn.BackwardTrain(dx, dg, db, dy, xd, d, mean, invStd)
		} else {
			bn.BackwardInfer(dx, dg, db, dy, xd, d)
		}
		if take {
			t.take(x, y)
		} else {
			t.flush(x, dx)
		}
		t.flush(gamma, dg)
		t.flush(beta, db)
	})
}

// statsFit reports whether s holds running statistics of c channels, for
// op's of (what) of shape ofShape; otherwise it records the error.
func (t *Tape) statsFit(op string, s *BatchNormStats, c int, of string, ofShape []int) bool {
	if s == nil || s.Mean == nil || s.Var == nil {
		t.fail(op, "no running statistics")
		return false
	}
	for _, st := range []*tensor.Tensor{s.Mean, s.Var} {
		if st.Rank() != 1 || st.Dim(0) != c {
			t.fail(op, "running statistic has shape %v; want [%d] for %s %v", st.Shape(), c, of, ofShape)
			return false
		}
	}
	return true
}
