package augment

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

// pilFixture is testdata/pil_affine.json, made by
// testdata/gen_pil_affine.py with Pillow's Image.transform(AFFINE,
// resample=BILINEAR).
type pilFixture struct {
	Pillow string `json:"pillow"`
	Images []struct {
		Name     string    `json:"name"`
		Mode     string    `json:"mode"`
		W        int       `json:"width"`
		H        int       `json:"height"`
		Channels int       `json:"channels"`
		Scale    float64   `json:"scale"` // pixel value of 1.0 (255 for uint8)
		Fill     float64   `json:"fill"`  // Pillow's fillcolor, on that scale
		Pixels   []float64 `json:"pixels"`
	} `json:"images"`
	Cases []struct {
		Image  string     `json:"image"`
		Name   string     `json:"name"`
		Angle  float64    `json:"angle"`
		ShearX float64    `json:"shear_x"`
		ShearY float64    `json:"shear_y"`
		Scale  float64    `json:"scale"`
		TX     float64    `json:"tx"`
		TY     float64    `json:"ty"`
		Data   [6]float64 `json:"data"` // Pillow's output-to-input map
		Output []float64  `json:"output"`
	} `json:"cases"`
}

func loadPILFixture(t *testing.T) *pilFixture {
	t.Helper()
	b, err := os.ReadFile("testdata/pil_affine.json")
	if err != nil {
		t.Fatal(err)
	}
	var f pilFixture
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Images) == 0 || len(f.Cases) == 0 {
		t.Fatal("empty fixture")
	}
	return &f
}

// pilData returns Pillow's AFFINE data for p on a w×h image: the map
// from an output point to the input point it samples, both in
// pixel-corner coordinates (pixel centres at i + 0.5). fovea's Matrix
// is the forward map about the centre ctr, so an output point o comes
// from M⁻¹·(o - ctr - T) + ctr.
func pilData(p AffineParams, w, h int) [6]float64 {
	m := p.Matrix()
	det := m[0]*m[4] - m[1]*m[3]
	a, b, d, e := m[4]/det, -m[1]/det, -m[3]/det, m[0]/det
	cx, cy := float64(w)/2, float64(h)/2
	ux, uy := -cx-m[2], -cy-m[5]
	return [6]float64{a, b, a*ux + b*uy + cx, d, e, d*ux + e*uy + cy}
}

// TestAffineMatchesPillow compares rotations and shears with Pillow's
// bilinear affine transform, an independent implementation.
//
// The edges are handled differently, so each output pixel is judged by
// where its centre comes from, (xs, ys) in pixel-corner coordinates:
//
//   - inside the image, 0 <= xs <= w and 0 <= ys <= h: Pillow
//     interpolates with the neighbours clamped to the image, which is
//     fovea's FillEdge; the two must agree to interpolation accuracy.
//   - beyond the outer half pixel (xs < -0.5, xs > w + 0.5, or the same
//     for ys): no source pixel contributes, and both give the fill.
//   - the half-pixel band just outside the image is skipped: Pillow cuts
//     to the fill colour at the image's edge, while fovea's
//     FillConstant blends the edge pixel into the fill over that band
//     (as OpenCV's and torchvision's constant borders do) and FillEdge
//     keeps the edge pixel there.
//
// Pillow truncates 8-bit results (floor of the interpolated value, not
// the nearest integer), so fovea's value times 255 must lie in
// [pil, pil+1): above by less than a level, never below, up to float32
// rounding. Where the exact value is an integer Pillow's own rounding
// can land a level lower, still within [pil, pil+1]. The float32 image
// is compared directly.
func TestAffineMatchesPillow(t *testing.T) {
	f := loadPILFixture(t)
	const eps = 1e-6 // on the position, to keep ties out of both classes
	for _, im := range f.Images {
		h, w, c := im.H, im.W, im.Channels
		if len(im.Pixels) != h*w*c {
			t.Fatalf("image %s: %d pixels for %dx%dx%d", im.Name, len(im.Pixels), h, w, c)
		}
		src := make([]float32, len(im.Pixels))
		for i, v := range im.Pixels {
			src[i] = float32(v / im.Scale)
		}
		edge := &Affine{Fill: FillEdge}
		constant := &Affine{Fill: FillConstant, Value: float32(im.Fill / im.Scale)}
		for _, cs := range f.Cases {
			if cs.Image != im.Name {
				continue
			}
			p := AffineParams{Angle: cs.Angle, ShearX: cs.ShearX, ShearY: cs.ShearY, Scale: cs.Scale, TX: cs.TX, TY: cs.TY}
			// The conventions agree: fovea's parameters give the map
			// the script built from the same geometric description.
			d := pilData(p, w, h)
			for i := range d {
				if math.Abs(d[i]-cs.Data[i]) > 1e-12*max(1, math.Abs(d[i])) {
					t.Fatalf("%s %s: fovea's map in Pillow's terms is %v, the fixture's %v", im.Name, cs.Name, d, cs.Data)
				}
			}
			gotEdge := apply(t, edge, src, h, w, c, p)
			gotConst := apply(t, constant, src, h, w, c, p)
			var inside, outside, band int
			var sumErr, maxErr float64
			for oy := range h {
				for ox := range w {
					x, y := float64(ox)+0.5, float64(oy)+0.5
					a := cs.Data
					xs, ys := a[0]*x+a[1]*y+a[2], a[3]*x+a[4]*y+a[5]
					var got []float32
					switch {
					case xs >= eps && xs <= float64(w)-eps && ys >= eps && ys <= float64(h)-eps:
						inside++
						got = gotEdge
					case xs < -0.5-eps || xs > float64(w)+0.5+eps || ys < -0.5-eps || ys > float64(h)+0.5+eps:
						outside++
						got = gotConst
					default:
						band++
						continue
					}
					for k := range c {
						i := (oy*w+ox)*c + k
						want := cs.Output[i]
						diff := float64(got[i])*im.Scale - want
						if im.Scale == 255 {
							// Truncated: 0 <= diff < 1 (<= 1 on exact
							// integers), up to float32 rounding of the
							// value times 255.
							if diff < -1e-3 || diff > 1+1e-3 {
								t.Errorf("%s %s: pixel (%d, %d) channel %d from (%.3f, %.3f): fovea %v (×255 = %.4f), Pillow %v",
									im.Name, cs.Name, ox, oy, k, xs, ys, got[i], float64(got[i])*255, want)
							}
							// Measure against Pillow's truncation of
							// fovea's value.
							diff = math.Floor(float64(got[i])*255+1e-3) - want
						} else if math.Abs(diff) > 1e-5 {
							t.Errorf("%s %s: pixel (%d, %d) from (%.3f, %.3f): fovea %v, Pillow %v", im.Name, cs.Name, ox, oy, xs, ys, got[i], want)
						}
						sumErr += math.Abs(diff)
						maxErr = max(maxErr, math.Abs(diff))
					}
				}
			}
			n := float64((inside + outside) * c)
			mean := sumErr / n / im.Scale
			t.Logf("%-5s %-12s inside %3d, outside %3d, edge band skipped %2d of %d pixels; after Pillow's truncation mean |err| %.2g, max %.2g (of 1)",
				im.Name, cs.Name, inside, outside, band, h*w, mean, maxErr/im.Scale)
			if mean > 2.0/255 {
				t.Errorf("%s %s: mean error %g, above 2/255", im.Name, cs.Name, mean)
			}
			if inside < h*w/2 {
				t.Errorf("%s %s: only %d of %d pixels compared inside the image", im.Name, cs.Name, inside, h*w)
			}
		}
	}
}
