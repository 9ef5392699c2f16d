package nn

import (
	"strconv"

	"github.com/foveaml/fovea/ag"
)

// Sequential runs layers one after another. Its children are named by
// their index ("0", "1", ...), as in PyTorch's nn.Sequential, so the
// parameters of the first layer are "0.weight" and "0.bias".
type Sequential struct {
	Layers []Layer
}

// NewSequential returns the layers in sequence.
func NewSequential(layers ...Layer) *Sequential { return &Sequential{Layers: layers} }

// Forward implements Layer.
func (s *Sequential) Forward(c *Ctx, x *ag.Var) *ag.Var {
	for i, l := range s.Layers {
		x = c.Call(strconv.Itoa(i), l, x)
	}
	return x
}

// Params implements Layer.
func (s *Sequential) Params() []Param {
	var ps []Param
	for i, l := range s.Layers {
		ps = append(ps, Prefix(strconv.Itoa(i), l.Params())...)
	}
	return ps
}

// Buffers implements Buffered.
func (s *Sequential) Buffers() []Param {
	var ps []Param
	for i, l := range s.Layers {
		ps = append(ps, Prefix(strconv.Itoa(i), BuffersOf(l))...)
	}
	return ps
}
