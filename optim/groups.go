package optim

import (
	"fmt"
	"math"

	"github.com/foveaml/fovea/nn"
)

// Discriminative splits params into the two groups of discriminative
// fine-tuning: those head selects (a new classifier), at the
// optimiser's learning rate, and the rest (a pretrained backbone), at
// backboneScale times it, ten times slower with 0.1 say. Frozen
// parameters may be in either group: they get no update until they are
// unfrozen, and then learn at their group's rate. Pass the groups to a
// constructor with no plain parameters:
//
//	groups, err := optim.Discriminative(model.Params(), isHead, 0.1)
//	opt, err := optim.NewAdam(nil, optim.AdamConfig{LR: 1e-3}, groups...)
//
// A backboneScale that is not finite and > 0 is an error; an empty group
// is left out.
func Discriminative(params []nn.Param, head func(name string) bool, backboneScale float64) ([]Group, error) {
	if !(backboneScale > 0) || math.IsInf(backboneScale, 0) {
		return nil, fmt.Errorf("optim.Discriminative: backbone learning-rate scale %v; want a finite value > 0", backboneScale)
	}
	var h, b []nn.Param
	for _, p := range params {
		if head(p.Name) {
			h = append(h, p)
		} else {
			b = append(b, p)
		}
	}
	var gs []Group
	if len(b) > 0 {
		gs = append(gs, Group{Params: b, LRScale: backboneScale})
	}
	if len(h) > 0 {
		gs = append(gs, Group{Params: h, LRScale: 1})
	}
	return gs, nil
}
