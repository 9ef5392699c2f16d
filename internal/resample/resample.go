// Package resample resizes images separably: a Taps table says, for each
// output sample of one axis, which run of input samples it reads and with
// what weights; rows are resampled across with one table, then the
// resampled rows down with another. package data (decoding images to a
// size) and package augment (resize and crop transforms) share it.
//
//	tx, ty := resample.NewTaps(0, w, ow, resample.Bilinear), resample.NewTaps(0, h, oh, resample.Bilinear)
//	for y := range h { tx.Across(tmp[y*ow*c:(y+1)*ow*c], src[y*w*c:(y+1)*w*c], c) }
//	ty.Down(dst, tmp, ow*c, 0)
package resample

import "math"

// Filter is how output samples weigh input samples.
type Filter int

const (
	// Bilinear weighs by a triangle on pixel centres (align_corners =
	// false); when shrinking, the triangle widens by the scale so that
	// every input counts (antialiasing, as PIL and torchvision's
	// antialias=True do).
	Bilinear Filter = iota
	// Area averages the inputs an output covers, weighted by overlap.
	Area
	// Nearest takes the input nearest the output's centre.
	Nearest
)

// Taps are the weights by which each output sample is made from a run of
// input samples.
type Taps struct {
	Start []int     // first input sample of each output
	N     int       // inputs per output (shorter runs pad with zero weights)
	W     []float32 // N weights per output, summing to 1
}

// NewTaps returns the taps that resample the in samples from lo to out
// samples with filter f, reading no sample outside [lo, lo+in).
func NewTaps(lo, in, out int, f Filter) Taps {
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
	t := Taps{Start: make([]int, out), N: n, W: make([]float32, out*n)}
	for o := range out {
		centre := (float64(o) + 0.5) * scale // relative to lo
		ws := t.W[o*n : (o+1)*n]
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
		t.Start[o] = lo + a
	}
	return t
}

// Across resamples one row of pixels of c channels: out (len(Start)·c
// values) from row, whose pixel i holds row[i·c : (i+1)·c].
func (t Taps) Across(out, row []float32, c int) {
	for x := range t.Start {
		ws := t.W[x*t.N : (x+1)*t.N]
		s := t.Start[x]
		o := out[x*c : (x+1)*c]
		if c == 3 {
			var r, g, b float32
			for k, wt := range ws {
				if wt != 0 {
					p := row[3*(s+k) : 3*(s+k)+3]
					r += wt * p[0]
					g += wt * p[1]
					b += wt * p[2]
				}
			}
			o[0], o[1], o[2] = r, g, b
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

// Down resamples rows of stride values each: dst row y is the weighted
// sum of rows[Start[y]−first+k], rows holding input rows from first on.
func (t Taps) Down(dst, rows []float32, stride, first int) {
	for y := range t.Start {
		ws := t.W[y*t.N : (y+1)*t.N]
		s := t.Start[y] - first
		out := dst[y*stride : (y+1)*stride]
		clear(out)
		for k, wt := range ws {
			if wt == 0 {
				continue
			}
			in := rows[(s+k)*stride : (s+k+1)*stride]
			for j, v := range in {
				out[j] += wt * v
			}
		}
	}
}
