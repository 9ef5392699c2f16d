package weights

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/foveaml/fovea/tensor"
)

func mustT(t testing.TB, data []float32, shape ...int) *tensor.Tensor {
	t.Helper()
	x, err := tensor.FromSlice(data, shape...)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func sameTensors(t *testing.T, got, want map[string]*tensor.Tensor) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d tensors, want %d", len(got), len(want))
	}
	for k, w := range want {
		g := got[k]
		if g == nil {
			t.Errorf("tensor %q missing", k)
			continue
		}
		if !g.SameShape(w) {
			t.Errorf("%s: shape %v, want %v", k, g.Shape(), w.Shape())
			continue
		}
		for i, v := range w.Data() {
			if math.Float32bits(g.Data()[i]) != math.Float32bits(v) {
				t.Errorf("%s[%d] = %v, want %v", k, i, g.Data()[i], v)
			}
		}
	}
}

func sample(t testing.TB) map[string]*tensor.Tensor {
	return map[string]*tensor.Tensor{
		"layer1.0.conv1.weight": mustT(t, []float32{1, -2, 3.5, float32(math.SmallestNonzeroFloat32), -0, 1e38}, 1, 1, 2, 3),
		"fc.bias":               mustT(t, []float32{0.25, -0.125}, 2),
		"scalar":                tensor.Full(7),
		"empty":                 tensor.Zeros(0, 4),
		`odd "name" <&> é`:      tensor.Full(1, 3),
	}
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "w.safetensors")
	ts := sample(t)
	meta := map[string]string{"arch": "resnet18", "quote": `"\` + "\n"}
	if err := Save(path, ts, meta); err != nil {
		t.Fatal(err)
	}
	got, gotMeta, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	sameTensors(t, got, ts)
	if len(gotMeta) != 2 || gotMeta["arch"] != "resnet18" || gotMeta["quote"] != meta["quote"] {
		t.Errorf("metadata %q, want %q", gotMeta, meta)
	}
	b, _ := os.ReadFile(path)
	if n := binary.LittleEndian.Uint64(b); n%8 != 0 {
		t.Errorf("header length %d is not a multiple of 8", n)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode())
	}
	// Without metadata, and empty.
	for _, m := range []map[string]*tensor.Tensor{ts, {}} {
		var buf bytes.Buffer
		if err := Write(&buf, m, nil); err != nil {
			t.Fatal(err)
		}
		got, meta, err := Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "mem")
		if err != nil {
			t.Fatal(err)
		}
		sameTensors(t, got, m)
		if meta != nil {
			t.Errorf("metadata %v, want none", meta)
		}
	}
	// A tensor larger than the conversion chunk.
	big := tensor.Zeros(chunk/4*2 + 3)
	for i := range big.Data() {
		big.Data()[i] = float32(i)
	}
	if err := Save(path, map[string]*tensor.Tensor{"big": big, "a": tensor.Full(2, 5)}, nil); err != nil {
		t.Fatal(err)
	}
	got, _, err = Load(path)
	if err != nil {
		t.Fatal(err)
	}
	sameTensors(t, got, map[string]*tensor.Tensor{"big": big, "a": tensor.Full(2, 5)})
}

func TestWriteErrors(t *testing.T) {
	for name, m := range map[string]map[string]*tensor.Tensor{
		`""`:             {"": tensor.Zeros(1)},
		`"__metadata__"`: {"__metadata__": tensor.Zeros(1)},
		`"x" is nil`:     {"x": nil},
	} {
		err := Write(&bytes.Buffer{}, m, nil)
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("Write(%v): error %v, want one mentioning %s", m, err, name)
		}
	}
}

// TestPythonFile reads testdata/python.safetensors, laid out as the
// reference writer lays files out, with F16, BF16, F64 and I64 tensors.
func TestPythonFile(t *testing.T) {
	ts, meta, err := Load("testdata/python.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	bf := func(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ 0xffff) }
	sameTensors(t, ts, map[string]*tensor.Tensor{
		"conv.weight":            mustT(t, []float32{0.5, -1.25, 3, float32(math.Copysign(0, -1))}, 2, 1, 1, 2),
		"fc.bias":                mustT(t, []float32{1, -2.5, 65504}, 3),
		"fc.tiny":                mustT(t, []float32{1.0 / (1 << 24), -1.0 / (1 << 14)}, 2),
		"fc.weight":              mustT(t, []float32{1, -2, 0.15625, bf(1e30)}, 2, 2),
		"bn.var":                 mustT(t, []float32{0.1, float32(1e-40)}, 2),
		"bn.num_batches_tracked": tensor.Full(7),
		"empty":                  tensor.Zeros(0, 3),
	})
	if meta["format"] != "pt" || meta["note"] != "made by gen_safetensors.py" {
		t.Errorf("metadata %q", meta)
	}
}

func TestHalf(t *testing.T) {
	for h, want := range map[uint16]float32{
		0x0000: 0, 0x3c00: 1, 0xc000: -2, 0x7bff: 65504, 0x0001: 1.0 / (1 << 24), 0x03ff: 1023.0 / (1 << 24),
		0x0400: 1.0 / (1 << 14), 0x3555: 0.333251953125, 0x7c00: float32(math.Inf(1)), 0xfc00: float32(math.Inf(-1)),
	} {
		if got := halfToFloat(h); got != want {
			t.Errorf("halfToFloat(%#04x) = %v, want %v", h, got, want)
		}
	}
	if got := halfToFloat(0x7e00); got == got {
		t.Errorf("halfToFloat(NaN) = %v", got)
	}
	if got := halfToFloat(0x8000); math.Float32bits(got) != 1<<31 {
		t.Errorf("halfToFloat(-0) = %v", got)
	}
}

// file builds a safetensors file with the given header text and data.
func file(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), data...)
}

func f32(vs ...float32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

// corrupt lists broken files, each with what its error must say.
func corrupt() []struct {
	name string
	b    []byte
	want string
} {
	good := file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, f32(1, 2))
	huge := binary.LittleEndian.AppendUint64(nil, 1<<62)
	overLimit := binary.LittleEndian.AppendUint64(nil, DefaultMaxHeader+1)
	overLimit = append(overLimit, make([]byte, 64)...)
	return []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "too few"},
		{"short", good[:5], "too few"},
		{"truncated header", good[:20], "truncated"},
		{"truncated data", good[:len(good)-1], "past the end of the data section (7 bytes): the file is truncated"},
		{"trailing data", append(slices.Clone(good), 0), "data section of 9 bytes"},
		{"huge header length", huge, "limit"},
		{"header over the limit", overLimit, "limit"},
		{"a PNG image", append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 64)...), "not a safetensors file: it starts like a PNG image"},
		{"a JPEG image", append([]byte("\xff\xd8\xff\xe0\x00\x10JF"), make([]byte, 64)...), "it starts like a JPEG image"},
		{"not JSON", file(`{"a":`, nil), "invalid JSON"},
		{"not an object", file(`[1,2]`, nil), "not a JSON object"},
		{"junk after", file(`{} x`, nil), "follows the object"},
		{"bad dtype", file(`{"a":{"dtype":"F8","shape":[1],"data_offsets":[0,1]}}`, []byte{0}), `dtype "F8"`},
		{"missing field", file(`{"a":{"dtype":"F32","shape":[1]}}`, nil), "lacks"},
		{"offset past end", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, f32(1)), "data_offsets [0 8]"},
		{"negative offset", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}}`, f32(1, 2)), "data_offsets"},
		{"reversed offsets", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}`, f32(1, 2)), "data_offsets"},
		{"three offsets", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8,9]}}`, f32(1, 2)), "data_offsets"},
		{"size mismatch", file(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, f32(1, 2)), "needs 12 bytes"},
		{"negative dim", file(`{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, f32(1, 2)), "negative"},
		{"fractional dim", file(`{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,8]}}`, f32(1, 2)), `tensor "a"`},
		{"overflowing shape", file(`{"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,8]}}`, f32(1, 2)), "too large"},
		{"overlap", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32(1, 2)), "overlaps"},
		{"gap", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32(1, 2)), "gap"},
		{"duplicate", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32(1, 2)), `"a" twice`},
		{"bad metadata", file(`{"__metadata__":{"n":1}}`, nil), "__metadata__"},
		{"NaN", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, f32(1, float32(math.NaN()))), `"a" holds NaN at flat index 1`},
		{"Inf from F64", file(`{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}`, binary.LittleEndian.AppendUint64(nil, math.Float64bits(1e300))), `"a" holds +Inf`},
	}
}

