package weights

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"math/bits"
	"path"
	"strings"

	"github.com/foveaml/fovea/tensor"
)

// PyTorch files: torch.save writes a zip archive (PyTorch 1.6 and
// later) holding a pickle, <archive>/data.pkl, and one uncompressed
// record per storage, <archive>/data/<key>; the tensors in the pickle
// are views (offset, size, stride) of those storages. Before 1.6 (and
// with _use_new_zipfile_serialization=False) the file is a run of
// pickles - a magic number, a protocol version, the system's sizes, the
// object, the list of storage keys - followed by each storage's element
// count and raw bytes. Both are read here with the restricted unpickler
// of pickle.go.

// MetaPyTorch is the metadata key that says which PyTorch format a file
// was read from: "zip" or "legacy". Such files also get "format": "pt",
// the marker safetensors files exported from PyTorch carry, which tells
// models.Pretrained the tensors are in PyTorch's layout (OIHW).
const MetaPyTorch = "pytorch"

// MetaPyTorchKey is the metadata key naming the top-level entry the
// state dict was found under ("state_dict" or "model") when the file
// holds a dict around it, as timm's and Lightning's checkpoints do.
const MetaPyTorchKey = "pytorch.key"

// legacyMagic is how a pre-1.6 file starts: pickle protocol 2's PROTO,
// then LONG1 of torch's magic number 0x1950a86a20f9469cfc6c.
var legacyMagic = []byte{0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19}

// sniff tells a file's format by its first bytes, head (up to 8 of
// them): "zip", "legacy" or "" (anything else, read as safetensors).
// Only a file that may be legacy is read further.
func sniff(r io.ReaderAt, size int64, head []byte) string {
	if len(head) >= 4 && (string(head[:4]) == "PK\x03\x04" || string(head[:4]) == "PK\x05\x06") {
		return "zip"
	}
	if len(head) < 3 || head[0] != 0x80 || head[1] < 2 || (head[2] != legacyMagic[2] && head[2] != 0x95) {
		return ""
	}
	var b [32]byte
	n, _ := r.ReadAt(b[:min(size, int64(len(b)))], 0)
	if n < len(legacyMagic) {
		return ""
	}
	rest := b[2:n]
	if rest[0] == 0x95 && len(rest) >= 9 { // protocol 4's FRAME
		rest = rest[9:]
	}
	if bytes.HasPrefix(rest, legacyMagic[2:]) {
		return "legacy"
	}
	return ""
}

// storageDtypes maps torch's storage classes to the safetensors dtypes
// of their elements.
var storageDtypes = map[string]string{
	"FloatStorage": "F32", "HalfStorage": "F16", "BFloat16Storage": "BF16", "DoubleStorage": "F64",
	"LongStorage": "I64", "IntStorage": "I32", "ShortStorage": "I16", "CharStorage": "I8",
	"ByteStorage": "U8", "BoolStorage": "BOOL",
}

// allowedGlobals are the only names a pickle may import: what a state
// dict is made of. Everything else is refused when the pickle names it.
var allowedGlobals = func() map[string]bool {
	m := map[string]bool{
		"collections.OrderedDict":         true,
		"torch._utils._rebuild_tensor_v2": true,
		"torch._utils._rebuild_tensor":    true,
		"torch._utils._rebuild_parameter": true,
	}
	for k := range storageDtypes {
		m["torch."+k] = true
	}
	return m
}()

// pthStorage is a storage a pickle refers to: the record key of its
// data, its dtype and its length in elements. A legacy view of part of
// a storage has the root's key and its offset within it.
type pthStorage struct {
	key, root string
	dtype     string
	numel     int64
	offset    int64 // in the root, in elements
}

// pthTensor is a tensor a pickle rebuilds: a view of a storage.
type pthTensor struct {
	st     *pthStorage
	offset int64
	size   []int64
	stride []int64
	numel  int64
}

// pthReader holds what one file's pickle has defined.
type pthReader struct {
	legacy   bool
	storages map[string]*pthStorage // by key
}

