package mnist

import (
	"crypto/md5"
	"encoding/hex"
	"testing"
)

// TestFilesAreLeCuns checks the embedded files against the MD5 sums
// published with MNIST.
func TestFilesAreLeCuns(t *testing.T) {
	for name, want := range map[string]string{
		"train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
		"train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
		"t10k-images-idx3-ubyte.gz":  "9fb629c4189551a2d022fa330f9573f3",
		"t10k-labels-idx1-ubyte.gz":  "ec29112dd5afa0611ce80d1b7f02629c",
	} {
		b, err := files.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		sum := md5.Sum(b)
		if got := hex.EncodeToString(sum[:]); got != want {
			t.Fatalf("%s: MD5 %s, want %s", name, got, want)
		}
	}
}

func TestReadsBothSplits(t *testing.T) {
	for _, c := range []struct {
		train bool
		n     int
	}{{true, 60000}, {false, 10000}} {
		read := Test
		if c.train {
			read = Train
		}
		ds, err := read()
		if err != nil {
			t.Fatal(err)
		}
		h, w, ch := ds.Shape()
		if ds.Len() != c.n || h != 28 || w != 28 || ch != 1 || ds.Classes() != 10 {
			t.Fatalf("train=%v: %d examples of %d×%d×%d, %d classes", c.train, ds.Len(), h, w, ch, ds.Classes())
		}
		img := make([]float32, 28*28)
		label, err := ds.Example(0, img)
		if err != nil {
			t.Fatal(err)
		}
		// The first training digit is a 5, the first test digit a 7.
		if want := map[bool]int{true: 5, false: 7}[c.train]; label != want {
			t.Fatalf("train=%v: first label %d, want %d", c.train, label, want)
		}
	}
}
