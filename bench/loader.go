package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/foveaml/fovea/augment"
	"github.com/foveaml/fovea/data"
	"github.com/foveaml/fovea/models"
	"github.com/foveaml/fovea/optim"
	"github.com/foveaml/fovea/train"
)

// loaderCase is one line of the loader table: the data as fovea train
// prepares it for a model (stored size, cache), the training
// augmentation, and the model and batch whose steps consume it.
type loaderCase struct {
	name  string
	open  func() (data.Dataset, error) // nil: the data is not on this machine (why says so)
	why   string
	pipe  data.Transform
	model string
	batch int
}

// loaderCases returns the two cases: resnet18 at 224 on the image folder
// photos (datasets/make/photos.py builds one), and resnet18_cifar at 32 on
// the CIFAR-format folder cifar (datasets/make/fashion_cifar.py), or on
// Fashion-MNIST fitted to 32×32×3 without one.
func loaderCases(photos, cifar string) []loaderCase {
	photosCase := loaderCase{name: "resnet18-224-photos", model: "resnet18", batch: 16,
		pipe: augment.New(augment.RandomResizedCrop{Height: 224, Width: 224}, augment.HorizontalFlip{}, augment.ImageNetNormalize),
		why:  "no image folder: -photos DIR (datasets/make/photos.py DIR builds one)"}
	if photos != "" {
		photosCase.open = func() (data.Dataset, error) {
			src, err := data.Open(photos)
			if err != nil {
				return nil, err
			}
			return src.Train.Sized(256, 256, 3, 256) // torchvision's Resize(256), kept square, as fovea train keeps it
		}
	}
	cifarCase := loaderCase{name: "resnet18_cifar-32", model: "resnet18_cifar", batch: 64,
		pipe: augment.New(augment.RandomCrop{Height: 32, Width: 32, Padding: 4}, augment.HorizontalFlip{},
			augment.Normalize{Mean: []float64{0.5}, Std: []float64{0.25}}),
		open: func() (data.Dataset, error) {
			var set data.Set
			if cifar != "" {
				src, err := data.Open(cifar)
				if err != nil {
					return nil, err
				}
				set = src.Train
			} else {
				fm, err := data.FashionMNIST("/usr/share/datasets/fashion-mnist", true)
				if err != nil {
					return nil, fmt.Errorf("no -cifar folder, and Fashion-MNIST: %w", err)
				}
				set = data.Fixed{Dataset: fm}
			}
			ds, err := set.Sized(32, 32, 3, 0)
			if err != nil {
				return nil, err
			}
			return firstN(ds, 10000), nil
		}}
	return []loaderCase{photosCase, cifarCase}
}

func firstN(ds data.Dataset, n int) data.Dataset {
	idx := make([]int, min(n, ds.Len()))
	for i := range idx {
		idx[i] = i
	}
	s, _ := data.Subset(ds, idx)
	return s
}

// loaderRates are one measurement of a loader case, in images per
// second: the loader's first epoch (decoding every file into the
// cache), a later epoch (from the cache), and training steps on its
// batches.
type loaderRates struct{ cold, warm, train float64 }

// measureLoader times, on the same cores one after the other, two epochs
// of the loader over ds (cached in memory, as fovea train caches it,
// with pipe on its workers) and steps training model on its batches:
// one step to warm up, then steps timed until at least minTrain has
// passed (and at least three).
func measureLoader(ds data.Dataset, pipe data.Transform, model string, batch int, minTrain time.Duration) (loaderRates, error) {
	var r loaderRates
	cache, err := data.NewCache(ds, data.CacheOptions{MaxMemory: 8 << 30})
	if err != nil {
		return r, err
	}
	loader, err := data.NewLoader(cache, data.LoaderOptions{BatchSize: batch, Shuffle: true, Seed: 1, Transform: pipe})
	if err != nil {
		return r, err
	}
	epoch := func(e int) (float64, error) {
		start, n := time.Now(), 0
		for b, err := range loader.All(e) {
			if err != nil {
				return 0, err
			}
			n += len(b.Y)
		}
		return float64(n) / time.Since(start).Seconds(), nil
	}
	if r.cold, err = epoch(0); err != nil {
		return r, err
	}
	if r.warm, err = epoch(1); err != nil {
		return r, err
	}
	spec, err := models.Lookup(model)
	if err != nil {
		return r, err
	}
	m, err := spec.New(models.Options{Classes: ds.Classes(), Seed: 1})
	if err != nil {
		return r, err
	}
	opt, err := optim.NewSGD(m.Params(), optim.SGDConfig{LR: 0.01, Momentum: 0.9})
	if err != nil {
		return r, err
	}
	st, err := train.NewStepper(m, train.Config{Optimizer: opt, BatchSize: batch})
	if err != nil {
		return r, err
	}
	for e := 2; ; e++ {
		it := loader.Epoch(e)
		steps, images := 0, 0
		var start time.Time
		for b, ok := it.Next(); ok; b, ok = it.Next() {
			if steps == 1 {
				start = time.Now()
			}
			if _, err := st.Step(b.X, b.Y); err != nil {
				it.Close()
				return r, err
			}
			if steps >= 1 {
				images += len(b.Y)
			}
			steps++
			if steps >= 4 && time.Since(start) >= minTrain {
				break
			}
		}
		it.Close()
		if steps >= 2 {
			r.train = float64(images) / time.Since(start).Seconds()
			return r, nil
		}
		if e > 3 {
			return r, fmt.Errorf("%d examples make no two batches of %d", ds.Len(), batch)
		}
	}
}

// runLoader prints the loader table: for each case, the median over
// o.reps measurements of the loader's images per second (first epoch,
// later epochs) beside training's, and their ratios. The bar is a later
// epoch's loader at least 2× training.
func runLoader(o options, photos, cifar string) error {
	fmt.Printf("# the loader beside training on the same %d threads (GOMAXPROCS), one after the other; images/s, median of %d\n", o.threads, o.reps)
	fmt.Printf("%-22s %8s %14s %12s %12s %12s %11s\n", "case", "images", "loader_cold", "loader", "train", "loader/train", "cold/train")
	for _, c := range loaderCases(photos, cifar) {
		if o.only != "" && !strings.Contains(c.name, o.only) {
			continue
		}
		if c.open == nil {
			fmt.Printf("%-22s skipped: %s\n", c.name, c.why)
			continue
		}
		ds, err := c.open()
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		var cold, warm, tr []float64
		for range o.reps {
			r, err := measureLoader(ds, c.pipe, c.model, c.batch, 10*time.Second)
			if err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			cold, warm, tr = append(cold, r.cold), append(warm, r.warm), append(tr, r.train)
			fmt.Fprintf(os.Stderr, "%s: loader %.0f img/s cold, %.0f warm; training %.1f img/s\n", c.name, r.cold, r.warm, r.train)
		}
		mc, mw, mt := median(cold), median(warm), median(tr)
		fmt.Printf("%-22s %8d %14.0f %12.0f %12.1f %12.1f %11.1f\n", c.name, ds.Len(), mc, mw, mt, mw/mt, mc/mt)
	}
	return nil
}
