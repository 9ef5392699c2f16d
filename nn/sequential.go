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

// Forward implements Layer. At inference a convolution followed by a
// batch norm and/or a ReLU runs as one fused op (see ConvBN).
func (s *Sequential) Forward(c *Ctx, x *ag.Var) *ag.Var {
	for i := 0; i < len(s.Layers); i++ {
		if u, n := s.unitAt(i); n > 1 && c.fusable(u.Conv, u.BN, x) {
			x = u.Forward(c, x, nil)
			i += n - 1
			continue
		}
		x = c.Call(strconv.Itoa(i), s.Layers[i], x)
	}
	return x
}

// unitAt returns the fusable unit that starts at layer i — a Conv2D, then
// optionally a BatchNorm, then optionally ReLU — and how many layers it
// spans (0 when layer i is not a convolution).
func (s *Sequential) unitAt(i int) (ConvBN, int) {
	conv, ok := s.Layers[i].(*Conv2D)
	if !ok {
		return ConvBN{}, 0
	}
	u, n := ConvBN{ConvName: strconv.Itoa(i), Conv: conv}, 1
	if i+n < len(s.Layers) {
		if bn, ok := s.Layers[i+n].(*BatchNorm); ok {
			u.BN, u.BNName = bn, strconv.Itoa(i+n)
			n++
		}
	}
	if i+n < len(s.Layers) {
		if a, ok := s.Layers[i+n].(Activation); ok && a == ReLU {
			u.ReLU = true
			n++
		}
	}
	return u, n
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
