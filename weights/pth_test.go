package weights

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/foveaml/fovea/tensor"
)

// sameBits fails t unless got and want hold the same names, shapes
// and bits.
func sameBits(t *testing.T, what string, got, want map[string]*tensor.Tensor) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d tensors; want %d", what, len(got), len(want))
	}
	for k, w := range want {
		g := got[k]
		switch {
		case g == nil:
			t.Errorf("%s: no tensor %q", what, k)
		case !g.SameShape(w):
			t.Errorf("%s: tensor %q has shape %v; want %v", what, k, g.Shape(), w.Shape())
		default:
			for i, v := range w.Data() {
				if math.Float32bits(g.Data()[i]) != math.Float32bits(v) {
					t.Errorf("%s: tensor %q[%d] = %v; want %v", what, k, i, g.Data()[i], v)
					break
				}
			}
		}
	}
}

// TestPyTorchFixtures reads the files gen_pth.py made with torch.save
// and compares every tensor with what torch itself read back from them.
func TestPyTorchFixtures(t *testing.T) {
	for _, c := range []struct{ name, format, key string }{
		{"conv_zip", "zip", ""},
		{"conv_legacy", "legacy", ""},
		{"half", "zip", ""},
		{"timm", "zip", "state_dict"},
		{"lightning", "zip", "model"},
		{"views", "zip", ""},
		{"views_legacy", "legacy", ""},
		{"param", "zip", ""},
	} {
		got, meta, err := Load(filepath.Join("testdata", c.name+".pth"))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		want, _, err := Load(filepath.Join("testdata", "expect_"+c.name+".safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		sameBits(t, c.name, got, want)
		if meta["format"] != "pt" || meta[MetaPyTorch] != c.format || meta[MetaPyTorchKey] != c.key {
			t.Errorf("%s: metadata %v; want format pt, %s %q, %s %q", c.name, meta, MetaPyTorch, c.format, MetaPyTorchKey, c.key)
		}
	}
	// Spot checks that do not rest on the expectation files.
	ts, _, err := Load("testdata/views.pth")
	if err != nil {
		t.Fatal(err)
	}
	if v := ts["i64"].Data(); v[0] != float32(1<<40+1) || v[1] != -5 {
		t.Errorf("i64 = %v", v)
	}
	if got := ts["expanded"].Data(); !slices.Equal(got, []float32{1.5, -2, 1.5, -2, 1.5, -2}) {
		t.Errorf("expanded = %v", got)
	}
	if s := ts["scalar"]; s.Rank() != 0 || s.Data()[0] != 3.25 {
		t.Errorf("scalar: shape %v, %v", s.Shape(), s.Data())
	}
	base, tr := ts["base"], ts["transposed"]
	if !slices.Equal(tr.Shape(), []int{6, 4}) || tr.Data()[1] != base.Data()[6] {
		t.Errorf("transposed: shape %v, [0][1] = %v; want [6 4], %v", tr.Shape(), tr.Data()[1], base.Data()[6])
	}
	ts, _, err = Load("testdata/conv_zip.pth")
	if err != nil {
		t.Fatal(err)
	}
	if n := ts["bn.num_batches_tracked"]; n.Rank() != 0 || n.Data()[0] != 12345 {
		t.Errorf("num_batches_tracked: %v %v", n.Shape(), n.Data())
	}
	if w := ts["conv.weight"]; !slices.Equal(w.Shape(), []int{4, 3, 3, 3}) {
		t.Errorf("conv.weight has shape %v; want PyTorch's OIHW [4 3 3 3]", w.Shape())
	}
}

// TestPyTorchRefused checks that pickles that would run code, or build
// objects other than a state dict, are refused by naming what they ask
// for.
func TestPyTorchRefused(t *testing.T) {
	for _, c := range []struct{ file, want string }{
		{"evil.pth", `imports "posix.system", which is refused`},
		{"evil_legacy.pth", `imports "posix.system", which is refused`},
		{"model.pth", `imports "torch.nn.modules.container.Sequential", which is refused`},
	} {
		p := filepath.Join("testdata", c.file)
		_, _, err := Load(p)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v; want one line naming the file and saying %q", c.file, err, c.want)
		}
	}
}

// The pickle assembler of the hand-made cases below.
type pk struct{ bytes.Buffer }

func (p *pk) op(b ...byte) *pk { p.Write(b); return p }

func (p *pk) str(s string) *pk {
	p.WriteByte('X')
	p.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(s))))
	p.WriteString(s)
	return p
}

func (p *pk) int(n int64) *pk {
	if n >= 0 && n < 1<<31 {
		p.WriteByte('J')
		p.Write(binary.LittleEndian.AppendUint32(nil, uint32(n)))
		return p
	}
	p.WriteByte(0x8a)
	p.WriteByte(8)
	p.Write(binary.LittleEndian.AppendUint64(nil, uint64(n)))
	return p
}

