package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// idxImages returns an IDX images file of n rows×cols images whose pixel
// j of image i is byte(i*7+j).
func idxImages(n, rows, cols int) []byte {
	b := binary.BigEndian.AppendUint32(nil, idxImagesMagic)
	b = binary.BigEndian.AppendUint32(b, uint32(n))
	b = binary.BigEndian.AppendUint32(b, uint32(rows))
	b = binary.BigEndian.AppendUint32(b, uint32(cols))
	for i := range n {
		for j := range rows * cols {
			b = append(b, byte(i*7+j))
		}
	}
	return b
}

// idxLabels returns an IDX labels file holding labels.
func idxLabels(labels ...byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, idxLabelsMagic)
	b = binary.BigEndian.AppendUint32(b, uint32(len(labels)))
	return append(b, labels...)
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeFile(t testing.TB, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// wantErr fails unless err mentions every one of parts.
func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want one mentioning %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not mention %q", err, p)
		}
	}
}

func TestReadIDXRawAndGzip(t *testing.T) {
	dir := t.TempDir()
	imgs, lbls := idxImages(3, 2, 4), idxLabels(4, 0, 2)
	for _, tc := range []struct {
		name       string
		imgs, lbls []byte
	}{
		{"raw", imgs, lbls},
		{"gzip", gzipBytes(t, imgs), gzipBytes(t, lbls)},
		{"mixed", gzipBytes(t, imgs), lbls},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Names without .gz: gzip is told by its magic bytes.
			ip := writeFile(t, dir, tc.name+"-images", tc.imgs)
			lp := writeFile(t, dir, tc.name+"-labels", tc.lbls)
			m, err := ReadIDX(ip, lp)
			if err != nil {
				t.Fatal(err)
			}
			if h, w, c := m.Shape(); m.Len() != 3 || h != 2 || w != 4 || c != 1 || m.Classes() != 5 {
				t.Fatalf("got %d images %dx%dx%d, %d classes; want 3 of 2x4x1, 5 classes", m.Len(), h, w, c, m.Classes())
			}
			dst := make([]float32, 8)
			for i, want := range []int{4, 0, 2} {
				label, err := m.Example(i, dst)
				if err != nil || label != want {
					t.Fatalf("Example(%d) = %d, %v; want label %d", i, label, err, want)
				}
				for j, v := range dst {
					if w := float32(byte(i*7+j)) / 255; v != w {
						t.Fatalf("image %d pixel %d = %v, want %v", i, j, v, w)
					}
				}
			}
		})
	}
}

func TestReadIDXCorrupt(t *testing.T) {
	dir := t.TempDir()
	good := idxImages(4, 3, 3)
	goodLabels := idxLabels(1, 2, 3, 0)
	wrongMagic := append([]byte{0, 0, 8, 2}, good[4:]...)
	floatMagic := append([]byte{0, 0, 0x0d, 3}, good[4:]...)
	hugeDims := idxImages(0, 1, 1)
	binary.BigEndian.PutUint32(hugeDims[4:], 0xffffffff)
	binary.BigEndian.PutUint32(hugeDims[8:], 1<<16)
	binary.BigEndian.PutUint32(hugeDims[12:], 1<<16)
	tooWide := idxImages(1, 1, 1)
	binary.BigEndian.PutUint32(tooWide[12:], 1<<20)
	// A count the file does not hold, the kind of header that would make
	// a naive reader allocate 4 GiB.
	hugeCount := idxImages(1, 28, 28)
	binary.BigEndian.PutUint32(hugeCount[4:], 1<<22)
	zeros := make([]byte, 8<<20)
	bomb := append(idxImages(0, 28, 28), zeros...) // claims no images, inflates to 8 MiB
	binary.BigEndian.PutUint32(bomb[4:], 10)
	gzTrunc := gzipBytes(t, good)

	for _, tc := range []struct {
		name         string
		images, lbls []byte
		want         []string // the error mentions the file's name and these
		inLabels     bool     // the error is about the labels file
	}{
		{"wrong magic", wrongMagic, goodLabels, []string{"magic number 0x00000802", "not that of IDX images"}, false},
		{"swapped", goodLabels, good, []string{"magic number 0x00000801", "this is a labels file"}, false},
		{"float elements", floatMagic, goodLabels, []string{"element type 0x0d is not supported"}, false},
		{"empty", nil, goodLabels, []string{"truncated", "header"}, false},
		{"short header", good[:10], goodLabels, []string{"truncated", "16-byte header"}, false},
		{"truncated", good[:len(good)-5], goodLabels, []string{"truncated", "claims 36 bytes of pixels", "file has 31"}, false},
		{"trailing", append(good[:len(good):len(good)], 1, 2), goodLabels, []string{"2 bytes of trailing data"}, false},
		{"huge dims raw", hugeDims, goodLabels, []string{"truncated", "claims 18446744069414584320 bytes"}, false},
		{"too wide", tooWide, goodLabels, []string{"image size 1x1048576", "not within 1..65536"}, false},
		{"huge count gzip", gzipBytes(t, hugeCount), goodLabels, []string{"claims 3288334336 bytes of pixels", "256-fold"}, false},
		{"bomb gzip", gzipBytes(t, bomb), idxLabels(make([]byte, 10)...), []string{"trailing data after the 7840 bytes of pixels"}, false},
		{"truncated gzip", gzTrunc[:len(gzTrunc)-12], goodLabels, []string{"truncated"}, false},
		{"gzip checksum", append(gzTrunc[:len(gzTrunc)-8:len(gzTrunc)-8], 1, 2, 3, 4, 52, 0, 0, 0), goodLabels, []string{"corrupt gzip data", "checksum"}, false},
		{"not gzip", []byte{0x1f, 0x8b, 1, 2, 3}, goodLabels, []string{"corrupt gzip header"}, false},
		{"count mismatch", good, idxLabels(1, 2, 3), []string{"holds 3 labels", "holds 4 images"}, true},
		{"labels magic", good, good, []string{"magic number 0x00000803", "this is an images file"}, true},
		{"labels truncated", good, goodLabels[:10], []string{"truncated", "claims 4 bytes of labels, the file has 2"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := strings.ReplaceAll(tc.name, " ", "_")
			ip := writeFile(t, dir, name+"-images-idx3-ubyte", tc.images)
			lp := writeFile(t, dir, name+"-labels-idx1-ubyte", tc.lbls)
			_, err := ReadIDX(ip, lp)
			want := append([]string{ip}, tc.want...)
			if tc.inLabels {
				want[0] = lp
			}
			wantErr(t, err, want...)
			if tc.name == "count mismatch" {
				wantErr(t, err, ip)
			}
		})
	}
}

