package augment_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/foveaml/fovea/augment"
	"github.com/foveaml/fovea/data"
)

func Example() {
	// A 2×3 image with one channel, rows 1 2 3 and 4 5 6.
	img := []float32{1, 2, 3, 4, 5, 6}

	// Sample draws an image's parameters; Apply applies them.
	pipe := augment.New(augment.RandomCrop{Height: 2, Width: 2}, augment.HorizontalFlip{P: 1})
	rng := rand.New(rand.NewPCG(1, 2))
	params, err := pipe.Sample(rng, 2, 3, 1)
	if err != nil {
		panic(err)
	}
	out := make([]float32, 4)
	if err := pipe.Replay(out, img, 2, 3, 1, params); err != nil {
		panic(err)
	}
	fmt.Println(params[0], params[1], out)

	// Replayed with the flip turned off.
	params[1] = augment.FlipParams{Flip: false}
	pipe.Replay(out, img, 2, 3, 1, params)
	fmt.Println(out)

	// At inference: the central crop, no flip.
	pipe.Inference().Apply(out, img, 2, 3, 1, rng)
	fmt.Println(out)
	// Output:
	// 2×2 at (0, 0) {true} [2 1 5 4]
	// [1 2 4 5]
	// [1 2 4 5]
}

func ExampleFitPCAColor() {
	// Four 1×2 RGB images whose pixels vary only in brightness: grey
	// levels 0, 0.25, 0.5 and 0.75, and 1 - each.
	var pix []float32
	for _, v := range []float32{0, 0.25, 0.5, 0.75} {
		pix = append(pix, v, v, v, 1-v, 1-v, 1-v)
	}
	ds, err := data.NewInMemory(pix, make([]int32, 4), 1, 2, 3, 1)
	if err != nil {
		panic(err)
	}
	pca, err := augment.FitPCAColor(ds, 0, 1)
	if err != nil {
		panic(err)
	}
	// All the variance lies along the grey axis (1, 1, 1)/√3.
	fmt.Printf("eigenvalues %.4f\n", pca.EigVal)
	fmt.Printf("first eigenvector %.4f %.4f %.4f\n", pca.EigVec[0][0], pca.EigVec[1][0], pca.EigVec[2][0])
	// Alphas move every pixel along it.
	fmt.Printf("shift %.4f\n", pca.Shift(augment.PCAParams{Alpha: [3]float64{0.1, 0, 0}}))
	// Output:
	// eigenvalues [0.2812 0.0000 0.0000]
	// first eigenvector 0.5774 0.5774 0.5774
	// shift [0.0162 0.0162 0.0162]
}

func ExamplePCAColor_Shift() {
	// The RGB offset that ImageNet's first principal component adds for
	// α1 = 0.1: a slight darkening, nearly grey.
	fmt.Printf("%.4f\n", augment.ImageNetPCA.Shift(augment.PCAParams{Alpha: [3]float64{0.1, 0, 0}}))
	// Output:
	// [-0.0123 -0.0126 -0.0127]
}
