package kern

import (
	"fmt"
	"math"

	"github.com/foveaml/fovea/internal/cpu"
	"github.com/foveaml/fovea/internal/scratch"
)

// BatchNorm is batch normalisation of an NHWC tensor over N, H and W, per
// channel c (Ioffe & Szegedy 2015, with PyTorch's conventions):
//
//	y = (x − μ[c]) / sqrt(σ²[c] + Eps) · Gamma[c] + Beta[c]
//
// In training μ and σ² are the batch mean and biased variance (divided by
// M = N·H·W); at inference they are RunMean and RunVar. Every slice has
// length C, the channel count of the dims passed to the methods. The
// methods read the fields and update RunMean and RunVar; the caller owns
// all buffers.
type BatchNorm struct {
	Gamma, Beta     []float32
	RunMean, RunVar []float32
	// Momentum weighs the new batch in the running statistics (PyTorch's
	// momentum, 0.1 there): run = (1−Momentum)·run + Momentum·batch.
	Momentum float32
	Eps      float32 // added to the variance; 1e-5 in PyTorch
}

// check panics unless the parameters and the buffers fit dims d.
func (bn *BatchNorm) check(op string, d Dims, data [][]float32, perChannel ...[]float32) {
	channels := func(s []float32) {
		if len(s) != d.C {
			panic(fmt.Sprintf("kern.BatchNorm.%s: per-channel slice of length %d for %d channels", op, len(s), d.C))
		}
	}
	for _, s := range [...][]float32{bn.Gamma, bn.Beta, bn.RunMean, bn.RunVar} {
		channels(s)
	}
	for _, s := range perChannel {
		channels(s)
	}
	for _, s := range data {
		if len(s) != d.Len() {
			panic(fmt.Sprintf("kern.BatchNorm.%s: tensor of length %d for dims %v", op, len(s), d))
		}
	}
}

// ForwardTrain normalises x (dims d) into y with the batch statistics,
// saves the batch mean and 1/sqrt(σ²+Eps) in mean and invStd (length C)
// for BackwardTrain, and moves RunMean and RunVar towards the batch by
// Momentum, updating RunVar with the unbiased variance σ²·M/(M−1) (σ² when
// M = 1), as PyTorch does. y may alias x.
func (bn *BatchNorm) ForwardTrain(y, x []float32, d Dims, mean, invStd []float32) {
	bn.check("ForwardTrain", d, [][]float32{y, x}, mean, invStd)
	m := d.N * d.H * d.W
	mv := scratch.Float64s.GetSized(2 * d.C)
	defer scratch.Float64s.Put(mv)
	channelMoments(mv, x, d.C, m)
	mu, v := mv[:d.C], mv[d.C:]
	mom := float64(bn.Momentum)
	unbias := float64(m) / float64(max(m-1, 1))
	for c := range d.C {
		mean[c] = float32(mu[c])
		invStd[c] = float32(1 / math.Sqrt(v[c]+float64(bn.Eps)))
		bn.RunMean[c] = float32((1-mom)*float64(bn.RunMean[c]) + mom*mu[c])
		bn.RunVar[c] = float32((1-mom)*float64(bn.RunVar[c]) + mom*v[c]*unbias)
	}
	bn.affine(y, x, mean, invStd)
}

// ForwardInfer normalises x (dims d) into y with RunMean and RunVar.
// y may alias x.
func (bn *BatchNorm) ForwardInfer(y, x []float32, d Dims) {
	bn.check("ForwardInfer", d, [][]float32{y, x})
	invStd := scratch.Get(d.C)
	defer scratch.Put(invStd)
	bn.affine(y, x, bn.RunMean, bn.frozen(*invStd))
}

// frozen sets invStd to 1/sqrt(RunVar+Eps) and returns it.
func (bn *BatchNorm) frozen(invStd []float32) []float32 {
	invStd = invStd[:len(bn.RunVar)]
	for c, v := range bn.RunVar {
		invStd[c] = float32(1 / math.Sqrt(float64(v)+float64(bn.Eps)))
	}
	return invStd
}

