package weights

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"slices"
	"strings"

	"github.com/foveaml/fovea/tensor"
)

// DefaultMaxHeader is the largest header Load accepts unless told
// otherwise: 100 MiB, the limit of the reference implementation. A
// header states its length in its first 8 bytes; anything longer is
// refused before memory is allocated for it.
const DefaultMaxHeader = 100 << 20

// Options changes how a file is read. The zero value is what Load and
// Read use.
type Options struct {
	// AllowNonFinite accepts tensors holding NaN or infinite values,
	// which are otherwise an error (see CheckFinite).
	AllowNonFinite bool
	// MaxHeader is the largest header accepted, in bytes (for a
	// PyTorch file, the largest pickle); 0 means DefaultMaxHeader.
	MaxHeader int64
}

// Load reads the safetensors or PyTorch file at path: its tensors,
// converted to float32, and the string metadata of its header (nil if
// it has none). A file torch.save wrote (.pth, .pt, .bin; zip or legacy
// format, told by its first bytes whatever its name) gives its state
// dict, with PyTorch's shapes, and metadata "format": "pt" (see
// MetaPyTorch). Any problem with the file is an error naming it and
// the problem.
func Load(path string) (map[string]*tensor.Tensor, map[string]string, error) {
	return Options{}.Load(path)
}

// Read is Load for a file already open, or in memory, of size bytes;
// name is used in errors. size should be true: the header is read in
// pieces, so a reader shorter than it says costs no more than it holds,
// but the tensors are allocated as the header and size allow.
func Read(r io.ReaderAt, size int64, name string) (map[string]*tensor.Tensor, map[string]string, error) {
	return Options{}.Read(r, size, name)
}

// Load is the package's Load with options o.
func (o Options) Load(path string) (map[string]*tensor.Tensor, map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("weights: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("weights: %w", err)
	}
	return o.Read(f, st.Size(), path)
}

// entry is a tensor's line of the header, checked.
type entry struct {
	name       string
	dtype      string
	shape      []int
	begin, end int64
	n          int // number of values
}

// chunk is the most bytes converted at a time, so a large tensor is not
// held twice in memory.
const chunk = 1 << 20

// Read is the package's Read with options o. It validates the whole
// header before it allocates the tensors, which the file's size then
// bounds, and reads their data in pieces. A PyTorch file is told by its
// first bytes and read as Load says.
func (o Options) Read(r io.ReaderAt, size int64, name string) (map[string]*tensor.Tensor, map[string]string, error) {
	fail := func(format string, args ...any) error {
		return oneLine(fmt.Errorf("weights: %s: "+format, append([]any{name}, args...)...))
	}
	maxHeader := o.MaxHeader
	if maxHeader <= 0 {
		maxHeader = DefaultMaxHeader
	}
	var head [8]byte
	n, _ := r.ReadAt(head[:min(size, 8)], 0)
	if kind := sniff(r, size, head[:n]); kind != "" {
		var (
			ts   map[string]*tensor.Tensor
			meta map[string]string
			err  error
		)
		if kind == "zip" {
			ts, meta, err = o.readZip(r, size, maxHeader)
		} else {
			ts, meta, err = o.readLegacy(r, size, maxHeader)
		}
		if err != nil {
			return nil, nil, fail("%v", err)
		}
		if !o.AllowNonFinite {
			if err := CheckFinite(ts); err != nil {
				return nil, nil, fail("%v", err)
			}
		}
		return ts, meta, nil
	}
	entries, meta, dataStart, err := readHeader(r, size, maxHeader, n, head)
	if err != nil {
		return nil, nil, fail("%v", err)
	}
	out := make(map[string]*tensor.Tensor, len(entries))
	buf := make([]byte, 0, max(8, min(chunk, size-dataStart)))
	for _, e := range entries {
		vals := make([]float32, e.n)
		sz := int64(dtypes[e.dtype])
		per := int64(cap(buf)) / sz // values per chunk
		for i := int64(0); i < int64(e.n); i += per {
			k := min(per, int64(e.n)-i)
			raw := buf[:k*sz]
			if err := readFull(r, raw, dataStart+e.begin+i*sz); err != nil {
				return nil, nil, fail("reading tensor %q: %v", e.name, err)
			}
			decode(vals[i:i+k], raw, e.dtype)
		}
		t, err := tensor.FromSlice(vals, e.shape...)
		if err != nil {
			return nil, nil, fail("tensor %q: %v", e.name, err)
		}
		out[e.name] = t
	}
	if !o.AllowNonFinite {
		if err := CheckFinite(out); err != nil {
			return nil, nil, fail("%v", err)
		}
	}
	return out, meta, nil
}