func (p *pthReader) global(mod, name string) (any, error) {
	full := mod + "." + name
	if allowedGlobals[full] {
		return pyGlobal{mod, name}, nil
	}
	hint := ""
	switch {
	case strings.HasPrefix(mod, "__torch__"):
		hint = "; the file looks like TorchScript (torch.jit.save): save model.state_dict() with torch.save instead"
	case strings.HasPrefix(mod, "torch") || strings.HasPrefix(mod, "timm") || strings.HasPrefix(mod, "numpy"):
		hint = "; if the file is a whole model (torch.save(model)) or a training checkpoint, save model.state_dict() with torch.save instead"
	}
	return nil, fmt.Errorf("the pickle imports %.200q, which is refused: only tensors, dicts, lists, strings and numbers are read from a PyTorch file (what torch.load(weights_only=True) accepts), and none of its code runs%s", full, hint)
}

func (p *pthReader) call(g pyGlobal, args pyTuple) (any, error) {
	switch g.String() {
	case "collections.OrderedDict":
		d := newDict()
		if len(args) == 0 {
			return d, nil
		}
		items, ok := sequence(args[0])
		if !ok {
			return nil, fmt.Errorf("%w: OrderedDict called with a %s; want nothing, or a list of pairs", errPickle, typeName(args[0]))
		}
		if len(args) != 1 {
			return nil, fmt.Errorf("%w: OrderedDict called with %d arguments; want at most 1", errPickle, len(args))
		}
		for _, it := range items {
			kv, _ := sequence(it)
			if len(kv) != 2 {
				return nil, fmt.Errorf("%w: OrderedDict called with an item that is not a (key, value) pair", errPickle)
			}
			d.set(kv[0], kv[1])
		}
		return d, nil
	case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor":
		// (storage, storage_offset, size, stride[, requires_grad,
		// backward_hooks[, metadata]]), the first of which is a
		// storage the persistent id gave.
		if g.name == "_rebuild_tensor" && len(args) != 4 || g.name == "_rebuild_tensor_v2" && len(args) != 6 && len(args) != 7 {
			return nil, fmt.Errorf("%w: %s called with %d arguments", errPickle, g, len(args))
		}
		st, ok := args[0].(*pthStorage)
		if !ok {
			return nil, fmt.Errorf("%w: %s called on a %s, not a storage", errPickle, g, typeName(args[0]))
		}
		off, ok := args[1].(int64)
		if !ok || off < 0 {
			return nil, fmt.Errorf("%w: %s called with storage offset %s; want an int >= 0", errPickle, g, describeInt(args[1]))
		}
		size, err := intTuple(args[2], "size")
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", errPickle, g, err)
		}
		stride, err := intTuple(args[3], "stride")
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", errPickle, g, err)
		}
		return &pthTensor{st: st, offset: off, size: size, stride: stride}, nil
	case "torch._utils._rebuild_parameter":
		// (data, requires_grad, backward_hooks): a Parameter is its data.
		if len(args) != 3 {
			return nil, fmt.Errorf("%w: %s called with %d arguments; want 3", errPickle, g, len(args))
		}
		t, ok := args[0].(*pthTensor)
		if !ok {
			return nil, fmt.Errorf("%w: %s called on a %s, not a tensor", errPickle, g, typeName(args[0]))
		}
		return t, nil
	}
	return nil, fmt.Errorf("%w: the pickle calls %s, which is a class, not a function", errPickle, g)
}

func describeInt(v any) string {
	if i, ok := v.(int64); ok {
		return fmt.Sprint(i)
	}
	if b, ok := v.(*big.Int); ok {
		return fmt.Sprintf("an int of %d bits", b.BitLen())
	}
	return "a " + typeName(v)
}

// sequence returns the items of a tuple or a list, and whether v is one.
func sequence(v any) ([]any, bool) {
	switch v := v.(type) {
	case pyTuple:
		return v, true
	case *pyList:
		return v.items, true
	}
	return nil, false
}

