package augment

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/foveaml/fovea/internal/resample"
	"github.com/foveaml/fovea/internal/scratch"
)

// Interp is a resampling filter.
type Interp int

const (
	// Bilinear interpolates between the four nearest pixel centres; when
	// resizing down, its triangle widens with the scale so that every
	// source pixel counts (antialiasing, as PIL and data.LoadImage do).
	Bilinear Interp = iota
	// Area averages the source pixels an output pixel covers, weighted by
	// the overlap (OpenCV's INTER_AREA): the choice for shrinking.
	Area
	// Nearest takes the nearest pixel.
	Nearest
)

var interpNames = [...]string{"bilinear", "area", "nearest"}

// String returns the filter's name.
func (in Interp) String() string {
	if in >= 0 && int(in) < len(interpNames) {
		return interpNames[in]
	}
	return fmt.Sprintf("Interp(%d)", int(in))
}

// ParseInterp returns the Interp called name (bilinear, area or nearest).
func ParseInterp(name string) (Interp, error) {
	for i, n := range interpNames {
		if strings.EqualFold(name, n) {
			return Interp(i), nil
		}
	}
	return 0, fmt.Errorf("interpolation %q: want bilinear, area or nearest", name)
}

func (in Interp) valid() error {
	if in < Bilinear || in > Nearest {
		return fmt.Errorf("unknown interpolation %d", int(in))
	}
	return nil
}

// Resize resamples an image to Height×Width. It is deterministic, the
// same in training and inference.
type Resize struct {
	Height, Width int
	// Interp is the filter: Bilinear (the default), Area or Nearest.
	Interp Interp
}

// NoParams are the parameters of a deterministic transform.
type NoParams struct{}

// OutShape returns Height×Width×c.
func (r Resize) OutShape(h, w, c int) (int, int, int, error) {
	if err := checkShape(h, w, c); err != nil {
		return 0, 0, 0, err
	}
	if r.Height <= 0 || r.Width <= 0 {
		return 0, 0, 0, fmt.Errorf("resize to %dx%d: the size must be positive", r.Height, r.Width)
	}
	if err := r.Interp.valid(); err != nil {
		return 0, 0, 0, err
	}
	return r.Height, r.Width, c, nil
}

// Sample returns NoParams.
func (Resize) Sample(rng *rand.Rand, h, w, c int) NoParams { return NoParams{} }

// Inference returns NoParams.
func (Resize) Inference(h, w, c int) NoParams { return NoParams{} }

// Apply resizes src into dst.
// It checks the shape and the buffers first, as the function Apply
// does.
func (r Resize) Apply(dst, src []float32, h, w, c int, p NoParams) error {
	return Apply[NoParams](r, dst, src, h, w, c, p)
}

// apply is Apply on a shape and buffers already checked.
func (r Resize) apply(dst, src []float32, h, w, c int, _ NoParams) error {
	return resizeBox(dst, r.Height, r.Width, src, h, w, c, Box{W: w, H: h}, r.Interp)
}

func (r Resize) step(k call) (Params, error) { return runStep(r, k) }

// filter returns the resampling filter of in.
func (in Interp) filter() resample.Filter {
	switch in {
	case Area:
		return resample.Area
	case Nearest:
		return resample.Nearest
	}
	return resample.Bilinear
}

// resizeBox resamples box b of src (h×w×c; the box inside the image) to
// oh×ow into dst: across the rows, then down the columns.
func resizeBox(dst []float32, oh, ow int, src []float32, h, w, c int, b Box, f Interp) error {
	if b.W <= 0 || b.H <= 0 || b.X < 0 || b.Y < 0 || b.X+b.W > w || b.Y+b.H > h {
		return fmt.Errorf("box %v does not lie inside the %dx%d image", b, h, w)
	}
	if b.W == ow && b.H == oh {
		copyBox(dst, src, h, w, c, b, FillConstant, 0)
		return nil
	}
	tx := resample.NewTaps(b.X, b.W, ow, f.filter())
	ty := resample.NewTaps(b.Y, b.H, oh, f.filter())
	tmp := scratch.Floats.Get(b.H * ow * c)
	defer scratch.Floats.Put(tmp)
	// tmp holds every row of the box resampled across: b.H × ow × c.
	for y := range b.H {
		tx.Across(tmp[y*ow*c:(y+1)*ow*c], src[(b.Y+y)*w*c:(b.Y+y+1)*w*c], c)
	}
	ty.Down(dst, tmp, ow*c, b.Y)
	return nil
}
