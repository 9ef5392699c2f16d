package ag

import (
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/foveaml/fovea/tensor"
)

// The benchmarks time whole training steps (forward, Backward, ZeroGrad,
// Reset) on a warm tape, and report besides allocs/op and B/op the bytes
// of the step's pooled buffers (pool-B/step: activations, gradients,
// saved state), against which B/op is to be read.

// net is a model for the benchmarks: its parameters, and a step that
// builds its loss on a tape.
type net struct {
	params []*Var
	loss   func(tp *Tape) *Var
}

func param(r *rand.Rand, std float64, shape ...int) *Var {
	return Param(tensor.RandNormal(r, 0, std, shape...))
}

// labels returns n labels cycling through the classes.
func labels(n, classes int) []int32 {
	l := make([]int32, n)
	for i := range l {
		l[i] = int32(i % classes)
	}
	return l
}

// resNetBlock is a ResNet basic block on a batch of n images of s×s×c:
// conv3x3-BN-ReLU-conv3x3-BN, the shortcut added, ReLU, then global
// average pooling, a dense layer to 10 classes and cross-entropy.
func resNetBlock(n, s, c int) net {
	r := newRand(1)
	x := Const(tensor.RandNormal(r, 0, 1, n, s, s, c))
	w1, w2 := param(r, 0.05, 3, 3, c, c), param(r, 0.05, 3, 3, c, c)
	g1, b1, g2, b2 := Param(tensor.Full(1, c)), Param(tensor.Zeros(c)), Param(tensor.Full(1, c)), Param(tensor.Zeros(c))
	s1, s2 := NewBatchNormStats(c), NewBatchNormStats(c)
	fw, fb := param(r, 0.1, c, 10), Param(tensor.Zeros(10))
	y := labels(n, 10)
	return net{
		params: []*Var{w1, w2, g1, b1, g2, b2, fw, fb},
		loss: func(tp *Tape) *Var {
			h := tp.ReLU(tp.BatchNorm(tp.Conv2D(x, w1, nil, Pad(1)), g1, b1, s1, true))
			h = tp.BatchNorm(tp.Conv2D(h, w2, nil, Pad(1)), g2, b2, s2, true)
			h = tp.ReLU(tp.Add(h, x))
			return tp.SoftmaxCrossEntropy(tp.Dense(tp.GlobalAvgPool(h), fw, fb), y, 0)
		},
	}
}

// leNet5 is LeNet-5 on n images of 32×32×1: conv5x5(6)-tanh-avgpool-
// conv5x5(16)-tanh-avgpool-dense(120)-tanh-dense(84)-tanh-dense(10).
func leNet5(n int) net {
	r := newRand(2)
	x := Const(tensor.RandNormal(r, 0, 1, n, 32, 32, 1))
	c1, c1b := param(r, 0.2, 5, 5, 1, 6), Param(tensor.Zeros(6))
	c2, c2b := param(r, 0.1, 5, 5, 6, 16), Param(tensor.Zeros(16))
	f1, f1b := param(r, 0.05, 400, 120), Param(tensor.Zeros(120))
	f2, f2b := param(r, 0.1, 120, 84), Param(tensor.Zeros(84))
	f3, f3b := param(r, 0.1, 84, 10), Param(tensor.Zeros(10))
	y := labels(n, 10)
	pool := Pool2D{KH: 2, KW: 2}
	return net{
		params: []*Var{c1, c1b, c2, c2b, f1, f1b, f2, f2b, f3, f3b},
		loss: func(tp *Tape) *Var {
			h := tp.AvgPool(tp.Tanh(tp.Conv2D(x, c1, c1b, Conv{})), pool)
			h = tp.AvgPool(tp.Tanh(tp.Conv2D(h, c2, c2b, Conv{})), pool)
			h = tp.Tanh(tp.Dense(tp.Flatten(h), f1, f1b))
			h = tp.Tanh(tp.Dense(h, f2, f2b))
			return tp.SoftmaxCrossEntropy(tp.Dense(h, f3, f3b), y, 0)
		},
	}
}

