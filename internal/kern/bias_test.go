package kern

import "testing"

func TestAddBiasAndBiasGrad(t *testing.T) {
	r := newRand(7)
	for _, sh := range [][2]int{{1, 1}, {3, 5}, {17, 33}, {2000, 70}} {
		rows, cols := sh[0], sh[1]
		forEachVec(t, func(t *testing.T) {
			x := randSlice(r, rows*cols, -1, 1)
			b := randSlice(r, cols, -1, 1)
			y, check := guarded(t, rows*cols)
			copy(y, x)
			AddBias(y, b)
			check()
			for i, v := range y {
				if want := x[i] + b[i%cols]; v != want {
					t.Fatalf("%dx%d: AddBias[%d] = %v, want %v", rows, cols, i, v, want)
				}
			}
			db, check := guardedFill(t, cols, nan32)
			BiasGrad(db, x)
			check()
			for c := range cols {
				want := 0.0
				for r := range rows {
					want += float64(x[r*cols+c])
				}
				if d := float64(db[c]) - want; d > 1e-4 || d < -1e-4 {
					t.Fatalf("%dx%d: BiasGrad[%d] = %v, want %v", rows, cols, c, db[c], want)
				}
			}
		})
	}
}
