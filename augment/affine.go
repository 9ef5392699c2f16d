package augment

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Affine rotates, shears, scales and translates an image about its
// centre with one resampling, the random draws of each part taken from
// its range. Rotation, ShearX, ShearY, Translation and Zoom return the
// single-part cases. The zero value of a range means that part is off.
//
// A point p of the image, in pixels from the image's centre (x to the
// right, y down), moves to T + R·Sy·Sx·(s·p): scaled by s, sheared along
// x then along y, rotated, then shifted by T (see AffineParams.Matrix).
// Each output pixel centre is mapped back through the inverse and the
// source sampled there; pixels that come from outside the image are
// filled as Fill says.
type Affine struct {
	// Degrees is the range of the rotation angle, in degrees, positive
	// counter-clockwise as the image is seen.
	Degrees [2]float64
	// ShearX and ShearY are the ranges of the shear angles along x and y,
	// in degrees, within (-90, 90): ShearX by φ moves (x, y) to
	// (x + tan(φ)·y, y).
	ShearX, ShearY [2]float64
	// Scale is the range of the zoom factor (above 1 magnifies); zero
	// means [1, 1].
	Scale [2]float64
	// Translate is the largest shift along x and along y, as fractions
	// of the width and height: the shift along x is drawn from
	// [-Translate[0]·w, Translate[0]·w].
	Translate [2]float64
	// Interp is Bilinear (the default) or Nearest.
	Interp Interp
	// Fill is what lies beyond the edge: FillConstant with Value (the
	// default, 0), FillReflect, FillEdge or FillWrap.
	Fill  Fill
	Value float32
}

// Rotation returns an Affine that rotates by an angle drawn from
// [-degrees, degrees].
func Rotation(degrees float64) *Affine {
	return &Affine{Degrees: [2]float64{-degrees, degrees}}
}

// ShearX returns an Affine that shears along x by an angle drawn from
// [-degrees, degrees].
func ShearX(degrees float64) *Affine {
	return &Affine{ShearX: [2]float64{-degrees, degrees}}
}

// ShearY returns an Affine that shears along y by an angle drawn from
// [-degrees, degrees].
func ShearY(degrees float64) *Affine {
	return &Affine{ShearY: [2]float64{-degrees, degrees}}
}

// Translation returns an Affine that shifts by up to fx of the width
// and fy of the height in each direction.
func Translation(fx, fy float64) *Affine {
	return &Affine{Translate: [2]float64{fx, fy}}
}

// Zoom returns an Affine that scales by a factor drawn from [lo, hi].
func Zoom(lo, hi float64) *Affine {
	return &Affine{Scale: [2]float64{lo, hi}}
}

// AffineParams are the draws of an Affine for one image.
type AffineParams struct {
	// Angle, ShearX and ShearY are in degrees.
	Angle, ShearX, ShearY float64
	// Scale is the zoom factor; 0 is read as 1.
	Scale float64
	// TX and TY are the shift in pixels.
	TX, TY float64
}

// Matrix returns the forward map [a b tx; c d ty]: a point (x, y), in
// pixels from the image's centre, moves to (a·x + b·y + tx, c·x + d·y +
// ty). Replay it on a box's corners or a keypoint.
func (p AffineParams) Matrix() [6]float64 {
	s := p.Scale
	if s == 0 {
		s = 1
	}
	sin, cos := sincosDeg(p.Angle)
	kx, ky := tanDeg(p.ShearX), tanDeg(p.ShearY)
	// Sx = [1 kx; 0 1], Sy = [1 0; ky 1], so Sy·Sx = [1 kx; ky 1+ky·kx].
	m00, m01, m10, m11 := 1.0, kx, ky, 1+ky*kx
	// R = [cos sin; -sin cos] turns counter-clockwise on screen (y down).
	a := s * (cos*m00 + sin*m10)
	b := s * (cos*m01 + sin*m11)
	c := s * (-sin*m00 + cos*m10)
	d := s * (-sin*m01 + cos*m11)
	return [6]float64{a, b, p.TX, c, d, p.TY}
}

