package kern

import "github.com/foveaml/fovea/internal/cpu"

// tiles reports whether p cuts an input of dims d into whole,
// non-overlapping windows with no padding (LeNet's and most networks' 2×2
// average pooling): then every window has KH·KW pixels and a plain loop
// does, with none of the per-window bookkeeping that padding and ceil mode
// need.
func (p Pool2D) tiles(d Dims) bool {
	return p.SH == p.KH && p.SW == p.KW && p.PadT == 0 && p.PadB == 0 && p.PadL == 0 && p.PadR == 0 &&
		p.DH <= 1 && p.DW <= 1 && d.H%p.KH == 0 && d.W%p.KW == 0
}

// avgPoolTiled is AvgPool for windows that tile the input.
func avgPoolTiled(y, x []float32, d Dims, p Pool2D) {
	o := p.Out(d)
	c, kh, kw := d.C, p.KH, p.KW
	inv := 1 / float32(kh*kw)
	cpu.For(d.N*o.H, rowGrain(o.W*c*kh*kw), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			n, oh := r/o.H, r%o.H
			for ow := range o.W {
				ym := y[(r*o.W+ow)*c:][:c]
				clear(ym)
				for i := range kh {
					row := x[((n*d.H+oh*kh+i)*d.W+ow*kw)*c:][:kw*c]
					for j := range kw {
						xm := row[j*c : (j+1)*c]
						if c < 32 {
							for k, v := range xm {
								ym[k] += v
							}
						} else {
							vec.add(ym, ym, xm)
						}
					}
				}
				for k := range ym {
					ym[k] *= inv
				}
			}
		}
	})
}

// avgPoolBackwardTiled is AvgPoolBackward for windows that tile the
// input: every input pixel lies in exactly one window, so its gradient is
// set, not accumulated.
func avgPoolBackwardTiled(dx, dy []float32, d Dims, p Pool2D) {
	o := p.Out(d)
	c, kh, kw := d.C, p.KH, p.KW
	inv := 1 / float32(kh*kw)
	cpu.For(d.N*o.H, rowGrain(o.W*c*kh*kw), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			n, oh := r/o.H, r%o.H
			for ow := range o.W {
				g := dy[(r*o.W+ow)*c:][:c]
				for i := range kh {
					row := dx[((n*d.H+oh*kh+i)*d.W+ow*kw)*c:][:kw*c]
					for j := range kw {
						dm := row[j*c : (j+1)*c]
						for k, v := range g {
							dm[k] = inv * v
						}
					}
				}
			}
		}
	})
}
