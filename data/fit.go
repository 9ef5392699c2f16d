package data

import (
	"fmt"
	"image"
	"os"

	"github.com/foveaml/fovea/internal/resample"
	"github.com/foveaml/fovea/internal/scratch"
)

// fitBox returns the box of an sh×sw image that becomes an h×w example:
// the image scaled so that its shorter side is resize (0: just enough to
// cover h×w; never less than that), its centre cut to h×w — torchvision's
// Resize(resize) then CenterCrop — expressed in the image's pixels.
func fitBox(sh, sw, h, w, resize int) image.Rectangle {
	scale := max(float64(h)/float64(sh), float64(w)/float64(sw))
	if resize > 0 {
		scale = max(scale, float64(resize)/float64(min(sh, sw)))
	}
	bh := min(sh, max(1, int(float64(h)/scale+0.5)))
	bw := min(sw, max(1, int(float64(w)/scale+0.5)))
	y0, x0 := (sh-bh)/2, (sw-bw)/2
	return image.Rect(x0, y0, x0+bw, y0+bh)
}

// Fit returns ds with its examples made h×w×c: channels converted (grey
// replicated to RGB; RGB to its luma, 0.299 R + 0.587 G + 0.114 B, for
// one channel), then the image scaled so that its shorter side is resize
// (0: just enough to cover h×w) by an antialiased bilinear filter and its
// centre cut to h×w. A ds of that shape already, with resize 0 or h, is
// returned as it is. Class names are kept.
func Fit(ds Dataset, h, w, c, resize int) (Dataset, error) {
	if h < 1 || w < 1 || h > maxFolderSide || w > maxFolderSide || (c != 1 && c != 3) || resize < 0 || resize > maxFolderSide {
		return nil, fmt.Errorf("data.Fit: %dx%dx%d, resize %d: want sides within 1..%d, 1 or 3 channels", h, w, c, resize, maxFolderSide)
	}
	sh, sw, sc := ds.Shape()
	if sc != 1 && sc != 3 {
		return nil, fmt.Errorf("data.Fit: the data has %d channels; only 1 (grey) or 3 (RGB) convert", sc)
	}
	if sh == h && sw == w && sc == c && (resize == 0 || resize == min(h, w)) {
		return ds, nil
	}
	return &fitted{ds: ds, h: h, w: w, c: c, box: fitBox(sh, sw, h, w, resize)}, nil
}

// fitted is Fit's view of a dataset.
type fitted struct {
	ds      Dataset
	h, w, c int
	box     image.Rectangle
}

func (f *fitted) Len() int             { return f.ds.Len() }
func (f *fitted) Shape() (h, w, c int) { return f.h, f.w, f.c }
func (f *fitted) Classes() int         { return f.ds.Classes() }
func (f *fitted) ClassNames() []string { return ClassNames(f.ds) }

func (f *fitted) Example(i int, dst []float32) (int, error) {
	if len(dst) != f.h*f.w*f.c {
		return 0, fmt.Errorf("data: destination holds %d values, a %dx%dx%d image %d", len(dst), f.h, f.w, f.c, f.h*f.w*f.c)
	}
	sh, sw, sc := f.ds.Shape()
	src := scratch.Floats.Get(sh * sw * sc)
	defer scratch.Floats.Put(src)
	label, err := f.ds.Example(i, src)
	if err != nil {
		return 0, err
	}
	conv := src
	if sc != f.c {
		conv = scratch.Floats.Get(sh * sw * f.c)
		defer scratch.Floats.Put(conv)
		convertChannels(conv, src, sc, f.c)
	}
	if f.box.Dx() == f.w && f.box.Dy() == f.h {
		for y := range f.h {
			row := conv[((f.box.Min.Y+y)*sw+f.box.Min.X)*f.c:]
			copy(dst[y*f.w*f.c:(y+1)*f.w*f.c], row)
		}
		return label, nil
	}
	resampleBox(dst, f.h, f.w, conv, sw, f.c, f.box)
	return label, nil
}

// convertChannels writes src (of sc channels) as dc channels into dst:
// grey replicated, or RGB reduced to luma.
func convertChannels(dst, src []float32, sc, dc int) {
	switch {
	case sc == 1 && dc == 3:
		for i, v := range src {
			dst[3*i], dst[3*i+1], dst[3*i+2] = v, v, v
		}
	case sc == 3 && dc == 1:
		for i := range dst {
			r, g, b := src[3*i], src[3*i+1], src[3*i+2]
			if r == g && g == b {
				dst[i] = r
				continue
			}
			dst[i] = 0.299*r + 0.587*g + 0.114*b
		}
	default:
		copy(dst, src)
	}
}

// resampleBox resizes box of src (rows of sw pixels of c channels) to
// h×w into dst.
func resampleBox(dst []float32, h, w int, src []float32, sw, c int, box image.Rectangle) {
	tx := resample.NewTaps(box.Min.X, box.Dx(), w, resample.Bilinear)
	ty := resample.NewTaps(box.Min.Y, box.Dy(), h, resample.Bilinear)
	tmp := scratch.Floats.Get(box.Dy() * w * c)
	defer scratch.Floats.Put(tmp)
	for y := range box.Dy() {
		row := src[(box.Min.Y+y)*sw*c : (box.Min.Y+y+1)*sw*c]
		tx.Across(tmp[y*w*c:(y+1)*w*c], row, c)
	}
	ty.Down(dst, tmp, w*c, box.Min.Y)
}