// readFull reads len(p) bytes at off, where io.EOF after a full read is
// no error.
func readFull(r io.ReaderAt, p []byte, off int64) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// rawEntry is a header entry as JSON has it; pointers tell a missing
// field from a zero.
type rawEntry struct {
	Dtype   *string  `json:"dtype"`
	Shape   *[]int64 `json:"shape"`
	Offsets *[]int64 `json:"data_offsets"`
}

// parseHeader parses and checks a header for a data section of dataLen
// bytes: known dtypes, sizes that agree with shapes, offsets that tile
// the data section exactly, no duplicate names. The entries come back
// in data order.
func parseHeader(h []byte, dataLen int64) ([]entry, map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(h))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, fmt.Errorf("the header is not a JSON object (%s)", jsonProblem(err, tok))
	}
	var (
		entries []entry
		meta    map[string]string
		seen    = map[string]bool{}
	)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("invalid JSON header: %v", err)
		}
		name := tok.(string) // object keys are strings
		if seen[name] {
			return nil, nil, fmt.Errorf("the header names %q twice", name)
		}
		seen[name] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, fmt.Errorf("invalid JSON header at %q: %v", name, err)
		}
		if name == "__metadata__" {
			if err := json.Unmarshal(raw, &meta); err != nil {
				return nil, nil, fmt.Errorf("__metadata__ is not a map of strings to strings: %v", err)
			}
			continue
		}
		e, err := checkEntry(name, raw, dataLen)
		if err != nil {
			return nil, nil, err
		}
		entries = append(entries, e)
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, nil, fmt.Errorf("invalid JSON header: the object does not close (%s)", jsonProblem(err, tok))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, fmt.Errorf("invalid JSON header: something follows the object")
	}
	// The tensors' data must tile the data section: no gaps, no overlaps.
	slices.SortFunc(entries, func(a, b entry) int {
		return cmp.Or(cmp.Compare(a.begin, b.begin), cmp.Compare(a.end, b.end))
	})
	var at int64
	for _, e := range entries {
		switch {
		case e.begin < at:
			return nil, nil, fmt.Errorf("tensor %q at bytes [%d, %d) overlaps the tensor before it, which ends at %d", e.name, e.begin, e.end, at)
		case e.begin > at:
			return nil, nil, fmt.Errorf("tensor %q starts at byte %d, leaving a gap after byte %d", e.name, e.begin, at)
		}
		at = e.end
	}
	if at != dataLen {
		return nil, nil, fmt.Errorf("the tensors' data ends at byte %d of a data section of %d bytes", at, dataLen)
	}
	return entries, meta, nil
}

func jsonProblem(err error, tok json.Token) string {
	if err != nil {
		return err.Error()
	}
	if t, ok := tok.(string); ok {
		return fmt.Sprintf("found the string %.60q", t)
	}
	return fmt.Sprintf("found %v", tok)
}

// oneLine returns err with any line breaks in its message (from a
// file's text quoted in it) escaped, so that it stays one line.
func oneLine(err error) error {
	msg := err.Error()
	if !strings.ContainsAny(msg, "\r\n") {
		return err
	}
	return &lineError{msg: strings.NewReplacer("\r", `\r`, "\n", `\n`).Replace(msg), err: err}
}

// lineError is an error whose message was made one line.
type lineError struct {
	msg string
	err error
}

func (e *lineError) Error() string { return e.msg }
func (e *lineError) Unwrap() error { return e.err }

// compact returns JSON text with its whitespace outside strings removed.
func compact(raw json.RawMessage) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}

