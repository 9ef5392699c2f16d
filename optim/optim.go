package optim

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/tensor"
)

// Optimizer updates a model's parameters from their gradients. SGD, Adam
// (and AdamW) and RMSprop implement it.
type Optimizer interface {
	// Step updates every trainable parameter that has a gradient.
	Step()
	// ZeroGrad clears the gradients of all the optimiser's parameters.
	ZeroGrad()
	// LR returns the current learning rate, which groups scale.
	LR() float64
	// SetLR sets the current learning rate; schedules call it.
	SetLR(lr float64)
	// BaseLR returns the learning rate the optimiser was made with, the
	// base that schedules scale.
	BaseLR() float64
	// Steps returns how many times Step has been called, counting the
	// steps of a restored state.
	Steps() int
	// Params returns the optimiser's parameters, in group order.
	Params() []nn.Param
	// State returns the optimiser's state for a checkpoint.
	State() (map[string]*tensor.Tensor, map[string]string)
	// LoadState restores a state made by State.
	LoadState(tensors map[string]*tensor.Tensor, meta map[string]string) error
}

// Group is a set of parameters with their own learning rate and weight
// decay, for discriminative fine-tuning: a pretrained backbone learning
// ten times slower than a new head, biases and batch-norm scales without
// weight decay.
type Group struct {
	Params []nn.Param // the group's parameters, named and distinct
	// LRScale multiplies the optimiser's learning rate (and so follows
	// its schedule) for this group. 0 means 1; it cannot be negative.
	// Freeze parameters with Var.SetRequiresGrad(false), not with a
	// scale.
	LRScale float64
	// WeightDecay replaces the optimiser's weight decay for this group
	// when it is not 0.
	WeightDecay float64
	// NoDecay turns weight decay off for this group, whatever
	// WeightDecay says.
	NoDecay bool
}

// param is a parameter with its group's settings and its slots of
// optimiser state, which are allocated on its first update.
type param struct {
	nn.Param
	lrScale float64
	decay   float64
	slots   []*tensor.Tensor // nil until the first update
	step    int              // updates made; the state exists when > 0
}

// core is what every optimiser shares: the parameters, their state,
// the learning rate and the step count.
type core struct {
	kind      string   // "SGD", "Adam", "AdamW", "RMSprop": the state's type
	slotNames []string // the per-parameter state tensors, in slot order
	params    []*param
	byName    map[string]*param
	baseLR    float64
	lr        float64
	steps     int
}

// newCore checks lr and the groups and builds a core over them. params
// (which may be empty) form a first group with the optimiser's decay.
func newCore(kind string, lr, decay float64, params []nn.Param, groups []Group) (core, error) {
	c := core{kind: kind, baseLR: lr, lr: lr, byName: map[string]*param{}}
	if !(lr >= 0) || math.IsInf(lr, 0) {
		return c, fmt.Errorf("optim.%s: learning rate %v; want a finite value >= 0", kind, lr)
	}
	if !(decay >= 0) || math.IsInf(decay, 0) {
		return c, fmt.Errorf("optim.%s: weight decay %v; want a finite value >= 0", kind, decay)
	}
	groups = append([]Group{{Params: params}}, groups...)
	vars := map[*ag.Var]string{}
	for gi, g := range groups {
		where := fmt.Sprintf("group %d", gi)
		if gi == 0 {
			where = "params"
		}
		scale := g.LRScale
		if scale == 0 {
			scale = 1
		}
		if !(scale > 0) || math.IsInf(scale, 0) {
			return c, fmt.Errorf("optim.%s: %s has LRScale %v; want a finite value > 0 (0 means 1)", kind, where, g.LRScale)
		}
		d := decay
		switch {
		case g.NoDecay:
			d = 0
		case g.WeightDecay != 0:
			d = g.WeightDecay
		}
		if !(d >= 0) || math.IsInf(d, 0) {
			return c, fmt.Errorf("optim.%s: %s has weight decay %v; want a finite value >= 0", kind, where, d)
		}
		for _, p := range g.Params {
			switch {
			case p.Var == nil:
				return c, fmt.Errorf("optim.%s: parameter %q in %s has no Var", kind, p.Name, where)
			case p.Name == "":
				return c, fmt.Errorf("optim.%s: a parameter of shape %v in %s has no name; the state is keyed by name", kind, p.Var.Shape(), where)
			case c.byName[p.Name] != nil:
				return c, fmt.Errorf("optim.%s: parameter name %q appears twice", kind, p.Name)
			case vars[p.Var] != "":
				return c, fmt.Errorf("optim.%s: parameters %q and %q are the same Var", kind, vars[p.Var], p.Name)
			}
			vars[p.Var] = p.Name
			q := &param{Param: p, lrScale: scale, decay: d}
			c.params = append(c.params, q)
			c.byName[p.Name] = q
		}
	}
	return c, nil
}

// LR returns the current learning rate. A group's parameters are
// updated with it times the group's LRScale.
func (o *core) LR() float64 { return o.lr }

// SetLR sets the current learning rate, as a schedule does each epoch.
func (o *core) SetLR(lr float64) { o.lr = lr }

// BaseLR returns the learning rate the optimiser was made with.
func (o *core) BaseLR() float64 { return o.baseLR }

// Steps returns the number of Step calls, including those of a restored
// state.
func (o *core) Steps() int { return o.steps }

// Params returns the optimiser's parameters in the order they were
// given, groups after the plain parameters.
func (o *core) Params() []nn.Param {
	ps := make([]nn.Param, len(o.params))
	for i, p := range o.params {
		ps[i] = p.Param
	}
	return ps
}

// ZeroGrad clears the gradient of every parameter, frozen or not, so
// that the next Backward overwrites it.
func (o *core) ZeroGrad() {
	for _, p := range o.params {
		p.Var.ZeroGrad()
	}
}

