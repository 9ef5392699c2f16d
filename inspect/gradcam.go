package inspect

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/tensor"
)

// Map is one example's explanation: where the model looked for Class.
type Map struct {
	// Layer is the layer the map was computed at ("" for Saliency: the
	// input).
	Layer string `json:"layer,omitempty"`
	Class int    `json:"class"`
	// Logits and Probs are the model's outputs for the example.
	Logits []float32 `json:"logits"`
	Probs  []float32 `json:"probabilities"`
	// H, W and Values are the map at the layer's resolution, row-major,
	// as the method defines it, not rescaled.
	H      int       `json:"height"`
	W      int       `json:"width"`
	Values []float32 `json:"values"`
	// Weights are Grad-CAM's channel weights α_k.
	Weights []float32 `json:"channel_weights,omitempty"`
}

// GradCAM returns the Grad-CAM of Selvaraju et al. (2017) for the
// example x ([1, H, W, C], or [H, W, C]) at the layer called layer (a
// dotted call path whose output is a [1, h, w, k] map): with A that map
// and y the class's logit, α_k = mean over (i, j) of ∂y/∂A[i, j, k] and
// the map is ReLU(Σ_k α_k A[·, ·, k]). class < 0 takes the top class.
// The model runs at inference (batch norms on their running statistics,
// no dropout); its parameters' gradients are left as they were. The
// parameters are frozen during the call, so it must not run while the
// model trains, nor beside another GradCAM or Saliency of the model.
func GradCAM(model nn.Layer, x *tensor.Tensor, layer string, class int) (*Map, error) {
	if layer == "" {
		return nil, fmt.Errorf("inspect.GradCAM: no layer named")
	}
	var a *ag.Var
	calls := 0
	observe := func(call nn.LayerCall) *ag.Var {
		if call.Path != layer || call.Out == nil {
			return call.Out
		}
		calls++
		if calls == 1 {
			// A leaf copy of the map: Backward accumulates ∂y/∂A into it.
			a = ag.Param(call.Out.Value().Clone())
			return a
		}
		return call.Out
	}
	m, err := explain(model, x, class, nil, observe, func(seen []string) error {
		switch {
		case calls == 0:
			return fmt.Errorf("the forward pass calls no layer %q; its top-level layers: %s", layer, strings.Join(seen, ", "))
		case calls > 1:
			return fmt.Errorf("the forward pass calls layer %q %d times; want once", layer, calls)
		case a.Value().Rank() != 4:
			return fmt.Errorf("layer %q gives %v, not a map [1, h, w, channels]; name a convolutional layer or stage", layer, a.Shape())
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("inspect.GradCAM: %w", err)
	}
	if a.Grad() == nil {
		return nil, fmt.Errorf("inspect.GradCAM: the model's output does not depend on layer %q", layer)
	}
	s := a.Shape()
	h, w, k := s[1], s[2], s[3]
	av, gv := a.Value().Data(), a.Grad().Data()
	alpha := make([]float64, k)
	for p := range h * w {
		for c := range k {
			alpha[c] += float64(gv[p*k+c])
		}
	}
	m.Weights = make([]float32, k)
	for c := range alpha {
		alpha[c] /= float64(h * w)
		m.Weights[c] = float32(alpha[c])
	}
	m.Layer, m.H, m.W, m.Values = layer, h, w, make([]float32, h*w)
	for p := range h * w {
		var sum float64
		for c := range k {
			sum += alpha[c] * float64(av[p*k+c])
		}
		m.Values[p] = float32(max(sum, 0))
	}
	return m, nil
}

// Saliency returns the saliency map of Simonyan et al. (2013) for the
// example x ([1, H, W, C], or [H, W, C]): the gradient of the class's
// logit with respect to the input, its absolute value's maximum over the
// channels at each pixel. class < 0 takes the top class.
func Saliency(model nn.Layer, x *tensor.Tensor, class int) (*Map, error) {
	var in *ag.Var
	m, err := explain(model, x, class, func(x *tensor.Tensor) *ag.Var {
		in = ag.Param(x.Clone())
		return in
	}, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("inspect.Saliency: %w", err)
	}
	s := in.Shape()
	h, w, c := s[1], s[2], s[3]
	g := in.Grad().Data()
	m.H, m.W, m.Values = h, w, make([]float32, h*w)
	for p := range h * w {
		var v float32
		for _, d := range g[p*c : (p+1)*c] {
			v = max(v, float32(math.Abs(float64(d))))
		}
		m.Values[p] = v
	}
	return m, nil
}

// explain runs model on x with the observer observe, picks the class,
// and backpropagates its logit: the common part of GradCAM and Saliency.
// input makes the input Var (a constant by default); check, if not nil,
// vets the pass given the top-level layers it called.
func explain(model nn.Layer, x *tensor.Tensor, class int, input func(*tensor.Tensor) *ag.Var, observe func(nn.LayerCall) *ag.Var, check func(seen []string) error) (*Map, error) {
	if x == nil {
		return nil, fmt.Errorf("no input")
	}
	if x.Rank() == 3 {
		x, _ = x.Reshape(append([]int{1}, x.Shape()...)...)
	}
	if x.Rank() != 4 || x.Dim(0) != 1 {
		return nil, fmt.Errorf("input of shape %v: want one example [1, H, W, C] or [H, W, C]", x.Shape())
	}
	// The parameters are frozen for the pass, so that the gradient
	// reaches only what is explained and the model's own are untouched.
	ps := model.Params()
	was := make([]bool, len(ps))
	for i, p := range ps {
		was[i] = p.Var.RequiresGrad()
		p.Var.SetRequiresGrad(false)
	}
	defer func() {
		for i, p := range ps {
			p.Var.SetRequiresGrad(was[i])
		}
	}()
	tp := ag.NewTape()
	defer tp.Reset()
	var seen []string
	c := &nn.Ctx{Tape: tp, Observe: func(call nn.LayerCall) *ag.Var {
		if !strings.Contains(call.Path, ".") && !slices.Contains(seen, call.Path) {
			seen = append(seen, call.Path)
		}
		if observe != nil {
			return observe(call)
		}
		return call.Out
	}}
	xv := ag.Const(x)
	if input != nil {
		xv = input(x)
	}
	logits := model.Forward(c, xv)
	if err := tp.Err(); err != nil {
		return nil, err
	}
	if check != nil {
		if err := check(seen); err != nil {
			return nil, err
		}
	}
	if s := logits.Shape(); len(s) != 2 || s[0] != 1 {
		return nil, fmt.Errorf("the model gives %v; want [1, classes] logits", s)
	}
	scores := logits.Value().Data()
	k := len(scores)
	if class >= k {
		return nil, fmt.Errorf("class %d: the model has %d classes (0 to %d)", class, k, k-1)
	}
	if class < 0 {
		class = argmax(scores)
	}
	m := &Map{Class: class, Logits: slices.Clone(scores), Probs: softmax(scores)}
	// y = logits · one-hot: the class's logit as the one value Backward
	// wants.
	onehot := tensor.Zeros(k, 1)
	onehot.Data()[class] = 1
	y := tp.Dense(logits, ag.Const(onehot), nil)
	if !y.RequiresGrad() {
		return nil, fmt.Errorf("the class's logit does not depend on what is explained")
	}
	if err := tp.Backward(y); err != nil {
		return nil, err
	}
	return m, nil
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// softmax returns the probabilities of the logits v, in float64 inside.
func softmax(v []float32) []float32 {
	top := float64(v[argmax(v)])
	out := make([]float32, len(v))
	var sum float64
	for _, x := range v {
		sum += math.Exp(float64(x) - top)
	}
	for i, x := range v {
		out[i] = float32(math.Exp(float64(x)-top) / sum)
	}
	return out
}

// TopK returns the indices of the k largest values of v, largest first.
func TopK(v []float32, k int) []int {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case v[a] > v[b]:
			return -1
		case v[a] < v[b]:
			return 1
		}
		return 0
	})
	return idx[:min(k, len(idx))]
}

