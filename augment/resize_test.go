package augment

import (
	"slices"
	"testing"
)

func TestResizeAreaAverages(t *testing.T) {
	// Halving a 4x4 image averages 2x2 blocks.
	img := seq(4, 4, 1)
	got := apply(t, Resize{Height: 2, Width: 2, Interp: Area}, img, 4, 4, 1, NoParams{})
	if want := []float32{2.5, 4.5, 10.5, 12.5}; maxDiff(got, want) > 1e-5 {
		t.Errorf("area halving: got %v, want %v", got, want)
	}
	// The antialiased bilinear filter widens to a triangle of radius 2
	// input pixels, renormalised where it leaves the image (as PIL does):
	// output 0 weighs inputs 0, 1, 2 by 0.75, 0.75, 0.25.
	got = apply(t, Resize{Height: 1, Width: 2}, []float32{0, 1, 2, 3}, 1, 4, 1, NoParams{})
	if want := []float32{1.25 / 1.75, 3 - 1.25/1.75}; maxDiff(got, want) > 1e-6 {
		t.Errorf("bilinear halving: got %v, want %v", got, want)
	}
}

func TestResizeBilinearUpsampling(t *testing.T) {
	// Doubling a row [0 1] with pixel-centre alignment (align_corners
	// false): centres at 0.25, 0.75, 1.25, 1.75 of the input, clamped.
	got := apply(t, Resize{Height: 1, Width: 4}, []float32{0, 1}, 1, 2, 1, NoParams{})
	if want := []float32{0, 0.25, 0.75, 1}; maxDiff(got, want) > 1e-6 {
		t.Errorf("bilinear doubling: got %v, want %v", got, want)
	}
	got = apply(t, Resize{Height: 1, Width: 4, Interp: Nearest}, []float32{0, 1}, 1, 2, 1, NoParams{})
	if want := []float32{0, 0, 1, 1}; !slices.Equal(got, want) {
		t.Errorf("nearest doubling: got %v, want %v", got, want)
	}
}

func TestResizeKeepsConstantsAndSize(t *testing.T) {
	for _, in := range []Interp{Bilinear, Area, Nearest} {
		for _, s := range [][4]int{{7, 5, 3, 11}, {30, 31, 8, 9}, {1, 1, 5, 6}, {9, 9, 9, 9}} {
			img := make([]float32, s[0]*s[1]*3)
			for i := range img {
				img[i] = float32(i%3) + 0.5
			}
			r := Resize{Height: s[2], Width: s[3], Interp: in}
			got := apply(t, r, img, s[0], s[1], 3, NoParams{})
			for i, v := range got {
				if d := v - (float32(i%3) + 0.5); d > 1e-5 || d < -1e-5 {
					t.Fatalf("%v resize %v of a constant image: value %v at %d", in, s, v, i)
				}
			}
		}
	}
	if _, _, _, err := (Resize{Height: 0, Width: 3}).OutShape(4, 4, 1); err == nil {
		t.Error("resize to 0x3: no error")
	}
}
