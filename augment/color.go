package augment

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Luma weights of ITU-R 601, as PIL's convert("L") and torchvision use.
const lumaR, lumaG, lumaB = 0.299, 0.587, 0.114

// ColorJitter scales brightness, contrast and saturation by random
// factors and turns the hue, in that order, as torchvision's ColorJitter
// does (which shuffles the order per image). Each factor is drawn from
// [max(0, 1-x), 1+x] for the option x, the hue shift from [-Hue, Hue];
// 0 leaves that property alone. Values are clipped to [0, 1] after each
// step, so apply it to pixels in [0, 1], before Normalize. On one
// channel saturation and hue do nothing.
type ColorJitter struct {
	Brightness, Contrast, Saturation float64
	// Hue is the largest hue shift, as a fraction of the colour circle,
	// in [0, 0.5]: torchvision's hue.
	Hue float64
}

// JitterParams are a ColorJitter's factors for one image; 1 leaves the
// property as it is.
type JitterParams struct {
	Brightness, Contrast, Saturation float64
	// Hue is the hue shift, a fraction of a turn of the colour circle in
	// [-0.5, 0.5] (0.5 is 180°: red to cyan); 0 leaves the hue alone. It
	// is torchvision's adjust_hue: the pixel's HSV hue moves by Hue,
	// modulo 1, its saturation and value stay.
	Hue float64
}

// OutShape returns the shape unchanged, or an error for a negative
// option.
func (j ColorJitter) OutShape(h, w, c int) (int, int, int, error) {
	if err := checkShape(h, w, c); err != nil {
		return 0, 0, 0, err
	}
	for _, v := range []float64{j.Brightness, j.Contrast, j.Saturation} {
		if !(v >= 0) || math.IsInf(v, 0) {
			return 0, 0, 0, fmt.Errorf("colour jitter %+v: each amount must be finite and >= 0", j)
		}
	}
	if !(j.Hue >= 0 && j.Hue <= 0.5) {
		return 0, 0, 0, fmt.Errorf("colour jitter hue %v is not in [0, 0.5]", j.Hue)
	}
	if c != 1 && c != 3 {
		return 0, 0, 0, fmt.Errorf("colour jitter needs 1 or 3 channels, not %d", c)
	}
	return h, w, c, nil
}

// Sample draws the three factors and the hue shift (an option of 0
// draws nothing).
func (j ColorJitter) Sample(rng *rand.Rand, h, w, c int) JitterParams {
	f := func(x float64) float64 {
		if x == 0 {
			return 1
		}
		return uniform(rng, max(0, 1-x), 1+x)
	}
	p := JitterParams{Brightness: f(j.Brightness), Contrast: f(j.Contrast), Saturation: f(j.Saturation)}
	if j.Hue > 0 {
		p.Hue = uniform(rng, -j.Hue, j.Hue)
	}
	return p
}

// Inference returns factors of 1 and no hue shift: the identity.
func (ColorJitter) Inference(h, w, c int) JitterParams {
	return JitterParams{Brightness: 1, Contrast: 1, Saturation: 1}
}

func (j ColorJitter) step(k call) (Params, error) { return runStep(j, k) }

// Apply scales src's brightness, contrast and saturation and shifts its
// hue into dst.
// It checks the shape and the buffers first, as the function Apply
// does.
func (j ColorJitter) Apply(dst, src []float32, h, w, c int, p JitterParams) error {
	return Apply[JitterParams](j, dst, src, h, w, c, p)
}

// apply is Apply on a shape and buffers already checked.
func (j ColorJitter) apply(dst, src []float32, h, w, c int, jp JitterParams) error {
	copy(dst, src)
	if b := float32(jp.Brightness); b != 1 {
		for i, v := range dst {
			dst[i] = clip01(v * b)
		}
	}
	if f := float32(jp.Contrast); f != 1 {
		var sum float64
		if c == 3 {
			for i := 0; i < len(dst); i += 3 {
				sum += float64(lumaR*dst[i] + lumaG*dst[i+1] + lumaB*dst[i+2])
			}
		} else {
			for _, v := range dst {
				sum += float64(v)
			}
		}
		m := float32(sum / float64(h*w))
		for i, v := range dst {
			dst[i] = clip01(m + f*(v-m))
		}
	}
	if f := float32(jp.Saturation); f != 1 && c == 3 {
		for i := 0; i < len(dst); i += 3 {
			g := lumaR*dst[i] + lumaG*dst[i+1] + lumaB*dst[i+2]
			dst[i] = clip01(g + f*(dst[i]-g))
			dst[i+1] = clip01(g + f*(dst[i+1]-g))
			dst[i+2] = clip01(g + f*(dst[i+2]-g))
		}
	}
	if jp.Hue != 0 && c == 3 {
		shiftHue(dst, jp.Hue)
	}
	return nil
}

