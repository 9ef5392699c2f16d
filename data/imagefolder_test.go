package data

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

func encode(t testing.TB, img image.Image, format string) []byte {
	t.Helper()
	var buf bytes.Buffer
	var err error
	switch format {
	case "png":
		err = png.Encode(&buf, img)
	case "jpeg":
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95})
	case "gif":
		err = gif.Encode(&buf, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func mkdirs(t testing.TB, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func uniform(w, h int, c color.Color) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, c)
		}
	}
	return img
}

// folder makes root/cats/{a.PNG, sub/b.jpeg}, root/dogs/c.gif and
// things to skip: a text file, hidden files and folders.
func folder(t testing.TB) string {
	root := t.TempDir()
	mkdirs(t, filepath.Join(root, "cats", "sub"), filepath.Join(root, "dogs"), filepath.Join(root, ".git"), filepath.Join(root, "dogs", ".cache"))
	writeFile(t, root, "cats/a.PNG", encode(t, uniform(4, 6, color.NRGBA{255, 0, 0, 255}), "png"))
	gray := image.NewGray(image.Rect(0, 0, 16, 16))
	for i := range gray.Pix {
		gray.Pix[i] = 128
	}
	writeFile(t, root, "cats/sub/b.jpeg", encode(t, gray, "jpeg"))
	writeFile(t, root, "dogs/c.gif", encode(t, uniform(9, 3, color.NRGBA{0, 0, 255, 255}), "gif"))
	writeFile(t, root, "dogs/notes.txt", []byte("not an image"))
	writeFile(t, root, "dogs/.c.gif", []byte("hidden"))
	writeFile(t, root, "dogs/.cache/d.gif", []byte("hidden"))
	writeFile(t, root, ".git/e.png", []byte("hidden"))
	writeFile(t, root, "README.png", []byte("not in a class folder"))
	return root
}

func TestImageFolder(t *testing.T) {
	root := folder(t)
	f, err := NewImageFolder(root, 5, 7)
	if err != nil {
		t.Fatal(err)
	}
	if h, w, c := f.Shape(); f.Len() != 3 || f.Classes() != 2 || h != 5 || w != 7 || c != 3 {
		t.Fatalf("%d images of %dx%dx%d in %d classes, want 3 of 5x7x3 in 2", f.Len(), h, w, c, f.Classes())
	}
	if n := f.ClassNames(); n[0] != "cats" || n[1] != "dogs" {
		t.Errorf("classes %q", n)
	}
	want := []struct {
		path  string
		label int
		rgb   []float32
		tol   float64
	}{
		{"cats/a.PNG", 0, []float32{1, 0, 0}, 1e-6},
		{"cats/sub/b.jpeg", 0, []float32{128.0 / 255, 128.0 / 255, 128.0 / 255}, 0.01}, // grey to 3 channels
		{"dogs/c.gif", 1, []float32{0, 0, 1}, 1e-6},
	}
	dst := make([]float32, 5*7*3)
	for i, w := range want {
		if got := f.Path(i); got != filepath.Join(root, w.path) || f.Label(i) != w.label {
			t.Errorf("example %d: %s label %d, want %s label %d", i, got, f.Label(i), w.path, w.label)
		}
		label, err := f.Example(i, dst)
		if err != nil || label != w.label {
			t.Fatalf("Example(%d) = %d, %v", i, label, err)
		}
		for p := 0; p < len(dst); p += 3 {
			if !near(dst[p:p+3], w.rgb, w.tol) {
				t.Fatalf("%s: pixel %d is %v, want %v", w.path, p/3, dst[p:p+3], w.rgb)
			}
		}
	}
}

// pngWithSize returns a valid 1×1 PNG whose header claims w×h.
func pngWithSize(t testing.TB, w, h uint32) []byte {
	b := encode(t, image.NewGray(image.Rect(0, 0, 1, 1)), "png")
	// The IHDR chunk follows the 8-byte signature: length, type, data, CRC.
	ihdr := b[8+8 : 8+8+13]
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	binary.BigEndian.PutUint32(b[8+8+13:], crc32.ChecksumIEEE(b[8+4:8+8+13]))
	return b
}

func TestImageFolderCorrupt(t *testing.T) {
	root := t.TempDir()
	mkdirs(t, filepath.Join(root, "a"))
	good := encode(t, uniform(8, 8, color.White), "png")
	jpg := encode(t, uniform(8, 8, color.White), "jpeg")
	files := []struct {
		name string
		b    []byte
		want []string
	}{
		{"0-ok.png", good, nil},
		{"1-text.jpg", []byte("hello, world"), []string{"not a JPEG, PNG or GIF image"}},
		{"2-truncated.png", good[:len(good)-20], []string{"png image"}},
		{"3-truncated.jpg", jpg[:len(jpg)/2], []string{"jpeg image"}},
		{"4-huge.png", pngWithSize(t, 100000, 100000), []string{"png image of 100000x100000 pixels", "MaxImagePixels"}},
		{"5-header-only.png", good[:20], []string{"truncated png image"}},
		{"6-lying.png", pngWithSize(t, 2, 2), []string{"png image"}},
	}
	for _, f := range files {
		writeFile(t, root, "a/"+f.name, f.b)
	}
	ds, err := NewImageFolder(root, 4, 4)
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]float32, 4*4*3)
	for i, f := range files {
		_, err := ds.Example(i, dst)
		if f.want == nil {
			if err != nil {
				t.Errorf("%s: %v", f.name, err)
			}
			continue
		}
		wantErr(t, err, append([]string{filepath.Join(root, "a", f.name)}, f.want...)...)
	}
	_, err = ds.Example(len(files), dst)
	wantErr(t, err, "index 7 is outside [0, 7)")
	_, err = ds.Example(0, dst[1:])
	wantErr(t, err, "destination holds 47 values")
}

func TestImageFolderErrors(t *testing.T) {
	empty := t.TempDir()
	_, err := NewImageFolder(empty, 8, 8)
	wantErr(t, err, empty, "no class subfolders")

	_, err = NewImageFolder(filepath.Join(empty, "missing"), 8, 8)
	wantErr(t, err, "missing", "no such file")

	root := folder(t)
	mkdirs(t, filepath.Join(root, "empty"))
	writeFile(t, root, "empty/x.bmp", []byte("unsupported"))
	_, err = NewImageFolder(root, 8, 8)
	wantErr(t, err, filepath.Join(root, "empty"), "has no .jpg, .jpeg, .png or .gif files")

	_, err = NewImageFolder(root, 0, 8)
	wantErr(t, err, "size 0x8")
}

// TestImageFolderGIFFrame reads a GIF whose first frame covers part of
// its screen, away from the origin.
func TestImageFolderGIFFrame(t *testing.T) {
	root := t.TempDir()
	mkdirs(t, filepath.Join(root, "a"))
	frame := image.NewPaletted(image.Rect(2, 3, 6, 5), color.Palette{color.Black, color.White})
	for i := range frame.Pix {
		frame.Pix[i] = 1
	}
	var buf bytes.Buffer
	err := gif.EncodeAll(&buf, &gif.GIF{Image: []*image.Paletted{frame}, Delay: []int{0}, Config: image.Config{Width: 10, Height: 10, ColorModel: frame.Palette}})
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, root, "a/x.gif", buf.Bytes())
	ds, err := NewImageFolder(root, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]float32, 2*2*3)
	if _, err := ds.Example(0, dst); err != nil || !equal(dst, []float32{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}) {
		t.Errorf("first frame read as %v, %v", dst, err)
	}
}
