package nn

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/tensor"
)

// LayerCall is one layer call of a forward pass, as Ctx.Observe sees it.
type LayerCall struct {
	// Path is the call's dotted name, as in Summary: "layer4",
	// "layer4.1.conv2", "classifier.6".
	Path  string
	Layer Layer
	// In is the layer's input and Out its output (nil if it failed).
	In, Out *ag.Var
	// Leaf is set when the layer called no other layer: a convolution,
	// not the block around it.
	Leaf bool
}

// FeatureInfo describes one output of a FeatureExtractor, as timm's
// feature_info does.
type FeatureInfo struct {
	Name string `json:"name"`
	// Shape is one example's output at the traced input: [H, W, C] for a
	// map, [F] for a vector.
	Shape    []int `json:"shape"`
	Channels int   `json:"channels"` // C of a map, F of a vector
	// Stride is how many input pixels one output pixel spans: the input's
	// height over the map's, rounded (4 for ResNet's layer1, 32 for its
	// layer4); 0 for a vector.
	Stride int `json:"stride"`
}

// FeatureExtractor returns the outputs of named layers of a model in one
// forward pass: timm's features_only, torchvision's
// create_feature_extractor. The pass stops once the last of them has
// run, so the layers after it (a classifier) cost nothing; it does so
// by unwinding the model's Forward, which therefore must call its layers
// on the caller's goroutine, as every zoo model does.
//
//	fx, err := nn.NewFeatureExtractor(resnet, nil, "layer1", "layer2", "layer3", "layer4")
//	maps, err := fx.Extract(batch) // [N 56 56 256], [N 28 28 512], ... at 224×224
type FeatureExtractor struct {
	model Layer
	names []string
	info  []FeatureInfo
	// fuse is set when no name is a layer a fused unit would skip (its
	// convolution, batch norm or ReLU), so that units may fuse.
	fuse bool
	// packs keeps the fused units' filters packed between Extract calls.
	packs *PackCache
}

// NewFeatureExtractor returns an extractor of the outputs of model's
// layers called names (dotted call paths, as Summary lists them). It
// traces model once on a zero example of shape in ([H, W, C]; nil for
// the model's About().Input) to check that each name is called exactly
// once and to tell each output's shape, channels and stride. An unknown
// name is an error listing the model's top-level layers.
func NewFeatureExtractor(model Layer, in []int, names ...string) (*FeatureExtractor, error) {
	if len(in) == 0 {
		in = AboutOf(model).Input
	}
	if len(in) == 0 {
		return nil, fmt.Errorf("nn.FeatureExtractor: the model tells no input shape; give one")
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("nn.FeatureExtractor: no layer names")
	}
	for i, n := range names {
		if slices.Contains(names[:i], n) {
			return nil, fmt.Errorf("nn.FeatureExtractor: layer %q named twice", n)
		}
	}
	f := &FeatureExtractor{model: model, names: slices.Clone(names), packs: NewPackCache()}
	tp := ag.NewTape()
	tp.SetGradEnabled(false)
	defer tp.Reset()
	x := ag.Const(tensor.Zeros(append([]int{1}, in...)...))
	inUnit := false
	outs, err := f.Forward(&Ctx{Tape: tp, Observe: func(call LayerCall) *ag.Var {
		if slices.Contains(f.names, call.Path) {
			switch call.Layer.(type) {
			case *Conv2D, *BatchNorm, Activation:
				inUnit = true
			}
		}
		return call.Out
	}}, x)
	if err != nil {
		return nil, err
	}
	f.fuse = !inUnit
	for i, o := range outs {
		s := o.Shape()[1:]
		fi := FeatureInfo{Name: names[i], Shape: s, Channels: s[len(s)-1]}
		if len(s) == 3 && len(in) == 3 && s[0] > 0 {
			fi.Stride = int(math.Round(float64(in[0]) / float64(s[0])))
		}
		f.info = append(f.info, fi)
	}
	return f, nil
}

// Info returns what each output is, in the order of the names.
func (f *FeatureExtractor) Info() []FeatureInfo { return slices.Clone(f.info) }

// Names returns the layers whose outputs f returns.
func (f *FeatureExtractor) Names() []string { return slices.Clone(f.names) }

// stopPass ends a forward pass early, once every wanted output is in.
type stopPass struct{}

