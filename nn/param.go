package nn

import "github.com/foveaml/fovea/ag"

// Param is a named parameter of a model: its value and gradient live in
// Var, a leaf made with ag.Param. Names are stable and dotted
// ("features.0.weight", "layer1.0.conv1.weight", "fc.bias") and match
// torchvision's where the architecture does, so a state dict maps onto a
// model by name. A parameter is trainable when Var.RequiresGrad() is
// true; freezing it (Var.SetRequiresGrad(false)) stops its gradient, its
// optimiser update and its weight decay.
type Param struct {
	Name string
	Var  *ag.Var
}

// Trainable reports whether the parameter receives gradient updates.
func (p Param) Trainable() bool { return p.Var.RequiresGrad() }
