package tta

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/foveaml/fovea/augment"
	"github.com/foveaml/fovea/data"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/train"
)

func smallModel(t *testing.T, c, classes int) nn.Layer {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	conv, err := nn.NewConv2D(nn.Conv2DConfig{In: c, Out: 4, KH: 3, KW: 3}, rng)
	if err != nil {
		t.Fatal(err)
	}
	dense, err := nn.NewDense(nn.DenseConfig{In: 4, Out: classes}, rng)
	if err != nil {
		t.Fatal(err)
	}
	return nn.NewSequential(conv, nn.ReLU, nn.GlobalAvgPool{}, dense)
}

// TestTenCropMatchesViewByView compares the averaged predictions with
// train.Predict run on every view as an example of its own.
func TestTenCropMatchesViewByView(t *testing.T) {
	const n, h, w, c, classes, size = 7, 9, 8, 2, 3, 6
	rng := rand.New(rand.NewPCG(3, 4))
	pix := make([]float32, n*h*w*c)
	for i := range pix {
		pix[i] = rng.Float32()
	}
	labels := make([]int32, n)
	for i := range labels {
		labels[i] = int32(i % classes)
	}
	ds, err := data.NewInMemory(pix, labels, h, w, c, classes)
	if err != nil {
		t.Fatal(err)
	}
	model := smallModel(t, c, classes)
	tc := augment.TenCrop{Height: size, Width: size}
	view := size * size * c
	all := make([]float32, n*augment.Views*view)
	for i := range n {
		if err := tc.Apply(all[i*augment.Views*view:(i+1)*augment.Views*view], pix[i*h*w*c:(i+1)*h*w*c], h, w, c); err != nil {
			t.Fatal(err)
		}
	}
	vds, err := data.NewInMemory(all, make([]int32, n*augment.Views), size, size, c, classes)
	if err != nil {
		t.Fatal(err)
	}
	per, err := train.Predict(model, vds, train.EvalConfig{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := TenCropPredict(model, ds, size, train.EvalConfig{BatchSize: 20})
	if err != nil {
		t.Fatal(err)
	}
	var loss float64
	top1 := 0
	for i := range n {
		for k := range classes {
			var want float64
			for v := range augment.Views {
				want += float64(per[i*augment.Views+v][k]) / augment.Views
			}
			if math.Abs(float64(got[i][k])-want) > 1e-5 {
				t.Errorf("example %d class %d: %v, want %v", i, k, got[i][k], want)
			}
		}
		loss -= math.Log(float64(got[i][labels[i]]))
		if train.TopK(got[i], 1)[0] == int(labels[i]) {
			top1++
		}
	}
	m, err := TenCropEvaluate(model, ds, size, train.EvalConfig{BatchSize: 30, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if m.Count != n || math.Abs(m.Loss-loss/n) > 1e-5 || m.Top1 != float64(top1)/n || m.Top5 != 1 {
		t.Errorf("metrics %+v: want loss %v, top-1 %v", m, loss/n, float64(top1)/n)
	}
	if _, err := TenCropEvaluate(model, ds, 10, train.EvalConfig{}); err == nil {
		t.Error("a crop larger than the images: no error")
	}
}
