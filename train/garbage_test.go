package train

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/optim"
	"github.com/foveaml/fovea/tensor"
)

// TestStepGarbage checks that a training step in steady state leaves
// little garbage behind: activations, gradients, the kernels' panels,
// partial sums and pointer lists are recycled. Garbage is what lets a
// long run's memory grow past its first steps' (up to twice the live
// heap before the collector runs): CIFAR ResNet-18's steps once left
// 3 MiB each, this small network's 3×3 convolutions (on Winograd where
// the CPU has AVX-512) and batch norms 81 kB.
func TestStepGarbage(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 3))
	var layers []nn.Layer
	for _, c := range [][2]int{{3, 32}, {32, 32}, {32, 32}} {
		conv, err := nn.NewConv2D(nn.Conv2DConfig{In: c[0], Out: c[1], Kernel: 3, Pad: 1, NoBias: true}, r)
		if err != nil {
			t.Fatal(err)
		}
		bn, err := nn.NewBatchNorm(c[1])
		if err != nil {
			t.Fatal(err)
		}
		layers = append(layers, conv, bn, nn.ReLU)
	}
	dense, err := nn.NewDense(nn.DenseConfig{In: 32, Out: 10}, r)
	if err != nil {
		t.Fatal(err)
	}
	m := nn.NewSequential(append(layers, nn.GlobalAvgPool{}, dense)...)
	opt, err := optim.NewSGD(m.Params(), optim.SGDConfig{LR: 0.01, Momentum: 0.9})
	if err != nil {
		t.Fatal(err)
	}
	const batch = 16
	st, err := NewStepper(m, Config{Optimizer: opt, BatchSize: batch})
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.RandNormal(r, 0, 1, batch, 16, 16, 3)
	y := make([]int32, batch)
	for i := range y {
		y[i] = int32(r.IntN(10))
	}
	step := func() {
		if _, err := st.Step(x, y); err != nil {
			t.Fatal(err)
		}
	}
	for range 5 {
		step() // fill the pools
	}
	// The least of three windows: a pool still filling up shows in one.
	const steps = 10
	perStep := uint64(math.MaxUint64)
	for range 3 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range steps {
			step()
		}
		runtime.ReadMemStats(&after)
		perStep = min(perStep, (after.TotalAlloc-before.TotalAlloc)/steps)
	}
	t.Logf("%d kB allocated a step", perStep>>10)
	const limit = 48 << 10
	if perStep > limit {
		t.Errorf("a steady-state step allocated %d kB, want at most %d kB", perStep>>10, limit>>10)
	}
}
