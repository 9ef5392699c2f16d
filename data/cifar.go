package data

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
)

// CIFAR images are 32×32 RGB, stored by channel planes (CHW): 1024 red
// bytes, then green, then blue.
const (
	cifarSide  = 32
	cifarImage = 3 * cifarSide * cifarSide
)

// CIFAR10Names are the CIFAR-10 classes, by label.
var CIFAR10Names = []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}

// CIFAR100CoarseNames are the 20 CIFAR-100 superclasses, by coarse label.
var CIFAR100CoarseNames = []string{
	"aquatic_mammals", "fish", "flowers", "food_containers", "fruit_and_vegetables",
	"household_electrical_devices", "household_furniture", "insects", "large_carnivores",
	"large_man-made_outdoor_things", "large_natural_outdoor_scenes", "large_omnivores_and_herbivores",
	"medium_mammals", "non-insect_invertebrates", "people", "reptiles", "small_mammals", "trees",
	"vehicles_1", "vehicles_2",
}

// CIFAR100FineNames are the 100 CIFAR-100 classes, by fine label.
var CIFAR100FineNames = []string{
	"apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle", "bottle",
	"bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle", "caterpillar", "cattle",
	"chair", "chimpanzee", "clock", "cloud", "cockroach", "couch", "crab", "crocodile", "cup", "dinosaur",
	"dolphin", "elephant", "flatfish", "forest", "fox", "girl", "hamster", "house", "kangaroo", "keyboard",
	"lamp", "lawn_mower", "leopard", "lion", "lizard", "lobster", "man", "maple_tree", "motorcycle", "mountain",
	"mouse", "mushroom", "oak_tree", "orange", "orchid", "otter", "palm_tree", "pear", "pickup_truck", "pine_tree",
	"plain", "plate", "poppy", "porcupine", "possum", "rabbit", "raccoon", "ray", "road", "rocket",
	"rose", "sea", "seal", "shark", "shrew", "skunk", "skyscraper", "snail", "snake", "spider",
	"squirrel", "streetcar", "sunflower", "sweet_pepper", "table", "tank", "telephone", "television", "tiger", "tractor",
	"train", "trout", "tulip", "turtle", "wardrobe", "whale", "willow_tree", "wolf", "woman", "worm",
}

// ReadCIFAR10 reads CIFAR-10 binary files (data_batch_1.bin ...
// test_batch.bin), each a run of 3073-byte records: a label byte, then a
// 32×32 RGB image as channel planes. The images come out 32×32×3, HWC,
// float32 in [0, 1] (byte / 255), in file order, with 10 named classes.
// A file whose size is not a whole number of records, or a label of 10 or
// more, is an error naming the file (and the record).
func ReadCIFAR10(paths ...string) (*InMemory, error) {
	return readCIFAR(paths, 1, 0, CIFAR10Names)
}

// ReadCIFAR100 reads CIFAR-100 binary files (train.bin, test.bin), each a
// run of 3074-byte records: a coarse label byte, a fine label byte, then
// the image, as in ReadCIFAR10. The labels are the 100 fine classes if
// fine is true, else the 20 coarse superclasses.
func ReadCIFAR100(fine bool, paths ...string) (*InMemory, error) {
	if fine {
		return readCIFAR(paths, 2, 1, CIFAR100FineNames)
	}
	return readCIFAR(paths, 2, 0, CIFAR100CoarseNames)
}

// CIFAR10 reads the CIFAR-10 training set (data_batch_1.bin to
// data_batch_5.bin, 50,000 images) or test set (test_batch.bin, 10,000)
// from dir, the cifar-10-batches-bin folder of the binary distribution.
func CIFAR10(dir string, train bool) (*InMemory, error) {
	if !train {
		return ReadCIFAR10(filepath.Join(dir, "test_batch.bin"))
	}
	var paths []string
	for i := 1; i <= 5; i++ {
		paths = append(paths, filepath.Join(dir, fmt.Sprintf("data_batch_%d.bin", i)))
	}
	return ReadCIFAR10(paths...)
}

// CIFAR100 reads the CIFAR-100 training set (train.bin, 50,000 images) or
// test set (test.bin, 10,000) from dir, the cifar-100-binary folder, with
// fine or coarse labels as ReadCIFAR100.
func CIFAR100(dir string, train, fine bool) (*InMemory, error) {
	name := "test.bin"
	if train {
		name = "train.bin"
	}
	return ReadCIFAR100(fine, filepath.Join(dir, name))
}

// readCIFAR reads records of nlabels label bytes and an image, taking the
// label at byte which.
func readCIFAR(paths []string, nlabels, which int, names []string) (*InMemory, error) {
	return readCIFARFS(nil, paths, nlabels, which, names)
}

// readCIFARFS is readCIFAR from fsys (the operating system's files if
// nil).
func readCIFARFS(fsys fs.FS, paths []string, nlabels, which int, names []string) (*InMemory, error) {
	if len(paths) == 0 {
		return nil, errors.New("data: no CIFAR files given")
	}
	rec := int64(nlabels + cifarImage)
	// Check every file's size before allocating for all of them.
	srcs := make([]*source, 0, len(paths))
	defer func() {
		for _, s := range srcs {
			s.Close()
		}
	}()
	total := 0
	for _, p := range paths {
		s, err := openSourceFS(fsys, p)
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, s)
		if s.gz != nil {
			return nil, fileError(p, "is gzip-compressed; CIFAR readers take the raw .bin files (the distribution's .tar.gz must be unpacked)")
		}
		if s.size == 0 || s.size%rec != 0 {
			return nil, fileError(p, "size %d bytes is not a positive multiple of the %d-byte CIFAR record (%d label byte(s) and a 32x32x3 image): truncated, or not this CIFAR format", s.size, rec, nlabels)
		}
		total += int(s.size / rec)
	}
	pix := make([]uint8, total*cifarImage)
	labels := make([]int32, total)
	buf := make([]byte, rec)
	k := 0
	for _, s := range srcs {
		n := int(s.size / rec)
		for r := 0; r < n; r++ {
			if _, err := io.ReadFull(s.r, buf); err != nil {
				return nil, s.readError(err, fmt.Sprintf("truncated at record %d of %d", r, n))
			}
			l := int(buf[which])
			if l >= len(names) {
				return nil, fileError(s.path, "label %d of record %d is outside [0, %d)", l, r, len(names))
			}
			labels[k] = int32(l)
			chwToHWC(pix[k*cifarImage:(k+1)*cifarImage], buf[nlabels:])
			k++
		}
	}
	return &InMemory{u8: pix, labels: labels, h: cifarSide, w: cifarSide, c: 3, classes: len(names), names: names}, nil
}

// chwToHWC interleaves a 32×32 image's three channel planes.
func chwToHWC(dst, src []byte) {
	const plane = cifarSide * cifarSide
	r, g, b := src[:plane], src[plane:2*plane], src[2*plane:3*plane]
	for i := range plane {
		dst[3*i] = r[i]
		dst[3*i+1] = g[i]
		dst[3*i+2] = b[i]
	}
}
