package augment

import (
	"math"
	"slices"
	"strings"
	"testing"
)

// transpose returns the n×n×c image img transposed.
func transpose(img []float32, n, c int) []float32 {
	out := make([]float32, len(img))
	for y := range n {
		for x := range n {
			copy(out[(y*n+x)*c:(y*n+x+1)*c], img[(x*n+y)*c:(x*n+y+1)*c])
		}
	}
	return out
}

func flipV(img []float32, h, w, c int) []float32 {
	out := make([]float32, len(img))
	for y := range h {
		copy(out[y*w*c:(y+1)*w*c], img[(h-1-y)*w*c:(h-y)*w*c])
	}
	return out
}

func flipH(img []float32, h, w, c int) []float32 {
	out := make([]float32, len(img))
	FlipH(out, img, h, w, c)
	return out
}

func TestAffineIdentities(t *testing.T) {
	rng := newRand(5)
	for _, s := range [][3]int{{1, 1, 1}, {5, 5, 1}, {6, 9, 3}} {
		h, w, c := s[0], s[1], s[2]
		img := randImage(rng, h, w, c)
		for _, p := range []AffineParams{
			{}, {Scale: 1}, {Angle: 0}, {ShearX: 0, ShearY: 0}, {Angle: 360, Scale: 1}, {Angle: -720},
		} {
			for _, in := range []Interp{Bilinear, Nearest} {
				a := &Affine{Interp: in}
				if got := apply(t, a, img, h, w, c, p); maxDiff(got, img) > 1e-6 {
					t.Errorf("%v %+v on %v: not the identity (max diff %g)", in, p, s, maxDiff(got, img))
				}
			}
		}
		for _, a := range []*Affine{Rotation(30), ShearX(20), ShearY(20), Translation(0.2, 0.2), Zoom(0.8, 1.2)} {
			if got := apply(t, a, img, h, w, c, a.Inference(h, w, c)); !slices.Equal(got, img) {
				t.Errorf("%+v at inference is not the identity", *a)
			}
		}
	}
}

func TestRotation90IsTransposeAndFlip(t *testing.T) {
	for _, n := range []int{1, 2, 5, 8} {
		for _, c := range []int{1, 3} {
			img := seq(n, n, c)
			for _, in := range []Interp{Bilinear, Nearest} {
				a := &Affine{Interp: in}
				// A quarter turn counter-clockwise: the top-right corner
				// goes to the top left.
				got := apply(t, a, img, n, n, c, AffineParams{Angle: 90})
				if want := flipV(transpose(img, n, c), n, n, c); maxDiff(got, want) > 1e-5 {
					t.Errorf("%dx%dx%d %v rotation by 90: max diff %g\n got %v\nwant %v", n, n, c, in, maxDiff(got, want), got, want)
				}
				got = apply(t, a, img, n, n, c, AffineParams{Angle: -90})
				if want := flipH(transpose(img, n, c), n, n, c); maxDiff(got, want) > 1e-5 {
					t.Errorf("%dx%dx%d %v rotation by -90: max diff %g", n, n, c, in, maxDiff(got, want))
				}
			}
		}
	}
	// A half turn is both flips, on any shape.
	img := seq(4, 7, 2)
	got := apply(t, &Affine{}, img, 4, 7, 2, AffineParams{Angle: 180})
	if want := flipV(flipH(img, 4, 7, 2), 4, 7, 2); maxDiff(got, want) > 1e-5 {
		t.Errorf("rotation by 180: max diff %g", maxDiff(got, want))
	}
}

func TestTranslationShiftsWithFill(t *testing.T) {
	img := []float32{1, 2, 3, 4, 5, 6} // 2x3
	for _, c := range []struct {
		fill Fill
		want []float32
	}{
		{FillConstant, []float32{7, 1, 2, 7, 4, 5}},
		{FillEdge, []float32{1, 1, 2, 4, 4, 5}},
		{FillReflect, []float32{2, 1, 2, 5, 4, 5}},
		{FillWrap, []float32{3, 1, 2, 6, 4, 5}},
	} {
		for _, in := range []Interp{Bilinear, Nearest} {
			a := &Affine{Fill: c.fill, Value: 7, Interp: in}
			if got := apply(t, a, img, 2, 3, 1, AffineParams{TX: 1}); !slices.Equal(got, c.want) {
				t.Errorf("%v %v shift right by 1: got %v, want %v", c.fill, in, got, c.want)
			}
		}
	}
	// Half a pixel: bilinear averages neighbours.
	got := apply(t, &Affine{Fill: FillEdge}, img, 2, 3, 1, AffineParams{TY: 0.5})
	if want := []float32{1, 2, 3, 2.5, 3.5, 4.5}; maxDiff(got, want) > 1e-6 {
		t.Errorf("shift down by 0.5: got %v, want %v", got, want)
	}
}