// Images is the list of an image folder's files and their labels: a
// Split, which Sized turns into a Dataset of any size.
type Images struct {
	root   string
	names  []string
	paths  []string
	labels []int32
}

// ListImages lists the classes and image files of the image folder at
// root as NewImageFolder does, with its errors: no class subfolders, a
// class folder without images.
func ListImages(root string) (*Images, error) {
	f, err := NewImageFolder(root, 1, 1)
	if err != nil {
		return nil, err
	}
	return &Images{root: root, names: f.names, paths: f.paths, labels: f.labels}, nil
}

// NewImages returns the Set of the given files, labelled with labels
// (in [0, len(names))) — an image folder's, or files named on a command
// line (any labels).
func NewImages(paths []string, labels []int32, names []string) (*Images, error) {
	if len(paths) != len(labels) {
		return nil, fmt.Errorf("data.NewImages: %d paths, %d labels", len(paths), len(labels))
	}
	classes := max(len(names), 1)
	for i, l := range labels {
		if l < 0 || int(l) >= classes {
			return nil, fmt.Errorf("data.NewImages: label %d of %s is outside [0, %d)", l, paths[i], classes)
		}
	}
	return &Images{paths: paths, labels: labels, names: names}, nil
}

// Len returns the number of files.
func (m *Images) Len() int { return len(m.paths) }

// Classes returns the number of classes.
func (m *Images) Classes() int { return max(len(m.names), 1) }

// ClassNames returns the class names by label.
func (m *Images) ClassNames() []string { return m.names }

// Path returns the file of example i.
func (m *Images) Path(i int) string { return m.paths[i] }

// Sized returns the images as a Dataset of h×w×c examples: each decoded
// when asked for (JPEG, PNG or GIF; grey, paletted, CMYK, 16-bit and
// alpha images converted to RGB as ImageFolder does, then to luma for
// one channel), its box of Fit's rule cut and resampled to h×w.
func (m *Images) Sized(h, w, c, resize int) (Dataset, error) {
	if h < 1 || w < 1 || h > maxFolderSide || w > maxFolderSide || (c != 1 && c != 3) || resize < 0 || resize > maxFolderSide {
		return nil, fmt.Errorf("data.Images.Sized: %dx%dx%d, resize %d: want sides within 1..%d, 1 or 3 channels", h, w, c, resize, maxFolderSide)
	}
	return &sizedImages{m: m, h: h, w: w, c: c, resize: resize}, nil
}

// sizedImages is Images.Sized's dataset.
type sizedImages struct {
	m       *Images
	h, w, c int
	resize  int
}

func (s *sizedImages) Len() int             { return len(s.m.paths) }
func (s *sizedImages) Shape() (h, w, c int) { return s.h, s.w, s.c }
func (s *sizedImages) Classes() int         { return s.m.Classes() }
func (s *sizedImages) ClassNames() []string { return s.m.names }

// Path returns the file of example i.
func (s *sizedImages) Path(i int) string { return s.m.paths[i] }

// Stamp returns the size and modification time of example i's file,
// which a Cache keys its copy by.
func (s *sizedImages) Stamp(i int) (size, mtime int64, err error) {
	st, err := os.Stat(s.m.paths[i])
	if err != nil {
		return 0, 0, fmt.Errorf("data: %w", err)
	}
	return st.Size(), st.ModTime().UnixNano(), nil
}

// CacheTag says what the examples are, for a Cache file's header.
func (s *sizedImages) CacheTag() string {
	return fmt.Sprintf("images %s %d files %dx%dx%d resize %d", s.m.root, len(s.m.paths), s.h, s.w, s.c, s.resize)
}

func (s *sizedImages) Example(i int, dst []float32) (int, error) {
	if i < 0 || i >= len(s.m.paths) {
		return 0, fmt.Errorf("data: image index %d is outside [0, %d)", i, len(s.m.paths))
	}
	if len(dst) != s.h*s.w*s.c {
		return 0, fmt.Errorf("data: destination holds %d values, a %dx%dx%d image %d", len(dst), s.h, s.w, s.c, s.h*s.w*s.c)
	}
	img, err := decodeImage(s.m.paths[i])
	if err != nil {
		return 0, err
	}
	FitImage(dst, img, s.h, s.w, s.c, s.resize)
	return int(s.m.labels[i]), nil
}

// FitImage writes img into dst as an h×w×c example, as an image folder
// read by Images.Sized makes it: the image scaled so that its shorter
// side is resize (0: just enough to cover h×w) by an antialiased bilinear
// filter, its centre cut to h×w, RGB (grey replicated, alpha dropped) or,
// for c = 1, luma. dst must hold h·w·c values.
func FitImage(dst []float32, img image.Image, h, w, c, resize int) {
	b := img.Bounds()
	box := fitBox(b.Dy(), b.Dx(), h, w, resize).Add(b.Min)
	if sub, ok := img.(interface {
		SubImage(image.Rectangle) image.Image
	}); ok && box != b {
		img = sub.SubImage(box)
	}
	rgb := dst
	if c == 1 {
		rgb = scratch.Floats.Get(h * w * 3)
		defer scratch.Floats.Put(rgb)
	}
	resampleImage(img, h, w, rgb)
	if c == 1 {
		convertChannels(dst, rgb, 3, 1)
	}
}