// intTuple reads a tuple (or list) of ints >= 0.
func intTuple(v any, what string) ([]int64, error) {
	items, ok := sequence(v)
	if !ok {
		return nil, fmt.Errorf("%s is a %s, not a tuple of ints", what, typeName(v))
	}
	if len(items) > 64 {
		return nil, fmt.Errorf("%s has %d dimensions; at most 64 are read", what, len(items))
	}
	out := make([]int64, len(items))
	for i, it := range items {
		n, ok := it.(int64)
		if !ok || n < 0 {
			return nil, fmt.Errorf("%s[%d] is %s; want an int >= 0", what, i, describeInt(it))
		}
		out[i] = n
	}
	return out, nil
}

// persistent resolves a storage's persistent id: ("storage",
// storage_type, key, location, numel), with a sixth item in legacy
// files, a view of part of the storage or None.
func (p *pthReader) persistent(pid any) (any, error) {
	t, ok := pid.(pyTuple)
	if !ok || len(t) == 0 || t[0] != "storage" {
		return nil, fmt.Errorf("%w: a persistent id that is not a storage's (%s)", errPickle, typeName(pid))
	}
	want := 5
	if p.legacy {
		want = 6
	}
	if len(t) != want {
		return nil, fmt.Errorf("%w: a storage's persistent id has %d items; want %d", errPickle, len(t), want)
	}
	g, ok := t[1].(pyGlobal)
	dtype := storageDtypes[g.name]
	if !ok || g.module != "torch" || dtype == "" {
		return nil, fmt.Errorf("%w: a storage of type %s; fovea reads float32, float16, bfloat16, float64 and integer storages", errPickle, typeName(t[1]))
	}
	key, ok := t[2].(string)
	if !ok {
		return nil, fmt.Errorf("%w: a storage key that is a %s, not a str", errPickle, typeName(t[2]))
	}
	if _, ok := t[3].(string); !ok {
		return nil, fmt.Errorf("%w: storage %q has a location that is a %s, not a str", errPickle, key, typeName(t[3]))
	}
	numel, ok := t[4].(int64)
	if !ok || numel < 0 {
		return nil, fmt.Errorf("%w: storage %q has %s elements", errPickle, key, describeInt(t[4]))
	}
	st, err := p.define(&pthStorage{key: key, root: key, dtype: dtype, numel: numel})
	if err != nil || !p.legacy {
		return st, err
	}
	switch v := t[5].(type) {
	case pyNone:
		return st, nil
	case pyTuple:
		if len(v) == 3 {
			vkey, ok1 := v[0].(string)
			off, ok2 := v[1].(int64)
			n, ok3 := v[2].(int64)
			if ok1 && ok2 && ok3 && off >= 0 && n >= 0 && off <= numel && n <= numel-off {
				return p.define(&pthStorage{key: vkey, root: key, dtype: dtype, numel: n, offset: off})
			}
		}
	}
	return nil, fmt.Errorf("%w: storage %q has a view that is not (key, offset, size) within its %d elements", errPickle, key, numel)
}

// define records a storage, or returns the one of the same key, which
// must agree.
func (p *pthReader) define(s *pthStorage) (*pthStorage, error) {
	if old, ok := p.storages[s.key]; ok {
		if *old != *s {
			return nil, fmt.Errorf("%w: storage %q is named twice, as %s of %d elements and as %s of %d", errPickle, s.key, old.dtype, old.numel, s.dtype, s.numel)
		}
		return old, nil
	}
	if s.root != s.key {
		if r, ok := p.storages[s.root]; !ok || r.root != r.key {
			return nil, fmt.Errorf("%w: storage view %q of %q, which is not a storage", errPickle, s.key, s.root)
		}
	}
	p.storages[s.key] = s
	return s, nil
}

// unpickle runs one pickle of at most limit bytes from br.
func (p *pthReader) unpickle(br *bufio.Reader, limit int64) (any, int64, error) {
	u := &unpickler{r: br, left: limit, global: p.global, call: p.call, persistent: p.persistent}
	v, err := u.load()
	return v, u.read, err
}

// stateDict finds the state dict in what a file's pickle holds: the
// object itself, or its "state_dict" or "model" entry.
func stateDict(top any) (*pyDict, string, error) {
	d, ok := top.(*pyDict)
	if !ok {
		if _, ok := top.(*pthTensor); ok {
			return nil, "", fmt.Errorf("the file holds one tensor, not a state dict (a dict of named tensors)")
		}
		return nil, "", fmt.Errorf("the file holds a %s, not a state dict (a dict of named tensors)", typeName(top))
	}
	for _, k := range []string{"state_dict", "model"} {
		if v, ok := d.get(k); ok {
			if inner, ok := v.(*pyDict); ok {
				return inner, k, nil
			}
		}
	}
	return d, "", nil
}

