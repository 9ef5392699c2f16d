package augment

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Box is a rectangle of an image, in pixels: columns [X, X+W), rows
// [Y, Y+H). It is the parameters of the crops; a padded crop's box may
// reach outside the image.
type Box struct{ X, Y, W, H int }

// String formats b as "W×H at (X, Y)".
func (b Box) String() string { return fmt.Sprintf("%d×%d at (%d, %d)", b.W, b.H, b.X, b.Y) }

// copyBox writes box b of src (h×w×c) into dst (b.H×b.W×c); pixels
// outside src come from fill (value for FillConstant).
func copyBox(dst, src []float32, h, w, c int, b Box, fill Fill, value float32) {
	row := b.W * c
	// Columns [lo, hi) of the box lie inside the image.
	lo := min(max(-b.X, 0), b.W)
	hi := max(min(w-b.X, b.W), lo)
	for y := range b.H {
		d := dst[y*row : (y+1)*row]
		sy := fill.index(b.Y+y, h)
		if sy < 0 {
			fillValue(d, value)
			continue
		}
		s := src[sy*w*c : (sy+1)*w*c]
		if hi > lo {
			copy(d[lo*c:hi*c], s[(b.X+lo)*c:(b.X+hi)*c])
		}
		for x := 0; x < b.W; x++ {
			if x == lo {
				x = hi
				if x >= b.W {
					break
				}
			}
			sx := fill.index(b.X+x, w)
			if sx < 0 {
				fillValue(d[x*c:(x+1)*c], value)
			} else {
				copy(d[x*c:(x+1)*c], s[sx*c:(sx+1)*c])
			}
		}
	}
}

// drawBox tries ten times to draw a box of an h×w image, at most
// maxH×maxW, whose area is a fraction of the image's drawn from scale and
// whose aspect ratio is drawn from ratio in log space: the box's width
// over its height, or with tall its height over its width. It reports
// false if no try fits.
func drawBox(rng *rand.Rand, h, w, maxH, maxW int, scale, ratio [2]float64, tall bool) (Box, bool) {
	area := float64(h * w)
	lr0, lr1 := math.Log(ratio[0]), math.Log(ratio[1])
	for range 10 {
		a := area * uniform(rng, scale[0], scale[1])
		ar := math.Exp(uniform(rng, lr0, lr1))
		// The sides along the ratio's numerator and its denominator.
		num := int(math.Round(math.Sqrt(a * ar)))
		den := int(math.Round(math.Sqrt(a / ar)))
		bw, bh := num, den
		if tall {
			bw, bh = den, num
		}
		if bw > 0 && bh > 0 && bw <= maxW && bh <= maxH {
			return Box{X: rng.IntN(w - bw + 1), Y: rng.IntN(h - bh + 1), W: bw, H: bh}, true
		}
	}
	return Box{}, false
}

// orRange returns r, or def if r is zero.
func orRange(r, def [2]float64) [2]float64 {
	if r == [2]float64{} {
		return def
	}
	return r
}

func fillValue(d []float32, v float32) {
	if v == 0 {
		clear(d)
		return
	}
	for i := range d {
		d[i] = v
	}
}

// cropSize returns the crop's size: the option, or the image's if zero.
func cropSize(height, width, h, w int) (int, int, error) {
	if height < 0 || width < 0 {
		return 0, 0, fmt.Errorf("crop size %dx%d is negative", height, width)
	}
	if height == 0 {
		height = h
	}
	if width == 0 {
		width = w
	}
	return height, width, nil
}

// RandomCrop cuts a Height×Width window at a uniformly random place of
// the image padded by Padding pixels on every side (the CIFAR recipe:
// Padding 4 around a 32×32 crop). At inference it takes the centre.
type RandomCrop struct {
	// Height and Width are the crop's size; 0 means the image's.
	Height, Width int
	// Padding widens every side of the image before cropping.
	Padding int
	// Fill is what the padding holds: FillConstant (Value), FillReflect
	// or FillEdge (or FillWrap).
	Fill  Fill
	Value float32
}