// next returns the parameters Step is to update with their gradients:
// the trainable ones that have a gradient. Each has its state slots
// allocated (zeros) and its step count advanced; first reports that
// this is its first update.
func (o *core) next(yield func(p *param, grad []float32, first bool)) {
	o.steps++
	for _, p := range o.params {
		if !p.Var.RequiresGrad() {
			continue
		}
		g := p.Var.Grad()
		if g == nil {
			continue
		}
		v := p.Var.Value()
		if !g.SameShape(v) {
			panic(fmt.Sprintf("optim.%s: parameter %s has shape %v but its gradient %v", o.kind, p.Name, v.Shape(), g.Shape()))
		}
		if p.slots == nil && len(o.slotNames) > 0 {
			p.slots = make([]*tensor.Tensor, len(o.slotNames))
			for i := range p.slots {
				p.slots[i] = tensor.Zeros(v.Shape()...)
			}
		}
		p.step++
		yield(p, g.Data(), p.step == 1)
	}
}

// Meta keys of a state; a parameter's step count is "<name>.step".
const (
	metaType  = "type"
	metaLR    = "lr"
	metaSteps = "steps"
)

// State returns the optimiser's state: the tensors are keyed
// "<parameter name>.<slot>" with PyTorch's slot names
// ("conv1.weight.momentum_buffer", "fc.bias.exp_avg"), and the metadata
// holds the optimiser's type ("type"), the current learning rate ("lr"),
// the step count ("steps") and each updated parameter's own step count
// ("<name>.step"). Parameters never updated (frozen ones) have no state.
// The tensors are the optimiser's own, not copies: save them before the
// next Step. Hyperparameters are not part of the state; they come from
// the code that makes the optimiser.
func (o *core) State() (map[string]*tensor.Tensor, map[string]string) {
	ts := map[string]*tensor.Tensor{}
	meta := map[string]string{
		metaType:  o.kind,
		metaLR:    strconv.FormatFloat(o.lr, 'g', -1, 64),
		metaSteps: strconv.Itoa(o.steps),
	}
	for _, p := range o.params {
		if p.step == 0 {
			continue
		}
		meta[p.Name+".step"] = strconv.Itoa(p.step)
		for i, s := range p.slots {
			ts[p.Name+"."+o.slotNames[i]] = s
		}
	}
	return ts, meta
}

// LoadState replaces the optimiser's state with one made by State of an
// optimiser of the same type over parameters of the same names and
// shapes. It checks everything before it changes anything: an unknown
// parameter or slot, a shape that differs from the parameter's, a
// missing slot or step count, or a state of another type is an error
// naming the key, and leaves the optimiser as it was. The tensors are
// copied. Parameters absent from the state start afresh.
func (o *core) LoadState(tensors map[string]*tensor.Tensor, meta map[string]string) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("optim.%s.LoadState: "+format, append([]any{o.kind}, args...)...)
	}
	if meta[metaType] != o.kind {
		return fail("the state is of type %q, not %q", meta[metaType], o.kind)
	}
	lr, err := strconv.ParseFloat(meta[metaLR], 64)
	if err != nil || !(lr >= 0) || math.IsInf(lr, 0) {
		return fail("learning rate %q is not a finite number >= 0", meta[metaLR])
	}
	steps, err := strconv.Atoi(meta[metaSteps])
	if err != nil || steps < 0 {
		return fail("step count %q is not an integer >= 0", meta[metaSteps])
	}
	pstep := map[*param]int{}
	for k, v := range meta {
		if k == metaType || k == metaLR || k == metaSteps {
			continue
		}
		name, ok := strings.CutSuffix(k, ".step")
		p := o.byName[name]
		if !ok || p == nil {
			return fail("metadata key %q names no parameter of this optimiser", k)
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fail("step count %q of parameter %s is not an integer >= 1", v, name)
		}
		pstep[p] = n
	}
	slots := map[*param][]*tensor.Tensor{}
	for k, t := range tensors {
		i := strings.LastIndexByte(k, '.')
		if i < 0 {
			return fail("tensor %q is not named <parameter>.<slot>", k)
		}
		name, slot := k[:i], k[i+1:]
		p := o.byName[name]
		if p == nil {
			return fail("tensor %q: no parameter %q in this optimiser", k, name)
		}
		si := -1
		for j, s := range o.slotNames {
			if s == slot {
				si = j
			}
		}
		if si < 0 {
			return fail("tensor %q: %s keeps no %q for a parameter (its slots: %v)", k, o.kind, slot, o.slotNames)
		}
		if t == nil {
			return fail("tensor %q is nil", k)
		}
		if want := p.Var.Value(); !t.SameShape(want) {
			return fail("parameter %s: %s has shape %v; the parameter's is %v", name, slot, t.Shape(), want.Shape())
		}
		if pstep[p] == 0 {
			return fail("parameter %s has state %s but no step count %q", name, slot, name+".step")
		}
		if slots[p] == nil {
			slots[p] = make([]*tensor.Tensor, len(o.slotNames))
		}
		slots[p][si] = t
	}
	for p := range pstep {
		for j, s := range slots[p] {
			if s == nil {
				return fail("parameter %s has a step count but no %s", p.Name, o.slotNames[j])
			}
		}
		if slots[p] == nil && len(o.slotNames) > 0 {
			return fail("parameter %s has a step count but no %s", p.Name, o.slotNames[0])
		}
	}
	o.lr, o.steps = lr, steps
	for _, p := range o.params {
		p.step, p.slots = pstep[p], nil
		for _, s := range slots[p] {
			p.slots = append(p.slots, s.Clone())
		}
	}
	return nil
}
