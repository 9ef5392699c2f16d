package nn

import "github.com/foveaml/fovea/ag"

// Unit is the piece most convolutional networks are made of: a
// convolution, an optional batch normalisation, an optional residual
// added after it, and an optional ReLU. The convolution and batch norm
// are children of a container, which runs the unit with Module.Unit
// (Sequential finds its units itself): they keep their own names, so
// parameter names and Summary are those of the layers called one by one.
//
// At inference — the batch norm in inference mode and no gradient needed
// — the unit runs as one fused op (ag.Tape.Conv2DFused): the
// normalisation, residual and ReLU are applied to each output tile while
// it is in cache instead of in three more passes over memory. Otherwise,
// and while Summary traces or Capture looks for a layer, the layers run
// one by one.
type Unit struct {
	Conv *Conv2D
	BN   *BatchNorm // nil for none
	ReLU bool
}

// unitNames are the call names of a unit's convolution, batch norm and
// ReLU.
type unitNames struct{ conv, bn, relu string }

// forward runs the unit on x; res, when not nil, returns the residual
// to add before the ReLU (called after the convolution and batch norm on
// the layer-by-layer path, so Summary lists the layers in that order).
func (u Unit) forward(c *Ctx, x *ag.Var, names unitNames, res func() *ag.Var) *ag.Var {
	if c.fusable(u.Conv, u.BN, x) {
		f := ag.Fused{Bias: u.Conv.Bias, ReLU: u.ReLU, Filters: c.Packs.of(u.Conv.Weight)}
		if u.BN != nil {
			f.Gamma, f.Beta, f.Stats = u.BN.Weight, u.BN.Bias, u.BN.Stats
		}
		if res == nil {
			return c.Tape.Conv2DFused(x, u.Conv.Weight, u.Conv.options(), f)
		}
		// The residual is computed first here; if it needs a gradient
		// (or failed), the layers run one by one on it.
		f.Res = res()
		if f.Res != nil && !(c.Tape.GradEnabled() && f.Res.RequiresGrad()) {
			return c.Tape.Conv2DFused(x, u.Conv.Weight, u.Conv.options(), f)
		}
		r := f.Res
		res = func() *ag.Var { return r }
	}
	y := c.Call(names.conv, u.Conv, x)
	if u.BN != nil {
		y = c.Call(names.bn, u.BN, y)
	}
	// The unit's intermediate values are its own: unless a hook may hold
	// on to one, the residual and the ReLU are written over them (the
	// tape checks that nothing reads them in backward), sparing two
	// activations of the training step.
	inPlace := c.trace == nil && c.capture == nil && c.Observe == nil
	if res != nil {
		if inPlace {
			y = c.Tape.AddInPlace(y, res())
		} else {
			y = c.Tape.Add(y, res())
		}
	}
	if u.ReLU {
		if inPlace {
			y = c.Tape.ReLUInPlace(y)
		} else {
			y = c.Call(names.relu, ReLU, y)
		}
	}
	return y
}

// fusable reports whether conv followed by bn (nil for none) may run
// fused on x in this pass: nothing traces, observes or captures the layers, the
// batch norm does not train, and no gradient is needed.
func (c *Ctx) fusable(conv *Conv2D, bn *BatchNorm, x *ag.Var) bool {
	if c.trace != nil || c.capture != nil || (c.Observe != nil && !c.fuseObserved) || x == nil || c.Tape.Err() != nil || conv.Cfg.Groups > 1 {
		return false
	}
	if bn != nil && bn.training(c) {
		return false
	}
	if !c.Tape.GradEnabled() {
		return true
	}
	vs := []*ag.Var{x, conv.Weight, conv.Bias}
	if bn != nil {
		vs = append(vs, bn.Weight, bn.Bias)
	}
	for _, v := range vs {
		if v != nil && v.RequiresGrad() {
			return false
		}
	}
	return true
}
