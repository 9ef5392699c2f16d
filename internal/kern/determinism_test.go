package kern

import (
	"fmt"
	"math"
	"runtime"
	"testing"

	"github.com/foveaml/fovea/internal/cpu"
)

// The reductions that cut their sums over the workers (the filter and
// bias gradients of a convolution, the statistics and gradients of batch
// normalisation, a dense layer's bias gradient) must give the same bits
// on every run at a fixed number of workers, whatever order the workers
// finish in: training is then reproducible from its seed.

// sameBits fails the test at the first value of got whose bits differ
// from want's.
func sameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: [%d] = %v (%#08x), first run gave %v (%#08x)", what, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
}

// repeats is how many times each reduction is run against its first run.
const repeats = 20

// TestConv2DBackwardFilterBitIdentical runs the filter gradient of
// convolutions whose reduction splits into several chunks, 20 times each
// at 2 and 3 workers: every run must equal the first bit for bit.
func TestConv2DBackwardFilterBitIdentical(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	cases := []struct {
		d Dims
		p Conv
	}{
		{Dims{8, 16, 16, 32}, Conv{KH: 3, KW: 3, PadT: 1, PadB: 1, PadL: 1, PadR: 1, Cout: 64}},
		{Dims{4, 16, 16, 24}, Conv{KH: 3, KW: 3, PadT: 1, PadB: 1, PadL: 1, PadR: 1, Cout: 40}}, // edge tiles
		{Dims{8, 8, 8, 64}, Conv{KH: 1, KW: 1, Cout: 128}},
		{Dims{4, 17, 17, 16}, Conv{KH: 3, KW: 3, SH: 2, SW: 2, PadT: 1, PadB: 1, PadL: 1, PadR: 1, Cout: 32}},
		{Dims{4, 12, 12, 8}, Conv{KH: 3, KW: 3, DH: 2, DW: 2, PadT: 2, PadB: 2, PadL: 2, PadR: 2, Cout: 16}},
	}
	for _, procs := range []int{2, 3} {
		runtime.GOMAXPROCS(procs)
		for i, tc := range cases {
			t.Run(fmt.Sprintf("procs=%d/%d", procs, i), func(t *testing.T) {
				d, p := tc.d, tc.p
				od := p.norm(d).Out(d)
				if chunks, _ := cpu.Split(filterBands(od)); chunks < 2 {
					t.Fatalf("%v %+v: the reduction runs as %d chunk; the test needs it split", d, p, chunks)
				}
				r := newRand(uint64(i))
				// Values of mixed magnitudes, so that the order of the
				// additions shows in the rounding.
				x := randSlice(r, d.Len(), -1, 1)
				dy := randSlice(r, od.Len(), -1, 1)
				for j := range dy {
					dy[j] *= float32(math.Exp2(float64(r.IntN(16) - 8)))
				}
				dw0, db0 := make([]float32, p.WeightLen(d.C)), make([]float32, p.Cout)
				Conv2DBackwardFilter(dw0, db0, x, dy, d, p)
				dw, db := make([]float32, len(dw0)), make([]float32, len(db0))
				for range repeats {
					Conv2DBackwardFilter(dw, db, x, dy, d, p)
					sameBits(t, "dw", dw, dw0)
					sameBits(t, "db", db, db0)
				}
			})
		}
	}
}

// TestBatchNormBitIdentical runs batch normalisation's forward (its
// statistics) and backward (its sums over the batch) 20 times at 2
// workers.
func TestBatchNormBitIdentical(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	d := Dims{16, 16, 16, 32}
	r := newRand(7)
	x := randSlice(r, d.Len(), -3, 5)
	dy := randSlice(r, d.Len(), -1, 1)
	type result struct{ y, mean, invStd, runMean, runVar, dx, dgamma, dbeta []float32 }
	run := func() result {
		c := d.C
		bn := &BatchNorm{Gamma: make([]float32, c), Beta: make([]float32, c), RunMean: make([]float32, c), RunVar: make([]float32, c), Momentum: 0.1, Eps: 1e-5}
		for j := range c {
			bn.Gamma[j], bn.Beta[j], bn.RunVar[j] = 1+0.1*float32(j), 0.01*float32(j), 1
		}
		res := result{y: make([]float32, d.Len()), mean: make([]float32, c), invStd: make([]float32, c),
			dx: make([]float32, d.Len()), dgamma: make([]float32, c), dbeta: make([]float32, c)}
		bn.ForwardTrain(res.y, x, d, res.mean, res.invStd)
		bn.BackwardTrain(res.dx, res.dgamma, res.dbeta, dy, x, d, res.mean, res.invStd)
		res.runMean, res.runVar = bn.RunMean, bn.RunVar
		return res
	}
	want := run()
	for range repeats {
		got := run()
		sameBits(t, "y", got.y, want.y)
		sameBits(t, "mean", got.mean, want.mean)
		sameBits(t, "invStd", got.invStd, want.invStd)
		sameBits(t, "running mean", got.runMean, want.runMean)
		sameBits(t, "running variance", got.runVar, want.runVar)
		sameBits(t, "dx", got.dx, want.dx)
		sameBits(t, "dgamma", got.dgamma, want.dgamma)
		sameBits(t, "dbeta", got.dbeta, want.dbeta)
	}
}

// TestBiasGradBitIdentical runs a dense layer's bias gradient 20 times at
// 2 workers.
func TestBiasGradBitIdentical(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	const rows, cols = 4096, 64
	dy := randSlice(newRand(9), rows*cols, -1, 1)
	want := make([]float32, cols)
	BiasGrad(want, dy)
	got := make([]float32, cols)
	for range repeats {
		BiasGrad(got, dy)
		sameBits(t, "db", got, want)
	}
}
