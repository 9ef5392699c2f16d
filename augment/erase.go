package augment

import (
	"math/rand/v2"
)

// RandomErasing blanks a random rectangle of the image with probability
// P (Zhong et al. 2017; torchvision's RandomErasing): its area is a
// fraction of the image's drawn from Scale, its aspect ratio drawn from
// Ratio in log space. If ten tries find no box that fits, nothing is
// erased.
type RandomErasing struct {
	// P is the probability of erasing; 0 means 0.5.
	P float64
	// Scale is the range of the box's area as a fraction of the image's;
	// zero means [0.02, 0.33].
	Scale [2]float64
	// Ratio is the range of the box's height/width; zero means [0.3, 3.3].
	Ratio [2]float64
	// Value fills the box.
	Value float32
}

// EraseParams say whether and where to erase.
type EraseParams struct {
	Erase bool
	Box   Box
}

func (r RandomErasing) ranges() (scale, ratio [2]float64) {
	return orRange(r.Scale, [2]float64{0.02, 0.33}), orRange(r.Ratio, [2]float64{0.3, 3.3})
}

// OutShape returns the shape unchanged, or an error for an invalid
// option.
func (r RandomErasing) OutShape(h, w, c int) (int, int, int, error) {
	if _, err := probability("P", r.P, 0.5); err != nil {
		return 0, 0, 0, err
	}
	if err := checkShape(h, w, c); err != nil {
		return 0, 0, 0, err
	}
	scale, ratio := r.ranges()
	if err := validRange("erasing scale", scale, 0, 1); err != nil {
		return 0, 0, 0, err
	}
	if err := validRange("erasing ratio", ratio, 1e-6, 1e6); err != nil {
		return 0, 0, 0, err
	}
	return h, w, c, nil
}

// Sample draws an EraseParams.
func (r RandomErasing) Sample(rng *rand.Rand, h, w, c int) EraseParams {
	if rng.Float64() >= orDefault(r.P, 0.5) {
		return EraseParams{}
	}
	scale, ratio := r.ranges()
	// A box smaller than the image on both sides: never all of it.
	b, ok := drawBox(rng, h, w, h-1, w-1, scale, ratio, true)
	return EraseParams{Erase: ok, Box: b}
}

// Inference returns no erasing.
func (RandomErasing) Inference(h, w, c int) EraseParams { return EraseParams{} }

func (r RandomErasing) step(k call) (Params, error) { return runStep(r, k) }

// Apply copies src into dst with p's box, clipped to the image, erased.
// It checks the shape and the buffers first, as the function Apply
// does.
func (r RandomErasing) Apply(dst, src []float32, h, w, c int, p EraseParams) error {
	return Apply[EraseParams](r, dst, src, h, w, c, p)
}

// apply is Apply on a shape and buffers already checked.
func (r RandomErasing) apply(dst, src []float32, h, w, c int, ep EraseParams) error {
	copy(dst, src)
	if !ep.Erase {
		return nil
	}
	b := ep.Box
	x0, x1 := max(b.X, 0), min(b.X+b.W, w)
	y0, y1 := max(b.Y, 0), min(b.Y+b.H, h)
	if x0 >= x1 {
		return nil
	}
	for y := y0; y < y1; y++ {
		fillValue(dst[(y*w+x0)*c:(y*w+x1)*c], r.Value)
	}
	return nil
}
