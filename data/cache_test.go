package data

import (
	"context"
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// countingStamped counts the examples read from a dataset.
type countingStamped struct {
	Stamped
	reads int
}

func (c *countingStamped) Example(i int, dst []float32) (int, error) {
	c.reads++
	return c.Stamped.Example(i, dst)
}

func pngFolder(t *testing.T, n int) string {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "a"), 0o755)
	for i := range n {
		m := image.NewGray(image.Rect(0, 0, 8+i, 8))
		for k := range m.Pix {
			m.Pix[k] = uint8(k * (i + 1))
		}
		f, _ := os.Create(filepath.Join(root, "a", string(rune('a'+i))+".png"))
		png.Encode(f, m)
		f.Close()
	}
	return root
}

// TestCacheReadsOnce checks, in memory and in a file, that an example is
// decoded once, reads back as it was first delivered, and that a file
// cache is reused by another run until the image file changes.
func TestCacheReadsOnce(t *testing.T) {
	root := pngFolder(t, 3)
	imgs, err := ListImages(root)
	if err != nil {
		t.Fatal(err)
	}
	sized, _ := imgs.Sized(5, 5, 3, 0)
	file := filepath.Join(t.TempDir(), "cache.u8")
	for k, o := range []CacheOptions{{MaxMemory: 1 << 20}, {File: file}, {File: file}} {
		src := &countingStamped{Stamped: sized.(Stamped)}
		c, err := NewCache(src, o)
		if err != nil {
			t.Fatal(err)
		}
		first, again := make([]float32, 75), make([]float32, 75)
		for i := range 3 {
			c.Example(i, first)
			c.Example(i, again)
			if !slices.Equal(first, again) {
				t.Fatalf("%s: example %d reads differently the second time", c.Where(), i)
			}
		}
		// Each example is decoded once; the second file run finds them
		// all in the first one's file.
		if want := []int{3, 3, 0}[k]; src.reads != want {
			t.Errorf("%s (run %d): %d examples decoded; want %d", c.Where(), k, src.reads, want)
		}
		c.Close()
	}
	// The second file run read nothing: run it again after touching one
	// file, which alone is read again.
	p := imgs.Path(1)
	later := time.Now().Add(time.Hour)
	os.Chtimes(p, later, later)
	src := &countingStamped{Stamped: sized.(Stamped)}
	c, _ := NewCache(src, CacheOptions{File: file})
	defer c.Close()
	img := make([]float32, 75)
	for i := range 3 {
		c.Example(i, img)
	}
	if src.reads != 1 {
		t.Errorf("after one file changed, %d examples were decoded again; want 1", src.reads)
	}
}

func TestCheckFindsBadFiles(t *testing.T) {
	root := pngFolder(t, 3)
	bad := filepath.Join(root, "a", "zz.png")
	os.WriteFile(bad, []byte("junk"), 0o644)
	imgs, _ := ListImages(root)
	ds, _ := imgs.Sized(4, 4, 1, 0)
	good, badEx := Check(ds, 2)
	if len(good) != 3 || len(badEx) != 1 || badEx[0].Index != 3 {
		t.Fatalf("good %v, bad %v", good, badEx)
	}
}

// TestCheckContextStops checks that a cancelled check reads nothing more
// and says so, rather than reporting a partial reading as good and bad.
func TestCheckContextStops(t *testing.T) {
	imgs, _ := ListImages(pngFolder(t, 4))
	ds, _ := imgs.Sized(4, 4, 1, 0)
	counted := &countingStamped{Stamped: ds.(Stamped)}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	good, bad, err := CheckContext(ctx, counted, 1)
	if !errors.Is(err, context.Canceled) || good != nil || bad != nil || counted.reads != 0 {
		t.Errorf("cancelled: good %v, bad %v, err %v, %d reads", good, bad, err, counted.reads)
	}
	if good, bad, err := CheckContext(context.Background(), counted, 1); err != nil || len(good) != 4 || len(bad) != 0 {
		t.Errorf("not cancelled: good %v, bad %v, err %v", good, bad, err)
	}
}
