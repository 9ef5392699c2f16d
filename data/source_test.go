package data

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// cifarBytes returns n CIFAR-10 records, record i labelled i%10 with
// every byte of its image i.
func cifarBytes(n int) []byte {
	var b []byte
	for i := range n {
		b = append(b, byte(i%10))
		b = append(b, bytes.Repeat([]byte{byte(i)}, cifarImage)...)
	}
	return b
}

// writeFolderAndArchive writes files into dir, and into archive as a
// .tar.gz of dir as distributed (the folder's name, then the files), and
// returns the archive's bytes.
func writeFolderAndArchive(t *testing.T, dir, archive string, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
		tw.WriteHeader(&tar.Header{Name: filepath.Base(dir) + "/" + n, Size: int64(len(b)), Mode: 0o644, Typeflag: tar.TypeReg})
		tw.Write(b)
	}
	tw.Close()
	zw.Close()
	if err := os.WriteFile(archive, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestOpenCIFARFolderAndArchive(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "cifar-10-batches-bin")
	os.MkdirAll(dir, 0o755)
	files := map[string][]byte{"data_batch_1.bin": cifarBytes(3), "data_batch_2.bin": cifarBytes(2), "test_batch.bin": cifarBytes(4),
		"batches.meta.txt": []byte("a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n")}
	archive := filepath.Join(root, "c.tar.gz")
	buf := writeFolderAndArchive(t, dir, archive, files)
	for _, p := range []string{dir, root, archive} {
		s, err := Open(p)
		if err != nil {
			t.Fatalf("Open(%s): %v", p, err)
		}
		if s.Kind != "CIFAR-10" || s.Train.Len() != 5 || s.Test.Len() != 4 || s.Names[9] != "j" {
			t.Fatalf("Open(%s): %s, %d train, %d test, names %v", p, s.Kind, s.Train.Len(), s.Test.Len(), s.Names)
		}
		ds, _ := s.Train.Sized(32, 32, 3, 0)
		img := make([]float32, 32*32*3)
		if l, err := ds.Example(4, img); err != nil || l != 1 || img[0] != byteScale[1] {
			t.Fatalf("Open(%s): example 4: label %d, %v, %v", p, l, img[0], err)
		}
	}
	// A truncated archive names itself.
	os.WriteFile(archive, buf[:len(buf)/2], 0o644)
	if _, err := Open(archive); err == nil || !strings.Contains(err.Error(), archive) {
		t.Errorf("truncated archive: %v", err)
	}
}

// TestOpenCIFAR100 opens a CIFAR-100 binary folder, the folder holding
// it and its archive: the fine labels, and the names of its file.
func TestOpenCIFAR100(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "cifar-100-binary")
	os.MkdirAll(dir, 0o755)
	rec := func(fine ...byte) []byte {
		var b []byte
		for _, f := range fine {
			b = append(append(b, f/5, f), bytes.Repeat([]byte{f}, cifarImage)...)
		}
		return b
	}
	var names []string
	for i := range 100 {
		names = append(names, "fine"+string(rune('a'+i/26))+string(rune('a'+i%26)))
	}
	files := map[string][]byte{"train.bin": rec(99, 3, 42), "test.bin": rec(7, 64),
		"fine_label_names.txt": []byte(strings.Join(names, "\n") + "\n"), "coarse_label_names.txt": []byte("c\n")}
	archive := filepath.Join(root, "cifar-100-binary.tar.gz")
	writeFolderAndArchive(t, dir, archive, files)
	for _, p := range []string{dir, root, archive} {
		s, err := Open(p)
		if err != nil {
			t.Fatalf("Open(%s): %v", p, err)
		}
		if s.Kind != "CIFAR-100" || s.Train.Len() != 3 || s.Test.Len() != 2 || s.Train.Classes() != 100 || !slices.Equal(s.Names, names) {
			t.Fatalf("Open(%s): %s, %d train, %d test, %d classes, names %v", p, s.Kind, s.Train.Len(), s.Test.Len(), s.Train.Classes(), s.Names)
		}
		ds, _ := s.Train.Sized(32, 32, 3, 0)
		img := make([]float32, 32*32*3)
		if l, err := ds.Example(0, img); err != nil || l != 99 || img[0] != byteScale[99] {
			t.Fatalf("Open(%s): example 0: label %d, %v, %v", p, l, img[0], err)
		}
	}
}

func TestOpenImageSplitsAndErrors(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{"train/cat/a.png", "train/dog/deep/b.png", "val/cat/c.png", "val/dog/d.png"} {
		os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755)
		f, _ := os.Create(filepath.Join(root, p))
		png.Encode(f, image.NewGray(image.Rect(0, 0, 30, 10)))
		f.Close()
	}
	s, err := Open(root)
	if err != nil || s.Kind != "image folder" || s.Train.Len() != 2 || s.Test.Len() != 2 || !slices.Equal(s.Names, []string{"cat", "dog"}) {
		t.Fatalf("Open: %+v, %v", s, err)
	}
	os.MkdirAll(filepath.Join(root, "val", "emu"), 0o755)
	os.WriteFile(filepath.Join(root, "val", "emu", "e.png"), nil, 0o644)
	if _, err := Open(root); err == nil || !strings.Contains(err.Error(), "want the same class folders") {
		t.Errorf("mismatched splits: %v", err)
	}
	empty := t.TempDir()
	if _, err := Open(empty); err == nil || !strings.Contains(err.Error(), empty+": found no data; looked for") {
		t.Errorf("empty folder: %v", err)
	}
}

// TestFitBox checks torchvision's Resize(256) + CenterCrop(224) box and
// the cover rule.
func TestFitBox(t *testing.T) {
	for _, c := range []struct {
		sh, sw, h, w, resize int
		want                 image.Rectangle
	}{
		{512, 1024, 224, 224, 256, image.Rect(288, 32, 736, 480)}, // 448 = 224·512/256
		{100, 300, 50, 50, 0, image.Rect(100, 0, 200, 100)},
		{32, 32, 32, 32, 0, image.Rect(0, 0, 32, 32)},
		{28, 28, 256, 256, 256, image.Rect(0, 0, 28, 28)},
	} {
		if got := fitBox(c.sh, c.sw, c.h, c.w, c.resize); got != c.want {
			t.Errorf("fitBox(%d, %d, %d, %d, %d) = %v, want %v", c.sh, c.sw, c.h, c.w, c.resize, got, c.want)
		}
	}
}

// TestFitConvertsAndResizes makes 2×2 grey images 4×4 RGB: every value
// replicated.
func TestFitConvertsAndResizes(t *testing.T) {
	ds, _ := NewInMemory([]float32{0.5, 0.5, 0.5, 0.5}, []int32{0}, 2, 2, 1, 1)
	f, err := Fit(ds, 4, 4, 3, 0)
	if err != nil {
		t.Fatal(err)
	}
	img := make([]float32, 48)
	if _, err := f.Example(0, img); err != nil {
		t.Fatal(err)
	}
	for i, v := range img {
		if v < 0.4999 || v > 0.5001 {
			t.Fatalf("value %d is %v", i, v)
		}
	}
	if same, _ := Fit(ds, 2, 2, 1, 0); same != Dataset(ds) {
		t.Error("Fit to the data's own shape is not the data itself")
	}
}
