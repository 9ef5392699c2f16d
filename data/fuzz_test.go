package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"image"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// The fuzz targets feed every reader of outside data with real files,
// hand-made broken ones and what the fuzzer makes of them. Each checks
// that the reader never panics, that an error names the file, that what
// it accepts is consistent, and that it allocates no more than its
// documented bound. go test runs the seeds as ordinary tests.

// gunzip returns the decompressed b.
func gunzip(tb testing.TB, b []byte) []byte {
	tb.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		tb.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func readTestdata(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// checkValues fails unless every value of v is in [0, 1].
func checkValues(t *testing.T, what string, v []float32) {
	t.Helper()
	for i, x := range v {
		if !(x >= 0 && x <= 1) {
			t.Fatalf("%s: value %d is %v, outside [0, 1]", what, i, x)
		}
	}
}

func FuzzIDX(f *testing.F) {
	realImg := readTestdata(f, "fashion16-images-idx3-ubyte.gz")
	realLbl := readTestdata(f, "fashion16-labels-idx1-ubyte.gz")
	rawImg, rawLbl := gunzip(f, realImg), gunzip(f, realLbl)
	f.Add(realImg, realLbl)
	f.Add(rawImg, rawLbl)
	f.Add(rawImg, realLbl)
	small, smallL := idxImages(3, 2, 2), idxLabels(0, 1, 9)
	f.Add(small, smallL)
	f.Add(gzipBytes(f, small), gzipBytes(f, smallL))
	// Hand-made broken pairs.
	f.Add(smallL, small)                                   // swapped
	f.Add(small[:len(small)-1], smallL)                    // truncated pixels
	f.Add(small[:10], smallL)                              // truncated header
	f.Add(append(append([]byte{}, small...), 0), smallL)   // trailing byte
	f.Add(small, idxLabels(0, 1))                          // count mismatch
	f.Add(small, idxLabels(0, 1, 200))                     // label out of range for 10 classes
	f.Add(realImg[:len(realImg)/2], realLbl)               // truncated gzip
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0}, smallL) // corrupt gzip header
	huge := idxImages(0, 28, 28)
	binary.BigEndian.PutUint32(huge[4:], 0xffffffff) // claims 3 TB
	f.Add(huge, smallL)
	wide := idxImages(1, 1, 1)
	binary.BigEndian.PutUint32(wide[8:], 0xffffffff) // a vast side
	f.Add(wide, idxLabels(0))
	bomb := make([]byte, 16+256<<10) // 256 KiB of zeros under a header claiming 1 GiB
	copy(bomb, idxImages(0, 1024, 1024))
	binary.BigEndian.PutUint32(bomb[4:], 1024)
	f.Add(gzipBytes(f, bomb), smallL)
	f.Fuzz(func(t *testing.T, images, labels []byte) {
		fsys := fstest.MapFS{"images.idx": {Data: images}, "labels.idx": {Data: labels}}
		for _, classes := range []int{0, 10} {
			var m *InMemory
			var err error
			got := allocated(func() { m, err = readIDXFS(fsys, "images.idx", "labels.idx", classes) })
			// Buffers and gzip's state, then at most what the headers may
			// claim, grown by doubling.
			limit := uint64(4*MaxExpansion*(len(images)+len(labels))) + 16<<20
			if got > limit {
				t.Fatalf("reading %d+%d bytes allocated %d, more than %d", len(images), len(labels), got, limit)
			}
			if err != nil {
				if msg := err.Error(); !strings.Contains(msg, "images.idx") && !strings.Contains(msg, "labels.idx") {
					t.Fatalf("error %q names neither file", msg)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Fatalf("error %q is more than one line", err)
				}
				continue
			}
			h, w, c := m.Shape()
			if c != 1 || h < 1 || w < 1 || len(m.u8) != m.Len()*h*w {
				t.Fatalf("%d images of %dx%dx%d in %d bytes", m.Len(), h, w, c, len(m.u8))
			}
			if classes > 0 && m.Classes() != classes {
				t.Fatalf("%d classes, want %d", m.Classes(), classes)
			}
			for i, l := range m.Labels() {
				if l < 0 || int(l) >= m.Classes() {
					t.Fatalf("label %d of example %d is outside [0, %d)", l, i, m.Classes())
				}
			}
			if m.Len() > 0 {
				dst := make([]float32, h*w)
				for _, i := range []int{0, m.Len() - 1} {
					if _, err := m.Example(i, dst); err != nil {
						t.Fatal(err)
					}
					checkValues(t, "example", dst)
				}
			}
		}
	})
}

