package nn

import (
	"fmt"
	"reflect"
	"strconv"

	"github.com/foveaml/fovea/ag"
)

// Child is a named sub-layer of a container.
type Child struct {
	Name  string
	Layer Layer
}

// Container is a layer made of named children: its parameters, buffers,
// call paths and state dict are its children's, each under the child's
// name. Module and Sequential implement it.
type Container interface {
	Layer
	Children() []Child
}

// Module holds the children of a hand-written container in the order
// they were declared, each under the one name it was declared with. A
// container embeds it, declares each child once where it builds it with
// Add, and calls it in Forward with Call (or Unit for a convolution and
// its batch norm), which finds the child's name by identity; Params,
// Buffers and Children come from the declarations:
//
//	type Block struct {
//		nn.Module
//		Conv *nn.Conv2D
//		BN   *nn.BatchNorm
//	}
//
//	func NewBlock(conv *nn.Conv2D, bn *nn.BatchNorm) *Block {
//		b := &Block{}
//		b.Conv = nn.Add(&b.Module, "conv", conv) // parameters conv.weight, ...
//		b.BN = nn.Add(&b.Module, "bn", bn)       // bn.weight, bn.running_mean, ...
//		return b
//	}
//
//	func (b *Block) Forward(c *nn.Ctx, x *ag.Var) *ag.Var {
//		return b.Unit(c, x, nn.Unit{Conv: b.Conv, BN: b.BN, ReLU: true}, nil)
//	}
//
// Layers without parameters or buffers (pooling, activations, flatten)
// need no declaration: a container calls them with Ctx.Call under a name
// written at that one call.
type Module struct {
	children []Child
}

// Add declares l as a child of m called name and returns it. Children
// are listed, and their parameters named, in the order of declaration,
// which for the zoo is the order of the forward pass. A child must be a
// pointer (or otherwise comparable) so that Call can find it, and a name
// is declared once: breaking either is a programming error and panics.
func Add[L Layer](m *Module, name string, l L) L {
	if name == "" {
		panic("nn.Add: empty child name")
	}
	if t := reflect.TypeOf(l); t != nil && !t.Comparable() {
		panic(fmt.Sprintf("nn.Add: child %q of type %v is not comparable; declare a pointer", name, t))
	}
	for _, c := range m.children {
		if c.Name == name {
			panic(fmt.Sprintf("nn.Add: child %q declared twice", name))
		}
		if c.Layer == Layer(l) {
			panic(fmt.Sprintf("nn.Add: child %q is child %q again (or equal to it); declare each layer once, as a pointer", name, c.Name))
		}
	}
	m.children = append(m.children, Child{name, l})
	return l
}

// Children implements Container: the declared children, in order.
func (m *Module) Children() []Child { return m.children }

// Params implements Layer: the children's parameters, prefixed with
// their names.
func (m *Module) Params() []Param { return childParams(m.children) }

// Buffers implements Buffered: the children's buffers, prefixed with
// their names.
func (m *Module) Buffers() []Param { return childBuffers(m.children) }

// Call runs the child l on x under the name it was declared with.
func (m *Module) Call(c *Ctx, l Layer, x *ag.Var) *ag.Var {
	return c.Call(m.NameOf(l), l, x)
}

// NameOf returns the name child l was declared with: how a container
// tells the names of its layers (its head, say) without writing them
// again. A layer that was never declared is a programming error in the
// container and panics.
func (m *Module) NameOf(l Layer) string {
	for _, c := range m.children {
		if c.Layer == l {
			return c.Name
		}
	}
	panic(fmt.Sprintf("nn.Module: a %s was called that was never declared with nn.Add", Kind(l)))
}

// Unit runs u, whose convolution and batch norm are children of m, on x
// under their declared names; res, when not nil, gives the residual added
// before the ReLU. At inference it runs as one fused op (see Unit).
func (m *Module) Unit(c *Ctx, x *ag.Var, u Unit, res func() *ag.Var) *ag.Var {
	names := unitNames{conv: m.NameOf(u.Conv), relu: "relu"}
	if u.BN != nil {
		names.bn = m.NameOf(u.BN)
	}
	return u.forward(c, x, names, res)
}

func childParams(cs []Child) []Param {
	var ps []Param
	for _, c := range cs {
		ps = append(ps, Prefix(c.Name, c.Layer.Params())...)
	}
	return ps
}

func childBuffers(cs []Child) []Param {
	var ps []Param
	for _, c := range cs {
		ps = append(ps, Prefix(c.Name, BuffersOf(c.Layer))...)
	}
	return ps
}

// indexed names layers by their position, as Sequential does.
func indexed(ls []Layer) []Child {
	cs := make([]Child, len(ls))
	for i, l := range ls {
		cs[i] = Child{strconv.Itoa(i), l}
	}
	return cs
}

// About is what a model tells about itself beyond its layers: the facts
// that loading, freezing, head replacement and export need. A model
// gives them with an About method, beside its type; the zero value of a
// field means "derive it".
type About struct {
	// Input is the shape of one example, [H, W, C].
	Input []int
	// Heads are the dotted names of the layers that map features to class
	// scores, main classifier last (GoogLeNet's aux1.fc2, aux2.fc2, fc).
	// Nil: the layer owning the model's last parameter.
	Heads []string
	// Flattened maps each dense layer that reads a flattened NHWC map
	// ("classifier.1") to that map's [H, W, C], so that weights from
	// PyTorch's (c, h, w) flatten order can be reordered.
	Flattened map[string][3]int
	// Aux names the auxiliary classifiers that compute only in training
	// (GoogLeNet's aux1, aux2).
	Aux []string
}

// Describer is a model that tells its About.
type Describer interface {
	About() About
}

// AboutOf returns model's About, or the zero value if it tells none.
func AboutOf(model Layer) About {
	if d, ok := model.(Describer); ok {
		return d.About()
	}
	return About{}
}

// AuxModel is a model with auxiliary classifiers that compute only in
// training (GoogLeNet's aux1 and aux2, named in its About().Aux).
type AuxModel interface {
	Layer
	// ForwardAux returns the main logits and, in training, the
	// auxiliary classifiers' logits (else aux is nil).
	ForwardAux(c *Ctx, x *ag.Var) (main *ag.Var, aux []*ag.Var)
}