// elements is the most elements a tensor may have, as for safetensors.
const elements = math.MaxInt32 * 8

// checkTensor checks that a tensor's view lies within its storage and
// sets its element count.
func checkTensor(name string, t *pthTensor) error {
	if len(t.size) != len(t.stride) {
		return fmt.Errorf("tensor %q has size %v and stride %v, of different lengths", name, t.size, t.stride)
	}
	n := uint64(1)
	for _, d := range t.size {
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > elements {
			return fmt.Errorf("tensor %q has size %v, too large", name, t.size)
		}
		n = lo
	}
	t.numel = int64(n)
	if n == 0 {
		return nil
	}
	last := uint64(t.offset) // the largest index the view reaches
	for i, d := range t.size {
		hi, lo := bits.Mul64(uint64(d-1), uint64(t.stride[i]))
		var c uint64
		last, c = bits.Add64(last, lo, 0)
		if hi != 0 || c != 0 || last > math.MaxInt64 {
			return fmt.Errorf("tensor %q with size %v and stride %v reaches past any storage", name, t.size, t.stride)
		}
	}
	if last >= uint64(t.st.numel) {
		return fmt.Errorf("tensor %q with offset %d, size %v and stride %v reaches element %d of a storage of %d elements", name, t.offset, t.size, t.stride, last, t.st.numel)
	}
	return nil
}

// storageSource reads a root storage's data.
type storageSource interface {
	// check confirms the storage's data is in the file, and returns
	// its size in bytes, before anything is read.
	check(s *pthStorage) (int64, error)
	// read decodes the storage's data into dst, its numel elements.
	read(s *pthStorage, dst []float32) error
}

// readStateDict turns the pickle's top object into tensors, reading
// only the storages they view. Every view is checked against its
// storage, and every storage against the file, before any is read.
func readStateDict(top any, p *pthReader, src storageSource, size int64) (map[string]*tensor.Tensor, string, error) {
	d, key, err := stateDict(top)
	if err != nil {
		return nil, "", err
	}
	where := ""
	if key != "" {
		where = fmt.Sprintf(" (in the file's %q)", key)
	}
	type named struct {
		name string
		t    *pthTensor
	}
	var (
		list   []named
		byRoot = map[string][]int{}
		roots  []string
		views  int64
		seen   = map[string]bool{}
	)
	for i, k := range d.keys {
		name, ok := k.(string)
		if !ok {
			return nil, "", fmt.Errorf("the state dict%s has a key that is a %s, not a str", where, typeName(k))
		}
		t, ok := d.vals[i].(*pthTensor)
		if !ok {
			return nil, "", fmt.Errorf("entry %q of the state dict%s is a %s, not a tensor", name, where, typeName(d.vals[i]))
		}
		if err := checkTensor(name, t); err != nil {
			return nil, "", err
		}
		views += t.numel
		root := t.st.root
		if !seen[root] {
			seen[root] = true
			roots = append(roots, root)
		}
		byRoot[root] = append(byRoot[root], len(list))
		list = append(list, named{name, t})
	}
	var stored, elems int64
	for _, r := range roots {
		st := p.storages[r]
		n, err := src.check(st)
		if err != nil {
			return nil, "", err
		}
		stored += n
		elems += st.numel
		if stored > size {
			return nil, "", fmt.Errorf("the storages come to more than the file's %d bytes (records that overlap?)", size)
		}
	}
	// Views may overlap (tied weights, expand), but not so much that a
	// small file asks for unbounded memory.
	if views > 4*elems+1<<16 {
		return nil, "", fmt.Errorf("the tensors hold %d elements, more than 4 times the %d of the storages they view", views, elems)
	}
	out := make(map[string]*tensor.Tensor, len(list))
	for _, r := range roots {
		st := p.storages[r]
		vals := make([]float32, st.numel)
		if err := src.read(st, vals); err != nil {
			return nil, "", err
		}
		idx := byRoot[r]
		for _, i := range idx {
			nt := list[i]
			t := nt.t
			shape := make([]int, len(t.size))
			for j, s := range t.size {
				shape[j] = int(s)
			}
			var data []float32
			base := t.st.offset + t.offset
			if len(idx) == 1 && base == 0 && t.numel == st.numel && contiguous(t.size, t.stride) {
				data = vals // the usual case: one tensor, its whole storage
			} else {
				data = make([]float32, t.numel)
				gather(data, vals, base, t.size, t.stride)
			}
			tt, err := tensor.FromSlice(data, shape...)
			if err != nil {
				return nil, "", fmt.Errorf("tensor %q: %v", nt.name, err)
			}
			out[nt.name] = tt
		}
	}
	return out, key, nil
}