func FuzzCIFAR(f *testing.F) {
	f.Add(cifarRecords(1, []byte{3, 9}), false)
	f.Add(cifarRecords(2, []byte{19, 0}, []byte{99, 5}), true)
	// A CIFAR-10 record made of a real image: the first Fashion-MNIST
	// excerpt's picture, in the red plane.
	rec := make([]byte, 1+cifarImage)
	rec[0] = 7
	px := gunzip(f, readTestdata(f, "fashion16-images-idx3-ubyte.gz"))[16:]
	for y := range 28 {
		copy(rec[1+(y+2)*32+2:], px[y*28:(y+1)*28])
	}
	f.Add(rec, false)
	good := cifarRecords(1, []byte{1})
	f.Add(good[:len(good)-1], false)                      // truncated
	f.Add(append(append([]byte{}, good...), 0), false)    // trailing byte
	f.Add(cifarRecords(1, []byte{10}), false)             // label out of range
	f.Add(cifarRecords(2, []byte{20}, []byte{100}), true) // both labels out of range
	f.Add(good, true)                                     // CIFAR-10 as CIFAR-100
	f.Add(gzipBytes(f, good), false)                      // gzipped
	f.Add([]byte{}, false)                                // empty
	f.Fuzz(func(t *testing.T, b []byte, hundred bool) {
		fsys := fstest.MapFS{"batch.bin": {Data: b}}
		nlabels, which, names := 1, 0, CIFAR10Names
		if hundred {
			nlabels, which, names = 2, 1, CIFAR100FineNames
		}
		var m *InMemory
		var err error
		got := allocated(func() { m, err = readCIFARFS(fsys, []string{"batch.bin"}, nlabels, which, names) })
		if limit := uint64(3*len(b)) + 1<<20; got > limit {
			t.Fatalf("reading %d bytes allocated %d, more than %d", len(b), got, limit)
		}
		if err != nil {
			if !strings.Contains(err.Error(), "batch.bin") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q is not one line naming the file", err)
			}
			return
		}
		if rec := nlabels + cifarImage; len(b)%rec != 0 || m.Len() != len(b)/rec {
			t.Fatalf("%d records from %d bytes", m.Len(), len(b))
		}
		for i, l := range m.Labels() {
			if l < 0 || int(l) >= len(names) {
				t.Fatalf("label %d of record %d", l, i)
			}
		}
		dst := make([]float32, cifarImage)
		if _, err := m.Example(m.Len()-1, dst); err != nil {
			t.Fatal(err)
		}
		checkValues(t, "record", dst)
	})
}

// realImages returns the image files of testdata/images.
func realImages(tb testing.TB) [][]byte {
	tb.Helper()
	names, err := filepath.Glob("testdata/images/*.*")
	if err != nil || len(names) < 5 {
		tb.Fatalf("testdata/images: %v, %d files", err, len(names))
	}
	var out [][]byte
	for _, n := range names {
		if isImageName(n) {
			b, err := os.ReadFile(n)
			if err != nil {
				tb.Fatal(err)
			}
			out = append(out, b)
		}
	}
	return out
}

// brokenImages returns hand-made broken image files.
func brokenImages(tb testing.TB) [][]byte {
	png := encode(tb, uniform(6, 4, color.NRGBA{200, 10, 30, 128}), "png")
	jpg := encode(tb, uniform(9, 7, color.White), "jpeg")
	gif := encode(tb, image.NewPaletted(image.Rect(0, 0, 3, 3), color.Palette{color.Black, color.White}), "gif")
	return [][]byte{
		png, jpg, gif,
		png[:len(png)/2], png[:20], jpg[:len(jpg)/2], jpg[:4], gif[:len(gif)-3],
		[]byte("not an image at all"),
		pngWithSize(tb, 100000, 100000), // more than MaxImagePixels
		pngWithSize(tb, 5000, 5000),     // a bomb: 67 bytes claiming 25 megapixels
		pngWithSize(tb, 0, 7),           // empty
	}
}

