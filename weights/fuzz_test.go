package weights

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/foveaml/fovea/tensor"
)

// FuzzRead checks that Read never panics, that its errors are one line
// naming the file, and that whatever it accepts writes back and reads
// again unchanged.
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
		ts, meta, err := Options{AllowNonFinite: true}.Read(bytes.NewReader(b), int64(len(b)), "fuzz.safetensors")
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.safetensors") || strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("error %q is not one line naming the file", err)
			}
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

// FuzzReadCheckpoint checks that ReadCheckpoint never panics, that a
// checkpoint it accepts writes back and reads again unchanged, and that
// restoring it into a small training run (weights, Adam's state) either
// fails with an error or leaves a run that trains.
func FuzzReadCheckpoint(f *testing.F) {
	r := newRun(f)
	r.epochs(f, 2)
	var buf bytes.Buffer
	if err := WriteCheckpoint(&buf, r.checkpoint(f)); err != nil {
		f.Fatal(err)
	}
	good := buf.Bytes()
	f.Add(good)
	f.Add(good[:len(good)-3]) // truncated
	f.Add(good[:40])
	for _, meta := range []map[string]string{
		{"format": CheckpointFormat, "epoch": "1", "step": "99999999999999999999"},
		{"format": CheckpointFormat, "epoch": "1", "step": "1", "rng": "!!"},
		{"format": "fovea.checkpoint.v0", "epoch": "1", "step": "1"},
		{"format": CheckpointFormat, "epoch": "1", "step": "1", "optim.type": "Adam", "optim.steps": "-4"},
	} {
		buf.Reset()
		if err := Write(&buf, map[string]*tensor.Tensor{"model.fc.weight": tensor.Zeros(3, 2)}, meta); err != nil {
			f.Fatal(err)
		}
		f.Add(bytes.Clone(buf.Bytes()))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Options{AllowNonFinite: true}.ReadCheckpoint(bytes.NewReader(b), int64(len(b)), "ck.safetensors")
		if err != nil {
			if !strings.Contains(err.Error(), "ck.safetensors") || strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("error %q is not one line naming the file", err)
			}
			return
		}
		var out bytes.Buffer
		if err := WriteCheckpoint(&out, c); err != nil {
			if _, bad := c.Weights[""]; bad {
				return
			}
			if _, bad := c.Optim[""]; bad {
				return
			}
			t.Fatalf("WriteCheckpoint of what ReadCheckpoint accepted: %v", err)
		}
		c2, err := Options{AllowNonFinite: true}.ReadCheckpoint(bytes.NewReader(out.Bytes()), int64(out.Len()), "again")
		if err != nil {
			t.Fatalf("reading back: %v", err)
		}
		if c2.Epoch != c.Epoch || c2.Step != c.Step || !bytes.Equal(c2.RNG, c.RNG) || len(c2.Weights) != len(c.Weights) ||
			len(c2.Optim) != len(c.Optim) || !maps.Equal(c2.Meta, c.Meta) || !maps.Equal(c2.OptimMeta, c.OptimMeta) {
			t.Fatalf("the checkpoint changed in the round trip")
		}
		// Restore it as a resume would; what is accepted must train.
		r := newRun(t)
		if _, err := LoadStateDict(r.params, c.Weights, true); err != nil {
			return
		}
		if err := r.opt.LoadState(c.Optim, c.OptimMeta); err != nil {
			return
		}
		r.epochs(t, 1)
	})
}

// FuzzReadPyTorch checks that reading a PyTorch file never panics, that
// its errors are one line naming the file, that what it accepts costs
// memory in proportion to the file (at most 4 float32 elements a byte,
// the bound on overlapping views, and a little), and that it writes as
// safetensors and reads back unchanged. It starts from the files
// torch.save wrote (testdata/*.pth) and the hand-made hostile ones.
func FuzzReadPyTorch(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.pth")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, c := range pthCorrupt(f) {
		if len(c.b) <= 64<<10 {
			f.Add(c.b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ts, meta, err := Options{AllowNonFinite: true}.Read(bytes.NewReader(b), int64(len(b)), "fuzz.pth")
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.pth") || strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("error %q is not one line naming the file", err)
			}
			return
		}
		n := 0
		for _, x := range ts {
			n += len(x.Data())
		}
		if n > 4*len(b)+1<<16 {
			t.Fatalf("a %d-byte file gave %d elements", len(b), n)
		}
		var out bytes.Buffer
		if err := Write(&out, ts, meta); err != nil {
			if _, bad := ts[""]; bad {
				return // an empty name reads but is not written
			}
			t.Fatalf("Write of what Read accepted: %v", err)
		}
		ts2, _, err := Options{AllowNonFinite: true}.Read(bytes.NewReader(out.Bytes()), int64(out.Len()), "again")
		if err != nil {
			t.Fatalf("reading back: %v", err)
		}
		if len(ts2) != len(ts) {
			t.Fatalf("read back %d tensors; want %d", len(ts2), len(ts))
		}
		for k, x := range ts {
			y := ts2[k]
			if y == nil || !y.SameShape(x) || !bitsEqual(x, y) {
				t.Fatalf("tensor %q changed in the round trip", k)
			}
		}
	})
}
