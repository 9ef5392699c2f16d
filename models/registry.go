package models

import (
	"fmt"
	"sort"
	"strings"

	"github.com/foveaml/fovea/nn"
)

// Options are what every model constructor of the registry takes.
type Options struct {
	Classes int    // number of classes; 0 takes the model's default
	Seed    uint64 // seeds the initial weights
}

// Spec is a model of the registry: how to build it and the shape of one
// input example (H, W, C).
type Spec struct {
	Name  string
	Doc   string
	Input []int
	New   func(Options) (nn.Layer, error)
}

var registry = map[string]Spec{}

// Register adds a model to the registry; it panics on a duplicate name
// (a programming error, at start-up).
func Register(s Spec) {
	if _, dup := registry[s.Name]; dup {
		panic("models: " + s.Name + " registered twice")
	}
	registry[s.Name] = s
}

// Lookup returns the registered model called name, or an error listing
// the names there are.
func Lookup(name string) (Spec, error) {
	s, ok := registry[strings.ToLower(name)]
	if !ok {
		return Spec{}, fmt.Errorf("unknown model %q; known: %s", name, strings.Join(Names(), ", "))
	}
	return s, nil
}

// Names returns the registered model names, sorted.
func Names() []string {
	var ns []string
	for n := range registry {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}

func init() {
	for _, v := range []struct {
		name string
		act  nn.Activation
		doc  string
	}{
		{"lenet5", nn.ReLU, "LeNet-5, modern form (ReLU, average pooling), 28×28×1 input, 61,706 parameters"},
		{"lenet5-tanh", nn.Tanh, "LeNet-5 with tanh activations, 28×28×1 input"},
	} {
		Register(Spec{Name: v.name, Doc: v.doc, Input: []int{28, 28, 1}, New: func(o Options) (nn.Layer, error) {
			return NewLeNet5(LeNetConfig{Classes: o.Classes, Act: v.act, Seed: o.Seed})
		}})
	}
	Register(Spec{Name: "lenet5-classic", Input: []int{28, 28, 1},
		Doc: "LeNet-5 as in LeCun et al. 1998: trainable subsampling, C3's connection table, scaled tanh; 60,850 trained parameters",
		New: func(o Options) (nn.Layer, error) {
			return NewLeNet5Classic(LeNetConfig{Classes: o.Classes, Seed: o.Seed})
		}})
}
