package augment

import (
	"math"
	"slices"
	"testing"
)

func TestColorJitter(t *testing.T) {
	rng := newRand(6)
	img := randImage(rng, 4, 5, 3)
	j := ColorJitter{Brightness: 0.4, Contrast: 0.4, Saturation: 0.4}
	if got := apply(t, j, img, 4, 5, 3, j.Inference(4, 5, 3)); !slices.Equal(got, img) {
		t.Error("jitter at inference is not the identity")
	}
	for range 100 {
		p := j.Sample(rng, 4, 5, 3)
		for _, f := range []float64{p.Brightness, p.Contrast, p.Saturation} {
			if f < 0.6 || f > 1.4 {
				t.Fatalf("factor %v outside [0.6, 1.4]", f)
			}
		}
	}
	// Brightness scales; saturation 0 is grey.
	got := apply(t, j, []float32{0.2, 0.4, 0.5}, 1, 1, 3, JitterParams{Brightness: 2, Contrast: 1, Saturation: 1})
	if want := []float32{0.4, 0.8, 1}; maxDiff(got, want) > 1e-6 {
		t.Errorf("brightness 2: got %v, want %v", got, want)
	}
	got = apply(t, j, []float32{0.2, 0.4, 0.5}, 1, 1, 3, JitterParams{Brightness: 1, Contrast: 1, Saturation: 0})
	y := float32(0.299*0.2 + 0.587*0.4 + 0.114*0.5)
	if want := []float32{y, y, y}; maxDiff(got, want) > 1e-6 {
		t.Errorf("saturation 0: got %v, want %v", got, want)
	}
	// Contrast 0 leaves the mean grey level everywhere.
	got = apply(t, j, []float32{0, 1}, 1, 2, 1, JitterParams{Brightness: 1, Contrast: 0, Saturation: 1})
	if want := []float32{0.5, 0.5}; maxDiff(got, want) > 1e-6 {
		t.Errorf("contrast 0: got %v, want %v", got, want)
	}
	if _, _, _, err := (ColorJitter{Brightness: -1}).OutShape(2, 2, 3); err == nil {
		t.Error("negative brightness: no error")
	}
}

func TestColorJitterHue(t *testing.T) {
	j := ColorJitter{Hue: 0.5}
	hue := func(shift float64) JitterParams {
		return JitterParams{Brightness: 1, Contrast: 1, Saturation: 1, Hue: shift}
	}
	// Hue 0 is the identity, exactly.
	img := randImage(newRand(11), 6, 7, 3)
	if got := apply(t, j, img, 6, 7, 3, hue(0)); !slices.Equal(got, img) {
		t.Error("hue 0 is not the identity")
	}
	// Half a turn takes pure red to cyan, either way round; a third
	// takes it to green, two thirds to blue.
	for _, c := range []struct {
		shift float64
		want  []float32
	}{
		{0.5, []float32{0, 1, 1}}, {-0.5, []float32{0, 1, 1}},
		{1.0 / 3, []float32{0, 1, 0}}, {-1.0 / 3, []float32{0, 0, 1}},
	} {
		if got := apply(t, j, []float32{1, 0, 0}, 1, 1, 3, hue(c.shift)); maxDiff(got, c.want) > 1e-6 {
			t.Errorf("hue %v on red: got %v, want %v", c.shift, got, c.want)
		}
	}
	// Against Python's colorsys (hsv_to_rgb((h + shift) % 1, s, v)); a
	// grey pixel has no hue and stays.
	src := []float32{0.2, 0.4, 0.5, 0.9, 0.3, 0.1, 0.6, 0.6, 0.2, 0.3, 0.3, 0.3}
	for _, c := range []struct {
		shift float64
		want  []float32 // for the first three pixels
	}{
		{0.25, []float32{0.45, 0.2, 0.5}},
		{-0.1, nil},
		{0.4, nil},
	} {
		got := apply(t, j, src, 1, 4, 3, hue(c.shift))
		if c.want != nil && maxDiff(got[:3], c.want) > 1e-6 {
			t.Errorf("hue %v on %v: got %v, want %v", c.shift, src[:3], got[:3], c.want)
		}
		if maxDiff(got[9:], src[9:]) != 0 {
			t.Errorf("hue %v turned grey %v into %v", c.shift, src[9:], got[9:])
		}
	}
	got := apply(t, j, src, 1, 4, 3, hue(-0.1))
	if want := []float32{0.9, 0.1, 0.38}; maxDiff(got[3:6], want) > 1e-6 {
		t.Errorf("hue -0.1 on %v: got %v, want %v", src[3:6], got[3:6], want)
	}
	got = apply(t, j, src, 1, 4, 3, hue(0.4))
	if want := []float32{0.2, 0.44, 0.6}; maxDiff(got[6:9], want) > 1e-6 {
		t.Errorf("hue 0.4 on %v: got %v, want %v", src[6:9], got[6:9], want)
	}
	// A shift and its opposite return the image; each keeps every
	// pixel's max (HSV value) and min.
	there := apply(t, j, img, 6, 7, 3, hue(0.3))
	back := apply(t, j, there, 6, 7, 3, hue(-0.3))
	if d := maxDiff(back, img); d > 1e-5 {
		t.Errorf("hue 0.3 then -0.3: max diff %g", d)
	}
	for i := 0; i < len(img); i += 3 {
		a, b := img[i:i+3], there[i:i+3]
		if math.Abs(float64(max(a[0], a[1], a[2])-max(b[0], b[1], b[2]))) > 1e-6 ||
			math.Abs(float64(min(a[0], a[1], a[2])-min(b[0], b[1], b[2]))) > 1e-6 {
			t.Fatalf("hue 0.3 changed the value or saturation of %v: %v", a, b)
		}
	}
	// One channel: nothing to turn.
	if got := apply(t, j, []float32{0.3, 0.7}, 1, 2, 1, hue(0.25)); !slices.Equal(got, []float32{0.3, 0.7}) {
		t.Errorf("hue on one channel: got %v", got)
	}
	// Draws stay within [-Hue, Hue]; the option stays within [0, 0.5];
	// with Hue 0 no extra number is drawn.
	rng := newRand(12)
	for range 200 {
		if p := (ColorJitter{Hue: 0.1}).Sample(rng, 2, 2, 3); math.Abs(p.Hue) > 0.1 {
			t.Fatalf("hue draw %v outside [-0.1, 0.1]", p.Hue)
		}
	}
	for _, h := range []float64{-0.1, 0.6, math.NaN()} {
		if _, _, _, err := (ColorJitter{Hue: h}).OutShape(2, 2, 3); err == nil {
			t.Errorf("hue %v: no error", h)
		}
	}
	r1, r2 := newRand(3), newRand(3)
	ColorJitter{Brightness: 0.2}.Sample(r1, 2, 2, 3)
	r2.Float64() // the brightness draw, and no other
	if r1.Uint64() != r2.Uint64() {
		t.Error("a jitter without hue drew more than its brightness")
	}
	if p := (ColorJitter{Brightness: 0.2}).Sample(newRand(4), 2, 2, 3); p.Hue != 0 {
		t.Errorf("no hue option, hue draw %v", p.Hue)
	}
}