func FuzzLoadImage(f *testing.F) {
	for _, b := range realImages(f) {
		f.Add(b)
	}
	for _, b := range brokenImages(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var img image.Image
		var err error
		got := allocated(func() { img, err = decodeImageFrom("image.bin", bytes.NewReader(b), int64(len(b))) })
		// What the header may claim, twice over (PNG's interlaced
		// passes), and the decoders' own tables.
		if limit := uint64(2*(MaxImageExpansion*len(b)+imageAllowance)) + 4<<20; got > limit {
			t.Fatalf("decoding %d bytes allocated %d, more than %d", len(b), got, limit)
		}
		if err != nil {
			if !strings.Contains(err.Error(), "image.bin") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q is not one line naming the file", err)
			}
			return
		}
		for _, c := range []int{1, 3} {
			v := imageInput(img, 5, 7, c)
			if len(v) != 5*7*c {
				t.Fatalf("%d values for 5x7x%d", len(v), c)
			}
			for i, x := range v {
				if math.IsNaN(float64(x)) || x < -1e-5 || x > 1+1e-5 {
					t.Fatalf("value %d of the %d-channel image is %v", i, c, x)
				}
			}
		}
	})
}

func FuzzImageFolder(f *testing.F) {
	imgs := realImages(f)
	broken := brokenImages(f)
	f.Add("cat/a.png\ndog/b.jpg", imgs[0])
	f.Add("cat/sub/deeper/x.GIF\ncat/.hidden.png\ndog/y.jpeg", imgs[len(imgs)-1])
	f.Add("a/x.png\nb/", imgs[1]) // a class with no images
	f.Add("x.png", imgs[2])       // no class folder
	f.Add(".git/a.png\nc/a.jpeg\nc/notes.txt", imgs[3])
	f.Add("a/1.png\na/2.png", broken[3])       // truncated
	f.Add("a/huge.png", broken[len(broken)-2]) // a bomb
	f.Add("a/text.jpg", broken[len(broken)-4]) // not an image
	f.Fuzz(func(t *testing.T, layout string, b []byte) {
		root := t.TempDir()
		lines := strings.Split(layout, "\n")
		if len(lines) > 6 {
			lines = lines[:6]
		}
		for _, l := range lines {
			if l == "" || !filepath.IsLocal(l) || len(l) > 200 || strings.ContainsAny(l, "\x00\\:") {
				continue
			}
			p := filepath.Join(root, l)
			if strings.HasSuffix(l, "/") {
				os.MkdirAll(p, 0o755)
				continue
			}
			if os.MkdirAll(filepath.Dir(p), 0o755) != nil {
				continue
			}
			os.WriteFile(p, b, 0o644)
		}
		ds, err := NewImageFolder(root, 6, 4)
		if err != nil {
			if !strings.Contains(err.Error(), root) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q is not one line naming the folder", err)
			}
			return
		}
		if ds.Classes() < 1 || ds.Len() < ds.Classes() {
			t.Fatalf("%d images in %d classes", ds.Len(), ds.Classes())
		}
		dst := make([]float32, 6*4*3)
		for i := range min(ds.Len(), 8) {
			label, err := ds.Example(i, dst)
			if err != nil {
				if !strings.Contains(err.Error(), ds.Path(i)) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("error %q is not one line naming %s", err, ds.Path(i))
				}
				continue
			}
			if label != ds.Label(i) || label < 0 || label >= ds.Classes() {
				t.Fatalf("example %d: label %d, Label says %d, %d classes", i, label, ds.Label(i), ds.Classes())
			}
			for j, x := range dst {
				if math.IsNaN(float64(x)) || x < -1e-5 || x > 1+1e-5 {
					t.Fatalf("example %d value %d is %v", i, j, x)
				}
			}
		}
	})
}
