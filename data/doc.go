// Package data reads image datasets and serves them in batches: IDX files
// (MNIST, Fashion-MNIST), CIFAR-10/100 binaries, folders of JPEG, PNG and
// GIF files, or slices in memory, through a Loader that shuffles from a
// seed, reads and transforms examples on worker goroutines ahead of use,
// and hands batches out in order as NHWC tensors.
//
//	ds, err := data.NewInMemory(pixels, labels, 2, 2, 1, 2) // five 2×2×1 images
//	loader, err := data.NewLoader(ds, data.LoaderOptions{BatchSize: 2, Shuffle: true, Seed: 1})
//	for epoch := range 2 {
//		for batch, err := range loader.All(epoch) {
//			fmt.Println(epoch, batch.X.Shape(), batch.Indices, batch.Y)
//		}
//	}
//	// 0 [2 2 2 1] [0 1] [0 1]
//	// 0 [2 2 2 1] [2 4] [0 0]
//	// 0 [1 2 2 1] [3] [1]
//	// 1 [2 2 2 1] [2 4] [0 0]
//	// ...
//
// # Datasets
//
// A Dataset is indexable: Example(i, dst) writes image i into dst as
// float32 HWC values and returns its label. Every reader here scales
// pixels to [0, 1]: bytes are divided by 255, and decoded images are
// converted to RGB first. Normalising further (a mean and a standard
// deviation) is a Transform's job.
//
//   - ReadIDX, MNIST and FashionMNIST read IDX files, raw or gzipped.
//   - ReadCIFAR10, ReadCIFAR100, CIFAR10 and CIFAR100 read the binary
//     CIFAR distributions.
//   - NewImageFolder lists a folder of class folders and decodes lazily.
//   - LoadImage decodes one image file into a model's input, grey or RGB.
//   - NewInMemory and NewInMemoryUint8 wrap slices; Subset and Split make
//     views, Split for a validation set.
//
// The readers treat files as untrusted. Headers are checked against the
// file's size before anything is allocated: a raw file must hold exactly
// what its header claims, a gzipped one may expand at most MaxExpansion
// times and must then decompress to exactly the claim, and an image may
// declare at most MaxImagePixels and need at most MaxImageExpansion times
// its file's size (plus 16 MiB) to decode. A panic while reading an
// example on a Loader's worker is returned as an error. Errors name the file and say what is
// wrong: a truncated file, trailing data, a wrong magic number, a label
// out of range (with its index), or image and label counts that differ
// (naming both files).
//
// # Loading
//
// A Loader's shuffle is a pure function of its Seed and the epoch, and a
// Transform's randomness comes from a source seeded by ExampleSeed(Seed,
// epoch, index); so an epoch's batches are the same whatever the number of
// workers, and training can resume at any epoch exactly. Batches are
// recycled: a Batch is valid until the next call of Next (or the next
// loop iteration).
package data
