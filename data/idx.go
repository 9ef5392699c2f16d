package data

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// IDX magic numbers: two zero bytes, the element type (0x08, unsigned
// byte) and the number of dimensions.
const (
	idxImagesMagic = 0x00000803
	idxLabelsMagic = 0x00000801
)

// maxIDXSide bounds an IDX image's height and width.
const maxIDXSide = 1 << 16

// ReadIDX reads images and their labels from a pair of IDX files, the
// format of MNIST, Fashion-MNIST, KMNIST and EMNIST: the images file holds
// n×rows×cols unsigned bytes (magic 0x00000803), the labels file n bytes
// (magic 0x00000801). Either file may be gzip-compressed, which is told by
// its first bytes, not its name. Pixels read as float32 in [0, 1] (byte /
// 255), shape rows×cols×1; Classes is one more than the largest label.
//
// The headers are checked against the file sizes before anything is
// allocated: a raw file must hold exactly what its header claims, a gzip
// file at most MaxExpansion times its size, and it must then decompress
// to exactly that. Errors name the file and say what is wrong with it.
func ReadIDX(imagesPath, labelsPath string) (*InMemory, error) {
	return readIDX(imagesPath, labelsPath, 0)
}

// readIDX is ReadIDX, checking labels against classes if it is positive.
// Both headers are read and checked, against their files and each other,
// before either payload is allocated.
func readIDX(imagesPath, labelsPath string, classes int) (*InMemory, error) {
	return readIDXFS(nil, imagesPath, labelsPath, classes)
}

// readIDXFS is readIDX from fsys (the operating system's files if nil).
func readIDXFS(fsys fs.FS, imagesPath, labelsPath string, classes int) (*InMemory, error) {
	is, err := openSourceFS(fsys, imagesPath)
	if err != nil {
		return nil, err
	}
	defer is.Close()
	n, rows, cols, err := readIDXImagesHeader(is)
	if err != nil {
		return nil, err
	}
	ls, err := openSourceFS(fsys, labelsPath)
	if err != nil {
		return nil, err
	}
	defer ls.Close()
	if err := readIDXLabelsHeader(ls, n, imagesPath); err != nil {
		return nil, err
	}
	pix, err := is.readPayload(n*rows*cols, fmt.Sprintf("pixels (%d images of %dx%d)", n, rows, cols))
	if err != nil {
		return nil, err
	}
	b, err := ls.readPayload(n, "labels")
	if err != nil {
		return nil, err
	}
	labels := make([]int32, n)
	top := 0
	for i, v := range b {
		if classes > 0 && int(v) >= classes {
			return nil, fileError(labelsPath, "label %d at index %d is outside [0, %d)", v, i, classes)
		}
		labels[i] = int32(v)
		top = max(top, int(v)+1)
	}
	if classes <= 0 {
		classes = max(top, 1)
	}
	return &InMemory{u8: pix, labels: labels, h: rows, w: cols, c: 1, classes: classes}, nil
}

// readIDXImagesHeader reads and checks the header of an IDX images file.
func readIDXImagesHeader(s *source) (n, rows, cols int, err error) {
	var hdr [16]byte
	if err := s.readHeader(hdr[:4], len(hdr)); err != nil {
		return 0, 0, 0, err
	}
	if m := binary.BigEndian.Uint32(hdr[:4]); m != idxImagesMagic {
		return 0, 0, 0, fileError(s.path, "magic number %#08x is not that of IDX images (%#08x: unsigned bytes, 3 dimensions)%s", m, idxImagesMagic, idxHint(m))
	}
	if err := s.readHeader(hdr[4:], len(hdr)); err != nil {
		return 0, 0, 0, err
	}
	un := uint64(binary.BigEndian.Uint32(hdr[4:]))
	ur := uint64(binary.BigEndian.Uint32(hdr[8:]))
	uc := uint64(binary.BigEndian.Uint32(hdr[12:]))
	if ur == 0 || uc == 0 || ur > maxIDXSide || uc > maxIDXSide {
		return 0, 0, 0, fileError(s.path, "image size %dx%d in the header is not within 1..%d", ur, uc, maxIDXSide)
	}
	size, _ := mulBounded(un, ur*uc, 1<<62) // < 2^64: n < 2^32, rows*cols <= 2^32
	if err := s.checkClaim(16, size, fmt.Sprintf("pixels (%d images of %dx%d)", un, ur, uc)); err != nil {
		return 0, 0, 0, err
	}
	return int(un), int(ur), int(uc), nil
}

