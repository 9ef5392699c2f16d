package kern

import (
	"fmt"

	"github.com/foveaml/fovea/internal/cpu"
)

// ConcatChannels stacks NHWC tensors along channels, as GoogLeNet's
// inception blocks join their branches: xs[k] holds pixels = N·H·W pixels
// of C_k = len(xs[k])/pixels channels, and y receives, for every pixel p,
//
//	y[p, O_k + c] = xs[k][p, c],  O_k = C_0 + … + C_(k−1)
//
// so y has ΣC_k channels and length pixels·ΣC_k.
func ConcatChannels(y []float32, xs [][]float32, pixels int) {
	channelCopy("ConcatChannels", y, xs, pixels, true)
}

// SplitChannels is the inverse of ConcatChannels, and so its backward:
// for every pixel p, ys[k][p, c] = x[p, O_k + c], with the channel counts
// C_k = len(ys[k])/pixels and O_k their running sum.
func SplitChannels(ys [][]float32, x []float32, pixels int) {
	channelCopy("SplitChannels", x, ys, pixels, false)
}

// channelCopy copies between the channel blocks of whole and parts, into
// whole if concat is set, out of it otherwise.
func channelCopy(op string, whole []float32, parts [][]float32, pixels int, concat bool) {
	total := 0
	for k, p := range parts {
		if pixels <= 0 || len(p)%pixels != 0 {
			panic(fmt.Sprintf("kern.%s: part %d has %d values, not a multiple of %d pixels", op, k, len(p), pixels))
		}
		total += len(p) / pixels
	}
	if len(whole) != pixels*total {
		panic(fmt.Sprintf("kern.%s: %d values for %d pixels of %d channels", op, len(whole), pixels, total))
	}
	cpu.For(pixels, rowGrain(total), func(lo, hi int) {
		for px := lo; px < hi; px++ {
			row := whole[px*total : (px+1)*total]
			for _, p := range parts {
				c := len(p) / pixels
				if concat {
					copy(row[:c], p[px*c:(px+1)*c])
				} else {
					copy(p[px*c:(px+1)*c], row[:c])
				}
				row = row[c:]
			}
		}
	})
}
