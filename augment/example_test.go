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

// invert is an Op of one's own: it draws nothing and maps v to 1-v.
type invert struct{}

func (invert) OutShape(h, w, c int) (int, int, int, error) { return h, w, c, nil }

func (invert) Sample(*rand.Rand, int, int, int) augment.NoParams { return augment.NoParams{} }

func (invert) Inference(int, int, int) augment.NoParams { return augment.NoParams{} }

func (invert) Apply(dst, src []float32, h, w, c int, _ augment.NoParams) error {
	for i, v := range src {
		dst[i] = 1 - v
	}
	return nil
}

func ExampleOf() {
	img := []float32{0, 0.25, 1, 0.5}
	pipe := augment.New(augment.Of(invert{}), augment.HorizontalFlip{P: 1})
	out := make([]float32, 4)
	if err := pipe.Apply(out, img, 1, 4, 1, rand.New(rand.NewPCG(1, 2))); err != nil {
		panic(err)
	}
	fmt.Println(out)
	// Output:
	// [0.5 0 0.75 1]
}

func ExampleApply() {
	// One Op on its own: its parameters are typed, here a Box.
	crop := augment.RandomCrop{Height: 2, Width: 2, Padding: 1}
	img := []float32{1, 2, 3, 4}
	box := crop.Sample(rand.New(rand.NewPCG(1, 2)), 2, 2, 1)
	box.X, box.Y = -1, -1 // moved by hand: the top-left corner of the padding
	out := make([]float32, 4)
	if err := augment.Apply(crop, out, img, 2, 2, 1, box); err != nil {
		panic(err)
	}
	fmt.Println(box, out)
	// A buffer of the wrong size is an error, not a panic.
	fmt.Println(augment.Apply(crop, out[:1], img, 2, 2, 1, box))
	// Output:
	// 2×2 at (-1, -1) [0 0 0 1]
	// augment: augment.RandomCrop: destination holds 1 values, a 2x2x1 image 4
}
