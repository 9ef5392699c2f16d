package weights

import (
	"bytes"
	"os"
	"testing"

	"github.com/foveaml/fovea/tensor"
)

// FuzzRead checks that Read never panics, and that whatever it accepts
// writes back and reads again unchanged.
func FuzzRead(f *testing.F) {
	var buf bytes.Buffer
	if err := Write(&buf, sample(f), map[string]string{"k": "v"}); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	if b, err := os.ReadFile("testdata/python.safetensors"); err == nil {
		f.Add(b)
	}
	for _, c := range corrupt() {
		f.Add(c.b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ts, meta, err := Options{AllowNonFinite: true}.Read(bytes.NewReader(b), int64(len(b)), "fuzz")
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := Write(&out, ts, meta); err != nil {
			if _, bad := ts[""]; bad {
				return // an empty name reads but is not written
			}
			t.Fatalf("Write of what Read accepted: %v", err)
		}
		ts2, meta2, err := Options{AllowNonFinite: true}.Read(bytes.NewReader(out.Bytes()), int64(out.Len()), "again")
		if err != nil {
			t.Fatalf("reading back: %v", err)
		}
		if len(ts2) != len(ts) || len(meta2) != len(meta) {
			t.Fatalf("read back %d tensors, %d metadata; want %d, %d", len(ts2), len(meta2), len(ts), len(meta))
		}
		for k, v := range meta {
			if meta2[k] != v {
				t.Fatalf("metadata %q: %q, want %q", k, meta2[k], v)
			}
		}
		for k, x := range ts {
			y := ts2[k]
			if y == nil || !y.SameShape(x) || !bitsEqual(x, y) {
				t.Fatalf("tensor %q changed in the round trip", k)
			}
		}
	})
}

func bitsEqual(x, y *tensor.Tensor) bool {
	for i, v := range x.Data() {
		w := y.Data()[i]
		if v != w && !(v != v && w != w) {
			return false
		}
	}
	return true
}