func TestShearX45ShiftsRows(t *testing.T) {
	// On a 3-row image the rows' centres sit at y = -1, 0, 1 from the
	// middle, so a 45° shear along x shifts them by -1, 0 and 1 pixels.
	img := seq(3, 4, 1)
	got := apply(t, &Affine{Value: -1}, img, 3, 4, 1, AffineParams{ShearX: 45})
	want := []float32{1, 2, 3, -1, 4, 5, 6, 7, -1, 8, 9, 10}
	if maxDiff(got, want) > 1e-5 {
		t.Errorf("shear x 45°: got %v, want %v", got, want)
	}
	got = apply(t, &Affine{Value: -1}, transpose(seq(4, 4, 1), 4, 1)[:16], 4, 4, 1, AffineParams{ShearY: 0})
	if maxDiff(got, transpose(seq(4, 4, 1), 4, 1)) > 0 {
		t.Error("shear y 0 is not the identity")
	}
}

func TestZoom(t *testing.T) {
	// Magnifying a 4x4 image by 2 about its centre spreads its middle
	// 2x2 over the whole image.
	img := seq(4, 4, 1)
	got := apply(t, &Affine{Interp: Nearest}, img, 4, 4, 1, AffineParams{Scale: 2})
	want := []float32{5, 5, 6, 6, 5, 5, 6, 6, 9, 9, 10, 10, 9, 9, 10, 10}
	// Output centres map to input coordinates ±0.25 from a centre:
	// nearest is exact away from ties.
	if !slices.Equal(got, want) {
		t.Errorf("zoom 2, nearest: got %v, want %v", got, want)
	}
}

func TestAffineMatrixMapsPoints(t *testing.T) {
	p := AffineParams{Angle: 30, ShearX: 10, ShearY: -5, Scale: 1.2, TX: 2, TY: -1}
	m := p.Matrix()
	// Compose by hand: scale, shear x, shear y, rotate, translate.
	x, y := 3.0, -2.0
	x, y = 1.2*x, 1.2*y
	x = x + math.Tan(10*math.Pi/180)*y
	y = y + math.Tan(-5*math.Pi/180)*x
	s, c := math.Sincos(30 * math.Pi / 180)
	x, y = c*x+s*y+2, -s*x+c*y-1
	gx, gy := m[0]*3+m[1]*-2+m[2], m[3]*3+m[4]*-2+m[5]
	if math.Abs(gx-x) > 1e-12 || math.Abs(gy-y) > 1e-12 {
		t.Errorf("matrix maps (3, -2) to (%v, %v), want (%v, %v)", gx, gy, x, y)
	}
	// Apply maps a bright dot where the matrix says.
	h, w := 41, 41
	img := make([]float32, h*w)
	img[(20+5)*w+20+8] = 1 // (8, 5) from the centre pixel
	p = AffineParams{Angle: 90, Scale: 1, TX: 3}
	got := apply(t, &Affine{Interp: Nearest}, img, h, w, 1, p)
	m = p.Matrix()
	ox, oy := int(math.Round(m[0]*8+m[1]*5+m[2])), int(math.Round(m[3]*8+m[4]*5+m[5]))
	if got[(20+oy)*w+20+ox] != 1 {
		t.Errorf("the dot did not land at (%d, %d)", ox, oy)
	}
}

func TestAffineSampleRanges(t *testing.T) {
	a := &Affine{Degrees: [2]float64{-10, 20}, ShearX: [2]float64{5, 6}, Scale: [2]float64{0.5, 0.7}, Translate: [2]float64{0.1, 0.2}}
	rng := newRand(9)
	for range 500 {
		p := a.Sample(rng, 10, 20, 1)
		if p.Angle < -10 || p.Angle > 20 || p.ShearX < 5 || p.ShearX > 6 || p.ShearY != 0 ||
			p.Scale < 0.5 || p.Scale > 0.7 || math.Abs(p.TX) > 2 || math.Abs(p.TY) > 2 {
			t.Fatalf("draw %+v outside the ranges", p)
		}
	}
	for _, c := range []struct {
		a    *Affine
		want string
	}{
		{&Affine{Degrees: [2]float64{10, -10}}, "rotation range"},
		{&Affine{ShearX: [2]float64{-90, 0}}, "x shear"},
		{&Affine{Scale: [2]float64{0, 1}}, "scale range"},
		{&Affine{Translate: [2]float64{-0.1, 0}}, "translation"},
		{&Affine{Interp: Area}, "bilinear or nearest"},
	} {
		if _, _, _, err := c.a.OutShape(4, 4, 1); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", *c.a, err, c.want)
		}
	}
	if err := (&Affine{}).Apply(make([]float32, 4), make([]float32, 4), 2, 2, 1, AffineParams{Scale: 1e-8}); err == nil {
		t.Error("a singular transform: no error")
	}
}