// readIDXLabelsHeader reads and checks the header of an IDX labels file
// that must hold n labels, one for each image in imagesPath.
func readIDXLabelsHeader(s *source, n int, imagesPath string) error {
	var hdr [8]byte
	if err := s.readHeader(hdr[:4], len(hdr)); err != nil {
		return err
	}
	if m := binary.BigEndian.Uint32(hdr[:4]); m != idxLabelsMagic {
		return fileError(s.path, "magic number %#08x is not that of IDX labels (%#08x: unsigned bytes, 1 dimension)%s", m, idxLabelsMagic, idxHint(m))
	}
	if err := s.readHeader(hdr[4:], len(hdr)); err != nil {
		return err
	}
	if nl := binary.BigEndian.Uint32(hdr[4:]); uint64(nl) != uint64(n) {
		return fmt.Errorf("data: labels file %s holds %d labels, but images file %s holds %d images", s.path, nl, imagesPath, n)
	}
	return s.checkClaim(8, uint64(n), "labels")
}

// idxHint explains a wrong magic number that is a known mistake.
func idxHint(m uint32) string {
	switch {
	case m == idxImagesMagic:
		return "; this is an images file"
	case m == idxLabelsMagic:
		return "; this is a labels file"
	case m>>16 != 0:
		return "; not an IDX file"
	case m>>8&0xff != 0x08:
		return fmt.Sprintf("; element type %#02x is not supported, only unsigned bytes (0x08)", m>>8&0xff)
	}
	return ""
}

// MNIST reads the MNIST training set (60,000 images) or test set (10,000)
// from dir, holding the files under their usual names:
// train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte
// and t10k-labels-idx1-ubyte, each possibly with ".gz" (or with a "." for
// the last "-", as some mirrors name them). The dataset has 10 classes,
// the digits, named "0" to "9"; a label of 10 or more is an error.
func MNIST(dir string, train bool) (*InMemory, error) {
	return readIDXDir(dir, train, digitNames)
}

// FashionMNIST reads the Fashion-MNIST training or test set from dir, as
// MNIST does (the files have the same names), naming its 10 classes.
func FashionMNIST(dir string, train bool) (*InMemory, error) {
	return readIDXDir(dir, train, []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"})
}

// digitNames are the classes of MNIST.
var digitNames = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

// MNISTFS reads the MNIST training or test set from the root of fsys, as
// MNIST reads a folder: for data embedded in a program or read from an
// archive.
func MNISTFS(fsys fs.FS, train bool) (*InMemory, error) {
	prefix := "t10k"
	if train {
		prefix = "train"
	}
	var paths [2]string
	for i, base := range []string{prefix + "-images-idx3-ubyte", prefix + "-labels-idx1-ubyte"} {
		for _, name := range []string{base, base + ".gz"} {
			if _, err := fs.Stat(fsys, name); err == nil {
				paths[i] = name
				break
			}
		}
		if paths[i] == "" {
			return nil, fmt.Errorf("data: no %s or %s.gz in the file system", base, base)
		}
	}
	m, err := readIDXFS(fsys, paths[0], paths[1], len(digitNames))
	if err != nil {
		return nil, err
	}
	m.classes, m.names = len(digitNames), digitNames
	return m, nil
}

func readIDXDir(dir string, train bool, names []string) (*InMemory, error) {
	prefix := "t10k"
	if train {
		prefix = "train"
	}
	imgs, err := findFile(dir, prefix+"-images", "idx3-ubyte")
	if err != nil {
		return nil, err
	}
	lbls, err := findFile(dir, prefix+"-labels", "idx1-ubyte")
	if err != nil {
		return nil, err
	}
	m, err := readIDX(imgs, lbls, len(names))
	if err != nil {
		return nil, err
	}
	m.classes = len(names)
	m.names = names
	return m, nil
}

// findFile returns the path of the first of base-ext, base.ext and
// their .gz forms that exists in dir.
func findFile(dir, base, ext string) (string, error) {
	var tried []string
	for _, name := range []string{base + "-" + ext, base + "-" + ext + ".gz", base + "." + ext, base + "." + ext + ".gz"} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("data: %w", err)
		}
		tried = append(tried, name)
	}
	return "", fmt.Errorf("data: %s holds none of %q", dir, tried)
}
