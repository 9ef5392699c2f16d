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
	c, ok := t.fusedConv(op, x, w, o, f)
	if !ok {
		return nil
	}
	y := t.newOutput(shapeOf(c.od), c.inputs()...)
	if y.requires {
		return t.fail(op, "computes no gradients, but an input requires one; use Conv2D, BatchNorm, Add and ReLU, or disable gradients")
	}
	c.run(y.val.Data(), 0)
	if t.tracer != nil {
		t.trace(op, FusedAttrs{Conv: o, Stats: f.Stats, ReLU: f.ReLU}, y, c.inputs()...)
	}
	return t.record(y, nil)
}

// ConvPart is one convolution of ConcatConv2DFused: its input, filter,
// options and what is fused into it.
type ConvPart struct {
	X, W  *Var
	Conv  Conv
	Fused Fused
}

// ConcatConv2DFused is
//
//	Concat(Conv2DFused(p.X, p.W, p.Conv, p.Fused) for each part p)
//
// along the channels, each convolution writing its channels straight
// into the joined output instead of into one of its own for Concat to
// copy: GoogLeNet's inception modules at inference. The parts' outputs
// must agree in all but their channels, and take no residual. Like
// Conv2DFused it computes no gradients. With a tracer set it runs as the
// separate ops, which the tracer sees.
func (t *Tape) ConcatConv2DFused(parts ...ConvPart) *Var {
	const op = "ConcatConv2DFused"
	if len(parts) == 0 {
		return t.fail(op, "no parts")
	}
	if t.tracer != nil {
		ys := make([]*Var, len(parts))
		for i, p := range parts {
			ys[i] = t.Conv2DFused(p.X, p.W, p.Conv, p.Fused)
		}
		return t.Concat(ys...)
	}
	cs := make([]fusedConv, len(parts))
	var inputs []*Var
	channels := 0
	for i, p := range parts {
		if p.Fused.Res != nil {
			return t.fail(op, "part %d has a residual; the parts of a concatenation take none", i)
		}
		c, ok := t.fusedConv(op, p.X, p.W, p.Conv, p.Fused)
		if !ok {
			return nil
		}
		if a, b := cs[0].od, c.od; i > 0 && (a.N != b.N || a.H != b.H || a.W != b.W) {
			return t.fail(op, "part %d gives %v; part 0 gives %v: the parts must agree in all but their channels", i, shapeOf(b), shapeOf(a))
		}
		cs[i] = c
		inputs = append(inputs, c.inputs()...)
		channels += c.od.C
	}
	od := cs[0].od
	od.C = channels
	y := t.newOutput(shapeOf(od), inputs...)
	if y.requires {
		return t.fail(op, "computes no gradients, but an input requires one; use the separate ops, or disable gradients")
	}
	yd, at := y.val.Data(), 0
	for _, c := range cs {
		c.run(yd[at:], channels)
		at += c.od.C
	}
	return t.record(y, nil)
}

// fusedConv is a convolution of Conv2DFused checked and ready to run:
// its kernel parameters, epilogue (the batch norm folded) and operands.
type fusedConv struct {
	x, w  *Var
	f     Fused
	p     kern.Conv
	d, od kern.Dims
	ep    kern.Epilogue
}

// inputs lists the convolution's operands (some nil).
func (c fusedConv) inputs() []*Var {
	return []*Var{c.x, c.w, c.f.Bias, c.f.Gamma, c.f.Beta, c.f.Res}
}

// run computes the convolution into y, its output pixels ld floats
// apart (0: its own channels).
func (c fusedConv) run(y []float32, ld int) {
	c.ep.OutStride = ld
	kern.Conv2DFused(y, c.x.val.Data(), c.w.val.Data(), c.f.Filters, c.d, c.p, c.ep)
}

// fusedConv checks the operands of Conv2DFused(x, w, o, f), failing op
// when they do not fit, and folds its batch norm.
func (t *Tape) fusedConv(op string, x, w *Var, o Conv, f Fused) (fusedConv, bool) {
	for _, v := range []*Var{f.Bias, f.Gamma, f.Beta, f.Res} {
		if v != nil && !t.ok(op, v) {
			return fusedConv{}, false
		}
	}
	if !t.ok(op, x, w) || !t.isImage(op, "input", x) {
		return fusedConv{}, false
	}
	if o.Groups > 1 {
		t.fail(op, "%d groups: grouped convolutions are not fused; use Conv2D", o.Groups)
		return fusedConv{}, false
	}
	p, d, od, ok := t.convShape(op, x, w, o)
	if !ok {
		return fusedConv{}, false
	}
	ws := w.val.Shape()
	if !t.isVector(op, "bias", f.Bias, p.Cout, "filter", ws) ||
		!t.isVector(op, "gamma", f.Gamma, p.Cout, "filter", ws) || !t.isVector(op, "beta", f.Beta, p.Cout, "filter", ws) {
		return fusedConv{}, false
	}
	bn := f.Gamma != nil || f.Beta != nil || f.Stats != nil
	if bn {
		if f.Gamma == nil || f.Beta == nil || f.Stats == nil {
			t.fail(op, "batch normalisation needs gamma, beta and running statistics; have gamma %v, beta %v, statistics %v",
				f.Gamma != nil, f.Beta != nil, f.Stats != nil)
			return fusedConv{}, false
		}
		if !t.statsFit(op, f.Stats, p.Cout, "filter", ws) {
			return fusedConv{}, false
		}
	}
	if shape := shapeOf(od); f.Res != nil && !slices.Equal(f.Res.val.Shape(), shape) {
		t.fail(op, "residual has shape %v; want the output's %v", f.Res.val.Shape(), shape)
		return fusedConv{}, false
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
	return fusedConv{x: x, w: w, f: f, p: p, d: d, od: od, ep: ep}, true
}
