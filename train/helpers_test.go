package train

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/foveaml/fovea/data"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/optim"
)

// The tests' toy data and models.

// bars is a toy task: 8×8 grey images with a bright row (class 0), a
// bright column (class 1) or a bright diagonal (class 2), in noise.
func bars(t testing.TB, n int, seed uint64) data.Dataset {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	imgs := make([]float32, n*64)
	labels := make([]int32, n)
	for i := range labels {
		img := imgs[i*64 : (i+1)*64]
		for j := range img {
			img[j] = 0.3 * r.Float32()
		}
		c, k := r.IntN(3), r.IntN(8)
		for j := 0; j < 8; j++ {
			switch c {
			case 0:
				img[k*8+j] += 1
			case 1:
				img[j*8+k] += 1
			case 2:
				img[j*8+j] += 1
			}
		}
		labels[i] = int32(c)
	}
	ds, err := data.NewInMemory(imgs, labels, 8, 8, 1, 3)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// smallNet is conv 3×3 (4 maps) – ReLU – max pool – flatten – dense 3.
func smallNet(t testing.TB, seed uint64) nn.Layer {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 2))
	conv, err := nn.NewConv2D(nn.Conv2DConfig{In: 1, Out: 4, Kernel: 3, Pad: 1}, r)
	if err != nil {
		t.Fatal(err)
	}
	dense, err := nn.NewDense(nn.DenseConfig{In: 4 * 4 * 4, Out: 3}, r)
	if err != nil {
		t.Fatal(err)
	}
	return nn.NewSequential(conv, nn.ReLU, nn.MaxPool2D{KH: 2, KW: 2}, nn.Flatten{}, nn.Dropout{P: 0.1, Seed: 7}, dense)
}

func adam(t testing.TB, m nn.Layer, lr float64) optim.Optimizer {
	t.Helper()
	o, err := optim.NewAdam(m.Params(), optim.AdamConfig{LR: lr})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// bnNet is conv 3×3 (6 maps) – batch norm – ReLU – conv 3×3 (8 maps) –
// batch norm – ReLU – global average pooling – dense 3: a backbone with
// running statistics under a one-layer head ("6").
func bnNet(t *testing.T, seed uint64) *nn.Sequential {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 3))
	c1, err := nn.NewConv2D(nn.Conv2DConfig{In: 1, Out: 6, Kernel: 3, Pad: 1}, r)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := nn.NewConv2D(nn.Conv2DConfig{In: 6, Out: 8, Kernel: 3, Pad: 1}, r)
	if err != nil {
		t.Fatal(err)
	}
	b1, _ := nn.NewBatchNorm(6)
	b2, _ := nn.NewBatchNorm(8)
	d, err := nn.NewDense(nn.DenseConfig{In: 8, Out: 3}, r)
	if err != nil {
		t.Fatal(err)
	}
	return nn.NewSequential(c1, b1, nn.ReLU, c2, b2, nn.ReLU, nn.GlobalAvgPool{}, d)
}

// snapshot copies every parameter and buffer of m by name.
func snapshot(m nn.Layer) map[string][]float32 {
	s := map[string][]float32{}
	for _, p := range nn.State(m) {
		s[p.Name] = slices.Clone(p.Var.Value().Data())
	}
	return s
}
