package ag

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/foveaml/fovea/tensor"
)

// The helpers below check an op's backward against central finite
// differences. The scalar differentiated is L = Σ r·y, y the graph's
// output and r a fixed random projection, summed in float64 so that the
// float32 forward pass is the only source of rounding.

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0xfd)) }

// randn returns a trainable leaf of normal values.
func randn(r *rand.Rand, shape ...int) *Var { return Param(tensor.RandNormal(r, 0, 1, shape...)) }

// spaced returns a trainable leaf whose values are at least gap apart
// and from zero, in random order: away from the kinks of ReLU and max
// pooling, so that a finite difference does not straddle one.
func spaced(r *rand.Rand, gap float64, shape ...int) *Var {
	t := tensor.Zeros(shape...)
	d := t.Data()
	for i, p := range r.Perm(len(d)) {
		d[i] = float32((float64(p-len(d)/2) + 0.5) * gap)
	}
	return Param(t)
}

// fd configures a finite-difference check.
type fd struct {
	h          float64 // step
	atol, rtol float64 // |analytic − numeric| ≤ atol + rtol·max(|analytic|, |numeric|)
	samples    int     // largest number of elements checked per leaf (0: 200)
}

var defaultFD = fd{h: 1e-2, atol: 2e-3, rtol: 1e-2}

// project returns Σ r·y in float64.
func project(y *Var, r []float32) float64 {
	s := 0.0
	for i, v := range y.Value().Data() {
		s += float64(v) * float64(r[i])
	}
	return s
}

// checkGrads builds f's graph, backpropagates a random projection of its
// output and compares the gradient of every leaf that requires one with
// central differences of the projection. Leaves that require none must
// get no gradient.
func checkGrads(t *testing.T, f func(tp *Tape) *Var, leaves []*Var, o fd) {
	t.Helper()
	if o.samples == 0 {
		o.samples = 200
	}
	tp := NewTape()
	ZeroGrads(leaves...)
	rng := newRand(99)
	r := backpropRandom(t, tp, f, rng)
	analytic := make([][]float32, len(leaves))
	for i, v := range leaves {
		if !v.RequiresGrad() {
			if g := v.Grad(); g != nil {
				for _, x := range g.Data() {
					if x != 0 {
						t.Fatalf("leaf %d requires no gradient but got one", i)
					}
				}
			}
			continue
		}
		if v.Grad() == nil {
			t.Fatalf("leaf %d got no gradient", i)
		}
		analytic[i] = append([]float32(nil), v.Grad().Data()...)
	}
	tp.Reset()

	tp.SetGradEnabled(false)
	loss := func() float64 {
		defer tp.Reset()
		y := f(tp)
		if err := tp.Err(); err != nil {
			t.Fatal(err)
		}
		return project(y, r)
	}
	for i, v := range leaves {
		if analytic[i] == nil {
			continue
		}
		data := v.Value().Data()
		idx := rng.Perm(len(data))[:min(o.samples, len(data))]
		nonzero := false
		for _, j := range idx {
			orig := data[j]
			data[j] = orig + float32(o.h)
			hi := loss()
			data[j] = orig - float32(o.h)
			lo := loss()
			data[j] = orig
			// The step actually taken, after rounding to float32.
			step := float64(orig+float32(o.h)) - float64(orig-float32(o.h))
			num, ana := (hi-lo)/step, float64(analytic[i][j])
			nonzero = nonzero || ana != 0
			if math.Abs(num-ana) > o.atol+o.rtol*max(math.Abs(num), math.Abs(ana)) {
				t.Errorf("leaf %d %v, element %d: analytic %.6g, numeric %.6g", i, v.Value().Shape(), j, ana, num)
				return
			}
		}
		if !nonzero {
			t.Errorf("leaf %d %v: every gradient checked is 0", i, v.Value().Shape())
		}
	}
}

// backpropRandom builds f's graph on tp and backpropagates a projection
// of its output drawn from rng, which it returns.
func backpropRandom(t *testing.T, tp *Tape, f func(tp *Tape) *Var, rng *rand.Rand) []float32 {
	t.Helper()
	y := f(tp)
	if err := tp.Err(); err != nil {
		t.Fatal(err)
	}
	r := make([]float32, y.Value().Len())
	for i := range r {
		r[i] = float32(rng.NormFloat64())
	}
	tp.backward(y, r)
	return r
}

// leaves returns its arguments, for checkGrads calls.
func leaves(vs ...*Var) []*Var { return vs }