// contiguous tells whether strides are row-major for size (dimensions
// of size 1 may have any stride).
func contiguous(size, stride []int64) bool {
	want := int64(1)
	for i := len(size) - 1; i >= 0; i-- {
		if size[i] != 1 && stride[i] != want {
			return false
		}
		want *= size[i]
	}
	return true
}

// gather copies the strided view (off, size, stride) of src into dst,
// row-major.
func gather(dst, src []float32, off int64, size, stride []int64) {
	if len(size) == 0 {
		dst[0] = src[off]
		return
	}
	if len(dst) == 0 {
		return
	}
	r := len(size) - 1
	n, s := size[r], stride[r]
	idx := make([]int64, r)
	for at := 0; at < len(dst); at += int(n) {
		row := dst[at : at+int(n)]
		if s == 1 {
			copy(row, src[off:off+n])
		} else {
			for j := range row {
				row[j] = src[off+int64(j)*s]
			}
		}
		for d := r - 1; d >= 0; d-- { // step the odometer over the outer dimensions
			idx[d]++
			off += stride[d]
			if idx[d] < size[d] {
				break
			}
			off -= idx[d] * stride[d]
			idx[d] = 0
		}
	}
}

// decodeInto reads n elements of dtype from rd into dst a chunk at a
// time, so a storage is never held twice.
func decodeInto(dst []float32, dtype string, rd func(p []byte, off int64) error) error {
	sz := int64(dtypes[dtype])
	per := int64(chunk) / sz
	buf := make([]byte, min(int64(len(dst)), per)*sz)
	for i := int64(0); i < int64(len(dst)); i += per {
		k := min(per, int64(len(dst))-i)
		raw := buf[:k*sz]
		if err := rd(raw, i*sz); err != nil {
			return err
		}
		decode(dst[i:i+k], raw, dtype)
	}
	return nil
}

// zipSource reads storages from a zip archive's records.
type zipSource struct {
	prefix string
	files  map[string]*zip.File
	size   int64
}

func (z *zipSource) record(s *pthStorage) (*zip.File, error) {
	f := z.files[z.prefix+"data/"+s.key]
	if f == nil {
		return nil, fmt.Errorf("storage %q has no record %sdata/%s in the archive", s.key, z.prefix, s.key)
	}
	return f, nil
}

func (z *zipSource) check(s *pthStorage) (int64, error) {
	f, err := z.record(s)
	if err != nil {
		return 0, err
	}
	if f.Method != zip.Store {
		return 0, fmt.Errorf("record %s is compressed (method %d): torch.save stores storages uncompressed, and only such are read, so that a small file cannot unpack into a huge one", f.Name, f.Method)
	}
	hi, want := bits.Mul64(uint64(s.numel), uint64(dtypes[s.dtype]))
	if hi != 0 || want != f.UncompressedSize64 || f.CompressedSize64 != f.UncompressedSize64 {
		return 0, fmt.Errorf("storage %q of %d %s elements needs %d bytes; its record %s holds %d", s.key, s.numel, s.dtype, want, f.Name, f.UncompressedSize64)
	}
	off, err := f.DataOffset()
	if err != nil {
		return 0, fmt.Errorf("record %s: %v", f.Name, err)
	}
	if off < 0 || want > uint64(z.size) || uint64(off) > uint64(z.size)-want {
		return 0, fmt.Errorf("record %s of %d bytes at byte %d runs past the end of the file (%d bytes): the file is truncated", f.Name, want, off, z.size)
	}
	return int64(want), nil
}

