// Package models is fovea's model zoo, with a registry by name so that
// the fovea command (and any program) can build a model from a string.
//
//	spec, err := models.Lookup("lenet5")
//	if err != nil { ... }
//	m, err := spec.New(models.Options{Classes: 10, Seed: 1})
//	fmt.Println(nn.Summary(m, spec.Input...))
package models
