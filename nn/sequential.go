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

// Forward implements Layer. A convolution followed by a batch norm
// and/or a ReLU runs as a Unit: fused at inference.
func (s *Sequential) Forward(c *Ctx, x *ag.Var) *ag.Var {
	h := x
	for i := 0; i < len(s.Layers); i++ {
		var y *ag.Var
		if u, names, n := s.unitAt(i); n > 1 {
			y = u.forward(c, h, names, nil)
			i += n - 1
		} else {
			y = c.Call(strconv.Itoa(i), s.Layers[i], h)
		}
		// The values between the layers are the container's own; its
		// input is the caller's.
		if h == x {
			h = y
		} else {
			h = c.Next(h, y)
		}
	}
	return h
}

// unitAt returns the unit that starts at layer i — a Conv2D, then
// optionally a BatchNorm, then optionally ReLU — its layers' names, and
// how many layers it spans (0 when layer i is not a convolution).
func (s *Sequential) unitAt(i int) (Unit, unitNames, int) {
	conv, ok := s.Layers[i].(*Conv2D)
	if !ok {
		return Unit{}, unitNames{}, 0
	}
	u, names, n := Unit{Conv: conv}, unitNames{conv: strconv.Itoa(i)}, 1
	if i+n < len(s.Layers) {
		if bn, ok := s.Layers[i+n].(*BatchNorm); ok {
			u.BN, names.bn = bn, strconv.Itoa(i+n)
			n++
		}
	}
	if i+n < len(s.Layers) {
		if a, ok := s.Layers[i+n].(Activation); ok && a == ReLU {
			u.ReLU, names.relu = true, strconv.Itoa(i+n)
			n++
		}
	}
	return u, names, n
}

// Children implements Container: the layers, named by index.
func (s *Sequential) Children() []Child { return indexed(s.Layers) }

// Params implements Layer.
func (s *Sequential) Params() []Param { return childParams(s.Children()) }

// Buffers implements Buffered.
func (s *Sequential) Buffers() []Param { return childBuffers(s.Children()) }
