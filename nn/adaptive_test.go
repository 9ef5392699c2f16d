package nn

import (
	"math"
	"testing"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/tensor"
)

// adaptiveRef is PyTorch's adaptive average pooling of one NHWC image.
func adaptiveRef(x []float32, h, w, c, oh, ow int) []float32 {
	y := make([]float32, oh*ow*c)
	for i := range oh {
		h0, h1 := i*h/oh, ((i+1)*h+oh-1)/oh
		for j := range ow {
			w0, w1 := j*w/ow, ((j+1)*w+ow-1)/ow
			for k := range c {
				var s float32
				for a := h0; a < h1; a++ {
					for b := w0; b < w1; b++ {
						s += x[(a*w+b)*c+k]
					}
				}
				y[(i*ow+j)*c+k] = s / float32((h1-h0)*(w1-w0))
			}
		}
	}
	return y
}

func TestAdaptiveAvgPool2D(t *testing.T) {
	r := rng()
	for _, tc := range []struct{ h, w, c, oh, ow int }{
		{7, 7, 3, 7, 7}, {14, 14, 2, 7, 7}, {1, 1, 5, 7, 7}, {2, 3, 2, 6, 6}, {4, 2, 3, 2, 6}, {6, 6, 1, 1, 1},
	} {
		x := ag.Param(tensor.RandNormal(r, 0, 1, 1, tc.h, tc.w, tc.c))
		p := AdaptiveAvgPool2D{OutH: tc.oh, OutW: tc.ow}
		tp := ag.NewTape()
		y := p.Forward(&Ctx{Tape: tp}, x)
		if err := tp.Err(); err != nil {
			t.Fatalf("%+v: %v", tc, err)
		}
		want := adaptiveRef(x.Value().Data(), tc.h, tc.w, tc.c, tc.oh, tc.ow)
		got := y.Value().Data()
		if s := y.Shape(); s[1] != tc.oh || s[2] != tc.ow || s[3] != tc.c {
			t.Fatalf("%+v: shape %v", tc, s)
		}
		for i := range want {
			if math.Abs(float64(got[i]-want[i])) > 1e-5 {
				t.Fatalf("%+v: y[%d] = %v, want %v", tc, i, got[i], want[i])
			}
		}
		// The gradient of Σ r·y is the adjoint of the pooling applied to r.
		k := tc.oh * tc.ow * tc.c
		rv := tensor.RandNormal(r, 0, 1, k, 1)
		loss := tp.Dense(tp.Flatten(y), ag.Const(rv), nil)
		if err := tp.Backward(loss); err != nil {
			t.Fatal(err)
		}
		gx := x.Grad().Data()
		for idx := range gx {
			// Perturbation-free reference: d(Σ r·y)/dx[idx] from the linear map.
			e := make([]float32, len(gx))
			e[idx] = 1
			col := adaptiveRef(e, tc.h, tc.w, tc.c, tc.oh, tc.ow)
			var ref float32
			for i, v := range col {
				ref += v * rv.Data()[i]
			}
			if math.Abs(float64(gx[idx]-ref)) > 1e-5 {
				t.Fatalf("%+v: grad[%d] = %v, want %v", tc, idx, gx[idx], ref)
			}
		}
		tp.Reset()
	}
	if err := (AdaptiveAvgPool2D{OutH: 7, OutW: 7}).Fits(13, 13); err == nil {
		t.Error("13×13 to 7×7 fits?")
	}
}
