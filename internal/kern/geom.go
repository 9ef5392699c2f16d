package kern

import "fmt"

// Dims is the shape of an NHWC activation: N images of H rows, W columns
// and C channels, stored with C varying fastest.
type Dims struct{ N, H, W, C int }

// Len returns N·H·W·C, the number of values a tensor of these dims holds.
func (d Dims) Len() int { return d.N * d.H * d.W * d.C }

// String formats dims as [N H W C].
func (d Dims) String() string { return fmt.Sprintf("[%d %d %d %d]", d.N, d.H, d.W, d.C) }

// OutSize returns the output length of a sliding window of size k
// (dilated by dil, 1 for none) moved by stride over an input of length in
// padded by padLo before and padHi after. With ceil set the last, partial
// window is kept if it starts inside the input or the leading padding
// (PyTorch's ceil_mode). It returns 0 when no window fits.
func OutSize(in, k, stride, padLo, padHi, dil int, ceil bool) int {
	ext := dil*(k-1) + 1
	span := in + padLo + padHi - ext
	if span < 0 {
		return 0
	}
	if !ceil {
		return span/stride + 1
	}
	out := (span+stride-1)/stride + 1
	// A window that would start beyond the input and the leading padding
	// sees only trailing padding: PyTorch drops it, and so do we.
	if (out-1)*stride >= in+padLo {
		out--
	}
	return out
}
