package main

import (
	"os"
	"testing"
	"time"

	"github.com/foveaml/fovea/augment"
	"github.com/foveaml/fovea/data"
	"github.com/foveaml/fovea/models"
	"github.com/foveaml/fovea/optim"
	"github.com/foveaml/fovea/train"
)

// BenchmarkLoaderVsTraining measures, on the same cores, the images per
// second the loader delivers (decoding, resizing and augmenting on its
// workers, as fovea train runs it) beside the images per second a
// training step consumes, for resnet18 at 224 on a folder of real
// photographs and resnet18_cifar on 32×32 data. The bar is loader ≥ 2×
// training. Metrics: loader-cold-img/s (the first epoch, decoding every
// file), loader-img/s (a later epoch, from the cache), train-img/s, and
// loader/train (warm loader over training).
//
// The photographs are the folder FOVEA_PHOTOS names (build one with
// datasets/make/photos.py OUT); the 32×32 data is the CIFAR-format folder
// FOVEA_CIFAR names (datasets/make/fashion_cifar.py OUT), else
// Fashion-MNIST fitted to 32×32×3. Run it alone, once:
//
//	FOVEA_PHOTOS=/tmp/photos go test ./bench -run - -bench LoaderVsTraining -benchtime 1x
func BenchmarkLoaderVsTraining(b *testing.B) {
	b.Run("resnet18-224-photos", func(b *testing.B) {
		dir := os.Getenv("FOVEA_PHOTOS")
		if dir == "" {
			b.Skip("FOVEA_PHOTOS names no image folder (datasets/make/photos.py builds one)")
		}
		src, err := data.Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		ds, err := src.Train.Sized(256, 256, 3, 256) // torchvision's Resize(256), kept square
		if err != nil {
			b.Fatal(err)
		}
		pipe := augment.New(augment.RandomResizedCrop{Height: 224, Width: 224}, augment.HorizontalFlip{}, augment.ImageNetNormalize)
		loaderVsTraining(b, ds, pipe, "resnet18", 16)
	})
	b.Run("resnet18_cifar-32", func(b *testing.B) {
		var set data.Set
		if dir := os.Getenv("FOVEA_CIFAR"); dir != "" {
			src, err := data.Open(dir)
			if err != nil {
				b.Fatal(err)
			}
			set = src.Train
		} else {
			fm, err := data.FashionMNIST("/usr/share/datasets/fashion-mnist", true)
			if err != nil {
				b.Skip("no FOVEA_CIFAR folder and no Fashion-MNIST: ", err)
			}
			set = data.Fixed{Dataset: fm}
		}
		ds, err := set.Sized(32, 32, 3, 0)
		if err != nil {
			b.Fatal(err)
		}
		ds = firstN(ds, 10000)
		pipe := augment.New(augment.RandomCrop{Height: 32, Width: 32, Padding: 4}, augment.HorizontalFlip{},
			augment.Normalize{Mean: []float64{0.5}, Std: []float64{0.25}})
		loaderVsTraining(b, ds, pipe, "resnet18_cifar", 64)
	})
}

func firstN(ds data.Dataset, n int) data.Dataset {
	idx := make([]int, min(n, ds.Len()))
	for i := range idx {
		idx[i] = i
	}
	s, _ := data.Subset(ds, idx)
	return s
}

// loaderVsTraining times two epochs of the loader over ds (cached in
// memory) and a few training steps of model on its batches.
func loaderVsTraining(b *testing.B, ds data.Dataset, pipe data.Transform, model string, batch int) {
	cache, err := data.NewCache(ds, data.CacheOptions{MaxMemory: 8 << 30})
	if err != nil {
		b.Fatal(err)
	}
	loader, err := data.NewLoader(cache, data.LoaderOptions{BatchSize: batch, Shuffle: true, Seed: 1, Transform: pipe})
	if err != nil {
		b.Fatal(err)
	}
	epoch := func(e int) float64 {
		start := time.Now()
		n := 0
		for bt, err := range loader.All(e) {
			if err != nil {
				b.Fatal(err)
			}
			n += len(bt.Y)
		}
		return float64(n) / time.Since(start).Seconds()
	}
	spec, err := models.Lookup(model)
	if err != nil {
		b.Fatal(err)
	}
	m, err := spec.New(models.Options{Classes: ds.Classes(), Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	opt, err := optim.NewSGD(m.Params(), optim.SGDConfig{LR: 0.01, Momentum: 0.9})
	if err != nil {
		b.Fatal(err)
	}
	st, err := train.NewStepper(m, train.Config{Optimizer: opt, BatchSize: batch})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		cold := epoch(0)
		warm := epoch(1)
		// Training on the loader's batches: one step to warm up, then
		// timed steps.
		it := loader.Epoch(2)
		steps, images := 0, 0
		var start time.Time
		for bt, ok := it.Next(); ok && steps < 4; bt, ok = it.Next() {
			if steps == 1 {
				start = time.Now()
			}
			if _, err := st.Step(bt.X, bt.Y); err != nil {
				b.Fatal(err)
			}
			if steps >= 1 {
				images += len(bt.Y)
			}
			steps++
		}
		trainRate := float64(images) / time.Since(start).Seconds()
		it.Close()
		b.ReportMetric(cold, "loader-cold-img/s")
		b.ReportMetric(warm, "loader-img/s")
		b.ReportMetric(trainRate, "train-img/s")
		b.ReportMetric(warm/trainRate, "loader/train")
	}
}
