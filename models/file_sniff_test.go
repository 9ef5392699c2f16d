package models

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/foveaml/fovea/tensor"
	"github.com/foveaml/fovea/weights"
)

// A safetensors file whose header length starts with the byte 0x80 (as
// a pickle does) is still read as safetensors, metadata and all.
func TestReadFileInfoHeaderLength0x80(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.safetensors")
	ts := map[string]*tensor.Tensor{"w": tensor.Zeros(2)}
	for pad := 0; pad < 600; pad++ {
		meta := FileInfo{Model: "lenet5", Classes: 10, Data: strings.Repeat("x", pad+1)}.Meta()
		if err := weights.Save(path, ts, meta); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if b[0] != 0x80 {
			continue
		}
		info, err := ReadFileInfo(path)
		if err != nil || info.Model != "lenet5" || info.Classes != 10 {
			t.Fatalf("header length %d: %+v, %v", int(b[0])|int(b[1])<<8, info, err)
		}
		return
	}
	t.Fatal("no padding gave a header length starting with 0x80")
}
