package inspect

import (
	"fmt"
	"slices"
	"strings"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/tensor"
)

// Stage is one of a model's outermost layer calls: a child of the model
// itself (ResNet's layer1 to layer4, VGG's features) or, in an imported
// ONNX graph, whose calls are its nodes, one node ("layer4.1.conv2").
type Stage struct {
	Name string
	// Shape is the output of the last call, without the batch.
	Shape []int
	// Conv says whether the stage is or holds a convolution.
	Conv bool
	// Calls counts the pass's calls of the name; only a stage called
	// once has one output to extract or explain.
	Calls int
}

// outerCall is one outermost call of a forward pass, in call order.
type outerCall struct {
	name  string
	shape []int
	conv  bool
}

// Stages traces model once on a zero example of shape in ([H, W, C])
// and returns its outermost layer calls, each name once, in the order
// of their first calls. A call is outermost when no call around it has
// a path that begins with its own and a dot; so the dotted names of an
// ONNX graph's nodes, called side by side, are stages of their own.
func Stages(model nn.Layer, in ...int) ([]Stage, error) {
	calls, err := outerCalls(model, in)
	if err != nil {
		return nil, err
	}
	var st []Stage
	for _, c := range calls {
		i := slices.IndexFunc(st, func(s Stage) bool { return s.Name == c.name })
		if i < 0 {
			st = append(st, Stage{Name: c.name})
			i = len(st) - 1
		}
		st[i].Shape, st[i].Conv, st[i].Calls = c.shape, st[i].Conv || c.conv, st[i].Calls+1
	}
	return st, nil
}

// outerCalls runs the trace: the pass observes a call after the calls
// inside it, so walking the calls backwards meets each outermost call
// first and then, before the next one, everything inside it.
func outerCalls(model nn.Layer, in []int) ([]outerCall, error) {
	type call struct {
		path  string
		shape []int
		conv  bool
	}
	var all []call
	tp := ag.NewTape()
	tp.SetGradEnabled(false)
	defer tp.Reset()
	model.Forward(&nn.Ctx{Tape: tp, Observe: func(c nn.LayerCall) *ag.Var {
		r := call{path: c.Path}
		if c.Out != nil {
			r.shape = c.Out.Shape()[1:]
		}
		_, r.conv = c.Layer.(*nn.Conv2D)
		all = append(all, r)
		return c.Out
	}}, ag.Const(tensor.Zeros(append([]int{1}, in...)...)))
	if err := tp.Err(); err != nil {
		return nil, fmt.Errorf("inspect: tracing the model at %v: %w", in, err)
	}
	var outer []outerCall
	for i := len(all) - 1; i >= 0; i-- {
		c := all[i]
		if n := len(outer); n > 0 && strings.HasPrefix(c.path, outer[n-1].name+".") {
			outer[n-1].conv = outer[n-1].conv || c.conv
			continue
		}
		outer = append(outer, outerCall{name: c.path, shape: c.shape, conv: c.conv})
	}
	slices.Reverse(outer)
	return outer, nil
}
