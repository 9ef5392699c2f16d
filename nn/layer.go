package nn

import (
	"fmt"
	"strings"

	"github.com/foveaml/fovea/ag"
)

// Layer is a building block of a model: a function of Vars with named
// parameters. Layers compose as plain Go: a residual block calls its
// convolutions and adds the shortcut with c.Tape.Add; a multi-output model
// returns several Vars.
type Layer interface {
	// Forward computes the layer's output for x in the context c.
	Forward(c *Ctx, x *ag.Var) *ag.Var
	// Params returns the layer's parameters, named relative to it
	// ("weight", "0.bias", "conv1.weight").
	Params() []Param
}

// Buffered is a layer with state that is saved with its weights but not
// trained, such as batch normalisation's running statistics.
type Buffered interface {
	Buffers() []Param
}

// Ctx is the context of one forward pass: the tape that records it,
// whether the model trains (batch statistics, dropout) and the global step,
// from which layers derive their random draws so that a resumed run draws
// the same numbers.
type Ctx struct {
	Tape  *ag.Tape
	Train bool
	Step  int64
	// Observe, when not nil, sees every layer call of the pass once the
	// layer has returned, and the pass goes on with the output it returns
	// (call.Out to change nothing): PyTorch's forward hooks, through which
	// feature extraction, profiles and Grad-CAM read a model (see
	// LayerCall). Convolution units then run layer by layer, not fused.
	Observe func(call LayerCall) *ag.Var
	// Packs, when not nil, keeps the fused convolutions' filters packed
	// from pass to pass (see PackCache): set it for inference over
	// weights that do not change between the passes.
	Packs *PackCache

	path  []string
	calls int // layer calls so far, for LayerCall.Leaf
	// fuseObserved lets units fuse although Observe is set: the
	// observer (a FeatureExtractor's) wants no layer inside a unit.
	fuseObserved bool
	trace        *[]traceRow
	capture      *capture
}

// capture records the input of one named layer during a forward pass:
// how Capture finds a model's head and the features it reads.
type capture struct {
	name  string
	layer Layer
	input *ag.Var
	calls int
}

// traceRow is one layer call seen by Summary.
type traceRow struct {
	name, kind string
	out        []int
	params     int
	frozen     int
	leaf       bool
}

// Done tells the pass that the layer calling it will read v no more: a
// value it made itself and has finished with (a block's inner
// activations, once the next convolution has read them). At inference
// its buffer goes back to the tape's pool at once (see ag.Tape.Release);
// when an observer, a trace or a capture may hold the pass's values, or
// the tape records gradients, nothing happens.
func (c *Ctx) Done(v *ag.Var) {
	if c.holdsValues() || c.Tape == nil {
		return
	}
	c.Tape.Release(v)
}

// holdsValues reports whether something outside the layers may hold on
// to the pass's values: an observer, Summary's trace or a capture. Then
// no value is written over or handed back early.
func (c *Ctx) holdsValues() bool { return c.Observe != nil || c.trace != nil || c.capture != nil }

// Next returns y, the output of a layer that read h, and is done with h
// (see Done) unless y is h itself: the step of a chain of layers whose
// values between them are the caller's own.
func (c *Ctx) Next(h, y *ag.Var) *ag.Var {
	if y != h {
		c.Done(h)
	}
	return y
}

// Call runs layer under the name name (one element of its dotted path)
// and returns its output. Containers call their children through Call so
// that Summary can list them and errors can name them.
func (c *Ctx) Call(name string, layer Layer, x *ag.Var) *ag.Var {
	c.path = append(c.path, name)
	if c.capture != nil && strings.Join(c.path, ".") == c.capture.name {
		c.capture.layer, c.capture.input = layer, x
		c.capture.calls++
	}
	var row int
	if c.trace != nil {
		row = len(*c.trace)
		*c.trace = append(*c.trace, traceRow{name: strings.Join(c.path, "."), kind: Kind(layer), leaf: true})
	}
	before := c.calls
	c.calls++
	y := layer.Forward(c, x)
	if c.Observe != nil {
		y = c.Observe(LayerCall{Path: strings.Join(c.path, "."), Layer: layer, In: x, Out: y, Leaf: c.calls == before+1})
	}
	if c.trace != nil {
		r := &(*c.trace)[row]
		r.leaf = len(*c.trace) == row+1
		if y != nil {
			r.out = y.Shape()
		}
		for _, p := range layer.Params() {
			r.params += p.Var.Value().Len()
			if !p.Trainable() {
				r.frozen += p.Var.Value().Len()
			}
		}
	}
	c.path = c.path[:len(c.path)-1]
	return y
}

// Kind names a layer's type for Summary: its Kind method if it has one,
// else its Go type name.
func Kind(l Layer) string {
	if k, ok := l.(interface{ Kind() string }); ok {
		return k.Kind()
	}
	s := fmt.Sprintf("%T", l)
	s = s[strings.LastIndex(s, ".")+1:]
	return strings.TrimPrefix(s, "*")
}

// Prefix returns ps with prefix and a dot put before every name: how a
// container names its children's parameters.
func Prefix(prefix string, ps []Param) []Param {
	out := make([]Param, len(ps))
	for i, p := range ps {
		out[i] = Param{Name: prefix + "." + p.Name, Var: p.Var}
	}
	return out
}

// BuffersOf returns the buffers of l if it has any.
func BuffersOf(l Layer) []Param {
	if b, ok := l.(Buffered); ok {
		return b.Buffers()
	}
	return nil
}

// State returns every parameter and buffer of l by name: what a
// checkpoint or a state dict holds.
func State(l Layer) []Param {
	return append(l.Params(), BuffersOf(l)...)
}

// Freeze makes every parameter of l untrainable (or trainable again with
// on set): frozen parameters get no gradient and no optimiser update.
func Freeze(l Layer, frozen bool) {
	for _, p := range l.Params() {
		p.Var.SetRequiresGrad(!frozen)
	}
}