// OutShape returns Height×Width×c, or an error if the crop is larger
// than the padded image.
func (r RandomCrop) OutShape(h, w, c int) (int, int, int, error) {
	if err := checkShape(h, w, c); err != nil {
		return 0, 0, 0, err
	}
	if err := r.Fill.valid(); err != nil {
		return 0, 0, 0, err
	}
	if r.Padding < 0 {
		return 0, 0, 0, fmt.Errorf("padding %d is negative", r.Padding)
	}
	ch, cw, err := cropSize(r.Height, r.Width, h, w)
	if err != nil {
		return 0, 0, 0, err
	}
	if ch > h+2*r.Padding || cw > w+2*r.Padding {
		return 0, 0, 0, fmt.Errorf("a %dx%d crop does not fit in a %dx%d image padded by %d", ch, cw, h, w, r.Padding)
	}
	return ch, cw, c, nil
}

// Sample draws the crop's Box, in the coordinates of the unpadded image
// (X and Y may be negative).
func (r RandomCrop) Sample(rng *rand.Rand, h, w, c int) Box {
	ch, cw, _ := cropSize(r.Height, r.Width, h, w)
	return Box{
		X: -r.Padding + rng.IntN(w+2*r.Padding-cw+1),
		Y: -r.Padding + rng.IntN(h+2*r.Padding-ch+1),
		W: cw, H: ch,
	}
}

// Inference returns the central box.
func (r RandomCrop) Inference(h, w, c int) Box {
	ch, cw, _ := cropSize(r.Height, r.Width, h, w)
	return Box{X: (w - cw) / 2, Y: (h - ch) / 2, W: cw, H: ch}
}

func (r RandomCrop) step(k call) (Params, error) { return runStep(r, k) }

// Apply copies the box b of src, padded as r says, into dst.
// It checks the shape and the buffers first, as the function Apply
// does.
func (r RandomCrop) Apply(dst, src []float32, h, w, c int, p Box) error {
	return Apply[Box](r, dst, src, h, w, c, p)
}

// apply is Apply on a shape and buffers already checked.
func (r RandomCrop) apply(dst, src []float32, h, w, c int, b Box) error {
	if ch, cw, _ := cropSize(r.Height, r.Width, h, w); b.W != cw || b.H != ch {
		return fmt.Errorf("box %v is not the crop's %dx%d", b, ch, cw)
	}
	copyBox(dst, src, h, w, c, b, r.Fill, r.Value)
	return nil
}

// CenterCrop cuts the central Height×Width window of an image, its
// top-left corner at ((h-Height)/2, (w-Width)/2) rounded down. It is
// deterministic, the same in training and inference.
type CenterCrop struct {
	Height, Width int
}

// OutShape returns Height×Width×c, or an error if that is larger than
// the image.
func (cc CenterCrop) OutShape(h, w, c int) (int, int, int, error) {
	if err := checkShape(h, w, c); err != nil {
		return 0, 0, 0, err
	}
	if cc.Height <= 0 || cc.Width <= 0 {
		return 0, 0, 0, fmt.Errorf("centre crop size %dx%d is not positive", cc.Height, cc.Width)
	}
	if cc.Height > h || cc.Width > w {
		return 0, 0, 0, fmt.Errorf("a %dx%d centre crop is larger than the %dx%d image", cc.Height, cc.Width, h, w)
	}
	return cc.Height, cc.Width, c, nil
}

// Sample returns the central Box; it draws nothing.
func (cc CenterCrop) Sample(rng *rand.Rand, h, w, c int) Box { return cc.Inference(h, w, c) }

// Inference returns the central Box.
func (cc CenterCrop) Inference(h, w, c int) Box {
	return Box{X: (w - cc.Width) / 2, Y: (h - cc.Height) / 2, W: cc.Width, H: cc.Height}
}

func (cc CenterCrop) step(k call) (Params, error) { return runStep(cc, k) }

// Apply copies box b of src into dst; the box must lie inside the image.
// It checks the shape and the buffers first, as the function Apply
// does.
func (cc CenterCrop) Apply(dst, src []float32, h, w, c int, p Box) error {
	return Apply[Box](cc, dst, src, h, w, c, p)
}

// apply is Apply on a shape and buffers already checked.
func (cc CenterCrop) apply(dst, src []float32, h, w, c int, b Box) error {
	if b.W != cc.Width || b.H != cc.Height || b.X < 0 || b.Y < 0 || b.X+b.W > w || b.Y+b.H > h {
		return fmt.Errorf("box %v is not a %dx%d crop inside the %dx%d image", b, cc.Height, cc.Width, h, w)
	}
	copyBox(dst, src, h, w, c, b, FillConstant, 0)
	return nil
}