// Upsampled returns the map resized to h×w by bilinear interpolation
// with pixel centres aligned (PyTorch's interpolate with
// align_corners=False, OpenCV's resize) and scaled to [0, 1] by its
// maximum (all zeros stay zeros): what is drawn over the image.
func (m *Map) Upsampled(h, w int) []float32 {
	out := make([]float32, h*w)
	var top float32
	for _, v := range m.Values {
		top = max(top, v)
	}
	if top == 0 || m.H < 1 || m.W < 1 {
		return out
	}
	src := func(i, n, sn int) (int, int, float32) {
		f := (float32(i)+0.5)*float32(sn)/float32(n) - 0.5
		f = max(f, 0)
		i0 := min(int(f), sn-1)
		i1 := min(i0+1, sn-1)
		return i0, i1, f - float32(i0)
	}
	for y := range h {
		y0, y1, fy := src(y, h, m.H)
		for x := range w {
			x0, x1, fx := src(x, w, m.W)
			v := m.Values
			top0 := v[y0*m.W+x0]*(1-fx) + v[y0*m.W+x1]*fx
			bot := v[y1*m.W+x0]*(1-fx) + v[y1*m.W+x1]*fx
			out[y*w+x] = (top0*(1-fy) + bot*fy) / top
		}
	}
	return out
}

// LastConvStage returns the name of the last of model's stages (see
// Stages) that is or holds a convolution, is called once, and outputs a
// map larger than 1×1, for examples of shape in ([H, W, C]): ResNet's
// layer4, VGG's and AlexNet's features, GoogLeNet's inception5b, an
// imported ONNX ResNet's layer4.1.conv2. It is Grad-CAM's usual layer:
// the last that still knows where things are.
func LastConvStage(model nn.Layer, in ...int) (string, error) {
	calls, err := outerCalls(model, in)
	if err != nil {
		return "", fmt.Errorf("inspect.LastConvStage: %w", err)
	}
	for i := len(calls) - 1; i >= 0; i-- {
		c := calls[i]
		n := 0
		for _, o := range calls {
			if o.name == c.name {
				n++
			}
		}
		if s := c.shape; c.conv && n == 1 && len(s) == 3 && s[0]*s[1] > 1 {
			return c.name, nil
		}
	}
	return "", fmt.Errorf("inspect.LastConvStage: no stage of the model convolves to a map larger than 1×1; name one")
}
