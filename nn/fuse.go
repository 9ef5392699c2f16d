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
		f := u.fused(c)
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
	inPlace := !c.holdsValues()
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

// fused returns what the unit's fused op applies after its convolution.
func (u Unit) fused(c *Ctx) ag.Fused {
	f := ag.Fused{Bias: u.Conv.Bias, ReLU: u.ReLU, Filters: c.Packs.of(u.Conv.Weight)}
	if u.BN != nil {
		f.Gamma, f.Beta, f.Stats = u.BN.Weight, u.BN.Bias, u.BN.Stats
	}
	return f
}

// UnitOn is a Unit and the input it runs on, for ConcatFused.
type UnitOn struct {
	Unit Unit
	X    *ag.Var
}

// FusesUnits reports whether units run fused in this pass whatever their
// inputs: gradients are off, their batch norms do not train, and nothing
// traces, captures or observes the layers. A container that joins the
// outputs of units (ConcatFused) asks before it computes their inputs.
func (c *Ctx) FusesUnits(units ...Unit) bool {
	if c.Tape == nil || c.Tape.GradEnabled() || c.holdsValues() {
		return false
	}
	for _, u := range units {
		if u.Conv == nil || !c.fusesLayers(u.Conv, u.BN) {
			return false
		}
	}
	return true
}

// ConcatFused returns the outputs of units, each run on its input,
// joined along the channels by one op that writes each unit's output
// straight into its channels of the joined output
// (ag.Tape.ConcatConv2DFused): for a pass where FusesUnits holds, in
// place of the units' layers and a Concat.
func (c *Ctx) ConcatFused(units ...UnitOn) *ag.Var {
	parts := make([]ag.ConvPart, len(units))
	for i, u := range units {
		parts[i] = ag.ConvPart{X: u.X, W: u.Unit.Conv.Weight, Conv: u.Unit.Conv.options(), Fused: u.Unit.fused(c)}
	}
	return c.Tape.ConcatConv2DFused(parts...)
}

// fusable reports whether conv followed by bn (nil for none) may run
// fused on x in this pass: nothing traces, observes or captures the layers, the
// batch norm does not train, and no gradient is needed.
func (c *Ctx) fusable(conv *Conv2D, bn *BatchNorm, x *ag.Var) bool {
	if x == nil || !c.fusesLayers(conv, bn) {
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

// fusesLayers is fusable's part that does not depend on the input: the
// pass does not watch the layers one by one (unless an observer asked
// for units whole), the tape has not failed, the convolution is not
// grouped and the batch norm (nil for none) does not train.
func (c *Ctx) fusesLayers(conv *Conv2D, bn *BatchNorm) bool {
	if c.trace != nil || c.capture != nil || (c.Observe != nil && !c.fuseObserved) || c.Tape.Err() != nil || conv.Cfg.Groups > 1 {
		return false
	}
	return bn == nil || !bn.training(c)
}
