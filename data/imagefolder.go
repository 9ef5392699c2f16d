package data

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/gif"  // register GIF for image.Decode
	_ "image/jpeg" // register JPEG
	_ "image/png"  // register PNG
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// MaxImagePixels bounds the width×height an ImageFolder file may declare.
// A larger image is an error, found from its header before the pixels are
// decoded, so a small file claiming a vast image costs nothing.
const MaxImagePixels = 1 << 26

// MaxImageExpansion and imageAllowance bound the memory decoding an image
// file may take: what its header says the decoder will allocate (width ×
// height × the bytes per pixel of its colour model, more for a JPEG) may
// be at most MaxImageExpansion times the file's size plus 16 MiB. Any
// 8-bit PNG or GIF up to 2048×2048 passes, whatever its size, and so does a
// larger image unless it is nearly blank (photographs and drawings
// compress far less than 1024-fold); a small file that claims a vast
// image is turned away before anything is allocated for it.
const (
	MaxImageExpansion = 1024
	imageAllowance    = 16 << 20
)

// maxFolderSide bounds the height and width an ImageFolder resizes to.
const maxFolderSide = 1 << 14

// ImageFolder is a dataset of image files arranged one subfolder per
// class, as torchvision's ImageFolder and Keras'
// image_dataset_from_directory read them:
//
//	root/cat/001.jpg
//	root/cat/more/002.png
//	root/dog/a.gif
//
// Classes are the subfolders in sorted order, labelled from 0; each
// holds the JPEG, PNG and GIF files (.jpg, .jpeg, .png, .gif, in any case)
// at any depth below it, in sorted path order. Other files, and names
// starting with ".", are skipped. Images are decoded when Example asks for
// them, converted to RGB (grey replicated to three channels, alpha
// dropped; the first frame of a GIF), scaled to [0, 1] and resized to
// h×w by a bilinear filter that widens when shrinking (antialiased).
type ImageFolder struct {
	root   string
	h, w   int
	names  []string
	paths  []string
	labels []int32
}

// NewImageFolder lists the classes and image files under root, which
// Example will resize to h×w×3. It is an error if h or w is not in
// [1, 16384], if root has no class subfolders, or if a class has no
// images.
func NewImageFolder(root string, h, w int) (*ImageFolder, error) {
	if h < 1 || w < 1 || h > maxFolderSide || w > maxFolderSide {
		return nil, fmt.Errorf("data.NewImageFolder: size %dx%d is not within 1..%d", h, w, maxFolderSide)
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("data.NewImageFolder: %w", err)
	}
	f := &ImageFolder{root: root, h: h, w: w}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		st, err := os.Stat(filepath.Join(root, e.Name())) // follows a symlinked class folder
		if err != nil {
			return nil, fmt.Errorf("data.NewImageFolder: %w", err)
		}
		if st.IsDir() {
			f.names = append(f.names, e.Name())
		}
	}
	if len(f.names) == 0 {
		return nil, fmt.Errorf("data.NewImageFolder: %s has no class subfolders; put each class's images in a folder of its own under it", root)
	}
	slices.Sort(f.names)
	for label, name := range f.names {
		dir := filepath.Join(root, name)
		before := len(f.paths)
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if p != dir && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.IsDir() && isImageName(d.Name()) {
				f.paths = append(f.paths, p)
				f.labels = append(f.labels, int32(label))
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("data.NewImageFolder: %w", err)
		}
		if len(f.paths) == before {
			return nil, fmt.Errorf("data.NewImageFolder: class folder %s has no .jpg, .jpeg, .png or .gif files", dir)
		}
	}
	return f, nil
}

func isImageName(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".jpg", ".jpeg", ".png", ".gif":
		return true
	}
	return false
}

// Len returns the number of image files.
func (f *ImageFolder) Len() int { return len(f.paths) }

// Shape returns the size images are resized to, with 3 channels.
func (f *ImageFolder) Shape() (h, w, c int) { return f.h, f.w, 3 }

// Classes returns the number of class subfolders.
func (f *ImageFolder) Classes() int { return len(f.names) }

