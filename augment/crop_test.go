package augment

import (
	"slices"
	"strings"
	"testing"
)

func TestCopyBoxPaddingModes(t *testing.T) {
	img := []float32{1, 2, 3} // one row: a b c
	for _, c := range []struct {
		fill Fill
		want []float32
	}{
		{FillConstant, []float32{9, 9, 1, 2, 3, 9, 9}},
		{FillReflect, []float32{3, 2, 1, 2, 3, 2, 1}},
		{FillEdge, []float32{1, 1, 1, 2, 3, 3, 3}},
		{FillWrap, []float32{2, 3, 1, 2, 3, 1, 2}},
	} {
		got := make([]float32, 7)
		copyBox(got, img, 1, 3, 1, Box{X: -2, Y: 0, W: 7, H: 1}, c.fill, 9)
		if !slices.Equal(got, c.want) {
			t.Errorf("%v padding: got %v, want %v", c.fill, got, c.want)
		}
	}
	// Boxes entirely off the image, left, right and below.
	for _, b := range []Box{{X: -5, Y: 0, W: 2, H: 1}, {X: 7, Y: 0, W: 2, H: 1}, {X: 0, Y: 3, W: 2, H: 1}} {
		got := make([]float32, 2)
		copyBox(got, img, 1, 3, 1, b, FillConstant, 9)
		if !slices.Equal(got, []float32{9, 9}) {
			t.Errorf("box %v off the image: got %v", b, got)
		}
	}
}

func TestRandomCropLandsOnItsBox(t *testing.T) {
	h, w := 6, 7
	img := seq(h, w, 2)
	rc := RandomCrop{Height: 3, Width: 4, Padding: 2}
	rng := newRand(1)
	seen := map[Box]bool{}
	for range 300 {
		b := rc.Sample(rng, h, w, 2)
		if b.X < -2 || b.Y < -2 || b.X+b.W > w+2 || b.Y+b.H > h+2 || b.W != 4 || b.H != 3 {
			t.Fatalf("box %v leaves the padded image", b)
		}
		seen[b] = true
		got := apply(t, rc, img, h, w, 2, b)
		for y := range 3 {
			for x := range 4 {
				sx, sy := b.X+x, b.Y+y
				for k := range 2 {
					want := float32(0)
					if sx >= 0 && sy >= 0 && sx < w && sy < h {
						want = img[(sy*w+sx)*2+k]
					}
					if g := got[(y*4+x)*2+k]; g != want {
						t.Fatalf("box %v: output (%d, %d, %d) = %v, want %v", b, y, x, k, g, want)
					}
				}
			}
		}
	}
	if len(seen) != (6+4-3+1)*(7+4-4+1) {
		t.Errorf("300 draws gave %d distinct boxes of %d", len(seen), 8*8)
	}
}

func TestRandomCropInferenceIsCentre(t *testing.T) {
	rc := RandomCrop{Padding: 4}
	img := seq(5, 5, 1)
	if got := apply(t, rc, img, 5, 5, 1, rc.Inference(5, 5, 1)); !slices.Equal(got, img) {
		t.Errorf("same-size crop at inference is not the identity: %v", got)
	}
	if b := (RandomCrop{Height: 2, Width: 3}).Inference(6, 8, 1); b != (Box{X: 2, Y: 2, W: 3, H: 2}) {
		t.Errorf("inference box %v", b)
	}
}

func TestCenterCrop(t *testing.T) {
	img := seq(4, 5, 1)
	cc := CenterCrop{Height: 2, Width: 3}
	got := apply(t, cc, img, 4, 5, 1, cc.Sample(newRand(1), 4, 5, 1))
	if want := []float32{6, 7, 8, 11, 12, 13}; !slices.Equal(got, want) {
		t.Errorf("centre crop: got %v, want %v", got, want)
	}
}

func TestCropErrors(t *testing.T) {
	for _, c := range []struct {
		tr   Transform
		want string
	}{
		{CenterCrop{Height: 9, Width: 3}, "larger than the 4x5 image"},
		{CenterCrop{}, "not positive"},
		{RandomCrop{Height: 5, Width: 5}, "does not fit"},
		{RandomCrop{Padding: -1}, "negative"},
		{RandomCrop{Fill: 17}, "fill mode"},
		{RandomResizedCrop{}, "not positive"},
		{RandomResizedCrop{Height: 2, Width: 2, Scale: [2]float64{0.5, 2}}, "scale range"},
		{RandomResizedCrop{Height: 2, Width: 2, Ratio: [2]float64{2, 1}}, "ratio range"},
	} {
		_, _, _, err := c.tr.OutShape(4, 5, 1)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%#v: error %v, want one containing %q", c.tr, err, c.want)
		}
	}
	// The loader reports a bad option before any work.
	p := New(CenterCrop{Height: 9, Width: 9})
	if _, _, _, err := p.OutShape(4, 5, 1); err == nil || !strings.Contains(err.Error(), "transform 0") {
		t.Errorf("pipeline error %v does not name the transform", err)
	}
	// Replay with foreign parameters.
	if err := New(CenterCrop{Height: 2, Width: 2}).Replay(make([]float32, 4), seq(4, 5, 1), 4, 5, 1, PipelineParams{FlipParams{}}); err == nil {
		t.Error("crop with FlipParams: no error")
	}
}

func TestRandomResizedCrop(t *testing.T) {
	rr := RandomResizedCrop{Height: 8, Width: 8}
	rng := newRand(2)
	h, w := 20, 30
	img := randImage(rng, h, w, 3)
	for range 200 {
		b := rr.Sample(rng, h, w, 3)
		if b.X < 0 || b.Y < 0 || b.X+b.W > w || b.Y+b.H > h || b.W < 1 || b.H < 1 {
			t.Fatalf("box %v outside the image", b)
		}
		got := apply(t, rr, img, h, w, 3, b)
		for _, v := range got {
			if !(v >= 0 && v <= 1) {
				t.Fatalf("box %v: value %v outside the input's range", b, v)
			}
		}
	}
	// Cropping a box and resizing it to its own size is the crop.
	b := Box{X: 3, Y: 4, W: 8, H: 8}
	got := apply(t, rr, img, h, w, 3, b)
	want := make([]float32, 8*8*3)
	copyBox(want, img, h, w, 3, b, FillConstant, 0)
	if !slices.Equal(got, want) {
		t.Error("same-size resized crop is not the crop")
	}
	// Inference: the largest central box of the output's aspect.
	if b := rr.Inference(h, w, 3); b != (Box{X: 5, Y: 0, W: 20, H: 20}) {
		t.Errorf("inference box %v", b)
	}
	// An impossible ratio falls back to a central box.
	odd := RandomResizedCrop{Height: 4, Width: 4, Scale: [2]float64{0.9, 1}, Ratio: [2]float64{5, 6}}
	if b := odd.Sample(rng, 10, 10, 1); b.W != 10 || b.H != 2 || b.Y != 4 {
		t.Errorf("fallback box %v", b)
	}
}