func (z *zipSource) read(s *pthStorage, dst []float32) error {
	f, _ := z.record(s)
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("record %s: %v", f.Name, err)
	}
	defer rc.Close()
	err = decodeInto(dst, s.dtype, func(p []byte, _ int64) error {
		_, err := io.ReadFull(rc, p)
		return err
	})
	if err == nil {
		// Reading past the end checks the record's CRC.
		var one [1]byte
		if _, err = rc.Read(one[:]); err == io.EOF {
			err = nil
		} else if err == nil {
			err = errors.New("more data than its size")
		}
	}
	if err != nil {
		return fmt.Errorf("reading record %s: %v", f.Name, err)
	}
	return nil
}

// readZip reads a file torch.save wrote in its zip format.
func (o Options) readZip(r io.ReaderAt, size int64, maxPickle int64) (map[string]*tensor.Tensor, map[string]string, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, nil, fmt.Errorf("not a readable zip archive (%v): the file is truncated or not one torch.save wrote", err)
	}
	files := make(map[string]*zip.File, len(zr.File))
	var pkl *zip.File
	for _, f := range zr.File {
		if files[f.Name] != nil {
			return nil, nil, fmt.Errorf("the archive holds %.200q twice", f.Name)
		}
		files[f.Name] = f
		if dir, base := path.Split(f.Name); base == "data.pkl" && strings.Count(dir, "/") == 1 {
			if pkl != nil {
				return nil, nil, fmt.Errorf("the archive holds both %.200q and %.200q: more than one file", pkl.Name, f.Name)
			}
			pkl = f
		}
	}
	if pkl == nil {
		return nil, nil, fmt.Errorf("a zip archive without <archive>/data.pkl: not a file torch.save wrote")
	}
	prefix, _ := path.Split(pkl.Name)
	if bo := files[prefix+"byteorder"]; bo != nil {
		b, err := readSmall(bo, 16)
		if err != nil {
			return nil, nil, err
		}
		if string(b) != "little" {
			return nil, nil, fmt.Errorf("byte order %.20q: only little-endian files are read", b)
		}
	}
	if pkl.Method != zip.Store {
		return nil, nil, fmt.Errorf("%s is compressed (method %d): torch.save stores it uncompressed, and only such is read, so that a small file cannot unpack into a huge one", pkl.Name, pkl.Method)
	}
	if pkl.UncompressedSize64 > uint64(maxPickle) {
		return nil, nil, fmt.Errorf("%s is %d bytes, more than the limit of %d (Options.MaxHeader)", pkl.Name, pkl.UncompressedSize64, maxPickle)
	}
	rc, err := pkl.Open()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %v", pkl.Name, err)
	}
	defer rc.Close()
	p := &pthReader{storages: map[string]*pthStorage{}}
	top, _, err := p.unpickle(bufio.NewReader(rc), int64(pkl.UncompressedSize64))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", pkl.Name, err)
	}
	ts, key, err := readStateDict(top, p, &zipSource{prefix: prefix, files: files, size: size}, size)
	if err != nil {
		return nil, nil, err
	}
	return ts, pthMeta("zip", key), nil
}

// readSmall reads a record of at most max bytes.
func readSmall(f *zip.File, max int) ([]byte, error) {
	if f.UncompressedSize64 > uint64(max) {
		return nil, fmt.Errorf("record %s is %d bytes; want at most %d", f.Name, f.UncompressedSize64, max)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("record %s: %v", f.Name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, int64(max)+1))
	if err != nil {
		return nil, fmt.Errorf("record %s: %v", f.Name, err)
	}
	return b, nil
}

func pthMeta(format, key string) map[string]string {
	m := map[string]string{"format": "pt", MetaPyTorch: format}
	if key != "" {
		m[MetaPyTorchKey] = key
	}
	return m
}

// legacySource reads storages from the end of a legacy file: each is an
// int64 element count, then the elements.
type legacySource struct {
	r      io.ReaderAt
	offset map[string]int64 // of each root storage's elements
}

