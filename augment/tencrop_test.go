package augment

import (
	"slices"
	"testing"
)

func TestTenCrop(t *testing.T) {
	h, w, c := 5, 6, 2
	img := seq(h, w, c)
	tc := TenCrop{Height: 3, Width: 4}
	boxes, err := tc.Boxes(h, w)
	if err != nil {
		t.Fatal(err)
	}
	want := [5]Box{{0, 0, 4, 3}, {2, 0, 4, 3}, {0, 2, 4, 3}, {2, 2, 4, 3}, {1, 1, 4, 3}}
	if boxes != want {
		t.Errorf("boxes %v, want %v", boxes, want)
	}
	size := 3 * 4 * c
	views := make([]float32, Views*size)
	if err := tc.Apply(views, img, h, w, c); err != nil {
		t.Fatal(err)
	}
	for i, b := range boxes {
		crop := make([]float32, size)
		copyBox(crop, img, h, w, c, b, FillConstant, 0)
		if !slices.Equal(views[i*size:(i+1)*size], crop) {
			t.Errorf("view %d is not box %v", i, b)
		}
		if !slices.Equal(views[(i+5)*size:(i+6)*size], flipH(crop, 3, 4, c)) {
			t.Errorf("view %d is not box %v mirrored", i+5, b)
		}
	}
	if _, err := (TenCrop{Height: 6, Width: 4}).Boxes(h, w); err == nil {
		t.Error("crop taller than the image: no error")
	}
	if err := tc.Apply(views[:size], img, h, w, c); err == nil {
		t.Error("short destination: no error")
	}
}
