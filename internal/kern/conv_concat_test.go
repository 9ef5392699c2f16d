package kern

import (
	"fmt"
	"slices"
	"testing"
)

// TestConv2DFusedOutStride checks that convolutions writing into the
// channels of a wider output (Epilogue.OutStride) give, bit for bit,
// their outputs of their own side by side, and touch nothing else of it:
// the direct kernel (1×1 and 3×3, widths that fill the tile and that do
// not), Winograd, with and without an epilogue, and a residual in the
// strided layout.
func TestConv2DFusedOutStride(t *testing.T) {
	r := newRand(17)
	for _, c := range []struct {
		d     Dims
		p     Conv
		winos []bool
	}{
		{Dims{1, 14, 14, 40}, Conv{KH: 1, KW: 1, Cout: 64}, []bool{false}},
		{Dims{2, 9, 11, 24}, Conv{KH: 1, KW: 1, Cout: 24}, []bool{false}},
		{Dims{1, 14, 14, 32}, Conv{KH: 3, KW: 3, PadT: 1, PadB: 1, PadL: 1, PadR: 1, Cout: 48}, []bool{false, true}},
		{Dims{2, 7, 7, 16}, Conv{KH: 3, KW: 3, SH: 2, SW: 2, PadT: 1, PadB: 1, PadL: 1, PadR: 1, Cout: 208}, []bool{false}},
	} {
		for _, wino := range c.winos {
			for _, epi := range []string{"none", "bn-relu", "residual"} {
				t.Run(fmt.Sprintf("%v_%dx%d_%d_wino%v_%s", c.d, c.p.KH, c.p.KW, c.p.Cout, wino, epi), func(t *testing.T) {
					od := c.p.norm(c.d).Out(c.d)
					x := randSlice(r, c.d.Len(), -1, 1)
					w := randSlice(r, c.p.WeightLen(c.d.C), -1, 1)
					ep := Epilogue{}
					if epi == "bn-relu" {
						ep = Epilogue{Scale: randSlice(r, c.p.Cout, 0.5, 1.5), Shift: randSlice(r, c.p.Cout, -1, 1), ReLU: true}
					}
					const before, after = 5, 11 // channels of the wide output around this part
					ld := before + c.p.Cout + after
					pixels := od.N * od.H * od.W
					res := randSlice(r, pixels*c.p.Cout, -1, 1)
					wideRes := randSlice(r, pixels*ld, -1, 1)
					for i := range pixels {
						copy(wideRes[i*ld+before:], res[i*c.p.Cout:(i+1)*c.p.Cout])
					}
					run := func(y []float32, e Epilogue, rs []float32) {
						if epi == "residual" {
							e.Res = rs
						}
						if wino {
							conv2DWinograd(y, x, w, nil, c.d, c.p.norm(c.d), e)
						} else {
							conv2DDirect(y, x, w, nil, c.d, c.p.norm(c.d), e)
						}
					}
					want := make([]float32, od.Len())
					run(want, ep, res)
					wide := randSlice(r, pixels*ld, -1, 1)
					orig := slices.Clone(wide)
					wep := ep
					wep.OutStride = ld
					run(wide[before:], wep, wideRes[before:])
					for i := range pixels {
						row, o := wide[i*ld:(i+1)*ld], orig[i*ld:(i+1)*ld]
						if !slices.Equal(row[before:before+c.p.Cout], want[i*c.p.Cout:(i+1)*c.p.Cout]) {
							t.Fatalf("pixel %d: the part's channels differ from its own output", i)
						}
						if !slices.Equal(row[:before], o[:before]) || !slices.Equal(row[before+c.p.Cout:], o[before+c.p.Cout:]) {
							t.Fatalf("pixel %d: channels outside the part changed", i)
						}
					}
				})
			}
		}
	}
}
