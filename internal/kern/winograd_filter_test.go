package kern

import (
	"fmt"
	"testing"
)

// TestWinogradFilterGrad checks backward-filter by Winograd against the
// float64 reference, beside the direct kernel's error, on image sizes
// that are and are not multiples of the tile, every padding of a 3×3
// stride-1 convolution, and tiles over more than one block; its error is
// bounded as the forward's is.
func TestWinogradFilterGrad(t *testing.T) {
	r := newRand(21)
	for _, c := range []struct {
		d    Dims
		cout int
		pad  [4]int
	}{
		{Dims{2, 8, 8, 16}, 24, [4]int{1, 1, 1, 1}},
		{Dims{3, 11, 9, 20}, 17, [4]int{1, 1, 1, 1}},
		{Dims{2, 10, 10, 16}, 16, [4]int{0, 0, 0, 0}},
		{Dims{1, 9, 12, 16}, 32, [4]int{2, 0, 1, 2}},
		{Dims{8, 32, 32, 64}, 64, [4]int{1, 1, 1, 1}},  // several blocks
		{Dims{32, 32, 32, 64}, 64, [4]int{1, 1, 1, 1}}, // a CIFAR layer at half its batch
	} {
		p := Conv{KH: 3, KW: 3, PadT: c.pad[0], PadB: c.pad[1], PadL: c.pad[2], PadR: c.pad[3], Cout: c.cout}.norm(c.d)
		x, w := heConv(r, c.d, c.cout)
		dy := randSlice(r, p.Out(c.d).Len(), -1, 1)
		_, want, _ := refConvBackward(x, w, dy, c.d, p)
		got, check := guardedFill(t, len(w), nan32)
		convBackwardFilterWinograd(got, x, dy, c.d, p)
		check()
		wMax, wRMS := convError(got, want)
		direct := make([]float32, len(w))
		convBackwardFilterDirect(direct, nil, x, dy, c.d, p)
		dMax, dRMS := convError(direct, want)
		name := fmt.Sprintf("%v→%d pad %v", c.d, c.cout, c.pad)
		t.Logf("%s: Winograd max %.2e rms %.2e; direct max %.2e rms %.2e", name, wMax, wRMS, dMax, dRMS)
		if wMax > winoMaxBound || wRMS > winoRMSBound {
			t.Errorf("%s: Winograd's filter gradient is off by %.2e (largest) and %.2e (rms) of its rms, above %.0e and %.0e",
				name, wMax, wRMS, winoMaxBound, winoRMSBound)
		}
	}
}

// has reports whether f holds form (for the tests: the kernels only get).
func (f *Filters) has(form filterForm) bool {
	if f == nil {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.forms[form] != nil
}