// ClassNames returns the class subfolders' names, by label.
func (f *ImageFolder) ClassNames() []string { return f.names }

// Path returns the file of example i.
func (f *ImageFolder) Path(i int) string { return f.paths[i] }

// Label returns the label of example i without decoding it.
func (f *ImageFolder) Label(i int) int { return int(f.labels[i]) }

// Example decodes file i, converts and resizes it into dst (len h*w*3) and
// returns its label. Errors name the file.
func (f *ImageFolder) Example(i int, dst []float32) (int, error) {
	if i < 0 || i >= len(f.paths) {
		return 0, fmt.Errorf("data.ImageFolder.Example: index %d is outside [0, %d)", i, len(f.paths))
	}
	if len(dst) != f.h*f.w*3 {
		return 0, fmt.Errorf("data.ImageFolder.Example: destination holds %d values, a %dx%dx3 image %d", len(dst), f.h, f.w, f.h*f.w*3)
	}
	img, err := decodeImage(f.paths[i])
	if err != nil {
		return 0, err
	}
	resampleImage(img, f.h, f.w, dst)
	return int(f.labels[i]), nil
}

// decodeImage decodes the image in path after checking, from its header,
// that its size is within MaxImagePixels and what it needs to decode
// within MaxImageExpansion of the file's size.
func decodeImage(path string) (image.Image, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fileError(path, "not a regular file")
	}
	return decodeImageFrom(path, file, st.Size())
}

// decodeImageFrom is decodeImage for the size bytes of r; path names it
// in errors.
func decodeImageFrom(path string, r io.ReadSeeker, size int64) (image.Image, error) {
	br := bufio.NewReader(r)
	cfg, format, err := image.DecodeConfig(br)
	if err != nil {
		return nil, imageError(path, format, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > MaxImagePixels {
		return nil, fileError(path, "%s image of %dx%d pixels is empty or larger than MaxImagePixels (%d)", format, cfg.Width, cfg.Height, MaxImagePixels)
	}
	need := int64(cfg.Width) * int64(cfg.Height) * decodedBytesPerPixel(format, cfg.ColorModel)
	if limit := MaxImageExpansion*size + imageAllowance; need > limit {
		return nil, fileError(path, "%s image of %dx%d pixels would take %d bytes to decode, more than a %d-byte file may (%d-fold, plus %d MiB): truncated, or a decompression bomb",
			format, cfg.Width, cfg.Height, need, size, MaxImageExpansion, imageAllowance>>20)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("data: %s: %w", path, err)
	}
	br.Reset(r)
	img, _, err := image.Decode(br)
	if err != nil {
		return nil, imageError(path, format, err)
	}
	// A GIF's first frame may be smaller than its header's screen, never
	// larger; nor may any other format's image be.
	if b := img.Bounds(); b.Empty() || b.Dx() > cfg.Width || b.Dy() > cfg.Height {
		return nil, fileError(path, "%s image decodes to %dx%d pixels, its header says %dx%d", format, b.Dx(), b.Dy(), cfg.Width, cfg.Height)
	}
	return img, nil
}

// decodedBytesPerPixel bounds the bytes per pixel that the standard
// decoders allocate for an image of format and colour model.
func decodedBytesPerPixel(format string, m color.Model) int64 {
	if format == "jpeg" {
		// The image and, for a progressive JPEG, a 4-byte coefficient a
		// pixel for each component at full resolution.
		switch m {
		case color.GrayModel:
			return 1 + 4
		case color.CMYKModel:
			return 4 + 16
		}
		return 3 + 12 // YCbCr, 4:4:4 at worst
	}
	switch m {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model:
		return 2
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel:
		return 4
	}
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	return 8 // RGBA64, NRGBA64 and anything else
}

func imageError(path, format string, err error) error {
	switch {
	case errors.Is(err, image.ErrFormat):
		return fileError(path, "not a JPEG, PNG or GIF image")
	case format == "":
		format = "image"
	default:
		format += " image"
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fileError(path, "truncated %s", format)
	}
	return fileError(path, "corrupt %s: %w", format, err)
}
