package ag

import (
	"slices"

	"github.com/foveaml/fovea/internal/kern"
)

// Fused lists what Conv2DFused applies to a convolution's output, in
// this order: the bias, batch normalisation with fixed statistics, a
// residual and ReLU. Every part is optional.
type Fused struct {
	// Bias is the convolution's bias [Cout], or nil.
	Bias *Var
	// Gamma and Beta ([Cout] each) scale and shift the output normalised
	// with Stats' running mean and variance, as BatchNorm does when not
	// training; all three nil for no batch normalisation.
	Gamma, Beta *Var
	Stats       *BatchNormStats
	// Res, of the output's shape, is added after the normalisation (a
	// residual block's shortcut), or nil.
	Res *Var
	// ReLU applies max(·, 0) last.
	ReLU bool
	// Filters, when not nil, keeps w's filter in the packed forms the
	// kernels read from call to call (see Filters), and the batch norm
	// folded with the bias: it must have been made for w and these, and
	// none of them may have changed since.
	Filters *Filters
}

// Filters keeps one convolution's filter packed for the kernels (the
// direct kernel's panels, Winograd's transformed filter), each form made
// the first time it is needed and reused after, so that inference over
// the same weights pays no packing per call. It holds the weights as
// they were when each form was made: drop it when they change. The zero
// value is ready to use; it is safe for concurrent use. nn's PackCache
// keeps one per convolution of a model.
type Filters = kern.Filters

// Conv2DFused computes, in one pass over the output,
//
//	ReLU(BatchNorm(Conv2D(x, w, f.Bias, o)) + f.Res)
//
// with the batch norm in inference mode (running statistics): the
// inference form of a convolution block. Each output tile is finished
// while it is in cache, instead of in three or four passes over memory.
// It computes no gradients: with gradients enabled and any input requiring
// one, it fails; use the separate ops to train.
func (t *Tape) Conv2DFused(x, w *Var, o Conv, f Fused) *Var {
	const op = "Conv2DFused"
	for _, v := range []*Var{f.Bias, f.Gamma, f.Beta, f.Res} {
		if v != nil && !t.ok(op, v) {
			return nil
		}
	}
	if !t.ok(op, x, w) || !t.isImage(op, "input", x) {
		return nil
	}
	if o.Groups > 1 {
		return t.fail(op, "%d groups: grouped convolutions are not fused; use Conv2D", o.Groups)
	}
	p, d, od, ok := t.convShape(op, x, w, o)
	if !ok {
		return nil
	}
	ws := w.val.Shape()
	if !t.isVector(op, "bias", f.Bias, p.Cout, "filter", ws) ||
		!t.isVector(op, "gamma", f.Gamma, p.Cout, "filter", ws) || !t.isVector(op, "beta", f.Beta, p.Cout, "filter", ws) {
		return nil
	}
	bn := f.Gamma != nil || f.Beta != nil || f.Stats != nil
	if bn {
		if f.Gamma == nil || f.Beta == nil || f.Stats == nil {
			return t.fail(op, "batch normalisation needs gamma, beta and running statistics; have gamma %v, beta %v, statistics %v",
				f.Gamma != nil, f.Beta != nil, f.Stats != nil)
		}
		if !t.statsFit(op, f.Stats, p.Cout, "filter", ws) {
			return nil
		}
	}
	shape := shapeOf(od)
	if f.Res != nil && !slices.Equal(f.Res.val.Shape(), shape) {
		return t.fail(op, "residual has shape %v; want the output's %v", f.Res.val.Shape(), shape)
	}
	y := t.newOutput(shape, x, w, f.Bias, f.Gamma, f.Beta, f.Res)
	if y.requires {
		return t.fail(op, "computes no gradients, but an input requires one; use Conv2D, BatchNorm, Add and ReLU, or disable gradients")
	}
	ep := kern.Epilogue{ReLU: f.ReLU}
	if f.Bias != nil {
		ep.Shift = f.Bias.val.Data()
	}
	if bn {
		// BatchNorm(z + bias) = z·a + (b + bias·a), a = γ/√(σ²+ε), b = β − μ·a,
		// folded once and kept with the packed filter when there is one.
		fold := func(ab []float32) {
			a, b := ab[:p.Cout], ab[p.Cout:]
			k := kern.BatchNorm{Gamma: f.Gamma.val.Data(), Beta: f.Beta.val.Data(),
				RunMean: f.Stats.Mean.Data(), RunVar: f.Stats.Var.Data(), Eps: f.Stats.Eps}
			k.InferAffine(a, b)
			for c, bias := range ep.Shift {
				b[c] += bias * a[c]
			}
		}
		var ab []float32
		if f.Filters != nil {
			ab = f.Filters.Folded(2*p.Cout, fold)
		} else {
			ab = t.alloc(2 * p.Cout)
			fold(ab)
		}
		ep.Scale, ep.Shift = ab[:p.Cout], ab[p.Cout:]
	}
	if f.Res != nil {
		ep.Res = f.Res.val.Data()
	}
	kern.Conv2DFused(y.val.Data(), x.val.Data(), w.val.Data(), f.Filters, d, p, ep)
	if t.tracer != nil {
		t.trace(op, FusedAttrs{Conv: o, Stats: f.Stats, ReLU: f.ReLU}, y, x, w, f.Bias, f.Gamma, f.Beta, f.Res)
	}
	return t.record(y, nil)
}
