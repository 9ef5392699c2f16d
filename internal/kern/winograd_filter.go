package kern

import (
	"unsafe"

	"github.com/foveaml/fovea/internal/cpu"
	"github.com/foveaml/fovea/internal/gemm"
	"github.com/foveaml/fovea/internal/scratch"
)

// Backward-filter by Winograd F(4×4, 3×3). The forward pass computes each
// 4×4 output tile as Y = Aᵀ·[Σ_ci U ⊙ V]·A with U = G·g·Gᵀ and
// V = Bᵀ·d·B, so the gradient of the transformed filter is, per point ξ,
// dU[ξ] = Σ_tiles V[ξ]ᵀ·(A·dY·Aᵀ)[ξ] — 36 products of cin×tiles by
// tiles×cout — and the filter's gradient is dg = Gᵀ·dU·G. That is 36
// multiply-adds per tile where the direct reduction does 9 per pixel,
// 16 pixels a tile: 4× fewer.

// winoFilterGrad reports whether Conv2DBackwardFilter of p (normed) over
// dims d runs by Winograd: a 3×3 stride-1 convolution whose product is
// large enough to pay for the transforms of x and dy.
func winoFilterGrad(d Dims, p Conv) bool {
	if !winoMayRun(d, p) {
		return false
	}
	od := p.Out(d)
	pix := float64(od.N * od.H * od.W)
	tiles := float64(od.N * ceilDiv(od.H, 4) * ceilDiv(od.W, 4))
	cin, cout := float64(d.C), float64(p.Cout)
	direct := 9 * cin * cout * pix
	// The products, the transforms of x (36·cin a tile) and dy (36·cout)
	// written and read back, and the final transform of dU.
	win := tiles*(36*cin*cout+winoGradTransformCost*36*(cin+cout)) + winoFilterCost*36*cin*cout
	return win*winoMargin < direct
}

// winoGradTransformCost is what a transformed value of x or dy costs in
// multiply-adds' time (transformed, written, then read by the product),
// set from BenchmarkWinogradVsDirect/bwdfilter: Winograd's medians ran
// 0.84× direct at 32×32 with 64 channels each side, 1.25× at 16×16 with
// 128 and 1.57× at 8×8 with 256, so 64-channel layers stay direct.
const winoGradTransformCost = 90