func TestGrayscale(t *testing.T) {
	got := apply(t, Grayscale{}, []float32{1, 0, 0, 0, 0, 1}, 1, 2, 3, GrayParams{Gray: true})
	if want := []float32{0.299, 0.299, 0.299, 0.114, 0.114, 0.114}; maxDiff(got, want) > 1e-6 {
		t.Errorf("grayscale: got %v, want %v", got, want)
	}
	img := []float32{1, 0, 0}
	if got := apply(t, Grayscale{}, img, 1, 1, 3, Grayscale{}.Inference(1, 1, 3)); !slices.Equal(got, img) {
		t.Error("grayscale at inference is not the identity")
	}
}

func TestNormalize(t *testing.T) {
	n := Normalize{Mean: []float64{0.5, 0, 1}, Std: []float64{0.5, 2, 1}}
	got := apply(t, n, []float32{1, 1, 1, 0, 0, 0}, 1, 2, 3, NoParams{})
	if want := []float32{1, 0.5, 0, -1, 0, -1}; maxDiff(got, want) > 1e-6 {
		t.Errorf("normalize: got %v, want %v", got, want)
	}
	for _, bad := range []Normalize{{Mean: []float64{0, 0}, Std: []float64{1}}, {Mean: []float64{0}, Std: []float64{0}}} {
		if _, _, _, err := bad.OutShape(2, 2, 3); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}

func TestRandomErasing(t *testing.T) {
	rng := newRand(7)
	img := seq(10, 12, 2)
	e := RandomErasing{P: 1, Value: -1}
	erased := 0
	for range 100 {
		p := e.Sample(rng, 10, 12, 2)
		got := apply(t, e, img, 10, 12, 2, p)
		if !p.Erase {
			continue
		}
		erased++
		b := p.Box
		n := 0
		for i, v := range got {
			pix := i / 2
			x, y := pix%12, pix/12
			in := x >= b.X && x < b.X+b.W && y >= b.Y && y < b.Y+b.H
			if in != (v == -1) || (!in && v != img[i]) {
				t.Fatalf("box %v: value %v at (%d, %d)", b, v, x, y)
			}
			if in {
				n++
			}
		}
		if a := float64(n/2) / 120; a < 0.01 || a > 0.4 {
			t.Errorf("box %v covers %.2f of the image", b, a)
		}
	}
	if erased < 90 {
		t.Errorf("P 1 erased %d of 100 images", erased)
	}
	if got := apply(t, e, img, 10, 12, 2, e.Inference(10, 12, 2)); !slices.Equal(got, img) {
		t.Error("erasing at inference is not the identity")
	}
}

// TestOutputsStayFinite runs every transform with random parameters on
// random images of awkward shapes.
func TestOutputsStayFinite(t *testing.T) {
	rng := newRand(10)
	all := []Transform{
		HorizontalFlip{}, VerticalFlip{}, RandomCrop{Height: 3, Width: 3, Padding: 2, Fill: FillReflect},
		RandomResizedCrop{Height: 7, Width: 5, Interp: Area}, Resize{Height: 9, Width: 2},
		&Affine{Degrees: [2]float64{-180, 180}, ShearX: [2]float64{-60, 60}, ShearY: [2]float64{-60, 60},
			Scale: [2]float64{0.2, 5}, Translate: [2]float64{1, 1}, Fill: FillReflect},
		&Affine{Degrees: [2]float64{-180, 180}, Scale: [2]float64{0.2, 5}, Fill: FillWrap, Interp: Nearest},
		ImageNetPCA, ColorJitter{Brightness: 1, Contrast: 1, Saturation: 1}, Grayscale{P: 0.5},
		ImageNetNormalize, RandomErasing{},
	}
	for _, s := range [][2]int{{3, 3}, {4, 9}, {13, 5}} {
		for _, tr := range all {
			for range 30 {
				img := randImage(rng, s[0], s[1], 3)
				got := applyRandom(t, tr, img, s[0], s[1], 3, rng)
				for _, v := range got {
					if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
						t.Fatalf("%T on %v gave %v", tr, s, v)
					}
				}
			}
		}
	}
}