// InferAffine sets a and b (one value per channel each) to the scale and
// shift that ForwardInfer applies: y = x·a + b. (a holds 1/sqrt(RunVar+Eps)
// on the way.)
func (bn *BatchNorm) InferAffine(a, b []float32) {
	bn.coefs(a, b, bn.RunMean, bn.frozen(a))
}

// coefs sets a = Gamma·invStd and b = Beta − mean·a.
func (bn *BatchNorm) coefs(a, b, mean, invStd []float32) {
	a, b = a[:len(mean)], b[:len(mean)]
	for j := range a {
		a[j] = bn.Gamma[j] * invStd[j]
		b[j] = bn.Beta[j] - mean[j]*a[j]
	}
}

// affine sets y = x·a[c] + b[c] with a = Gamma·invStd, b = Beta − mean·a.
func (bn *BatchNorm) affine(y, x, mean, invStd []float32) {
	c := len(mean)
	ab := scratch.Get(2 * c)
	defer scratch.Put(ab)
	a, b := (*ab)[:c], (*ab)[c:2*c]
	bn.coefs(a, b, mean, invStd)
	forRows(len(x)/max(c, 1), c, func(lo, hi int) { vec.scaleShift(y[lo*c:hi*c], x[lo*c:hi*c], a, b) })
}

// forRows runs f over [0, rows) rows of c values in parallel chunks.
func forRows(rows, c int, f func(lo, hi int)) {
	if c > 0 {
		cpu.For(rows, rowGrain(c), f)
	}
}

// BackwardTrain sets dx, dgamma and dbeta to the gradients of
// ForwardTrain through the batch statistics, given the mean and invStd it
// saved. With x̂ = (x−mean)·invStd and sums over the M = N·H·W pixels:
//
//	dbeta[c]  = Σ dy
//	dgamma[c] = Σ dy·x̂
//	dx        = Gamma[c]·invStd[c]·(dy − dbeta[c]/M − x̂·dgamma[c]/M)
//
// dx may alias dy. dgamma and dbeta are overwritten, not accumulated.
func (bn *BatchNorm) BackwardTrain(dx, dgamma, dbeta, dy, x []float32, d Dims, mean, invStd []float32) {
	bn.check("BackwardTrain", d, [][]float32{dx, dy, x}, dgamma, dbeta, mean, invStd)
	bn.gammaBetaGrads(dgamma, dbeta, dy, x, d, mean, invStd)
	c, m := d.C, float32(d.N*d.H*d.W)
	// dx = A·dy + B·x + K per channel.
	abk := scratch.Get(3 * c)
	defer scratch.Put(abk)
	a, b, k := (*abk)[:c], (*abk)[c:2*c], (*abk)[2*c:3*c]
	for j := range c {
		a[j] = bn.Gamma[j] * invStd[j]
		b[j] = -a[j] * invStd[j] * dgamma[j] / m
		k[j] = -a[j]*dbeta[j]/m - b[j]*mean[j]
	}
	forRows(d.N*d.H*d.W, c, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xr, dyr, dxr := x[r*c:(r+1)*c], dy[r*c:(r+1)*c], dx[r*c:(r+1)*c]
			for j, v := range xr {
				dxr[j] = a[j]*dyr[j] + b[j]*v + k[j]
			}
		}
	})
}