// convBackwardFilterWinograd sets dw (HWIO) to the gradient of the
// filter of p (winoShape(p) holds, p normed) from x (dims d) and dy.
func convBackwardFilterWinograd(dw, x, dy []float32, d Dims, p Conv) {
	od := p.Out(d)
	cin, cout := d.C, p.Cout
	th, tw := ceilDiv(od.H, 4), ceilDiv(od.W, 4)
	tiles := od.N * th * tw
	// A block of T tiles: its transforms of x and dy, 36 points each,
	// stay within a few MiB while the 36 products read them.
	T := max(16, min(512, (6<<20)/(4*36*(cin+cout)))/16*16)
	T = min(T, roundUp(tiles, 16))
	vs, ms := T*cin, T*cout
	k := kernelFor(cout)
	panels := ceilDiv(cout, k.NR)
	// A tile of fewer rows than MR, or a panel narrower than NR, reads
	// on past the last point's values: slack after each.
	vp, mp := scratch.Get(36*vs+k.MR), scratch.Get(36*ms+k.NR)
	defer scratch.Put(vp)
	defer scratch.Put(mp)
	up := scratch.Get(36 * cin * cout) // dU, summed over the blocks
	defer scratch.Put(up)
	v, m, u := *vp, *mp, *up
	zeros := winoZeros.get(max(cin, cout))
	for b0 := 0; b0 < tiles; b0 += T {
		nt := min(T, tiles-b0)
		cpu.For(nt, 4, func(lo, hi int) {
			xyp := getPointers(52)
			defer putPointers(xyp)
			xp, yp := xyp[:36], xyp[36:]
			for t := lo; t < hi; t++ {
				n, ty, tx := (b0+t)/(th*tw), (b0+t)%(th*tw)/tw, (b0+t)%tw
				iy0, ix0 := 4*ty-p.PadT, 4*tx-p.PadL
				for a := 0; a < 6; a++ {
					for c := 0; c < 6; c++ {
						iy, ix := iy0+a, ix0+c
						if iy < 0 || iy >= d.H || ix < 0 || ix >= d.W {
							xp[6*a+c] = &zeros[0]
							continue
						}
						xp[6*a+c] = &x[((n*d.H+iy)*d.W+ix)*cin]
					}
				}
				wino.in(&v[t*cin], 4*vs, &xp[0], cin)
				for i := 0; i < 4; i++ {
					for j := 0; j < 4; j++ {
						oy, ox := 4*ty+i, 4*tx+j
						if oy >= od.H || ox >= od.W {
							yp[4*i+j] = &zeros[0]
							continue
						}
						yp[4*i+j] = &dy[((n*od.H+oy)*od.W+ox)*cout]
					}
				}
				wino.grad(&m[t*cout], 4*ms, &yp[0], cout)
			}
		})
		beta := float32(1)
		if b0 == 0 {
			beta = 0
		}
		// The 36 products dU[ξ] += V[ξ]ᵀ·M[ξ] on the micro-kernel: a
		// tile's rows are input channels (consecutive in V), its
		// reduction runs over the block's tiles (cin apart), its columns
		// are a panel of output channels (a row of M). One task a point
		// and panel: each sum has one order whoever runs it.
		cpu.ForEach(36*panels, func(task int) {
			xi, jp := task/panels, task%panels
			j0 := jp * k.NR
			cols := min(k.NR, cout-j0)
			b := &m[xi*ms+j0]
			ep := scratch.Get(tileLen)
			defer scratch.Put(ep)
			edge := *ep
			for r0 := 0; r0 < cin; r0 += k.MR {
				rows := min(k.MR, cin-r0)
				a := &v[xi*vs+r0]
				c := u[xi*cin*cout+r0*cout+j0:]
				if rows == k.MR && cols == k.NR {
					k.Tile(a, winoSeg, nt, 4, 4*cin, b, 4*cout, &c[0], cout, 1, beta, 0)
					continue
				}
				k.Tile(a, winoSeg, nt, 4, 4*cin, b, 4*cout, &edge[0], k.NR, 1, 0, 0)
				gemm.AddTile(c, cout, edge, k.NR, rows, cols, beta)
			}
		})
	}
	// dg = Gᵀ·dU·G for every (ci, co), a row of cout at a time: first
	// t[a][kx] = Σ_b dU[a][b]·G[b][kx], then dg[ky][kx] = Σ_a G[a][ky]·t[a][kx].
	cc := cin * cout
	cpu.For(cin, 1, func(lo, hi int) {
		tp := scratch.Get(18 * cout)
		defer scratch.Put(tp)
		t := *tp
		for ci := lo; ci < hi; ci++ {
			clear(t)
			for a := 0; a < 6; a++ {
				for bb := 0; bb < 6; bb++ {
					src := u[(6*a+bb)*cc+ci*cout:][:cout]
					for kx := 0; kx < 3; kx++ {
						if g := winoGCol[bb][kx]; g != 0 {
							vec.axpy(t[(3*a+kx)*cout:][:cout], g, src)
						}
					}
				}
			}
			for ky := 0; ky < 3; ky++ {
				for kx := 0; kx < 3; kx++ {
					dst := dw[((3*ky+kx)*cin+ci)*cout:][:cout]
					clear(dst)
					for a := 0; a < 6; a++ {
						if g := winoGCol[a][ky]; g != 0 {
							vec.axpy(dst, g, t[(3*a+kx)*cout:][:cout])
						}
					}
				}
			}
		}
	})
}

// winoGCol is G (6×3), the filter transform's matrix: U = G·g·Gᵀ.
var winoGCol = [6][3]float32{
	{1.0 / 4, 0, 0},
	{-1.0 / 6, -1.0 / 6, -1.0 / 6},
	{-1.0 / 6, 1.0 / 6, -1.0 / 6},
	{1.0 / 24, 1.0 / 12, 1.0 / 6},
	{1.0 / 24, -1.0 / 12, 1.0 / 6},
	{0, 0, 1},
}

func winoGradGo(m *float32, ms int, y **float32, c int) {
	ys := unsafe.Slice(y, 16)
	for ch := 0; ch < c; ch++ {
		var t [24]float32 // 4×6: dy·Aᵀ, row by row
		for i := 0; i < 4; i++ {
			o := winoA(*f32(ys[4*i], 4*ch), *f32(ys[4*i+1], 4*ch), *f32(ys[4*i+2], 4*ch), *f32(ys[4*i+3], 4*ch))
			copy(t[6*i:6*i+6], o[:])
		}
		for b := 0; b < 6; b++ {
			o := winoA(t[b], t[6+b], t[12+b], t[18+b])
			for a, v := range o {
				*f32(m, (6*a+b)*ms+4*ch) = v
			}
		}
	}
}

// winoA returns A·d for A = (Aᵀ)ᵀ, the 6×4 matrix of the points 0, ±1,
// ±2 and ∞.
func winoA(d0, d1, d2, d3 float32) [6]float32 {
	e, o := d0+d2, d1+d3
	e4, o2 := d0+4*d2, 2*d1+8*d3
	return [6]float32{d0, e + o, e - o, e4 + o2, e4 - o2, d3}
}