// sincosDeg returns the sine and cosine of deg degrees, exact at
// multiples of 90 so that quarter turns land on pixel centres.
func sincosDeg(deg float64) (sin, cos float64) {
	if q := deg / 90; q == math.Trunc(q) {
		switch k := int(math.Mod(q, 4)); (k + 4) % 4 {
		case 0:
			return 0, 1
		case 1:
			return 1, 0
		case 2:
			return 0, -1
		default:
			return -1, 0
		}
	}
	return math.Sincos(deg * math.Pi / 180)
}

func tanDeg(deg float64) float64 {
	if deg == 0 {
		return 0
	}
	return math.Tan(deg * math.Pi / 180)
}

// validRange checks that r is an ordered range within [lo, hi].
func validRange(name string, r [2]float64, lo, hi float64) error {
	if !(r[0] <= r[1]) || r[0] < lo || r[1] > hi {
		return fmt.Errorf("%s range [%v, %v] is not an ordered range within [%v, %v]", name, r[0], r[1], lo, hi)
	}
	return nil
}

// OutShape returns the shape unchanged, or an error for an invalid
// option.
func (a *Affine) OutShape(h, w, c int) (int, int, int, error) {
	if err := checkShape(h, w, c); err != nil {
		return 0, 0, 0, err
	}
	if err := validRange("rotation", a.Degrees, -360, 360); err != nil {
		return 0, 0, 0, err
	}
	if err := validRange("x shear", a.ShearX, -89, 89); err != nil {
		return 0, 0, 0, err
	}
	if err := validRange("y shear", a.ShearY, -89, 89); err != nil {
		return 0, 0, 0, err
	}
	if a.Scale != [2]float64{} {
		if err := validRange("scale", a.Scale, 1e-3, 1e3); err != nil {
			return 0, 0, 0, err
		}
	}
	for i, t := range a.Translate {
		if !(t >= 0 && t <= 1) {
			return 0, 0, 0, fmt.Errorf("translation fraction %v (of the %s) is not in [0, 1]", t, [2]string{"width", "height"}[i])
		}
	}
	if a.Interp == Area {
		return 0, 0, 0, fmt.Errorf("affine interpolation must be bilinear or nearest, not area")
	}
	if err := a.Interp.valid(); err != nil {
		return 0, 0, 0, err
	}
	if err := a.Fill.valid(); err != nil {
		return 0, 0, 0, err
	}
	return h, w, c, nil
}

// Sample draws an AffineParams.
func (a *Affine) Sample(rng *rand.Rand, h, w, c int) AffineParams {
	p := AffineParams{
		Angle:  uniform(rng, a.Degrees[0], a.Degrees[1]),
		ShearX: uniform(rng, a.ShearX[0], a.ShearX[1]),
		ShearY: uniform(rng, a.ShearY[0], a.ShearY[1]),
		Scale:  1,
	}
	if a.Scale != [2]float64{} {
		p.Scale = uniform(rng, a.Scale[0], a.Scale[1])
	}
	if tx := a.Translate[0] * float64(w); tx > 0 {
		p.TX = uniform(rng, -tx, tx)
	}
	if ty := a.Translate[1] * float64(h); ty > 0 {
		p.TY = uniform(rng, -ty, ty)
	}
	return p
}

// Inference returns the identity.
func (a *Affine) Inference(h, w, c int) AffineParams { return AffineParams{Scale: 1} }

func (a *Affine) step(k call) (Params, error) { return runStep(a, k) }

// Apply resamples src under the transform p into dst.
// It checks the shape and the buffers first, as the function Apply
// does.
func (a *Affine) Apply(dst, src []float32, h, w, c int, p AffineParams) error {
	return Apply[AffineParams](a, dst, src, h, w, c, p)
}

