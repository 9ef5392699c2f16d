package augment

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
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
func (Resize) Sample(rng *rand.Rand, h, w, c int) Params { return NoParams{} }

// Inference returns NoParams.
func (Resize) Inference(h, w, c int) Params { return NoParams{} }

// Apply resizes src into dst.
func (r Resize) Apply(dst, src []float32, h, w, c int, p Params) error {
	oh, ow, oc, err := r.OutShape(h, w, c)
	if err != nil {
		return err
	}
	if err := checkSizes(dst, src, h, w, c, oh, ow, oc); err != nil {
		return err
	}
	return resizeBox(dst, oh, ow, src, h, w, c, Box{W: w, H: h}, r.Interp)
}

// taps are the weights by which resampling makes each output sample
// from a run of input samples.
type taps struct {
	start []int     // first input sample of output i
	n     int       // inputs per output (shorter runs pad with zero weights)
	w     []float32 // n weights per output
}

// makeTaps returns the taps that resample the in samples from lo to out
// samples with filter f, reading no sample outside [lo, lo+in).
func makeTaps(lo, in, out int, f Interp) taps {
	scale := float64(in) / float64(out)
	var support float64
	switch f {
	case Bilinear:
		support = max(scale, 1)
	case Area:
		support = max(scale, 1)/2 + 1
	default:
		support = 0.5
	}
	n := int(math.Ceil(support))*2 + 1
	t := taps{start: make([]int, out), n: n, w: make([]float32, out*n)}
	for o := range out {
		centre := (float64(o) + 0.5) * scale // relative to lo
		ws := t.w[o*n : (o+1)*n]
		a := max(int(math.Floor(centre-support)), 0)
		b := min(int(math.Ceil(centre+support)), in)
		if b-a > n {
			b = a + n
		}
		var sum float64
		switch f {
		case Nearest:
			i := min(max(int(math.Floor(centre)), 0), in-1)
			a, ws[0], sum = i, 1, 1
		case Bilinear:
			for i := a; i < b; i++ {
				if d := math.Abs((float64(i) + 0.5 - centre) / support); d < 1 {
					ws[i-a] = float32(1 - d)
					sum += 1 - d
				}
			}
		case Area:
			x0, x1 := float64(o)*scale, float64(o+1)*scale
			for i := a; i < b; i++ {
				if ov := math.Min(x1, float64(i+1)) - math.Max(x0, float64(i)); ov > 0 {
					ws[i-a] = float32(ov)
					sum += ov
				}
			}
		}
		if sum == 0 { // never for in >= 1, but never divide by zero
			a, sum = min(max(int(centre), 0), in-1), 1
			clear(ws)
			ws[0] = 1
		}
		for k := range ws {
			ws[k] = float32(float64(ws[k]) / sum)
		}
		t.start[o] = lo + a
	}
	return t
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
	tx := makeTaps(b.X, b.W, ow, f)
	ty := makeTaps(b.Y, b.H, oh, f)
	buf := getBuf(b.H * ow * c)
	defer bufPool.Put(buf)
	tmp := *buf
	// tmp holds every row of the box resampled across: b.H × ow × c.
	for y := range b.H {
		row := src[(b.Y+y)*w*c : (b.Y+y+1)*w*c]
		out := tmp[y*ow*c : (y+1)*ow*c]
		for x := range ow {
			ws := tx.w[x*tx.n : (x+1)*tx.n]
			s := tx.start[x]
			o := out[x*c : (x+1)*c]
			if c == 3 {
				var r, g, bl float32
				for k, wt := range ws {
					if wt != 0 {
						p := row[3*(s+k) : 3*(s+k)+3]
						r += wt * p[0]
						g += wt * p[1]
						bl += wt * p[2]
					}
				}
				o[0], o[1], o[2] = r, g, bl
				continue
			}
			clear(o)
			for k, wt := range ws {
				if wt != 0 {
					p := row[(s+k)*c : (s+k+1)*c]
					for j := range o {
						o[j] += wt * p[j]
					}
				}
			}
		}
	}
	stride := ow * c
	for y := range oh {
		ws := ty.w[y*ty.n : (y+1)*ty.n]
		s := ty.start[y] - b.Y
		out := dst[y*stride : (y+1)*stride]
		clear(out)
		for k, wt := range ws {
			if wt == 0 {
				continue
			}
			in := tmp[(s+k)*stride : (s+k+1)*stride]
			for j, v := range in {
				out[j] += wt * v
			}
		}
	}
	return nil
}
