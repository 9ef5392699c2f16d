package nn

import (
	"fmt"

	"github.com/foveaml/fovea/ag"
)

// Capture runs model forward once on x, in inference mode, on the tape
// tp, and returns the layer called name (a dotted path as in Summary:
// "fc", "classifier.5") together with the input it received: the
// features a head reads. The values live on tp until its next Reset. It
// is an error if the forward pass fails, or calls no layer of that name,
// or calls it more than once (a shared layer has no single input).
func Capture(tp *ag.Tape, model Layer, name string, x *ag.Var) (Layer, *ag.Var, error) {
	return capture1(tp, model, name, x, false)
}

// CaptureTraining is Capture in training mode (step 0): batch norms that
// train use the batch's statistics, and update their running ones;
// dropout draws; an AuxModel's auxiliary classifiers run.
func CaptureTraining(tp *ag.Tape, model Layer, name string, x *ag.Var) (Layer, *ag.Var, error) {
	return capture1(tp, model, name, x, true)
}

func capture1(tp *ag.Tape, model Layer, name string, x *ag.Var, train bool) (Layer, *ag.Var, error) {
	cp := &capture{name: name}
	c := &Ctx{Tape: tp, Train: train, capture: cp}
	if a, ok := model.(AuxModel); ok && train {
		a.ForwardAux(c, x)
	} else {
		model.Forward(c, x)
	}
	if err := tp.Err(); err != nil {
		return nil, nil, fmt.Errorf("nn.Capture: %w", err)
	}
	switch cp.calls {
	case 0:
		return nil, nil, fmt.Errorf("nn.Capture: the forward pass calls no layer %q; the model's layers: %v", name, LayerNames(model))
	case 1:
		return cp.layer, cp.input, nil
	}
	return nil, nil, fmt.Errorf("nn.Capture: the forward pass calls layer %q %d times; want once", name, cp.calls)
}
