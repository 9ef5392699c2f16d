package data

import (
	"image"
	"image/color"
	"math"
	"testing"
)

func near(a, b []float32, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > tol {
			return false
		}
	}
	return true
}

// grayRow returns a w×1 grey image of the given bytes.
func grayRow(vals ...uint8) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, len(vals), 1))
	copy(g.Pix, vals)
	return g
}

// firstChannel returns every third value of v.
func firstChannel(v []float32) []float32 {
	var out []float32
	for i := 0; i < len(v); i += 3 {
		out = append(out, v[i])
	}
	return out
}

func TestResampleBilinear(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []uint8
		w    int
		want []float32
	}{
		{"same", []uint8{0, 51, 255}, 3, []float32{0, 0.2, 1}},
		// Pixel centres, edges clamped, as align_corners=False.
		{"up", []uint8{0, 255}, 4, []float32{0, 0.25, 0.75, 1}},
		// Shrinking widens the triangle to two input pixels either side.
		{"down", []uint8{0, 255, 255 * 2 / 3, 255}, 2, []float32{(0*.75 + 1*.75 + 2.0/3*.25) / 1.75, (1*.25 + 2.0/3*.75 + 1*.75) / 1.75}},
	} {
		dst := make([]float32, tc.w*3)
		resampleImage(grayRow(tc.in...), 1, tc.w, dst)
		if got := firstChannel(dst); !near(got, tc.want, 1e-6) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestResampleConstant(t *testing.T) {
	img := image.NewNRGBA(image.Rect(3, 5, 40, 30)) // not at the origin
	for i := 0; i < len(img.Pix); i += 4 {
		copy(img.Pix[i:], []uint8{51, 102, 255, 7})
	}
	for _, size := range [][2]int{{25, 37}, {7, 5}, {60, 90}, {1, 1}} {
		dst := make([]float32, size[0]*size[1]*3)
		resampleImage(img, size[0], size[1], dst)
		for i := 0; i < len(dst); i += 3 {
			if !near(dst[i:i+3], []float32{0.2, 0.4, 1}, 1e-5) {
				t.Fatalf("%v: pixel %d is %v, want [0.2 0.4 1]", size, i/3, dst[i:i+3])
			}
		}
	}
}

func TestRGBRow(t *testing.T) {
	nrgba := color.NRGBA{R: 255, G: 51, B: 0, A: 128}
	want := []float32{1, 0.2, 0}
	pal := image.NewPaletted(image.Rect(0, 0, 1, 1), color.Palette{color.Black, nrgba})
	pal.Pix[0] = 1
	ycc := image.NewYCbCr(image.Rect(0, 0, 2, 2), image.YCbCrSubsampleRatio420)
	yy, cb, cr := color.RGBToYCbCr(255, 51, 0)
	for i := range ycc.Y {
		ycc.Y[i] = yy
	}
	ycc.Cb[0], ycc.Cr[0] = cb, cr
	rgba64 := image.NewRGBA64(image.Rect(0, 0, 1, 1))
	rgba64.Set(0, 0, nrgba)
	nrgbaImg := image.NewNRGBA(image.Rect(0, 0, 1, 1))
	nrgbaImg.Set(0, 0, nrgba)
	gray := image.NewGray(image.Rect(0, 0, 1, 1))
	gray.Pix[0] = 51
	for _, tc := range []struct {
		name string
		img  image.Image
		want []float32
		tol  float64
	}{
		{"paletted", pal, want, 0.001}, // through NRGBA64
		{"nrgba", nrgbaImg, want, 1e-6},
		{"ycbcr", ycc, want, 0.02},       // YCbCr rounds
		{"generic", rgba64, want, 0.005}, // premultiplied, then back
		{"gray", gray, []float32{0.2, 0.2, 0.2}, 1e-6},
	} {
		dst := make([]float32, 3)
		resampleImage(tc.img, 1, 1, dst)
		if !near(dst, tc.want, tc.tol) {
			t.Errorf("%s: %v, want %v", tc.name, dst, tc.want)
		}
	}
	// An index past a GIF's palette reads as black, not a panic.
	pal.Pix[0] = 5
	dst := make([]float32, 3)
	resampleImage(pal, 1, 1, dst)
	if !equal(dst, []float32{0, 0, 0}) {
		t.Errorf("index past the palette: %v", dst)
	}
}
