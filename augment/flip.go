package augment

import (
	"math/rand/v2"
)

// FlipParams is the draw of a flip: whether this image is mirrored.
type FlipParams struct{ Flip bool }

// HorizontalFlip mirrors an image left to right with probability P
// (AlexNet's "horizontal reflections").
type HorizontalFlip struct {
	// P is the probability of a flip; 0 means 0.5.
	P float64
}

// OutShape returns the shape unchanged.
func (f HorizontalFlip) OutShape(h, w, c int) (int, int, int, error) {
	return flipShape(f.P, h, w, c)
}

// Sample draws a FlipParams.
func (f HorizontalFlip) Sample(rng *rand.Rand, h, w, c int) FlipParams { return sampleFlip(rng, f.P) }

// Inference returns no flip.
func (HorizontalFlip) Inference(h, w, c int) FlipParams { return FlipParams{} }

// Apply mirrors src into dst if p says so, else copies it.
// It checks the shape and the buffers first, as the function Apply
// does.
func (f HorizontalFlip) Apply(dst, src []float32, h, w, c int, p FlipParams) error {
	return Apply[FlipParams](f, dst, src, h, w, c, p)
}

// apply is Apply on a shape and buffers already checked.
func (f HorizontalFlip) apply(dst, src []float32, h, w, c int, p FlipParams) error {
	return applyFlip(dst, src, h, w, c, p, FlipH)
}

func (f HorizontalFlip) step(k call) (Params, error) { return runStep(f, k) }

// VerticalFlip mirrors an image top to bottom with probability P.
type VerticalFlip struct {
	// P is the probability of a flip; 0 means 0.5.
	P float64
}

// OutShape returns the shape unchanged.
func (f VerticalFlip) OutShape(h, w, c int) (int, int, int, error) {
	return flipShape(f.P, h, w, c)
}

// Sample draws a FlipParams.
func (f VerticalFlip) Sample(rng *rand.Rand, h, w, c int) FlipParams { return sampleFlip(rng, f.P) }

// Inference returns no flip.
func (VerticalFlip) Inference(h, w, c int) FlipParams { return FlipParams{} }

// Apply mirrors src into dst if p says so, else copies it.
// It checks the shape and the buffers first, as the function Apply
// does.
func (f VerticalFlip) Apply(dst, src []float32, h, w, c int, p FlipParams) error {
	return Apply[FlipParams](f, dst, src, h, w, c, p)
}

// apply is Apply on a shape and buffers already checked.
func (f VerticalFlip) apply(dst, src []float32, h, w, c int, p FlipParams) error {
	return applyFlip(dst, src, h, w, c, p, FlipV)
}

func (f VerticalFlip) step(k call) (Params, error) { return runStep(f, k) }

// FlipH writes src (h×w×c) mirrored left to right into dst.
func FlipH(dst, src []float32, h, w, c int) {
	row := w * c
	for y := range h {
		s, d := src[y*row:(y+1)*row], dst[y*row:(y+1)*row]
		if c == 1 {
			for x := range w {
				d[x] = s[w-1-x]
			}
			continue
		}
		for x := range w {
			copy(d[x*c:(x+1)*c], s[(w-1-x)*c:(w-x)*c])
		}
	}
}

// FlipV writes src (h×w×c) mirrored top to bottom into dst.
func FlipV(dst, src []float32, h, w, c int) {
	row := w * c
	for y := range h {
		copy(dst[y*row:(y+1)*row], src[(h-1-y)*row:(h-y)*row])
	}
}

// applyFlip is the Apply of both flips: flip src into dst with mirror if
// p says so, else copy it.
func applyFlip(dst, src []float32, h, w, c int, p FlipParams, mirror func(dst, src []float32, h, w, c int)) error {
	if !p.Flip {
		copy(dst, src)
		return nil
	}
	mirror(dst, src, h, w, c)
	return nil
}

func flipShape(p float64, h, w, c int) (int, int, int, error) {
	if _, err := probability("P", p, 0.5); err != nil {
		return 0, 0, 0, err
	}
	if err := checkShape(h, w, c); err != nil {
		return 0, 0, 0, err
	}
	return h, w, c, nil
}

func sampleFlip(rng *rand.Rand, p float64) FlipParams {
	return FlipParams{Flip: rng.Float64() < orDefault(p, 0.5)}
}
