package data_test

import (
	"fmt"
	"log"

	"github.com/foveaml/fovea/data"
)

func Example() {
	// Five 2×2 grey images whose pixels are their index, labels 0 and 1.
	pixels := make([]float32, 5*2*2)
	for i := range pixels {
		pixels[i] = float32(i / 4)
	}
	ds, err := data.NewInMemory(pixels, []int32{0, 1, 0, 1, 0}, 2, 2, 1, 2)
	if err != nil {
		log.Fatal(err)
	}
	loader, err := data.NewLoader(ds, data.LoaderOptions{BatchSize: 2, Shuffle: true, Seed: 1})
	if err != nil {
		log.Fatal(err)
	}
	for epoch := range 2 {
		for batch, err := range loader.All(epoch) {
			if err != nil {
				log.Fatal(err)
			}
			fmt.Println(epoch, batch.X.Shape(), batch.Indices, batch.Y)
		}
	}
	// Output:
	// 0 [2 2 2 1] [0 1] [0 1]
	// 0 [2 2 2 1] [2 4] [0 0]
	// 0 [1 2 2 1] [3] [1]
	// 1 [2 2 2 1] [2 4] [0 0]
	// 1 [2 2 2 1] [0 1] [0 1]
	// 1 [1 2 2 1] [3] [1]
}

func ExampleReadIDX() {
	// Raw or gzipped, told by the file's first bytes.
	ds, err := data.ReadIDX("testdata/fashion16-images-idx3-ubyte.gz", "testdata/fashion16-labels-idx1-ubyte.gz")
	if err != nil {
		log.Fatal(err)
	}
	h, w, c := ds.Shape()
	fmt.Println(ds.Len(), h, w, c, ds.Labels()[:4])
	// Output: 16 28 28 1 [9 0 0 3]
}