func (p *pk) global(mod, name string) *pk {
	p.WriteString("c" + mod + "\n" + name + "\n")
	return p
}

func (p *pk) ints(v ...int64) *pk {
	p.op('(')
	for _, x := range v {
		p.int(x)
	}
	return p.op('t')
}

// view is a tensor of a hand-made pickle.
type view struct {
	name, key, class string
	numel, offset    int64
	size, stride     []int64
}

// sdPickle is the pickle torch.save writes for an OrderedDict of views
// (legacy: with the sixth, view item of the persistent id).
func sdPickle(legacy bool, vs ...view) []byte {
	var p pk
	p.op(0x80, 2).global("collections", "OrderedDict").op(')', 'R')
	for _, v := range vs {
		p.str(v.name)
		p.global("torch._utils", "_rebuild_tensor_v2")
		p.op('(')
		p.op('(').str("storage").global("torch", v.class).str(v.key).str("cpu").int(v.numel)
		if legacy {
			p.op('N')
		}
		p.op('t', 'Q')
		p.int(v.offset).ints(v.size...).ints(v.stride...).op(0x89)
		p.global("collections", "OrderedDict").op(')', 'R')
		p.op('t', 'R', 's')
	}
	return p.op('.').Bytes()
}

// pthZip is a zip archive laid out as torch.save writes one.
func pthZip(t testing.TB, pkl []byte, records map[string][]byte, method uint16) []byte {
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	add := func(name string, data []byte, m uint16) {
		f, err := w.CreateHeader(&zip.FileHeader{Name: "archive/" + name, Method: m})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	add("data.pkl", pkl, zip.Store)
	keys := make([]string, 0, len(records))
	for k := range records {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		add("data/"+k, records[k], method)
	}
	add("version", []byte("3\n"), zip.Store)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// legacyFile is a pre-1.6 file of the given pickle and storages.
func legacyFile(obj []byte, keys []string, data map[string][]byte, elsize int) []byte {
	var b bytes.Buffer
	b.Write(legacyMagic)
	b.WriteByte('.')
	b.Write((&pk{}).op(0x80, 2).int(1001).op('.').Bytes())
	b.Write((&pk{}).op(0x80, 2, '}').str("little_endian").op(0x88, 's', '.').Bytes())
	b.Write(obj)
	var l pk
	l.op(0x80, 2, ']', '(')
	for _, k := range keys {
		l.str(k)
	}
	b.Write(l.op('e', '.').Bytes())
	for _, k := range keys {
		b.Write(binary.LittleEndian.AppendUint64(nil, uint64(len(data[k])/elsize)))
		b.Write(data[k])
	}
	return b.Bytes()
}

// pthCorrupt is hand-made broken and hostile PyTorch files, with what
// their errors must say.
func pthCorrupt(t testing.TB) []struct {
	name string
	b    []byte
	want string
} {
	data := f32(1, 2, 3, 4, 5, 6)
	good := view{"w", "0", "FloatStorage", 6, 1, []int64{2, 2}, []int64{1, 2}}
	zipOf := func(pkl []byte) []byte { return pthZip(t, pkl, map[string][]byte{"0": data}, zip.Store) }
	zeros := make([]byte, 16<<20)
	var selfList pk // l = []; l.append(l)
	selfList.op(0x80, 2, ']', 'q', 0, 'h', 0, 'a', '.')
	var selfDict pk // d = {}; d["state_dict"] = d
	selfDict.op(0x80, 2, '}', 'q', 0).str("state_dict").op('h', 0, 's', '.')
	var stackGlobal pk
	stackGlobal.op(0x80, 4).str("builtins").str("eval").op(0x93).str("1").op(0x85, 'R', '.')
	var inst pk
	inst.op(0x80, 2, '(').WriteString("isubprocess\nPopen\n")
	inst.op('.')
	var newobj pk
	newobj.op(0x80, 2).global("collections", "OrderedDict").op(')', 0x81, '.')
	var manyDicts pk
	manyDicts.op(0x80, 2)
	manyDicts.Write(bytes.Repeat([]byte{'}'}, maxObjects+1))
	var longString pk // a string that says it is 4 GiB long
	longString.op(0x80, 2, 'X', 0xff, 0xff, 0xff, 0xff, 'a')
	expand := good
	expand.numel, expand.offset, expand.size, expand.stride = 1, 0, []int64{1 << 30}, []int64{0}
	huge := good
	huge.numel, huge.offset, huge.size, huge.stride = 1<<40, 0, []int64{6}, []int64{1}
	past := good
	past.size = []int64{3, 3}
	negative := good
	negative.stride = []int64{1, -1}
	badClass := good
	badClass.class = "ComplexFloatStorage"

	return []struct {
		name string
		b    []byte
		want string
	}{
		{"eval by STACK_GLOBAL", zipOf(stackGlobal.Bytes()), `imports "builtins.eval", which is refused`},
		{"INST", zipOf(inst.Bytes()), "opcode INST"},
		{"NEWOBJ", zipOf(newobj.Bytes()), "opcode NEWOBJ"},
		{"list holding itself", zipOf(selfList.Bytes()), "holds a list, not a state dict"},
		{"dict holding itself", zipOf(selfDict.Bytes()), `entry "state_dict" of the state dict (in the file's "state_dict") is a dict, not a tensor`},
		{"too many objects", zipOf(manyDicts.Bytes()), "more than 1048576 objects"},
		{"string longer than the pickle", zipOf(longString.Bytes()), "length of 4294967295 bytes, more than the 1 left"},
		{"no STOP", zipOf([]byte{0x80, 2, '}'}), "ends before its STOP"},
		{"unknown opcode", zipOf([]byte{0x80, 2, 0xff}), "unknown opcode 0xff"},
		{"expand beyond the storages", pthZip(t, sdPickle(false, expand), map[string][]byte{"0": f32(1)}, zip.Store), "more than 4 times"},
		{"huge storage", pthZip(t, sdPickle(false, huge), map[string][]byte{"0": data}, zip.Store), "needs 4398046511104 bytes; its record archive/data/0 holds 24"},
		{"view past its storage", zipOf(sdPickle(false, past)), "reaches element 7 of a storage of 6 elements"},
		{"negative stride", zipOf(sdPickle(false, negative)), "stride[1] is -1"},
		{"complex storage", zipOf(sdPickle(false, badClass)), "torch.ComplexFloatStorage"},
		{"missing record", pthZip(t, sdPickle(false, good), nil, zip.Store), "no record archive/data/0"},
		{"zip bomb", pthZip(t, sdPickle(false, view{"w", "0", "ByteStorage", int64(len(zeros)), 0, []int64{int64(len(zeros))}, []int64{1}}), map[string][]byte{"0": zeros}, zip.Deflate), "is compressed (method 8)"},
		{"no data.pkl", func() []byte {
			var b bytes.Buffer
			w := zip.NewWriter(&b)
			w.Create("hello.txt")
			w.Close()
			return b.Bytes()
		}(), "without <archive>/data.pkl"},
		{"legacy count that lies", legacyFile(sdPickle(true, good), []string{"0"}, map[string][]byte{"0": data[:20]}, 4), "holds 5 elements; the pickle says 6"},
		{"legacy storage never defined", legacyFile(sdPickle(true, good), []string{"0", "1"}, map[string][]byte{"0": data}, 4), `names "1", which the pickle does not define`},
	}
}

// TestPyTorchHandMade reads hand-made files: a good one of each format,
// then broken and hostile ones, each of which must be one error that
// names the problem, costing little memory.
func TestPyTorchHandMade(t *testing.T) {
	data := f32(1, 2, 3, 4, 5, 6)
	good := view{"w", "0", "FloatStorage", 6, 1, []int64{2, 2}, []int64{1, 2}} // elements 1,3 / 2,4 of 2..6
	want := []float32{2, 4, 3, 5}
	for _, c := range []struct {
		name string
		b    []byte
	}{
		{"zip", pthZip(t, sdPickle(false, good), map[string][]byte{"0": data}, zip.Store)},
		{"legacy", legacyFile(sdPickle(true, good), []string{"0"}, map[string][]byte{"0": data}, 4)},
	} {
		ts, _, err := Read(bytes.NewReader(c.b), int64(len(c.b)), c.name)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := ts["w"].Data(); !slices.Equal(got, want) {
			t.Errorf("%s: w = %v; want %v", c.name, got, want)
		}
	}
	for _, c := range pthCorrupt(t) {
		var err error
		got := allocated(func() { _, _, err = Read(bytes.NewReader(c.b), int64(len(c.b)), "hand.pth") })
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "hand.pth") || strings.ContainsAny(err.Error(), "\r\n") {
			t.Errorf("%s: error %v; want one line naming the file and saying %q", c.name, err, c.want)
		}
		limit := uint64(len(c.b))*64 + 1<<20
		if c.name == "too many objects" {
			limit = 160 * maxObjects // the most a pickle can cost
		}
		if got > limit {
			t.Errorf("%s: refusing a %d-byte file allocated %d bytes", c.name, len(c.b), got)
		}
	}
}

// TestPyTorchTruncated reads every prefix of the fixtures: an error for
// each, never a panic.
func TestPyTorchTruncated(t *testing.T) {
	for _, name := range []string{"conv_zip.pth", "views_legacy.pth", "conv_legacy.pth"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		for n := range len(b) {
			if _, _, err := Read(bytes.NewReader(b[:n]), int64(n), name); err == nil {
				t.Errorf("%s cut to %d of %d bytes: no error", name, n, len(b))
			}
		}
	}
}

// TestPyTorchByContent checks that files are told apart by their bytes,
// not their names.
func TestPyTorchByContent(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile("testdata/conv_zip.pth")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "weights.safetensors")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	ts, meta, err := Load(p)
	if err != nil || len(ts) != 9 || meta["format"] != "pt" {
		t.Errorf("a PyTorch file named .safetensors: %d tensors, %v, %v", len(ts), meta, err)
	}
	b, err = os.ReadFile("testdata/python.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	p = filepath.Join(dir, "weights.pth")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, meta, err := Load(p); err != nil || meta[MetaPyTorch] != "" {
		t.Errorf("a safetensors file named .pth: %v, %v", meta, err)
	}
}

