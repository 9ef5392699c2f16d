package weights

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// TestReadAllocationBound checks that files whose headers claim far
// more than they hold are refused before memory is allocated for the
// claim, and that a good file costs a small multiple of its size.
func TestReadAllocationBound(t *testing.T) {
	dir := t.TempDir()
	hugeLen := binary.LittleEndian.AppendUint64(nil, 1<<62)
	hugeLen = append(hugeLen, "{}"...)
	limitLen := binary.LittleEndian.AppendUint64(nil, DefaultMaxHeader)
	limitLen = append(limitLen, "{}"...)
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"huge header length", hugeLen, "more than the limit"},
		{"header past the end", limitLen, "more than the 2 bytes that follow it"},
		{"huge shape", file(`{"a":{"dtype":"F32","shape":[1073741824,1024],"data_offsets":[0,4398046511104]}}`, f32(1)), "data_offsets [0 4398046511104]"},
		{"offset past the end", file(`{"a":{"dtype":"U8","shape":[1048576],"data_offsets":[0,1048576]}}`, []byte{1, 2}), "past the end of the data section (2 bytes)"},
	} {
		p := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".safetensors")
		if err := os.WriteFile(p, c.b, 0o644); err != nil {
			t.Fatal(err)
		}
		var err error
		got := allocated(func() { _, _, err = Load(p) })
		if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v; want one naming the file and saying %q", c.name, err, c.want)
		}
		if got > 64<<10 {
			t.Errorf("%s: refusing a %d-byte file allocated %d bytes", c.name, len(c.b), got)
		}
	}
	// A good file of bytes (U8) becomes float32: four times its data,
	// plus the header's parse.
	data := bytes.Repeat([]byte{7}, 1<<20)
	good := file(`{"a":{"dtype":"U8","shape":[1024,1024],"data_offsets":[0,1048576]}}`, data)
	var err error
	got := allocated(func() { _, _, err = Read(bytes.NewReader(good), int64(len(good)), "good") })
	if err != nil || got > uint64(5*len(good)+256<<10) {
		t.Errorf("reading a %d-byte file allocated %d bytes: %v", len(good), got, err)
	}
}