// TestCorrupt checks that every broken file is an error that names the
// file and the problem, from Load and from Read.
func TestCorrupt(t *testing.T) {
	dir := t.TempDir()
	for _, c := range corrupt() {
		path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".safetensors")
		if err := os.WriteFile(path, c.b, 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, err := Load(path)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Load error %v; want one naming %s and saying %q", c.name, err, path, c.want)
		}
		_, _, err = Read(bytes.NewReader(c.b), int64(len(c.b)), "in-memory")
		if err == nil || !strings.Contains(err.Error(), "in-memory") {
			t.Errorf("%s: Read error %v", c.name, err)
		}
	}
	if _, _, err := Load(filepath.Join(dir, "absent.safetensors")); err == nil || !strings.Contains(err.Error(), "absent.safetensors") {
		t.Errorf("missing file: error %v", err)
	}
}

func TestOptions(t *testing.T) {
	b := file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, f32(1, float32(math.Inf(-1))))
	ts, _, err := Options{AllowNonFinite: true}.Read(bytes.NewReader(b), int64(len(b)), "x")
	if err != nil || !math.IsInf(float64(ts["a"].Data()[1]), -1) {
		t.Errorf("AllowNonFinite: %v, %v", ts, err)
	}
	_, _, err = Options{MaxHeader: 16}.Read(bytes.NewReader(b), int64(len(b)), "x")
	if err == nil || !strings.Contains(err.Error(), "limit of 16") {
		t.Errorf("MaxHeader: %v", err)
	}
}

// countingReader counts the bytes asked for.
type countingReader struct {
	b    []byte
	read int
}

func (r *countingReader) ReadAt(p []byte, off int64) (int, error) {
	r.read += len(p)
	return bytes.NewReader(r.b).ReadAt(p, off)
}

func TestLyingSize(t *testing.T) {
	// A reader that claims a 1 TiB size and a 99 MiB header but holds
	// 16 bytes: refused before 99 MiB are allocated or read.
	b := binary.LittleEndian.AppendUint64(nil, 99<<20)
	b = append(b, "{}      "...)
	r := &countingReader{b: b}
	_, _, err := Read(r, 1<<40, "liar")
	if err == nil || r.read > 8+chunk {
		t.Errorf("error %v after reading %d bytes", err, r.read)
	}
}