func (l *legacySource) check(s *pthStorage) (int64, error) {
	if _, ok := l.offset[s.key]; !ok {
		return 0, fmt.Errorf("storage %q is not among the file's storages", s.key)
	}
	return s.numel * int64(dtypes[s.dtype]), nil // checked against the file in readLegacy
}

func (l *legacySource) read(s *pthStorage, dst []float32) error {
	at := l.offset[s.key]
	err := decodeInto(dst, s.dtype, func(p []byte, off int64) error { return readFull(l.r, p, at+off) })
	if err != nil {
		return fmt.Errorf("reading storage %q: %v", s.key, err)
	}
	return nil
}

// readLegacy reads a file torch.save wrote before PyTorch 1.6.
func (o Options) readLegacy(r io.ReaderAt, size int64, maxPickle int64) (map[string]*tensor.Tensor, map[string]string, error) {
	br := bufio.NewReader(io.NewSectionReader(r, 0, size))
	p := &pthReader{legacy: true, storages: map[string]*pthStorage{}}
	var at int64
	next := func(what string) (any, error) {
		v, n, err := p.unpickle(br, min(size-at, maxPickle))
		at += n
		if err != nil && what != "" {
			return nil, fmt.Errorf("the %s: %w", what, err)
		}
		return v, err
	}
	magic, err := next("magic number")
	if err != nil {
		return nil, nil, err
	}
	if m, ok := magic.(*big.Int); !ok || m.Text(16) != "1950a86a20f9469cfc6c" {
		return nil, nil, fmt.Errorf("the file starts with a pickle that is not torch's magic number")
	}
	proto, err := next("protocol version")
	if err != nil {
		return nil, nil, err
	}
	if proto != int64(1001) {
		return nil, nil, fmt.Errorf("legacy protocol version %s; want 1001", describeInt(proto))
	}
	info, err := next("system information")
	if err != nil {
		return nil, nil, err
	}
	if d, ok := info.(*pyDict); ok {
		if le, ok := d.get("little_endian"); ok && le != true {
			return nil, nil, fmt.Errorf("the file was written big-endian; only little-endian files are read")
		}
	}
	top, err := next("")
	if err != nil {
		return nil, nil, err
	}
	keysV, err := next("list of storages")
	if err != nil {
		return nil, nil, err
	}
	keys, ok := keysV.(*pyList)
	if !ok {
		return nil, nil, fmt.Errorf("the list of storages is a %s", typeName(keysV))
	}
	// Lay out the storages that follow: each an int64 count and its
	// elements, checked against the pickle and the file.
	src := &legacySource{r: r, offset: map[string]int64{}}
	for _, kv := range keys.items {
		key, ok := kv.(string)
		st := p.storages[key]
		if !ok || st == nil || st.root != key {
			return nil, nil, fmt.Errorf("the list of storages names %s, which the pickle does not define", describeKey(kv))
		}
		if _, dup := src.offset[key]; dup {
			return nil, nil, fmt.Errorf("the list of storages names %q twice", key)
		}
		var b8 [8]byte
		if size-at < 8 {
			return nil, nil, fmt.Errorf("storage %q at byte %d: the file ends (truncated)", key, at)
		}
		if err := readFull(r, b8[:], at); err != nil {
			return nil, nil, fmt.Errorf("storage %q: %v", key, err)
		}
		n := int64(binary.LittleEndian.Uint64(b8[:]))
		if n != st.numel {
			return nil, nil, fmt.Errorf("storage %q holds %d elements; the pickle says %d", key, n, st.numel)
		}
		sz := int64(dtypes[st.dtype])
		if n > (size-at-8)/sz {
			return nil, nil, fmt.Errorf("storage %q of %d %s elements at byte %d runs past the end of the file (%d bytes): the file is truncated", key, n, st.dtype, at, size)
		}
		src.offset[key] = at + 8
		at += 8 + n*sz
	}
	ts, key, err := readStateDict(top, p, src, size)
	if err != nil {
		return nil, nil, err
	}
	return ts, pthMeta("legacy", key), nil
}

func describeKey(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%.100q", s)
	}
	return "a " + typeName(v)
}