func TestReadIDXMissingFile(t *testing.T) {
	dir := t.TempDir()
	ip := writeFile(t, dir, "images", idxImages(1, 1, 1))
	_, err := ReadIDX(ip, filepath.Join(dir, "nope"))
	wantErr(t, err, "nope", "no such file")
}

func TestMNISTDir(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "train-images-idx3-ubyte.gz", gzipBytes(t, idxImages(2, 28, 28)))
	writeFile(t, dir, "train-labels-idx1-ubyte", idxLabels(9, 3))
	writeFile(t, dir, "t10k-images.idx3-ubyte", idxImages(1, 28, 28))
	writeFile(t, dir, "t10k-labels.idx1-ubyte", idxLabels(12))
	m, err := MNIST(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if m.Len() != 2 || m.Classes() != 10 || m.ClassNames()[9] != "9" {
		t.Errorf("got %d images, %d classes %q; want 2, 10 digits", m.Len(), m.Classes(), m.ClassNames())
	}
	_, err = MNIST(dir, false)
	wantErr(t, err, "t10k-labels.idx1-ubyte", "label 12 at index 0 is outside [0, 10)")
	_, err = FashionMNIST(t.TempDir(), true)
	wantErr(t, err, "train-images-idx3-ubyte.gz")
}

// TestFashionMNISTExcerpt reads the first 16 Fashion-MNIST training images,
// gzipped by Python (testdata/gen.sh), not by the writer above.
func TestFashionMNISTExcerpt(t *testing.T) {
	m, err := ReadIDX("testdata/fashion16-images-idx3-ubyte.gz", "testdata/fashion16-labels-idx1-ubyte.gz")
	if err != nil {
		t.Fatal(err)
	}
	want := []int32{9, 0, 0, 3, 0, 2, 7, 2, 5, 5, 0, 9, 5, 5, 7, 9}
	if got := m.Labels(); !equal(got, want) {
		t.Errorf("labels %v, want %v", got, want)
	}
	dst := make([]float32, 28*28)
	m.Example(0, dst)
	var sum float64
	for _, v := range dst {
		sum += float64(v)
	}
	// The pixel sum of the first image, computed by gen.sh.
	if got := int(sum*255 + 0.5); got != fashion16FirstSum {
		t.Errorf("first image's byte sum %d, want %d", got, fashion16FirstSum)
	}
}

func equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestFashionMNISTInstalled reads the Fashion-MNIST test set where the
// Debian package dataset-fashion-mnist has installed it. (The training
// set takes the same path, six times longer.)
func TestFashionMNISTInstalled(t *testing.T) {
	const dir = "/usr/share/datasets/fashion-mnist"
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist): %v", err)
	}
	m, err := FashionMNIST(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if h, w, c := m.Shape(); m.Len() != 10000 || h != 28 || w != 28 || c != 1 {
		t.Errorf("%d images of %dx%dx%d, want 10000 of 28x28x1", m.Len(), h, w, c)
	}
	counts := make([]int, 10)
	for _, l := range m.Labels() {
		counts[l]++
	}
	for k, c := range counts { // Fashion-MNIST is balanced
		if c != 1000 {
			t.Errorf("class %d (%s) has %d images, want 1000", k, m.ClassNames()[k], c)
		}
	}
}

// fashion16FirstSum is the byte sum of the first Fashion-MNIST image, as
// testdata/gen.sh printed it.
const fashion16FirstSum = 76247
