package onnx

import "github.com/foveaml/fovea/ag"

// ONNX graphs are NCHW; fovea runs NHWC. Every float value of rank 4 is
// kept NHWC (its ONNX shape [N C H W] stored as [N H W C]); values of any
// other rank are kept as ONNX has them. Axis-wise ops (Concat, Slice,
// Pad, Softmax over the channels, broadcasting arithmetic) work on the
// stored layout with their axes mapped; ops that reinterpret memory
// (Flatten, Reshape, Transpose, MatMul) move the value to ONNX's order
// first, and back when their output is of rank 4.

var (
	toNCHW = []int{0, 3, 1, 2} // NHWC storage -> ONNX order
	toNHWC = []int{0, 2, 3, 1} // ONNX order -> NHWC storage
)

// storageAxis maps an ONNX axis of a rank-r value to its stored axis.
func storageAxis(axis, rank int) int {
	if rank != 4 {
		return axis
	}
	return [4]int{0, 3, 1, 2}[axis]
}

// onnxShape returns the ONNX shape of a stored float value.
func onnxShape(v *ag.Var) []int {
	s := v.Shape()
	if len(s) == 4 {
		return []int{s[0], s[3], s[1], s[2]}
	}
	return s
}

// toONNX returns v in ONNX's order.
func toONNX(tp *ag.Tape, v *ag.Var) *ag.Var {
	if v == nil {
		return nil
	}
	if v.Value().Rank() != 4 {
		return v
	}
	return permute(tp, v, toNCHW)
}

// fromONNX stores a value computed in ONNX's order.
func fromONNX(tp *ag.Tape, v *ag.Var) *ag.Var {
	if v == nil || v.Value().Rank() != 4 {
		return v
	}
	return permute(tp, v, toNHWC)
}

// nchwToNHWC reorders the data of an ONNX-order rank-4 tensor.
func nchwToNHWC(d []float32, dims []int) ([]float32, []int) {
	n, c, h, w := dims[0], dims[1], dims[2], dims[3]
	out := make([]float32, len(d))
	for a := 0; a < n; a++ {
		for ch := 0; ch < c; ch++ {
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					out[((a*h+y)*w+x)*c+ch] = d[((a*c+ch)*h+y)*w+x]
				}
			}
		}
	}
	return out, []int{n, h, w, c}
}

// oihwToHWIO reorders a PyTorch/ONNX filter for fovea.
func oihwToHWIO(d []float32, dims []int) ([]float32, []int) {
	o, i, h, w := dims[0], dims[1], dims[2], dims[3]
	out := make([]float32, len(d))
	for a := 0; a < o; a++ {
		for b := 0; b < i; b++ {
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					out[((y*w+x)*i+b)*o+a] = d[((a*i+b)*h+y)*w+x]
				}
			}
		}
	}
	return out, []int{h, w, i, o}
}

// transpose2 returns the transpose of an r×c matrix, in tiles that
// stay in cache (a VGG classifier weight is 25088×4096).
func transpose2(d []float32, r, c int) []float32 {
	const tile = 64
	out := make([]float32, len(d))
	for i0 := 0; i0 < r; i0 += tile {
		for j0 := 0; j0 < c; j0 += tile {
			for i := i0; i < min(i0+tile, r); i++ {
				for j := j0; j < min(j0+tile, c); j++ {
					out[j*r+i] = d[i*c+j]
				}
			}
		}
	}
	return out
}
