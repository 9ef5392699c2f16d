package weights

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/foveaml/fovea/tensor"
)

// failingWriter fails after n bytes.
type failingWriter struct {
	w io.Writer
	n int
}

var errInjected = errors.New("injected write error")

func (f *failingWriter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		k, _ := f.w.Write(p[:f.n])
		f.n = 0
		return k, errInjected
	}
	f.n -= len(p)
	return f.w.Write(p)
}

func onlyFile(t *testing.T, dir, name string) {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].Name() != name {
		var names []string
		for _, e := range es {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want just %s", names, name)
	}
}

// TestAtomic checks that a Save that fails part-way, at any point,
// leaves the previous file whole and no temporary file behind.
func TestAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	old := map[string]*tensor.Tensor{"w": tensor.Full(1, 3)}
	if err := Save(path, old, map[string]string{"v": "1"}); err != nil {
		t.Fatal(err)
	}
	big := map[string]*tensor.Tensor{"w": tensor.Full(2, 3), "big": tensor.Zeros(chunk)}
	defer func() { wrapWriter = func(w io.Writer) io.Writer { return w } }()
	for _, n := range []int{0, 5, 100, chunk + 7} {
		wrapWriter = func(w io.Writer) io.Writer { return &failingWriter{w: w, n: n} }
		err := Save(path, big, map[string]string{"v": "2"})
		if !errors.Is(err, errInjected) || !strings.Contains(err.Error(), path) {
			t.Errorf("failing after %d bytes: error %v", n, err)
		}
		got, meta, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		sameTensors(t, got, old)
		if meta["v"] != "1" {
			t.Errorf("metadata %v after a failed Save", meta)
		}
		onlyFile(t, dir, "model.safetensors")
	}
	wrapWriter = func(w io.Writer) io.Writer { return w }
	// A bad tensor fails before anything is written, too.
	if err := Save(path, map[string]*tensor.Tensor{"x": nil}, nil); err == nil {
		t.Error("Save of a nil tensor succeeded")
	}
	onlyFile(t, dir, "model.safetensors")
	// A successful Save replaces the file.
	if err := Save(path, big, nil); err != nil {
		t.Fatal(err)
	}
	got, _, _ := Load(path)
	sameTensors(t, got, big)
	onlyFile(t, dir, "model.safetensors")
}

func TestSaveUnwritable(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ro", "w.safetensors")
	if err := os.Mkdir(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	w := map[string]*tensor.Tensor{"w": tensor.Full(1, 3)}
	if err := Save(path, w, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Dir(path), 0o555); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(filepath.Dir(path), 0o755)
	err := Save(path, map[string]*tensor.Tensor{"w": tensor.Full(2, 3)}, nil)
	if os.Geteuid() == 0 {
		// root writes anyway; the directory case below still fails.
		t.Log("running as root: the read-only directory does not stop Save")
	} else if err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("Save into a read-only directory: error %v", err)
	}
	got, _, lerr := Load(path)
	if lerr != nil {
		t.Fatal(lerr)
	}
	if err != nil {
		sameTensors(t, got, w)
	}
	onlyFile(t, filepath.Dir(path), "w.safetensors")
	// A directory that does not exist.
	err = Save(filepath.Join(dir, "absent", "w.safetensors"), w, nil)
	if err == nil || !strings.Contains(err.Error(), "absent") {
		t.Errorf("Save into a missing directory: error %v", err)
	}
	// A path that is a directory: rename fails, the temp file goes.
	if err := Save(dir, w, nil); err == nil {
		t.Error("Save over a directory succeeded")
	}
	onlyFile(t, filepath.Dir(dir), filepath.Base(dir))
}