// Forward runs the model on x in the context c (which may record
// gradients, or train) until every named layer has run, and returns
// their outputs in the order of the names. It is an error if the pass
// fails, calls no layer of a name, or calls one twice before the pass
// stops (a shared layer has no single output).
func (f *FeatureExtractor) Forward(c *Ctx, x *ag.Var) (outs []*ag.Var, err error) {
	outs = make([]*ag.Var, len(f.names))
	calls := make([]int, len(f.names))
	found := 0
	var top []string
	prev, depth, fused := c.Observe, len(c.path), c.fuseObserved
	c.fuseObserved = f.fuse && prev == nil
	c.Observe = func(call LayerCall) *ag.Var {
		y := call.Out
		if prev != nil {
			y = prev(call)
		}
		if !strings.Contains(call.Path, ".") && !slices.Contains(top, call.Path) {
			top = append(top, call.Path)
		}
		if i := slices.Index(f.names, call.Path); i >= 0 {
			calls[i]++
			outs[i] = y
			if calls[i] == 1 {
				found++
			}
			// The rest of the pass is not needed: stop it. A named layer
			// called again after this (a shared one) goes unseen.
			if found == len(f.names) && y != nil {
				panic(stopPass{})
			}
		}
		return y
	}
	defer func() {
		c.Observe, c.path, c.fuseObserved = prev, c.path[:depth], fused
		if r := recover(); r != nil {
			if _, ok := r.(stopPass); !ok {
				panic(r)
			}
		}
		if err == nil {
			err = f.check(c, outs, calls, top)
		}
		if err != nil {
			outs = nil
		}
	}()
	f.model.Forward(c, x)
	return outs, nil
}

func (f *FeatureExtractor) check(c *Ctx, outs []*ag.Var, calls []int, top []string) error {
	if err := c.Tape.Err(); err != nil {
		return fmt.Errorf("nn.FeatureExtractor: %w", err)
	}
	for i, n := range f.names {
		switch {
		case calls[i] == 0:
			return fmt.Errorf("nn.FeatureExtractor: the forward pass calls no layer %q; its top-level layers: %s", n, strings.Join(top, ", "))
		case calls[i] > 1:
			return fmt.Errorf("nn.FeatureExtractor: the forward pass calls layer %q %d times; want once", n, calls[i])
		case outs[i] == nil:
			return fmt.Errorf("nn.FeatureExtractor: layer %q gave no output", n)
		}
	}
	return nil
}

// Extract runs the model at inference (no gradients, batch norms on
// their running statistics) on the batch x and returns the named
// layers' outputs as new tensors, each with x's batch first.
func (f *FeatureExtractor) Extract(x *tensor.Tensor) ([]*tensor.Tensor, error) {
	if x == nil || x.Rank() < 2 || x.Dim(0) < 1 {
		return nil, fmt.Errorf("nn.FeatureExtractor: want a batch [N, ...] with N ≥ 1")
	}
	tp := ag.NewTape()
	tp.SetGradEnabled(false)
	defer tp.Reset()
	vs, err := f.Forward(&Ctx{Tape: tp, Packs: f.packs}, ag.Const(x))
	if err != nil {
		return nil, err
	}
	out := make([]*tensor.Tensor, len(vs))
	for i, v := range vs {
		out[i] = v.Value().Clone()
	}
	return out, nil
}

// Embed runs Extract and returns the first named layer's output as one
// vector per example, [N, C]: a map [N, H, W, C] averaged over its
// positions (global average pooling), a vector output as it is. It is
// what a retrieval index or a linear probe takes.
func (f *FeatureExtractor) Embed(x *tensor.Tensor) (*tensor.Tensor, error) {
	outs, err := f.Extract(x)
	if err != nil {
		return nil, err
	}
	t := outs[0]
	s := t.Shape()
	if len(s) != 4 {
		return t.Reshape(s[0], t.Len()/s[0])
	}
	n, hw, c := s[0], s[1]*s[2], s[3]
	out := tensor.Zeros(n, c)
	d, o := t.Data(), out.Data()
	acc := make([]float64, c)
	for i := range n {
		clear(acc)
		for p := range hw {
			for k, v := range d[(i*hw+p)*c : (i*hw+p+1)*c] {
				acc[k] += float64(v)
			}
		}
		for k := range c {
			o[i*c+k] = float32(acc[k] / float64(hw))
		}
	}
	return out, nil
}
