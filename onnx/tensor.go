package onnx

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"

	pb "github.com/foveaml/fovea/onnx/onnxpb"
)

// maxElements bounds every tensor a graph describes (initializers,
// constants, shapes it computes): 2³¹ values, 8 GiB of float32, so that a
// file claiming more is an error before anything is allocated.
const maxElements = 1 << 31

// maxIntElements bounds integer tensors, which graphs use for shapes,
// axes and indices, not for data.
const maxIntElements = 1 << 24

// maxActivation bounds the values of one tensor a pass computes from
// sizes the graph gives (padding, windows, broadcasts, constants of a
// shape): 2²⁸, 1 GiB of float32. Tests lower it.
var maxActivation = 1 << 28

// checkActivation fails for an output shape above maxActivation.
func checkActivation(shape []int) error {
	n, err := numel(shape)
	if err != nil {
		return err
	}
	if n > maxActivation {
		return fmt.Errorf("an output of shape %v has more than %d values, fovea's limit for one tensor", shape, maxActivation)
	}
	return nil
}

// tdata is a decoded ONNX tensor: float types become float32 (f),
// integer and boolean types int64 (i).
type tdata struct {
	name string
	dims []int
	f    []float32
	i    []int64
}

func (t *tdata) isFloat() bool { return t.i == nil }

// numel returns the product of dims, or an error if a dimension is
// negative or the product exceeds maxElements.
func numel(dims []int) (int, error) {
	n := 1
	for _, d := range dims {
		if d < 0 {
			return 0, fmt.Errorf("dimension %d in shape %v is negative", d, dims)
		}
		if d > 0 && n > maxElements/d {
			return 0, fmt.Errorf("shape %v has more than %d elements", dims, maxElements)
		}
		n *= d
	}
	return n, nil
}

// elemSize returns the bytes per element of a data type fovea reads, 0
// for one it does not.
func elemSize(dt pb.TensorProto_DataType) int {
	switch dt {
	case pb.TensorProto_FLOAT, pb.TensorProto_INT32, pb.TensorProto_UINT32:
		return 4
	case pb.TensorProto_DOUBLE, pb.TensorProto_INT64, pb.TensorProto_UINT64:
		return 8
	case pb.TensorProto_FLOAT16, pb.TensorProto_BFLOAT16, pb.TensorProto_INT16, pb.TensorProto_UINT16:
		return 2
	case pb.TensorProto_INT8, pb.TensorProto_UINT8, pb.TensorProto_BOOL:
		return 1
	}
	return 0
}

func isFloatType(dt pb.TensorProto_DataType) bool {
	switch dt {
	case pb.TensorProto_FLOAT, pb.TensorProto_DOUBLE, pb.TensorProto_FLOAT16, pb.TensorProto_BFLOAT16:
		return true
	}
	return false
}

// decodeTensor decodes t; external data is read through ext (nil when
// the model has no directory to read it from).
func decodeTensor(t *pb.TensorProto, ext *externalReader) (*tdata, error) {
	dt := pb.TensorProto_DataType(t.GetDataType())
	size := elemSize(dt)
	if size == 0 {
		return nil, fmt.Errorf("tensor %q has data type %v; fovea reads float, double, float16, bfloat16, integer and bool tensors", t.GetName(), dt)
	}
	if t.Segment != nil {
		return nil, fmt.Errorf("tensor %q is segmented; fovea reads whole tensors only", t.GetName())
	}
	dims := make([]int, len(t.Dims))
	for i, d := range t.Dims {
		if d < 0 || d > maxElements {
			return nil, fmt.Errorf("tensor %q has dimension %d", t.GetName(), d)
		}
		dims[i] = int(d)
	}
	n, err := numel(dims)
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %v", t.GetName(), err)
	}
	if !isFloatType(dt) && n > maxIntElements {
		return nil, fmt.Errorf("integer tensor %q of shape %v is larger than fovea's limit of %d values for shapes and indices", t.GetName(), dims, maxIntElements)
	}
	out := &tdata{name: t.GetName(), dims: dims}
	raw := t.RawData
	if t.GetDataLocation() == pb.TensorProto_EXTERNAL {
		if raw, err = ext.read(t, n*size); err != nil {
			return nil, fmt.Errorf("tensor %q: %v", t.GetName(), err)
		}
	}
	if raw != nil || t.GetDataLocation() == pb.TensorProto_EXTERNAL {
		if len(raw) != n*size {
			return nil, fmt.Errorf("tensor %q of shape %v and type %v holds %d bytes of raw data; want %d", t.GetName(), dims, dt, len(raw), n*size)
		}
		return out, out.fromRaw(dt, raw, n)
	}
	// Typed fields: check the count before converting anything.
	var have int
	switch dt {
	case pb.TensorProto_FLOAT:
		have = len(t.FloatData)
	case pb.TensorProto_DOUBLE:
		have = len(t.DoubleData)
	case pb.TensorProto_INT64:
		have = len(t.Int64Data)
	case pb.TensorProto_UINT32, pb.TensorProto_UINT64:
		have = len(t.Uint64Data)
	default:
		have = len(t.Int32Data)
	}
	if have != n {
		return nil, fmt.Errorf("tensor %q of shape %v and type %v holds %d values; want %d", t.GetName(), dims, dt, have, n)
	}
	switch dt {
	case pb.TensorProto_FLOAT:
		out.f = append([]float32(nil), t.FloatData...)
	case pb.TensorProto_DOUBLE:
		out.f = make([]float32, n)
		for i, v := range t.DoubleData {
			out.f[i] = float32(v)
		}
	case pb.TensorProto_FLOAT16, pb.TensorProto_BFLOAT16:
		out.f = make([]float32, n)
		for i, v := range t.Int32Data {
			out.f[i] = halfToFloat(dt, uint16(v))
		}
	case pb.TensorProto_INT64:
		out.i = append([]int64(nil), t.Int64Data...)
	case pb.TensorProto_UINT32, pb.TensorProto_UINT64:
		out.i = make([]int64, n)
		for i, v := range t.Uint64Data {
			out.i[i] = int64(v)
		}
	default:
		out.i = make([]int64, n)
		for i, v := range t.Int32Data {
			out.i[i] = int64(v)
		}
	}
	if out.i == nil && out.f == nil {
		out.f = []float32{}
	}
	return out, nil
}

