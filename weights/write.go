package weights

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"github.com/foveaml/fovea/internal/atomicfile"
	"io"
	"math"
	"slices"
	"strconv"

	"github.com/foveaml/fovea/tensor"
)

// Write writes tensors, as F32, and meta as a safetensors file to w:
// the header lists the tensors by name in sorted order, their data
// follows in the same order, and the header is padded with spaces to a
// multiple of 8 bytes. A nil or empty meta writes no __metadata__. It is
// an error if a tensor is nil or its name is empty or "__metadata__".
func Write(w io.Writer, tensors map[string]*tensor.Tensor, meta map[string]string) error {
	names := make([]string, 0, len(tensors))
	for k, t := range tensors {
		switch {
		case k == "" || k == "__metadata__":
			return fmt.Errorf("weights: a tensor may not be named %q", k)
		case t == nil:
			return fmt.Errorf("weights: tensor %q is nil", k)
		}
		names = append(names, k)
	}
	slices.Sort(names)

	h := []byte{'{'}
	if len(meta) > 0 {
		h = append(h, `"__metadata__":{`...)
		keys := make([]string, 0, len(meta))
		for k := range meta {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				h = append(h, ',')
			}
			h = appendJSONString(h, k)
			h = append(h, ':')
			h = appendJSONString(h, meta[k])
		}
		h = append(h, '}')
	}
	var off int64
	for i, k := range names {
		if i > 0 || len(meta) > 0 {
			h = append(h, ',')
		}
		t := tensors[k]
		h = appendJSONString(h, k)
		h = append(h, `:{"dtype":"F32","shape":[`...)
		for j, d := range t.Shape() {
			if j > 0 {
				h = append(h, ',')
			}
			h = strconv.AppendInt(h, int64(d), 10)
		}
		end := off + 4*int64(t.Len())
		h = append(h, `],"data_offsets":[`...)
		h = strconv.AppendInt(h, off, 10)
		h = append(h, ',')
		h = strconv.AppendInt(h, end, 10)
		h = append(h, "]}"...)
		off = end
	}
	h = append(h, '}')
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}

	var b8 [8]byte
	binary.LittleEndian.PutUint64(b8[:], uint64(len(h)))
	if _, err := w.Write(b8[:]); err != nil {
		return err
	}
	if _, err := w.Write(h); err != nil {
		return err
	}
	buf := make([]byte, 0, chunk)
	for _, k := range names {
		data := tensors[k].Data()
		for len(data) > 0 {
			n := min(len(data), chunk/4)
			buf = buf[:4*n]
			for i, v := range data[:n] {
				binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
			}
			if _, err := w.Write(buf); err != nil {
				return err
			}
			data = data[n:]
		}
	}
	return nil
}

func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}

// Save writes tensors and meta to a safetensors file at path (see
// Write), atomically: it writes a temporary file in the same directory,
// syncs it to disk and renames it over path, then syncs the directory.
// A failed Save leaves any previous file at path as it was, and no
// temporary file behind. The new file's mode is 0644.
func Save(path string, tensors map[string]*tensor.Tensor, meta map[string]string) error {
	return atomicfile.Write(path, func(w io.Writer) error { return Write(wrapWriter(w), tensors, meta) })
}

// wrapWriter lets tests inject write errors.
var wrapWriter = func(w io.Writer) io.Writer { return w }