// TestTorchvisionResNet18 saves torchvision's resnet18 state dict with
// torch.save, in both formats, and checks every tensor against what
// torch holds.
func TestTorchvisionResNet18(t *testing.T) {
	if testing.Short() {
		t.Skip("short: skipping the torchvision file")
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import torch, torchvision").Run(); err != nil {
		t.Skip("needs /usr/bin/python3 with torch and torchvision:", err)
	}
	dir := t.TempDir()
	out, err := exec.Command("/usr/bin/python3", "testdata/gen_pth.py", "--resnet18", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("gen_pth.py: %v\n%s", err, out)
	}
	want, _, err := Load(filepath.Join(dir, "expect_resnet18.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"resnet18.pth", "resnet18_legacy.pth"} {
		got, meta, err := Load(filepath.Join(dir, f))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		sameBits(t, f, got, want)
		if meta["format"] != "pt" {
			t.Errorf("%s: metadata %v", f, meta)
		}
		if n := got["bn1.num_batches_tracked"]; n == nil || n.Data()[0] != 7 {
			t.Errorf("%s: bn1.num_batches_tracked = %v", f, n)
		}
		if w := got["conv1.weight"]; w == nil || !slices.Equal(w.Shape(), []int{64, 3, 7, 7}) {
			t.Errorf("%s: conv1.weight is not OIHW [64 3 7 7]", f)
		}
	}
	if len(want) != 122 {
		t.Errorf("resnet18's state dict has %d tensors; want 122", len(want))
	}
}

// BenchmarkLoadPyTorch reads the resnet18 file torch.save wrote, when
// torch is present to write it.
func BenchmarkLoadPyTorch(b *testing.B) {
	if err := exec.Command("/usr/bin/python3", "-c", "import torch, torchvision").Run(); err != nil {
		b.Skip("needs /usr/bin/python3 with torch and torchvision")
	}
	dir := b.TempDir()
	if out, err := exec.Command("/usr/bin/python3", "testdata/gen_pth.py", "--resnet18", dir).CombinedOutput(); err != nil {
		b.Fatalf("gen_pth.py: %v\n%s", err, out)
	}
	for _, f := range []string{"resnet18.pth", "resnet18_legacy.pth"} {
		b.Run(f, func(b *testing.B) {
			st, _ := os.Stat(filepath.Join(dir, f))
			b.SetBytes(st.Size())
			for b.Loop() {
				if _, _, err := Load(filepath.Join(dir, f)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestPyTorchAllocation checks that a good file costs its tensors and
// little more: a storage is decoded a chunk at a time, and a tensor
// that is its whole storage takes it without a copy.
func TestPyTorchAllocation(t *testing.T) {
	data := bytes.Repeat([]byte{7}, 1<<20)
	v := view{"a", "0", "ByteStorage", 1 << 20, 0, []int64{1024, 1024}, []int64{1024, 1}}
	for _, c := range []struct {
		name string
		b    []byte
	}{
		{"zip", pthZip(t, sdPickle(false, v), map[string][]byte{"0": data}, zip.Store)},
		{"legacy", legacyFile(sdPickle(true, v), []string{"0"}, map[string][]byte{"0": data}, 1)},
	} {
		var err error
		got := allocated(func() { _, _, err = Read(bytes.NewReader(c.b), int64(len(c.b)), c.name) })
		if err != nil || got > uint64(5*len(c.b)+256<<10) {
			t.Errorf("%s: reading %d bytes of U8 allocated %d bytes (%v); want at most 5 times the file", c.name, len(c.b), got, err)
		}
	}
}
