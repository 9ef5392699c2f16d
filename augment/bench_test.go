package augment

import (
	"math/rand/v2"
	"testing"
)

// benchPipeline reports images/s on one goroutine (one core) for p on
// h×w×3 images.
func benchPipeline(b *testing.B, p *Pipeline, h, w int) {
	img := randImage(newRand(1), h, w, 3)
	oh, ow, oc, err := p.OutShape(h, w, 3)
	if err != nil {
		b.Fatal(err)
	}
	out := make([]float32, oh*ow*oc)
	pcg := rand.NewPCG(0, 0)
	rng := rand.New(pcg)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		pcg.Seed(uint64(i), 7)
		if err := p.Apply(out, img, h, w, 3, rng); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
}

// BenchmarkCIFAR is the CIFAR recipe on 32×32: flip, random crop with 4
// pixels of padding, PCA colour.
func BenchmarkCIFAR(b *testing.B) {
	benchPipeline(b, New(HorizontalFlip{}, RandomCrop{Padding: 4}, ImageNetPCA), 32, 32)
}

// BenchmarkImageNet is the ImageNet recipe from 256×256 (as decoded) to
// 224×224: random resized crop, flip, colour jitter.
func BenchmarkImageNet(b *testing.B) {
	benchPipeline(b, New(RandomResizedCrop{Height: 224, Width: 224}, HorizontalFlip{},
		ColorJitter{Brightness: 0.4, Contrast: 0.4, Saturation: 0.4}), 256, 256)
}

// BenchmarkImageNetPCA adds PCA colour to the ImageNet recipe.
func BenchmarkImageNetPCA(b *testing.B) {
	benchPipeline(b, New(RandomResizedCrop{Height: 224, Width: 224}, HorizontalFlip{},
		ColorJitter{Brightness: 0.4, Contrast: 0.4, Saturation: 0.4}, ImageNetPCA), 256, 256)
}

// BenchmarkMNISTAffine is the mnist preset: one bilinear affine
// resampling of a 28×28 image.
func BenchmarkMNISTAffine(b *testing.B) {
	p, _ := Preset("mnist")
	img := randImage(newRand(1), 28, 28, 1)
	out := make([]float32, len(img))
	rng := rand.New(rand.NewPCG(1, 2))
	for b.Loop() {
		p.Apply(out, img, 28, 28, 1, rng)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
}

// BenchmarkAffine224 rotates and shears a 224×224 RGB image.
func BenchmarkAffine224(b *testing.B) {
	benchPipeline(b, New(&Affine{Degrees: [2]float64{-30, 30}, ShearX: [2]float64{-10, 10}, Fill: FillReflect}), 224, 224)
}
