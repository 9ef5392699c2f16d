package kern

import (
	"fmt"
	"testing"
)

func TestConcatSplit(t *testing.T) {
	for _, tc := range []struct {
		pixels int
		cs     []int
	}{
		{1, []int{1}}, {7, []int{3, 5}}, {2 * 3 * 5, []int{64, 128, 32, 32}}, {13, []int{1, 2, 3, 0, 17}},
		{4 * 28 * 28, []int{64, 96, 32}}, // large enough to run in parallel
	} {
		r := newRand(uint64(tc.pixels))
		total := 0
		var xs [][]float32
		for _, c := range tc.cs {
			xs = append(xs, randSlice(r, tc.pixels*c, -1, 1))
			total += c
		}
		name := fmt.Sprintf("pixels %d channels %v", tc.pixels, tc.cs)
		y, check := guardedFill(t, tc.pixels*total, nan32)
		ConcatChannels(y, xs, tc.pixels)
		check()
		want := make([]float32, 0, len(y))
		for p := range tc.pixels {
			for k, c := range tc.cs {
				want = append(want, xs[k][p*c:(p+1)*c]...)
			}
		}
		assertClose(t, "ConcatChannels "+name, y, want, 0)

		var ys [][]float32
		var checks []func()
		for _, c := range tc.cs {
			s, ch := guardedFill(t, tc.pixels*c, nan32)
			ys, checks = append(ys, s), append(checks, ch)
		}
		SplitChannels(ys, y, tc.pixels)
		for k := range ys {
			checks[k]()
			assertClose(t, fmt.Sprintf("SplitChannels %s part %d", name, k), ys[k], xs[k], 0)
		}
	}
}
