package kern

import (
	"fmt"
	"math"
	"testing"
)

// refBN is batch normalisation in float64: with train, the batch's mean
// and biased variance; otherwise the given running statistics.
func refBN(x []float64, d Dims, gamma, beta, runMean, runVar []float64, eps float64, train bool) (y, mean, variance []float64) {
	c, m := d.C, d.N*d.H*d.W
	mean, variance = append([]float64(nil), runMean...), append([]float64(nil), runVar...)
	if train {
		mean, variance = make([]float64, c), make([]float64, c)
		for j := range c {
			s, q := 0.0, 0.0
			for r := range m {
				s += x[r*c+j]
			}
			mu := s / float64(m)
			for r := range m {
				q += (x[r*c+j] - mu) * (x[r*c+j] - mu)
			}
			mean[j], variance[j] = mu, q/float64(m)
		}
	}
	y = make([]float64, len(x))
	for i, v := range x {
		j := i % c
		y[i] = (v-mean[j])/math.Sqrt(variance[j]+eps)*gamma[j] + beta[j]
	}
	return y, mean, variance
}

var bnDims = []Dims{{1, 1, 1, 1}, {2, 1, 1, 3}, {3, 5, 7, 17}, {2, 3, 3, 33}, {1, 4, 5, 16}, {4, 2, 3, 5}, {2, 13, 11, 64}}

func TestBatchNorm(t *testing.T) {
	forEachVec(t, func(t *testing.T) {
		for i, d := range bnDims {
			r := newRand(uint64(i))
			c := d.C
			// An offset mean tests the variance against cancellation.
			x := randSlice(r, d.Len(), 99, 101)
			gamma, beta := randSlice(r, c, 0.5, 1.5), randSlice(r, c, -1, 1)
			runMean, runVar := randSlice(r, c, -1, 1), randSlice(r, c, 0.5, 2)
			bn := &BatchNorm{Gamma: gamma, Beta: beta, RunMean: append([]float32(nil), runMean...),
				RunVar: append([]float32(nil), runVar...), Momentum: 0.1, Eps: 1e-3}
			name := fmt.Sprint("BatchNorm ", d)
			x64, g64, b64 := to64(x), to64(gamma), to64(beta)

			// Training forward: output, saved statistics, running update.
			y, checkY := guardedFill(t, d.Len(), nan32)
			mean, invStd := make([]float32, c), make([]float32, c)
			bn.ForwardTrain(y, x, d, mean, invStd)
			checkY()
			want, mu, v := refBN(x64, d, g64, b64, nil, nil, 1e-3, true)
			assertClose(t, name+" ForwardTrain", y, want, 2e-4) // x−μ loses 100/spread of precision
			assertClose(t, name+" mean", mean, mu, 1e-6)
			m := float64(d.N * d.H * d.W)
			wantRM, wantRV, wantInv := make([]float64, c), make([]float64, c), make([]float64, c)
			for j := range c {
				unbiased := v[j]
				if m > 1 {
					unbiased *= m / (m - 1)
				}
				wantRM[j] = 0.9*float64(runMean[j]) + 0.1*mu[j]
				wantRV[j] = 0.9*float64(runVar[j]) + 0.1*unbiased
				wantInv[j] = 1 / math.Sqrt(v[j]+1e-3)
			}
			assertClose(t, name+" invStd", invStd, wantInv, 2e-4)
			assertClose(t, name+" RunMean", bn.RunMean, wantRM, 1e-6)
			assertClose(t, name+" RunVar", bn.RunVar, wantRV, 2e-4)

			// Inference forward with the (updated) running statistics.
			yi, checkYI := guardedFill(t, d.Len(), nan32)
			bn.ForwardInfer(yi, x, d)
			checkYI()
			want, _, _ = refBN(x64, d, g64, b64, to64(bn.RunMean), to64(bn.RunVar), 1e-3, false)
			assertClose(t, name+" ForwardInfer", yi, want, 1e-5)
		}
	})
}

