package train

import (
	"context"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/foveaml/fovea/data"
	"github.com/foveaml/fovea/models"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/optim"
)

// patches is a CIFAR-shaped toy task: 32×32×3 images of noise with a
// brighter 8×8 patch whose corner is the class (one of 4).
func patches(t testing.TB, n int, seed uint64) data.Dataset {
	t.Helper()
	const h, w, c = 32, 32, 3
	r := rand.New(rand.NewPCG(seed, 4))
	imgs := make([]float32, n*h*w*c)
	labels := make([]int32, n)
	for i := range labels {
		img := imgs[i*h*w*c : (i+1)*h*w*c]
		for j := range img {
			img[j] = float32(r.NormFloat64())
		}
		k := r.IntN(4)
		y0, x0 := 4+16*(k/2), 4+16*(k%2)
		for y := y0; y < y0+8; y++ {
			for x := x0; x < x0+8; x++ {
				for ch := range c {
					img[(y*w+x)*c+ch] += 1.5
				}
			}
		}
		labels[i] = int32(k)
	}
	ds, err := data.NewInMemory(imgs, labels, h, w, c, 4)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// fitResNet trains a narrow CIFAR ResNet-18 (batch norms throughout) for
// two epochs from fixed seeds and returns its state.
func fitResNet(t *testing.T, ds data.Dataset) []nn.Param {
	t.Helper()
	m, err := models.NewResNet(models.ResNetConfig{Depth: 18, CIFAR: true, Width: 4, Classes: 4, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	opt, err := optim.NewSGD(m.Params(), optim.SGDConfig{LR: 0.05, Momentum: 0.9, WeightDecay: 5e-4})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Fit(context.Background(), m, ds, Config{Epochs: 2, BatchSize: 32, Optimizer: opt, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	return nn.State(m)
}

// TestFitBitIdenticalTwoThreads trains the same model twice with the same
// seed on two threads: every parameter and buffer must end with the same
// bits. The kernels split their reductions over the workers, so this
// holds only if the partial sums are combined in an order fixed by the
// split, not by which worker finishes first.
func TestFitBitIdenticalTwoThreads(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a ResNet-18 twice")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	ds := patches(t, 320, 1)
	a := fitResNet(t, ds)
	b := fitResNet(t, ds)
	if len(a) != len(b) {
		t.Fatalf("%d state entries, then %d", len(a), len(b))
	}
	differ := 0
	for i, pa := range a {
		pb := b[i]
		if pa.Name != pb.Name {
			t.Fatalf("entry %d is %s, then %s", i, pa.Name, pb.Name)
		}
		va, vb := pa.Var.Value().Data(), pb.Var.Value().Data()
		if len(va) != len(vb) {
			t.Fatalf("%s: %d values, then %d", pa.Name, len(va), len(vb))
		}
		for j := range va {
			if math.Float32bits(va[j]) != math.Float32bits(vb[j]) {
				if differ < 10 {
					t.Errorf("%s[%d]: %v (%#08x), then %v (%#08x)", pa.Name, j, va[j], math.Float32bits(va[j]), vb[j], math.Float32bits(vb[j]))
				}
				differ++
				break
			}
		}
	}
	if differ > 0 {
		t.Errorf("%d of %d parameters and buffers differ between two runs with the same seed", differ, len(a))
	}
}