// shiftHue turns the hue of each RGB pixel of img, in [0, 1], by shift
// (a fraction of a turn) in place, through HSV as torchvision's
// adjust_hue does; saturation and value are kept.
func shiftHue(img []float32, shift float64) {
	shift -= math.Floor(shift) // in [0, 1)
	for i := 0; i+2 < len(img); i += 3 {
		r, g, b := float64(img[i]), float64(img[i+1]), float64(img[i+2])
		v := max(r, g, b)
		cr := v - min(r, g, b)
		if cr == 0 { // grey: no hue to turn
			continue
		}
		s := cr / v
		var h float64
		switch {
		case v == r:
			h = (g - b) / cr
		case v == g:
			h = 2 + (b-r)/cr
		default:
			h = 4 + (r-g)/cr
		}
		h = h/6 + shift
		h -= math.Floor(h)
		// Back to RGB: the sector of the colour circle and the position
		// f within it.
		h6 := h * 6
		sector := math.Floor(h6)
		f := h6 - sector
		p := clip01(float32(v * (1 - s)))
		q := clip01(float32(v * (1 - s*f)))
		t := clip01(float32(v * (1 - s*(1-f))))
		vv := float32(v)
		switch int(sector) % 6 {
		case 0:
			img[i], img[i+1], img[i+2] = vv, t, p
		case 1:
			img[i], img[i+1], img[i+2] = q, vv, p
		case 2:
			img[i], img[i+1], img[i+2] = p, vv, t
		case 3:
			img[i], img[i+1], img[i+2] = p, q, vv
		case 4:
			img[i], img[i+1], img[i+2] = t, p, vv
		default:
			img[i], img[i+1], img[i+2] = vv, p, q
		}
	}
}

func clip01(v float32) float32 { return min(max(v, 0), 1) }

// Grayscale replaces an RGB image by its luma (0.299 R + 0.587 G +
// 0.114 B) in all three channels, with probability P. A one-channel
// image is left as it is.
type Grayscale struct {
	// P is the probability; 0 means 1 (always).
	P float64
}

// GrayParams says whether this image turns grey.
type GrayParams struct{ Gray bool }

// OutShape returns the shape unchanged.
func (g Grayscale) OutShape(h, w, c int) (int, int, int, error) {
	if _, err := probability("P", g.P, 1); err != nil {
		return 0, 0, 0, err
	}
	if err := checkShape(h, w, c); err != nil {
		return 0, 0, 0, err
	}
	if c != 1 && c != 3 {
		return 0, 0, 0, fmt.Errorf("grayscale needs 1 or 3 channels, not %d", c)
	}
	return h, w, c, nil
}

// Sample draws a GrayParams.
func (g Grayscale) Sample(rng *rand.Rand, h, w, c int) GrayParams {
	p := orDefault(g.P, 1)
	return GrayParams{Gray: p >= 1 || rng.Float64() < p}
}

// Inference returns no change.
func (Grayscale) Inference(h, w, c int) GrayParams { return GrayParams{} }

func (g Grayscale) step(k call) (Params, error) { return runStep(g, k) }

// Apply writes src, grey if p says so, into dst.
// It checks the shape and the buffers first, as the function Apply
// does.
func (g Grayscale) Apply(dst, src []float32, h, w, c int, p GrayParams) error {
	return Apply[GrayParams](g, dst, src, h, w, c, p)
}

// apply is Apply on a shape and buffers already checked.
func (g Grayscale) apply(dst, src []float32, h, w, c int, p GrayParams) error {
	if !p.Gray || c != 3 {
		copy(dst, src)
		return nil
	}
	for i := 0; i < len(src); i += 3 {
		y := lumaR*src[i] + lumaG*src[i+1] + lumaB*src[i+2]
		dst[i], dst[i+1], dst[i+2] = y, y, y
	}
	return nil
}

// Normalize subtracts a mean and divides by a standard deviation, per
// channel: (x - Mean[k]) / Std[k]. One value applies to every channel.
// It is deterministic, the same in training and inference.
type Normalize struct {
	Mean, Std []float64
}

// ImageNetNormalize is the normalisation torchvision's ImageNet models
// expect, for RGB in [0, 1].
var ImageNetNormalize = Normalize{Mean: []float64{0.485, 0.456, 0.406}, Std: []float64{0.229, 0.224, 0.225}}

// OutShape returns the shape unchanged, or an error if the statistics
// do not match the channels or a deviation is not positive.
func (n Normalize) OutShape(h, w, c int) (int, int, int, error) {
	if err := checkShape(h, w, c); err != nil {
		return 0, 0, 0, err
	}
	if (len(n.Mean) != c && len(n.Mean) != 1) || (len(n.Std) != c && len(n.Std) != 1) {
		return 0, 0, 0, fmt.Errorf("normalize has %d means and %d deviations for %d channels: want %d (or 1) of each", len(n.Mean), len(n.Std), c, c)
	}
	for _, s := range n.Std {
		if !(s > 0) || math.IsInf(s, 0) {
			return 0, 0, 0, fmt.Errorf("normalize deviation %v is not positive and finite", s)
		}
	}
	return h, w, c, nil
}

// Sample returns NoParams.
func (Normalize) Sample(rng *rand.Rand, h, w, c int) NoParams { return NoParams{} }

// Inference returns NoParams.
func (Normalize) Inference(h, w, c int) NoParams { return NoParams{} }

func (n Normalize) step(k call) (Params, error) { return runStep(n, k) }

// Apply normalises src into dst.
// It checks the shape and the buffers first, as the function Apply
// does.
func (n Normalize) Apply(dst, src []float32, h, w, c int, p NoParams) error {
	return Apply[NoParams](n, dst, src, h, w, c, p)
}

// apply is Apply on a shape and buffers already checked.
func (n Normalize) apply(dst, src []float32, h, w, c int, _ NoParams) error {
	// The statistics as float32, on the stack for up to four channels.
	var stack [2][4]float32
	mean, scale := stack[0][:], stack[1][:]
	if c > len(mean) {
		mean, scale = make([]float32, c), make([]float32, c)
	}
	for k := range c {
		mean[k] = float32(n.Mean[min(k, len(n.Mean)-1)])
		scale[k] = float32(1 / n.Std[min(k, len(n.Std)-1)])
	}
	for i := 0; i < len(src); i += c {
		for k := range c {
			dst[i+k] = (src[i+k] - mean[k]) * scale[k]
		}
	}
	return nil
}