// BackwardInfer sets dx, dgamma and dbeta to the gradients of ForwardInfer,
// the statistics frozen (fine-tuning with BatchNorm in eval mode): with
// invStd = 1/sqrt(RunVar+Eps) and x̂ = (x−RunMean)·invStd,
//
//	dbeta[c] = Σ dy,  dgamma[c] = Σ dy·x̂,  dx = dy·Gamma[c]·invStd[c]
//
// dx may alias dy. dgamma and dbeta are overwritten, not accumulated.
func (bn *BatchNorm) BackwardInfer(dx, dgamma, dbeta, dy, x []float32, d Dims) {
	bn.check("BackwardInfer", d, [][]float32{dx, dy, x}, dgamma, dbeta)
	c := d.C
	buf := scratch.Get(3 * c) // invStd, Gamma·invStd, zeros
	defer scratch.Put(buf)
	invStd, a, zeros := bn.frozen((*buf)[:c]), (*buf)[c:2*c], (*buf)[2*c:3*c]
	bn.gammaBetaGrads(dgamma, dbeta, dy, x, d, bn.RunMean, invStd)
	clear(zeros)
	for j := range c {
		a[j] = bn.Gamma[j] * invStd[j]
	}
	forRows(d.N*d.H*d.W, c, func(lo, hi int) { vec.scaleShift(dx[lo*c:hi*c], dy[lo*c:hi*c], a, zeros) })
}

// gammaBetaGrads sets dbeta = Σ dy and dgamma = Σ dy·(x−mean)·invStd per
// channel, summing in float64.
func (bn *BatchNorm) gammaBetaGrads(dgamma, dbeta, dy, x []float32, d Dims, mean, invStd []float32) {
	c := d.C
	sums := sumRows(d.N*d.H*d.W, c, 2*c, func(lo, hi int, acc []float64) {
		sdy, sxdy := acc[:c], acc[c:]
		for r := lo; r < hi; r++ {
			xr, dyr := x[r*c:(r+1)*c], dy[r*c:(r+1)*c]
			for j, v := range xr {
				g := float64(dyr[j])
				sdy[j] += g
				sxdy[j] += g * float64(v-mean[j])
			}
		}
	})
	defer scratch.Float64s.Put(sums)
	for j := range c {
		dbeta[j] = float32(sums[j])
		dgamma[j] = float32(sums[c+j] * float64(invStd[j]))
	}
}

// channelMoments sets mv[:c] to the per-channel mean and mv[c:2c] to
// the biased variance of the rows×c matrix x, in float64. It sums x−s
// and (x−s)² with s the first row, a shift that keeps the one-pass
// formula free of cancellation when the mean is large against the
// spread.
func channelMoments(mv []float64, x []float32, c, rows int) {
	mean, variance := mv[:c], mv[c:2*c]
	clear(mv[:2*c])
	if rows == 0 {
		return
	}
	shift := x[:c]
	sums := sumRows(rows, c, 2*c, func(lo, hi int, acc []float64) {
		s, q := acc[:c], acc[c:]
		for r := lo; r < hi; r++ {
			for j, v := range x[r*c : (r+1)*c] {
				e := float64(v - shift[j])
				s[j] += e
				q[j] += e * e
			}
		}
	})
	defer scratch.Float64s.Put(sums)
	n := float64(rows)
	for j := range c {
		e := sums[j] / n
		mean[j] = float64(shift[j]) + e
		variance[j] = max(sums[c+j]/n-e*e, 0)
	}
}

// sumRows splits [0, rows) into chunks, calls f(lo, hi, acc) on each in
// parallel with a zeroed acc of n float64 of its own, and returns the sum
// of the accs, which the caller hands back with scratch.Float64s.Put. A
// row costs about perRow operations. The chunks depend only on rows and
// GOMAXPROCS and are summed in order, so the result is reproducible.
func sumRows(rows, perRow, n int, f func(lo, hi int, acc []float64)) []float64 {
	g := rowGrain(perRow)
	chunks := max(1, min((rows+g-1)/g, 4*cpu.Workers()))
	accs := scratch.Float64s.GetSized((chunks + 1) * n)
	clear(accs)
	cpu.ForEach(chunks, func(i int) {
		f(i*rows/chunks, (i+1)*rows/chunks, accs[(i+1)*n:(i+2)*n])
	})
	total := accs[:n]
	for i := 1; i <= chunks; i++ {
		for j, v := range accs[i*n : (i+1)*n] {
			total[j] += v
		}
	}
	return total
}
