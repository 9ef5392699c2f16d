// Package augment is data augmentation for training convolutional
// networks: mirroring, crops, resizing, rotation, shear, translation,
// zoom, AlexNet's PCA colour augmentation, colour jitter, normalisation
// and random erasing, composed into a Pipeline that plugs into the data
// loader and train.Fit.
//
//	pca, err := augment.FitPCAColor(trainSet, 1000, 1) // or augment.ImageNetPCA
//	pipe := augment.New(
//		augment.RandomCrop{Padding: 4},  // CIFAR: shift by up to 4 pixels
//		augment.HorizontalFlip{},        // mirror half the images
//		pca,                             // AlexNet's colour noise
//	)
//	hist, err := train.Fit(ctx, model, trainSet, train.Config{Transform: pipe, ...})
//	m, err := train.Evaluate(model, testSet, train.EvalConfig{Transform: pipe.Inference()})
//
// Every transform is an Op[P] that works in two steps: Sample draws its
// random parameters of type P for one image (a FlipParams, a crop Box,
// an AffineParams, the PCAParams alphas) from the *rand.Rand it is given,
// and Apply applies them, checking the shape and the buffers first. The
// parameters are plain typed values: they can be logged, edited and
// replayed on another image of the same size, a label map say, by the
// op's Apply (for an Op of your own, the function Apply) or through a
// Pipeline's Sample and Replay. A Pipeline checks each transform's shape once per image,
// then lets it draw and apply; an Op of your own joins a pipeline
// through Of. The data loader seeds each example's source from (seed,
// epoch, index) (data.ExampleSeed), so an augmented batch is the same
// whatever the number of workers, and ApplyBatch reproduces it outside
// the loader.
//
// At inference every transform is the identity (Pipeline.Inference, or
// Train false): no flip, no rotation, zero alphas; a transform that must
// change the shape takes its central crop. Deterministic transforms
// (Resize, CenterCrop, Normalize) act the same in both.
//
// Images are float32 HWC slices, as in package data; pixel values are
// expected in [0, 1] where it matters (ColorJitter clips to it,
// ImageNetPCA's eigenvalues are for it). Options are struct fields whose
// zero value means the default stated; an invalid option or an image the
// transform cannot take (a crop larger than the image, PCA colour on one
// channel) is an error from OutShape, which the loader calls once, before
// any work.
//
// Rotation, ShearX, ShearY, Translation and Zoom are special cases of
// Affine, which composes all of them with one resampling. TenCrop makes
// AlexNet's ten test-time views; package augment/tta evaluates a model
// on them.
package augment
