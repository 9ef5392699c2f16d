package ag

import (
	"math"
	"strings"
	"testing"

	"github.com/foveaml/fovea/tensor"
)

// Conv2DFused equals the ops it fuses, run one after another, for every
// combination of its parts, with and without Filters (whose packed filter
// and folded batch norm the second call reads).
func TestConv2DFusedMatchesOps(t *testing.T) {
	r := newRand(3)
	x, w := randn(r, 2, 6, 7, 5), randn(r, 3, 3, 5, 20)
	o := Conv{SH: 1, SW: 1, PadT: 1, PadB: 1, PadL: 1, PadR: 1}
	bias, gamma, beta, res := randn(r, 20), randn(r, 20), randn(r, 20), randn(r, 2, 6, 7, 20)
	stats := NewBatchNormStats(20)
	copy(stats.Mean.Data(), randn(r, 20).Value().Data())
	for i, v := range randn(r, 20).Value().Data() {
		stats.Var.Data()[i] = 0.5 + v*v
	}
	for mask := range 16 {
		var f Fused
		if mask&1 != 0 {
			f.Bias = bias
		}
		if mask&2 != 0 {
			f.Gamma, f.Beta, f.Stats = gamma, beta, stats
		}
		if mask&4 != 0 {
			f.Res = res
		}
		f.ReLU = mask&8 != 0
		tp := NewTape()
		tp.SetGradEnabled(false)
		got := tp.Conv2DFused(x, w, o, f)
		kept := f
		kept.Filters = new(Filters)
		tp.Conv2DFused(x, w, o, kept)
		again := tp.Conv2DFused(x, w, o, kept)
		want := tp.Conv2D(x, w, f.Bias, o)
		if f.Stats != nil {
			want = tp.BatchNorm(want, gamma, beta, stats, false)
		}
		if f.Res != nil {
			want = tp.Add(want, res)
		}
		if f.ReLU {
			want = tp.ReLU(want)
		}
		if err := tp.Err(); err != nil {
			t.Fatal(err)
		}
		if !got.Value().SameShape(want.Value()) {
			t.Fatalf("parts %04b: shape %v, want %v", mask, got.Shape(), want.Shape())
		}
		for i, v := range want.Value().Data() {
			if g := got.Value().Data()[i]; math.Abs(float64(g-v)) > 1e-4*(1+math.Abs(float64(v))) {
				t.Fatalf("parts %04b: [%d] = %v, want %v", mask, i, g, v)
			}
			if g := again.Value().Data()[i]; g != got.Value().Data()[i] {
				t.Fatalf("parts %04b, filters kept: [%d] = %v, want %v as without", mask, i, g, got.Value().Data()[i])
			}
		}
	}
}

func TestConv2DFusedErrors(t *testing.T) {
	r := newRand(4)
	x, w := Const(tensor.RandNormal(r, 0, 1, 1, 4, 4, 3)), randn(r, 3, 3, 3, 8)
	stats := NewBatchNormStats(8)
	for _, c := range []struct {
		name, want string
		grad       bool
		f          Fused
	}{
		{"needs a gradient", "computes no gradients", true, Fused{}},
		{"bias length", "bias has shape [7]", false, Fused{Bias: randn(r, 7)}},
		{"gamma without stats", "needs gamma, beta and running statistics", false, Fused{Gamma: randn(r, 8), Beta: randn(r, 8)}},
		{"stats length", "running statistic has shape [9]", false, Fused{Gamma: randn(r, 8), Beta: randn(r, 8), Stats: NewBatchNormStats(9)}},
		{"residual shape", "residual has shape [1 4 4 8]", false, Fused{Gamma: randn(r, 8), Beta: randn(r, 8), Stats: stats, Res: randn(r, 1, 4, 4, 8)}},
	} {
		tp := NewTape()
		tp.SetGradEnabled(c.grad)
		if y := tp.Conv2DFused(x, w, Conv{}, c.f); y != nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if err := tp.Err(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// ConcatConv2DFused equals the Concat of the parts' Conv2DFused bit for
// bit (a 1×1 and two 3×3 convolutions of different inputs and widths,
// with and without batch norm, Filters kept), and refuses what it cannot
// join.
func TestConcatConv2DFused(t *testing.T) {
	r := newRand(5)
	x1, x2 := randn(r, 2, 7, 7, 6), randn(r, 2, 7, 7, 9)
	pad := Conv{PadT: 1, PadB: 1, PadL: 1, PadR: 1}
	stats := NewBatchNormStats(40)
	for i, v := range randn(r, 40).Value().Data() {
		stats.Var.Data()[i] = 0.5 + v*v
	}
	bn := Fused{Gamma: randn(r, 40), Beta: randn(r, 40), Stats: stats, ReLU: true, Filters: new(Filters)}
	parts := []ConvPart{
		{X: x1, W: randn(r, 1, 1, 6, 16), Fused: Fused{Bias: randn(r, 16)}},
		{X: x2, W: randn(r, 3, 3, 9, 40), Conv: pad, Fused: bn},
		{X: x1, W: randn(r, 3, 3, 6, 24), Conv: pad, Fused: Fused{ReLU: true, Filters: new(Filters)}},
	}
	tp := NewTape()
	tp.SetGradEnabled(false)
	var ys []*Var
	for _, p := range parts {
		ys = append(ys, tp.Conv2DFused(p.X, p.W, p.Conv, p.Fused))
	}
	want := tp.Concat(ys...)
	got := tp.ConcatConv2DFused(parts...)
	if err := tp.Err(); err != nil {
		t.Fatal(err)
	}
	if !got.Value().SameShape(want.Value()) {
		t.Fatalf("shape %v, want %v", got.Shape(), want.Shape())
	}
	for i, v := range want.Value().Data() {
		if g := got.Value().Data()[i]; g != v {
			t.Fatalf("[%d] = %v, want %v as Concat of the parts", i, g, v)
		}
	}

	for _, c := range []struct {
		name, want string
		parts      []ConvPart
	}{
		{"no parts", "no parts", nil},
		{"residual", "part 1 has a residual", []ConvPart{parts[0], {X: x1, W: parts[0].W, Fused: Fused{Res: ys[0]}}}},
		{"sizes", "must agree in all but their channels", []ConvPart{parts[0], {X: x1, W: parts[0].W, Conv: Conv{SH: 2, SW: 2}}}},
	} {
		tp := NewTape()
		tp.SetGradEnabled(false)
		if y := tp.ConcatConv2DFused(c.parts...); y != nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if err := tp.Err(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}
