package onnx

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/internal/kern"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/tensor"
)

// TestConvTransposeGradients checks ConvTranspose's input and filter
// gradients (the adjoint convolution's forward and backward-filter
// passes) against central differences: strided with output padding,
// dilated, plain.
func TestConvTransposeGradients(t *testing.T) {
	for _, p := range []kern.Conv{{KH: 3, KW: 3, SH: 2, SW: 2, PadT: 1, PadB: 1, PadL: 1, PadR: 1, DH: 1, DW: 1, Cout: 4},
		{KH: 2, KW: 2, SH: 1, SW: 1, DH: 2, DW: 2, Cout: 4}, {KH: 2, KW: 2, SH: 1, SW: 1, DH: 1, DW: 1, Cout: 4}} {
		rng := rand.New(rand.NewPCG(1, 2))
		x := ag.Param(tensor.RandNormal(rng, 0, 1, 1, 4, 4, 4))
		w := ag.Param(tensor.RandNormal(rng, 0, 1, p.KH, p.KW, 3, 4))
		l := &convTLayer{w: w, p: p}
		if p.SH == 2 {
			l.pad = [2]int{1, 1}
		}
		tp := ag.NewTape()
		f := func() (float64, *ag.Var) {
			y := l.Forward(&nn.Ctx{Tape: tp}, x)
			if tp.Err() != nil {
				t.Fatal(tp.Err())
			}
			s := 0.0
			for i, v := range y.Value().Data() {
				s += float64(v) * float64(i%7-3)
			}
			return s, y
		}
		_, y := f()
		r := make([]float32, y.Value().Len())
		for i := range r {
			r[i] = float32(i%7 - 3)
		}
		loss := tp.Apply(ag.Func{Name: "p", Forward: func(o []float32, in [][]float32) {
			s := 0.0
			for i, v := range in[0] {
				s += float64(v) * float64(r[i])
			}
			o[0] = float32(s)
		}, Backward: func(dxs [][]float32, dy, _ []float32, _ [][]float32) { kscale(dxs[0], dy[0], r) }}, []int{}, y)
		tp.Backward(loss)
		gx, gw := append([]float32(nil), x.Grad().Data()...), append([]float32(nil), w.Grad().Data()...)
		tp.Reset()
		for _, c := range []struct {
			name string
			v    *ag.Var
			g    []float32
		}{{"x", x, gx}, {"w", w, gw}} {
			d := c.v.Value().Data()
			for _, i := range []int{0, 5, 17, len(d) - 1} {
				v := d[i]
				d[i] = v + 1e-2
				lp, _ := f()
				tp.Reset()
				d[i] = v - 1e-2
				lm, _ := f()
				tp.Reset()
				d[i] = v
				num := (lp - lm) / 2e-2
				if math.Abs(num-float64(c.g[i])) > 1e-2*math.Max(1, math.Abs(num)) {
					t.Errorf("%+v %s[%d]: analytic %g numeric %g", p, c.name, i, c.g[i], num)
				}
			}
		}
	}
}