// tinyGraph is 20 ops of every kind on a 1×4×4×4 batch: what is left of
// its time is the framework's.
func tinyGraph() net {
	r := newRand(3)
	x := Const(tensor.RandNormal(r, 0, 1, 1, 4, 4, 4))
	w1, b1, w2 := param(r, 0.3, 3, 3, 4, 4), Param(tensor.Zeros(4)), param(r, 0.3, 3, 3, 4, 4)
	g1, be1, g2, be2 := Param(tensor.Full(1, 4)), Param(tensor.Zeros(4)), Param(tensor.Full(1, 4)), Param(tensor.Zeros(4))
	s1, s2 := NewBatchNormStats(4), NewBatchNormStats(4)
	d1, db1, d2, db2 := param(r, 0.3, 8, 8), Param(tensor.Zeros(8)), param(r, 0.3, 8, 5), Param(tensor.Zeros(5))
	y := labels(1, 5)
	pool := Pool2D{KH: 2, KW: 2}
	return net{
		params: []*Var{w1, b1, w2, g1, be1, g2, be2, d1, db1, d2, db2},
		loss: func(tp *Tape) *Var {
			h := tp.ReLU(tp.BatchNorm(tp.Conv2D(x, w1, b1, Pad(1)), g1, be1, s1, true))                        // 3 ops
			h = tp.BatchNorm(tp.Conv2D(h, w2, nil, Pad(1)), g2, be2, s2, true)                                 // 5
			h = tp.ReLU(tp.Add(h, x))                                                                          // 7
			h = tp.Dropout(tp.Concat(h, tp.LRN(h, LRN{Size: 3, Alpha: 1e-4, Beta: 0.75, K: 2})), 0.1, 7, true) // 10
			h = tp.Tanh(tp.Add(tp.MaxPool(h, pool), tp.AvgPool(h, pool)))                                      // 14
			h = tp.Sigmoid(tp.Dense(tp.GlobalAvgPool(h), d1, db1))                                             // 17
			return tp.SoftmaxCrossEntropy(tp.ScaledTanh(tp.Dense(h, d2, db2)), y, 0)                           // 20
		},
	}
}

// step runs one training step of m on tp and returns the bytes of the
// pooled buffers it held.
func (m net) step(tb testing.TB, tp *Tape) int {
	if err := tp.Backward(m.loss(tp)); err != nil {
		tb.Fatal(err)
	}
	bytes := 0
	for _, b := range tp.held {
		bytes += 4 * len(b)
	}
	ZeroGrads(m.params...)
	tp.Reset()
	return bytes
}

func benchStep(b *testing.B, m net, ops int) {
	tp := NewTape()
	held := m.step(b, tp) // warm-up: fills the pool
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		m.step(b, tp)
	}
	b.ReportMetric(float64(held), "pool-B/step")
	if ops > 0 {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(ops), "ns/graph-op")
	}
}

func BenchmarkResNetBlockStep(b *testing.B) { benchStep(b, resNetBlock(32, 32, 64), 0) }

func BenchmarkLeNet5Step(b *testing.B) { benchStep(b, leNet5(32), 0) }

func BenchmarkTinyGraph20Ops(b *testing.B) { benchStep(b, tinyGraph(), 20) }

// After a few warm-up steps, a training step makes no buffer anew: every
// value, gradient and saved state comes from the pool. (The pool lends a
// request an idle buffer of a larger size, so the first steps may still
// make a buffer or two that a lent one left missing. One thread: the
// pool is shared with the kernels, whose workers would take buffers in
// an order of their own.)
func TestSteadyStateAllocatesNoBuffers(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for name, m := range map[string]net{"resnet": resNetBlock(2, 8, 8), "lenet": leNet5(2), "tiny": tinyGraph()} {
		tp := NewTape()
		for range 3 {
			m.step(t, tp)
		}
		floats, ints := tp.floats.Made(), tp.ints.Made()
		for range 3 {
			m.step(t, tp)
		}
		if tp.floats.Made() != floats || tp.ints.Made() != ints {
			t.Errorf("%s: %d float and %d int buffers made anew after warm-up", name, tp.floats.Made()-floats, tp.ints.Made()-ints)
		}
	}
}
