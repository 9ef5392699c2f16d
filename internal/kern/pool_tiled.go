package kern

import (
	"github.com/foveaml/fovea/internal/cpu"
	"github.com/foveaml/fovea/internal/scratch"
)

// tiles reports whether p cuts an input of dims d into whole,
// non-overlapping windows with no padding (LeNet's and most networks' 2×2
// average pooling): then every window has KH·KW pixels, and pooling a row
// of windows is a sum of whole input rows followed by a fold of each run
// of KW pixels, with none of the per-window bookkeeping that padding and
// ceil mode need.
func (p Pool2D) tiles(d Dims) bool {
	return p.SH == p.KH && p.SW == p.KW && p.PadT == 0 && p.PadB == 0 && p.PadL == 0 && p.PadR == 0 &&
		p.DH <= 1 && p.DW <= 1 && d.H%p.KH == 0 && d.W%p.KW == 0
}

// avgPoolTiled is AvgPool for windows that tile the input.
func avgPoolTiled(y, x []float32, d Dims, p Pool2D) {
	o := p.Out(d)
	c, kh, kw := d.C, p.KH, p.KW
	rowLen, outLen := d.W*c, o.W*c
	inv := 1 / float32(kh*kw)
	cpu.For(d.N*o.H, rowGrain(rowLen*kh), func(lo, hi int) {
		ap := scratch.Get(rowLen)
		defer scratch.Put(ap)
		acc := *ap
		for r := lo; r < hi; r++ {
			n, oh := r/o.H, r%o.H
			in := x[(n*d.H+oh*kh)*rowLen:]
			copy(acc, in[:rowLen])
			for i := 1; i < kh; i++ {
				vec.add(acc, acc, in[i*rowLen:(i+1)*rowLen])
			}
			out := y[r*outLen : (r+1)*outLen]
			step := kw * c
			for ow := 0; ow < o.W; ow++ {
				dst := out[ow*c : ow*c+c]
				win := acc[ow*step : ow*step+step]
				for k := range dst {
					s := win[k]
					for j := c; j < step; j += c {
						s += win[j+k]
					}
					dst[k] = s * inv
				}
			}
		}
	})
}

// avgPoolBackwardTiled is AvgPoolBackward for windows that tile the
// input: every input pixel lies in exactly one window, so its gradient is
// set, not accumulated — the scaled output gradient spread over the
// window's pixels.
func avgPoolBackwardTiled(dx, dy []float32, d Dims, p Pool2D) {
	o := p.Out(d)
	c, kh, kw := d.C, p.KH, p.KW
	rowLen, outLen := d.W*c, o.W*c
	inv := 1 / float32(kh*kw)
	cpu.For(d.N*o.H, rowGrain(rowLen*kh), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			n, oh := r/o.H, r%o.H
			g := dy[r*outLen : (r+1)*outLen]
			first := dx[(n*d.H+oh*kh)*rowLen : (n*d.H+oh*kh+1)*rowLen]
			step := kw * c
			for ow := 0; ow < o.W; ow++ {
				src := g[ow*c : ow*c+c]
				win := first[ow*step : ow*step+step]
				for j := 0; j < step; j += c {
					dst := win[j : j+c]
					for k, v := range src {
						dst[k] = v * inv
					}
				}
			}
			for i := 1; i < kh; i++ {
				copy(dx[(n*d.H+oh*kh+i)*rowLen:(n*d.H+oh*kh+i+1)*rowLen], first)
			}
		}
	})
}
