// Package kern holds fovea's CNN kernels over NHWC activations and HWIO
// filters, each with its forward and backward passes: convolution, max,
// average and global pooling, batch normalisation, local response
// normalisation, activations, softmax and cross-entropy, dropout, and the
// element-wise and channel operations between them.
//
// Kernels take caller-owned slices plus their dims and never allocate in
// steady state (scratch buffers come from internal/scratch); backward
// passes overwrite their outputs. They split their work over the pool of
// internal/cpu, and their inner loops dispatch once, at start-up, to
// AVX-512 or AVX2 assembly, or to pure Go under the noasm tag. At a fixed
// number of workers every kernel gives the same bits from run to run: a
// reduction split over the workers combines its partial sums in an order
// fixed by the split (cpu.ForChunks, cpu.Ordered), never in the order the
// workers finish, so training is reproducible from its seed. The assembly
// is written by the generators gen_vec.go and gen_winograd.go (go
// generate), never by hand.
//
//	d := kern.Dims{N: 32, H: 32, W: 32, C: 64}
//	p := kern.Conv{KH: 3, KW: 3, PadT: 1, PadB: 1, PadL: 1, PadR: 1, Cout: 64}
//	y := make([]float32, p.Out(d).Len())
//	kern.Conv2D(y, x, w, bias, d, p)         // y = x ⋆ w + bias
//	kern.Conv2DBackwardData(dx, dy, w, d, p) // dx from dy
//	kern.Conv2DBackwardFilter(dw, db, x, dy, d, p)
//
// Convolutions run gemm's register-blocked micro-kernel directly on the
// image: a tile is MR output pixels by NR output channels, and the
// reduction runs over the filter rows as runs of contiguous input
// channels, so no im2col matrix is ever built. Where a cost model says it
// pays, a 3×3 convolution at unit stride (forward and backward-data) runs
// instead as Winograd's F(4×4, 3×3), which does a quarter of the
// multiply-adds at the price of a larger rounding error (on trained-like
// statistics at 512 channels, a root-mean-square error of 3e-6 of the
// output's and a largest of 5e-5, five to ten times the direct kernel's);
// SetWinograd, or FOVEA_WINOGRAD=off in the environment, turns it off.
package kern