// TestBatchNormGradients checks both backward passes against float64
// central differences of the reference forward.
func TestBatchNormGradients(t *testing.T) {
	forEachVec(t, func(t *testing.T) {
		for i, d := range bnDims[:6] {
			r := newRand(uint64(i) + 50)
			c := d.C
			x := randSlice(r, d.Len(), -2, 2)
			gamma, beta := randSlice(r, c, 0.5, 1.5), randSlice(r, c, -1, 1)
			runMean, runVar := randSlice(r, c, -1, 1), randSlice(r, c, 0.5, 2)
			dy := randSlice(r, d.Len(), -1, 1)
			x64, g64, b64 := to64(x), to64(gamma), to64(beta)
			for _, train := range []bool{true, false} {
				if train && d.N*d.H*d.W == 1 {
					continue // one value per channel: x̂ = 0, nothing to check
				}
				bn := &BatchNorm{Gamma: gamma, Beta: beta, RunMean: append([]float32(nil), runMean...),
					RunVar: append([]float32(nil), runVar...), Momentum: 0.1, Eps: 1e-3}
				rm64, rv64 := to64(runMean), to64(runVar)
				loss := func() float64 {
					y, _, _ := refBN(x64, d, g64, b64, rm64, rv64, 1e-3, train)
					return dot64(y, dy)
				}
				dx, checkDX := guardedFill(t, d.Len(), nan32)
				dgamma, checkDG := guardedFill(t, c, nan32)
				dbeta, checkDB := guardedFill(t, c, nan32)
				name := fmt.Sprintf("BatchNorm %v train=%v", d, train)
				if train {
					mean, invStd := make([]float32, c), make([]float32, c)
					bn.ForwardTrain(make([]float32, d.Len()), x, d, mean, invStd)
					bn.BackwardTrain(dx, dgamma, dbeta, dy, x, d, mean, invStd)
				} else {
					bn.BackwardInfer(dx, dgamma, dbeta, dy, x, d)
				}
				checkDX()
				checkDG()
				checkDB()
				assertClose(t, name+" dx", dx, numGrad(x64, 1e-4, loss), 1e-4)
				assertClose(t, name+" dgamma", dgamma, numGrad(g64, 1e-4, loss), 1e-4)
				assertClose(t, name+" dbeta", dbeta, numGrad(b64, 1e-4, loss), 1e-4)
			}
		}
	})
}

func BenchmarkBatchNormTrain(b *testing.B) {
	d := Dims{32, 32, 32, 64}
	r := newRand(1)
	x, y := randSlice(r, d.Len(), -1, 1), make([]float32, d.Len())
	c := d.C
	bn := &BatchNorm{Gamma: randSlice(r, c, 0.5, 1.5), Beta: make([]float32, c),
		RunMean: make([]float32, c), RunVar: make([]float32, c), Momentum: 0.1, Eps: 1e-5}
	mean, invStd := make([]float32, c), make([]float32, c)
	for b.Loop() {
		bn.ForwardTrain(y, x, d, mean, invStd)
	}
	b.ReportMetric(float64(12*d.Len())*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
}

func BenchmarkBatchNormTrainBackward(b *testing.B) {
	d := Dims{32, 32, 32, 64}
	r := newRand(1)
	x, dy, dx := randSlice(r, d.Len(), -1, 1), randSlice(r, d.Len(), -1, 1), make([]float32, d.Len())
	c := d.C
	bn := &BatchNorm{Gamma: randSlice(r, c, 0.5, 1.5), Beta: make([]float32, c),
		RunMean: make([]float32, c), RunVar: make([]float32, c), Momentum: 0.1, Eps: 1e-5}
	mean, invStd := make([]float32, c), make([]float32, c)
	bn.ForwardTrain(dx, x, d, mean, invStd)
	dg, db := make([]float32, c), make([]float32, c)
	for b.Loop() {
		bn.BackwardTrain(dx, dg, db, dy, x, d, mean, invStd)
	}
	b.ReportMetric(float64(16*d.Len())*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
}