// apply is Apply on a shape and buffers already checked.
func (a *Affine) apply(dst, src []float32, h, w, c int, p AffineParams) error {
	m := p.Matrix()
	if m == [6]float64{1, 0, 0, 0, 1, 0} {
		copy(dst, src)
		return nil
	}
	det := m[0]*m[4] - m[1]*m[3]
	if !(math.Abs(det) > 1e-12) || math.IsInf(det, 0) {
		return fmt.Errorf("parameters %+v are not invertible", p)
	}
	// The inverse map, from output pixel indices to source coordinates in
	// index space (pixel centres at integers).
	ia, ib, ic, id := m[4]/det, -m[1]/det, -m[3]/det, m[0]/det
	cx, cy := float64(w)/2, float64(h)/2
	for oy := range h {
		v := float64(oy) + 0.5 - cy - m[5]
		u0 := 0.5 - cx - m[2]
		// Source of output pixel (ox, oy): (x0 + ia·ox, y0 + ic·ox).
		x0 := ia*u0 + ib*v + cx - 0.5
		y0 := ic*u0 + id*v + cy - 0.5
		row := dst[oy*w*c : (oy+1)*w*c]
		for ox := range w {
			x := x0 + ia*float64(ox)
			y := y0 + ic*float64(ox)
			out := row[ox*c : (ox+1)*c]
			if a.Interp == Nearest {
				a.nearest(out, src, h, w, c, x, y)
			} else {
				a.bilinear(out, src, h, w, c, x, y)
			}
		}
	}
	return nil
}

// snap rounds coordinates within a rounding error of a pixel centre to
// it, so that exact transforms resample exactly.
func snap(v float64) float64 {
	if r := math.Round(v); math.Abs(v-r) < 1e-9 {
		return r
	}
	return v
}

func (a *Affine) nearest(out, src []float32, h, w, c int, x, y float64) {
	ix := a.Fill.index(int(math.Floor(snap(x)+0.5)), w)
	iy := a.Fill.index(int(math.Floor(snap(y)+0.5)), h)
	if ix < 0 || iy < 0 {
		fillValue(out, a.Value)
		return
	}
	copy(out, src[(iy*w+ix)*c:(iy*w+ix+1)*c])
}

func (a *Affine) bilinear(out, src []float32, h, w, c int, x, y float64) {
	x, y = snap(x), snap(y)
	fx0, fy0 := math.Floor(x), math.Floor(y)
	if fx0 < -4 || fy0 < -4 || fx0 > float64(w+4) || fy0 > float64(h+4) {
		if a.Fill == FillConstant { // far outside: no need for index arithmetic
			fillValue(out, a.Value)
			return
		}
	}
	x0, y0 := int(fx0), int(fy0)
	wx, wy := float32(x-fx0), float32(y-fy0)
	if x0 >= 0 && y0 >= 0 && x0+1 < w && y0+1 < h { // inside: the fast path
		p00 := src[(y0*w+x0)*c:]
		p01 := src[(y0*w+x0+1)*c:]
		p10 := src[((y0+1)*w+x0)*c:]
		p11 := src[((y0+1)*w+x0+1)*c:]
		for k := range out {
			top := p00[k] + wx*(p01[k]-p00[k])
			bot := p10[k] + wx*(p11[k]-p10[k])
			out[k] = top + wy*(bot-top)
		}
		return
	}
	xs := [2]int{a.Fill.index(x0, w), a.Fill.index(x0+1, w)}
	ys := [2]int{a.Fill.index(y0, h), a.Fill.index(y0+1, h)}
	wxs := [2]float32{1 - wx, wx}
	wys := [2]float32{1 - wy, wy}
	clear(out)
	for j, sy := range ys {
		for i, sx := range xs {
			wt := wys[j] * wxs[i]
			if wt == 0 {
				continue
			}
			if sx < 0 || sy < 0 {
				for k := range out {
					out[k] += wt * a.Value
				}
				continue
			}
			p := src[(sy*w+sx)*c:]
			for k := range out {
				out[k] += wt * p[k]
			}
		}
	}
}