// checkEntry decodes and checks one tensor's header entry.
func checkEntry(name string, raw json.RawMessage, dataLen int64) (entry, error) {
	var r rawEntry
	if err := json.Unmarshal(raw, &r); err != nil {
		return entry{}, fmt.Errorf("tensor %q: invalid entry %.100s: %v", name, compact(raw), err)
	}
	if r.Dtype == nil || r.Shape == nil || r.Offsets == nil {
		return entry{}, fmt.Errorf("tensor %q: entry %.100s lacks dtype, shape or data_offsets", name, compact(raw))
	}
	e := entry{name: name, dtype: *r.Dtype}
	sz, ok := dtypes[e.dtype]
	if !ok {
		return e, fmt.Errorf("tensor %q has dtype %q; fovea reads F32, F16, BF16, F64 and the integer types", name, e.dtype)
	}
	off := *r.Offsets
	if len(off) == 2 && off[0] >= 0 && off[1] >= off[0] && off[1] > dataLen {
		return e, fmt.Errorf("tensor %q has data_offsets %v, past the end of the data section (%d bytes): the file is truncated", name, off, dataLen)
	}
	if len(off) != 2 || off[0] < 0 || off[1] < off[0] {
		return e, fmt.Errorf("tensor %q has data_offsets %v; want [begin, end] with 0 <= begin <= end <= %d, the data section's size", name, off, dataLen)
	}
	e.begin, e.end = off[0], off[1]
	n := uint64(1)
	for _, d := range *r.Shape {
		if d < 0 {
			return e, fmt.Errorf("tensor %q has shape %v, with a negative dimension", name, *r.Shape)
		}
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > math.MaxInt32*8 {
			return e, fmt.Errorf("tensor %q has shape %v, too large", name, *r.Shape)
		}
		n = lo
		e.shape = append(e.shape, int(d))
	}
	if e.shape == nil {
		e.shape = []int{} // a scalar
	}
	if want := n * uint64(sz); want != uint64(e.end-e.begin) {
		return e, fmt.Errorf("tensor %q of shape %v and dtype %s needs %d bytes; its data_offsets %v span %d", name, e.shape, e.dtype, want, off, e.end-e.begin)
	}
	e.n = int(n)
	return e, nil
}

// notSafetensors says that a file whose first bytes are head is not a
// safetensors file, and what it looks like when its start tells.
func notSafetensors(head [8]byte) string {
	for _, k := range []struct{ magic, what string }{
		{"\x89PNG", "a PNG image"}, {"\xff\xd8\xff", "a JPEG image"}, {"GIF8", "a GIF image"},
		{"\x1f\x8b", "gzip data"},
	} {
		if strings.HasPrefix(string(head[:]), k.magic) {
			return "not a safetensors file: it starts like " + k.what
		}
	}
	return "not a safetensors file"
}

// readHeader reads and checks a safetensors header, of which head holds
// the first n bytes: its tensors' entries, its metadata and where the
// data starts.
func readHeader(r io.ReaderAt, size, maxHeader int64, n int, head [8]byte) ([]entry, map[string]string, int64, error) {
	if size < 8 {
		return nil, nil, 0, fmt.Errorf("%d bytes are too few for a safetensors file (it starts with an 8-byte header length)", size)
	}
	if n < 8 {
		return nil, nil, 0, fmt.Errorf("reading the header length: %v", io.ErrUnexpectedEOF)
	}
	hlen := binary.LittleEndian.Uint64(head[:])
	if hlen > uint64(maxHeader) {
		return nil, nil, 0, fmt.Errorf("%s: its first 8 bytes give a header length of %d, more than the limit of %d bytes", notSafetensors(head), hlen, maxHeader)
	}
	if hlen > uint64(size-8) {
		return nil, nil, 0, fmt.Errorf("header length %d is more than the %d bytes that follow it; the file is truncated or %s", hlen, size-8, notSafetensors(head))
	}
	// Read the header a piece at a time, so that a size that lies (an
	// io.ReaderAt shorter than it says) costs no more memory than the
	// bytes it really holds.
	header := make([]byte, 0, min(hlen, chunk))
	for uint64(len(header)) < hlen {
		k := min(hlen-uint64(len(header)), chunk)
		header = slices.Grow(header, int(k))
		piece := header[len(header) : len(header)+int(k)]
		if err := readFull(r, piece, 8+int64(len(header))); err != nil {
			return nil, nil, 0, fmt.Errorf("reading the header: %v", err)
		}
		header = header[:len(header)+int(k)]
	}
	dataStart := 8 + int64(hlen)
	entries, meta, err := parseHeader(header, size-dataStart)
	return entries, meta, dataStart, err
}

// LoadMetadata returns the metadata of the weights file at path from
// its header alone, checked as Load checks it, without reading the
// tensors; a PyTorch file has none (an empty map).
func LoadMetadata(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("weights: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("weights: %w", err)
	}
	var head [8]byte
	n, _ := f.ReadAt(head[:min(st.Size(), 8)], 0)
	if sniff(f, st.Size(), head[:n]) != "" {
		return map[string]string{}, nil
	}
	_, meta, _, err := readHeader(f, st.Size(), DefaultMaxHeader, n, head)
	if err != nil {
		return nil, oneLine(fmt.Errorf("weights: %s: %v", path, err))
	}
	return meta, nil
}