// fromRaw decodes n little-endian values of type dt.
func (t *tdata) fromRaw(dt pb.TensorProto_DataType, raw []byte, n int) error {
	le := binary.LittleEndian
	if isFloatType(dt) {
		t.f = make([]float32, n)
		for i := range t.f {
			switch dt {
			case pb.TensorProto_FLOAT:
				t.f[i] = math.Float32frombits(le.Uint32(raw[4*i:]))
			case pb.TensorProto_DOUBLE:
				t.f[i] = float32(math.Float64frombits(le.Uint64(raw[8*i:])))
			default:
				t.f[i] = halfToFloat(dt, le.Uint16(raw[2*i:]))
			}
		}
		return nil
	}
	t.i = make([]int64, n)
	for i := range t.i {
		switch dt {
		case pb.TensorProto_INT64, pb.TensorProto_UINT64:
			t.i[i] = int64(le.Uint64(raw[8*i:]))
		case pb.TensorProto_INT32:
			t.i[i] = int64(int32(le.Uint32(raw[4*i:])))
		case pb.TensorProto_UINT32:
			t.i[i] = int64(le.Uint32(raw[4*i:]))
		case pb.TensorProto_INT16:
			t.i[i] = int64(int16(le.Uint16(raw[2*i:])))
		case pb.TensorProto_UINT16:
			t.i[i] = int64(le.Uint16(raw[2*i:]))
		case pb.TensorProto_INT8:
			t.i[i] = int64(int8(raw[i]))
		default: // UINT8, BOOL
			t.i[i] = int64(raw[i])
		}
	}
	return nil
}

// halfToFloat converts an IEEE half or a bfloat16 to float32.
func halfToFloat(dt pb.TensorProto_DataType, h uint16) float32 {
	if dt == pb.TensorProto_BFLOAT16 {
		return math.Float32frombits(uint32(h) << 16)
	}
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp == 0 && frac == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal
		return float32(math.Copysign(float64(frac)*math.Pow(2, -24), float64(int32(sign)>>31|1)))
	}
	return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
}

// externalReader reads tensors stored beside the model file (ONNX's
// external data), from the model's directory only: a location is a
// local relative path, opened through os.Root so that neither ".." nor a
// symbolic link leads out of the directory.
type externalReader struct {
	root  *os.Root
	dir   string
	total int64 // bytes read so far
	max   int64
}

func (e *externalReader) read(t *pb.TensorProto, want int) ([]byte, error) {
	if e == nil || e.root == nil {
		return nil, fmt.Errorf("stored in an external file, but the model was not read from a directory (use Load with a path)")
	}
	var loc string
	var off, length int64 = 0, -1
	for _, kv := range t.ExternalData {
		var err error
		switch kv.GetKey() {
		case "location":
			loc = kv.GetValue()
		case "offset":
			off, err = strconv.ParseInt(kv.GetValue(), 10, 64)
		case "length":
			length, err = strconv.ParseInt(kv.GetValue(), 10, 64)
		}
		if err != nil || off < 0 {
			return nil, fmt.Errorf("external data %s %q is not a byte count", kv.GetKey(), kv.GetValue())
		}
	}
	if loc == "" {
		return nil, fmt.Errorf("external data names no location")
	}
	if !filepath.IsLocal(loc) {
		return nil, fmt.Errorf("external data location %q is not a relative path inside the model's directory %s", loc, e.dir)
	}
	if length < 0 {
		length = int64(want)
	}
	if length != int64(want) {
		return nil, fmt.Errorf("external data of %d bytes for a tensor of %d bytes", length, want)
	}
	if e.total+length > e.max {
		return nil, fmt.Errorf("external data exceeds the limit of %d bytes", e.max)
	}
	f, err := e.root.Open(filepath.ToSlash(loc))
	if err != nil {
		return nil, fmt.Errorf("external data: %v", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("external data: %v", err)
	}
	if !st.Mode().IsRegular() || off > st.Size() || st.Size()-off < length {
		return nil, fmt.Errorf("external data %q holds %d bytes; the tensor wants %d from offset %d", loc, st.Size(), length, off)
	}
	buf := make([]byte, length)
	if _, err := f.ReadAt(buf, off); err != nil && !(err == io.EOF && length == 0) {
		return nil, fmt.Errorf("external data %q: %v", loc, err)
	}
	e.total += length
	return buf, nil
}