// RandomResizedCrop cuts a box of random area and aspect ratio and
// resizes it to Height×Width: the Inception and ResNet recipe
// (torchvision's RandomResizedCrop). It tries ten times to draw a box
// that fits, then falls back to the central box of the nearest allowed
// aspect ratio. At inference it takes the largest central box of the
// output's aspect ratio.
type RandomResizedCrop struct {
	// Height and Width are the output size; required.
	Height, Width int
	// Scale is the range of the box's area as a fraction of the image's;
	// zero means [0.08, 1].
	Scale [2]float64
	// Ratio is the range of the box's width/height, drawn uniformly in
	// log space; zero means [3/4, 4/3].
	Ratio [2]float64
	// Interp resamples the box: Bilinear (the default) or Area.
	Interp Interp
}

func (r RandomResizedCrop) ranges() (scale, ratio [2]float64) {
	return orRange(r.Scale, [2]float64{0.08, 1}), orRange(r.Ratio, [2]float64{3.0 / 4, 4.0 / 3})
}

// OutShape returns Height×Width×c, or an error for an invalid option.
func (r RandomResizedCrop) OutShape(h, w, c int) (int, int, int, error) {
	if err := checkShape(h, w, c); err != nil {
		return 0, 0, 0, err
	}
	if r.Height <= 0 || r.Width <= 0 {
		return 0, 0, 0, fmt.Errorf("output size %dx%d is not positive", r.Height, r.Width)
	}
	if err := r.Interp.valid(); err != nil {
		return 0, 0, 0, err
	}
	scale, ratio := r.ranges()
	if !(scale[0] > 0 && scale[0] <= scale[1] && scale[1] <= 1) {
		return 0, 0, 0, fmt.Errorf("scale range [%v, %v] is not within (0, 1]", scale[0], scale[1])
	}
	if !(ratio[0] > 0 && ratio[0] <= ratio[1]) {
		return 0, 0, 0, fmt.Errorf("ratio range [%v, %v] is not positive and ordered", ratio[0], ratio[1])
	}
	return r.Height, r.Width, c, nil
}

// Sample draws the Box to resize.
func (r RandomResizedCrop) Sample(rng *rand.Rand, h, w, c int) Box {
	scale, ratio := r.ranges()
	if b, ok := drawBox(rng, h, w, h, w, scale, ratio, false); ok {
		return b
	}
	// The fallback: the whole image, trimmed to the allowed ratios.
	ar := float64(w) / float64(h)
	bw, bh := w, h
	switch {
	case ar < ratio[0]:
		bh = max(1, min(h, int(math.Round(float64(w)/ratio[0]))))
	case ar > ratio[1]:
		bw = max(1, min(w, int(math.Round(float64(h)*ratio[1]))))
	}
	return Box{X: (w - bw) / 2, Y: (h - bh) / 2, W: bw, H: bh}
}

// Inference returns the largest central box with the output's aspect
// ratio.
func (r RandomResizedCrop) Inference(h, w, c int) Box {
	return aspectBox(h, w, r.Height, r.Width)
}

func (r RandomResizedCrop) step(k call) (Params, error) { return runStep(r, k) }

// aspectBox returns the largest central box of h×w with the aspect ratio
// of oh×ow.
func aspectBox(h, w, oh, ow int) Box {
	bw, bh := w, h
	if w*oh > h*ow { // wider than the output: trim the sides
		bw = max(1, min(w, int(math.Round(float64(h)*float64(ow)/float64(oh)))))
	} else {
		bh = max(1, min(h, int(math.Round(float64(w)*float64(oh)/float64(ow)))))
	}
	return Box{X: (w - bw) / 2, Y: (h - bh) / 2, W: bw, H: bh}
}

// Apply resizes box b of src into dst.
// It checks the shape and the buffers first, as the function Apply
// does.
func (r RandomResizedCrop) Apply(dst, src []float32, h, w, c int, p Box) error {
	return Apply[Box](r, dst, src, h, w, c, p)
}

// apply is Apply on a shape and buffers already checked.
func (r RandomResizedCrop) apply(dst, src []float32, h, w, c int, b Box) error {
	return resizeBox(dst, r.Height, r.Width, src, h, w, c, b, r.Interp)
}
