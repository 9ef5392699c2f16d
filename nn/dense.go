package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/tensor"
)

// DenseConfig describes a fully connected layer from In to Out features.
// A bias is added unless NoBias; weights and bias default to PyTorch's
// initialisation (TorchDefault).
type DenseConfig struct {
	In, Out        int
	NoBias         bool
	Init, BiasInit Init
}

// Dense is a fully connected layer: [N, In] → [N, Out]. Its parameters
// are "weight", [In, Out] (Keras' layout; PyTorch's Linear stores the
// transpose), and "bias", [Out].
type Dense struct {
	Cfg          DenseConfig
	Weight, Bias *ag.Var
}

// NewDense returns a dense layer initialised from rng.
func NewDense(cfg DenseConfig, rng *rand.Rand) (*Dense, error) {
	if cfg.In < 1 || cfg.Out < 1 {
		return nil, fmt.Errorf("nn.Dense: features in %d, out %d: both must be at least 1", cfg.In, cfg.Out)
	}
	d := &Dense{Cfg: cfg}
	w := tensor.Zeros(cfg.In, cfg.Out)
	orDefault(cfg.Init)(w.Data(), cfg.In, cfg.Out, rng)
	d.Weight = ag.Param(w)
	if !cfg.NoBias {
		b := tensor.Zeros(cfg.Out)
		orDefault(cfg.BiasInit)(b.Data(), cfg.In, cfg.Out, rng)
		d.Bias = ag.Param(b)
	}
	return d, nil
}

// Forward implements Layer.
func (d *Dense) Forward(c *Ctx, x *ag.Var) *ag.Var { return c.Tape.Dense(x, d.Weight, d.Bias) }

// Params implements Layer.
func (d *Dense) Params() []Param {
	ps := []Param{{"weight", d.Weight}}
	if d.Bias != nil {
		ps = append(ps, Param{"bias", d.Bias})
	}
	return ps
}
