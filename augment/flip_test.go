package augment

import (
	"slices"
	"testing"
)

func TestHorizontalFlip2x3(t *testing.T) {
	img := []float32{1, 2, 3, 4, 5, 6} // rows 1 2 3, 4 5 6
	got := apply(t, HorizontalFlip{}, img, 2, 3, 1, FlipParams{Flip: true})
	if want := []float32{3, 2, 1, 6, 5, 4}; !slices.Equal(got, want) {
		t.Errorf("flip of a 2x3 image: got %v, want %v", got, want)
	}
	// With two channels the pixels move whole.
	img2 := []float32{1, 10, 2, 20, 3, 30}
	got = apply(t, HorizontalFlip{}, img2, 1, 3, 2, FlipParams{Flip: true})
	if want := []float32{3, 30, 2, 20, 1, 10}; !slices.Equal(got, want) {
		t.Errorf("flip of a 1x3x2 image: got %v, want %v", got, want)
	}
}

func TestVerticalFlip2x3(t *testing.T) {
	got := apply(t, VerticalFlip{}, []float32{1, 2, 3, 4, 5, 6}, 2, 3, 1, FlipParams{Flip: true})
	if want := []float32{4, 5, 6, 1, 2, 3}; !slices.Equal(got, want) {
		t.Errorf("vertical flip of a 2x3 image: got %v, want %v", got, want)
	}
}

func TestFlipTwiceIsIdentity(t *testing.T) {
	for _, tr := range []Op[FlipParams]{HorizontalFlip{}, VerticalFlip{}} {
		for _, s := range [][3]int{{1, 1, 1}, {5, 7, 3}, {4, 4, 2}} {
			img := seq(s[0], s[1], s[2])
			once := apply(t, tr, img, s[0], s[1], s[2], FlipParams{Flip: true})
			if slices.Equal(once, img) && s[1] > 1 && s[0] > 1 {
				t.Errorf("%T of %v changed nothing", tr, s)
			}
			twice := apply(t, tr, once, s[0], s[1], s[2], FlipParams{Flip: true})
			if !slices.Equal(twice, img) {
				t.Errorf("%T twice of %v is not the identity", tr, s)
			}
			if got := apply(t, tr, img, s[0], s[1], s[2], tr.Inference(s[0], s[1], s[2])); !slices.Equal(got, img) {
				t.Errorf("%T at inference is not the identity", tr)
			}
		}
	}
}

func TestFlipProbability(t *testing.T) {
	rng := newRand(3)
	n := 0
	for range 4000 {
		if (HorizontalFlip{P: 0.25}).Sample(rng, 2, 2, 1).Flip {
			n++
		}
	}
	if n < 850 || n > 1150 {
		t.Errorf("P 0.25 flipped %d of 4000", n)
	}
	if _, _, _, err := (HorizontalFlip{P: 1.5}).OutShape(2, 2, 1); err == nil {
		t.Error("P 1.5: no error")
	}
}
