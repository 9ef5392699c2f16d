package inspect_test

import (
	"fmt"

	"github.com/foveaml/fovea/inspect"
	"github.com/foveaml/fovea/models"
)

// What LeNet-5 costs per 28×28 digit.
func ExampleProfile() {
	m, _ := models.NewLeNet5(models.LeNetConfig{})
	p, _ := inspect.Profile(m, 28, 28, 1)
	fmt.Println(p.Params, "parameters,", p.MACs, "MACs")
	for _, l := range p.Layers {
		if l.MACs > 0 {
			fmt.Println(l.Name, l.Kind, l.MACs)
		}
	}
	// Output:
	// 61706 parameters, 416520 MACs
	// features.0 Conv2D 117600
	// features.3 Conv2D 240000
	// classifier.1 Dense 48000
	// classifier.3 Dense 10080
	// classifier.5 Dense 840
}
