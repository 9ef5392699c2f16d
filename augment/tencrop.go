package augment

import "fmt"

// TenCrop makes AlexNet's ten test-time views of an image: the
// Height×Width crops at the four corners and the centre, then the same
// five crops mirrored left to right. A model's predictions averaged over
// the views score better than those of the centre crop alone (see
// package augment/tta for evaluation with them).
type TenCrop struct {
	Height, Width int
}

// Views is the number of views TenCrop makes.
const Views = 10

// Boxes returns the five crop boxes of an h×w image: top-left,
// top-right, bottom-left, bottom-right and centre (top-left corner at
// ((h-Height)/2, (w-Width)/2) rounded down). It is an error if the crop
// is larger than the image.
func (t TenCrop) Boxes(h, w int) ([5]Box, error) {
	if t.Height <= 0 || t.Width <= 0 {
		return [5]Box{}, fmt.Errorf("ten-crop size %dx%d is not positive", t.Height, t.Width)
	}
	if t.Height > h || t.Width > w {
		return [5]Box{}, fmt.Errorf("a %dx%d ten-crop is larger than the %dx%d image", t.Height, t.Width, h, w)
	}
	ch, cw := t.Height, t.Width
	return [5]Box{
		{X: 0, Y: 0, W: cw, H: ch},
		{X: w - cw, Y: 0, W: cw, H: ch},
		{X: 0, Y: h - ch, W: cw, H: ch},
		{X: w - cw, Y: h - ch, W: cw, H: ch},
		{X: (w - cw) / 2, Y: (h - ch) / 2, W: cw, H: ch},
	}, nil
}

// Apply writes the ten views of src (h×w×c) one after another into dst,
// which holds 10·Height·Width·c values: the five Boxes, then each of them
// mirrored.
func (t TenCrop) Apply(dst, src []float32, h, w, c int) error {
	boxes, err := t.Boxes(h, w)
	if err != nil {
		return err
	}
	size := t.Height * t.Width * c
	if err := checkSizes(dst[:min(len(dst), size)], src, h, w, c, t.Height, t.Width, c); err != nil {
		return err
	}
	if len(dst) != Views*size {
		return fmt.Errorf("destination holds %d values, ten %dx%dx%d views %d", len(dst), t.Height, t.Width, c, Views*size)
	}
	for i, b := range boxes {
		v := dst[i*size : (i+1)*size]
		copyBox(v, src, h, w, c, b, FillConstant, 0)
		FlipH(dst[(i+5)*size:(i+6)*size], v, t.Height, t.Width, c)
	}
	return nil
}
