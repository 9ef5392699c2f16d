package data

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"testing"
)

// jpegWithSize returns a valid small JPEG whose frame header claims w×h.
func jpegWithSize(t testing.TB, w, h uint16) []byte {
	b := encode(t, uniform(8, 8, color.White), "jpeg")
	for i := 2; i+9 < len(b); {
		if b[i] != 0xff {
			t.Fatal("jpegWithSize: lost in the markers")
		}
		marker, n := b[i+1], int(binary.BigEndian.Uint16(b[i+2:]))
		if marker == 0xc0 { // SOF0: length, precision, height, width
			binary.BigEndian.PutUint16(b[i+5:], h)
			binary.BigEndian.PutUint16(b[i+7:], w)
			return b
		}
		i += 2 + n
	}
	t.Fatal("jpegWithSize: no SOF0 marker")
	return nil
}

// TestImageDecompressionBomb checks that image files claiming far more
// pixels than they could hold are refused from their headers, before
// the decoder allocates for them, while a large plain image that
// compresses well is read.
func TestImageDecompressionBomb(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"bomb.png", pngWithSize(t, 5000, 5000), "png image of 5000x5000 pixels would take 25000000 bytes to decode"},
		{"bomb.jpg", jpegWithSize(t, 8000, 8000), "jpeg image of 8000x8000 pixels would take"},
		{"huge.png", pngWithSize(t, 1<<20, 1<<20), "larger than MaxImagePixels"},
	} {
		p := writeFile(t, dir, c.name, c.b)
		var err error
		got := allocated(func() { _, err = LoadImage(p, 28, 28, 1) })
		wantErr(t, err, p, c.want)
		if got > 256<<10 {
			t.Errorf("%s: refusing a %d-byte file allocated %d bytes", c.name, len(c.b), got)
		}
	}
	// 2048×2048 of one grey compresses to a few KiB: within the
	// allowance, it is read.
	var buf bytes.Buffer
	img := image.NewGray(image.Rect(0, 0, 2048, 2048))
	buf.Write(encode(t, img, "png"))
	p := writeFile(t, dir, "plain.png", buf.Bytes())
	if _, err := LoadImage(p, 28, 28, 1); err != nil {
		t.Errorf("a plain 2048x2048 PNG of %d bytes: %v", buf.Len(), err)
	}
}

// TestCIFARAllocationBound checks that a CIFAR file costs about its own
// size in memory, and a broken one nothing.
func TestCIFARAllocationBound(t *testing.T) {
	dir := t.TempDir()
	labels := make([]byte, 100)
	good := writeFile(t, dir, "good.bin", cifarRecords(1, labels))
	var err error
	got := allocated(func() { _, err = ReadCIFAR10(good) })
	if size := 100 * (1 + cifarImage); err != nil || got > uint64(2*size+256<<10) {
		t.Errorf("reading %d bytes: allocated %d, %v", size, got, err)
	}
	b := cifarRecords(1, labels)
	cut := writeFile(t, dir, "cut.bin", b[:len(b)-1])
	got = allocated(func() { _, err = ReadCIFAR10(cut) })
	wantErr(t, err, cut, "not a positive multiple")
	if got > 256<<10 {
		t.Errorf("refusing a truncated file allocated %d bytes", got)
	}
}
