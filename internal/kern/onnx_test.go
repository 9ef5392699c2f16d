package kern

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// Golden tests against the ONNX backend node tests (see
// testdata/onnx/README.md): an independent implementation's inputs and
// outputs, with the operator attributes copied from each test's model.

// onnxTensor is a float TensorProto: its dims and values, row-major.
type onnxTensor struct {
	dims []int
	data []float32
}

// readTensor decodes the fields of an onnx.TensorProto that float tensors
// use: dims (1, int64, packed or not), data_type (2, must be FLOAT = 1),
// float_data (4, packed) and raw_data (9, little-endian).
func readTensor(t *testing.T, path string) onnxTensor {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var x onnxTensor
	var raw []byte
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatalf("%s: %v", path, protowire.ParseError(n))
		}
		b = b[n:]
		var v []byte
		var u uint64
		switch typ {
		case protowire.VarintType:
			u, n = protowire.ConsumeVarint(b)
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			t.Fatalf("%s: field %d: %v", path, num, protowire.ParseError(n))
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.VarintType:
			x.dims = append(x.dims, int(u))
		case num == 1 && typ == protowire.BytesType:
			for len(v) > 0 {
				d, m := protowire.ConsumeVarint(v)
				x.dims, v = append(x.dims, int(d)), v[m:]
			}
		case num == 2 && u != 1:
			t.Fatalf("%s: data type %d, want FLOAT (1)", path, u)
		case num == 4 && typ == protowire.BytesType, num == 9:
			raw = append(raw, v...)
		}
	}
	if len(raw)%4 != 0 {
		t.Fatalf("%s: %d data bytes", path, len(raw))
	}
	for i := 0; i < len(raw); i += 4 {
		x.data = append(x.data, math.Float32frombits(binary.LittleEndian.Uint32(raw[i:])))
	}
	size := 1
	for _, d := range x.dims {
		size *= d
	}
	if size != len(x.data) {
		t.Fatalf("%s: dims %v but %d values", path, x.dims, len(x.data))
	}
	return x
}

// loadONNX returns the inputs and outputs of the node test name.
func loadONNX(t *testing.T, name string) (in, out []onnxTensor) {
	t.Helper()
	for i := 0; ; i++ {
		p := filepath.Join("testdata", "onnx", name, fmt.Sprintf("input_%d.pb", i))
		if _, err := os.Stat(p); err != nil {
			break
		}
		in = append(in, readTensor(t, p))
	}
	for i := 0; ; i++ {
		p := filepath.Join("testdata", "onnx", name, fmt.Sprintf("output_%d.pb", i))
		if _, err := os.Stat(p); err != nil {
			break
		}
		out = append(out, readTensor(t, p))
	}
	if len(in) == 0 || len(out) == 0 {
		t.Fatalf("%s: no test data", name)
	}
	return in, out
}

// nhwc transposes a 4-D NCHW tensor to NHWC.
func (x onnxTensor) nhwc(t *testing.T) ([]float32, Dims) {
	t.Helper()
	if len(x.dims) != 4 {
		t.Fatalf("dims %v, want NCHW", x.dims)
	}
	d := Dims{x.dims[0], x.dims[2], x.dims[3], x.dims[1]}
	y := make([]float32, len(x.data))
	for n := range d.N {
		for c := range d.C {
			for h := range d.H {
				for w := range d.W {
					y[((n*d.H+h)*d.W+w)*d.C+c] = x.data[((n*d.C+c)*d.H+h)*d.W+w]
				}
			}
		}
	}
	return y, d
}

// onnxTol is the agreement asked of every golden test: the references are
// float32 computations, in a different order.
const onnxTol = 2e-6

func TestONNXPool(t *testing.T) {
	for _, c := range []struct {
		name string
		avg  bool
		p    Pool2D
	}{
		// MaxPool, opset 12; attributes as in each test's model.onnx.
		{"test_maxpool_2d_default", false, Pool2D{KH: 2, KW: 2, SH: 1, SW: 1}},
		{"test_maxpool_2d_pads", false, Pool2D{KH: 3, KW: 3, SH: 1, SW: 1, PadT: 2, PadB: 2, PadL: 2, PadR: 2}},
		{"test_maxpool_2d_strides", false, Pool2D{KH: 5, KW: 5, SH: 3, SW: 3}},
		{"test_maxpool_2d_ceil", false, Pool2D{KH: 3, KW: 3, SH: 2, SW: 2, Ceil: true}},
		{"test_maxpool_2d_dilations", false, Pool2D{KH: 2, KW: 2, SH: 1, SW: 1, DH: 2, DW: 2}},
		{"test_maxpool_2d_precomputed_pads", false, Pool2D{KH: 5, KW: 5, SH: 1, SW: 1, PadT: 2, PadB: 2, PadL: 2, PadR: 2}},
		{"test_maxpool_2d_precomputed_strides", false, Pool2D{KH: 2, KW: 2, SH: 2, SW: 2}},
		// auto_pad SAME_UPPER, kernel 3, stride 2 on 5×5: one pixel of
		// padding on each side (5 pixels, 3 taps, stride 2: 1 before, 1 after).
		{"test_maxpool_2d_precomputed_same_upper", false, Pool2D{KH: 3, KW: 3, SH: 2, SW: 2, PadT: 1, PadB: 1, PadL: 1, PadR: 1}},
		// auto_pad SAME_LOWER, kernel 2, stride 1: the odd pixel goes first.
		{"test_maxpool_2d_same_lower", false, Pool2D{KH: 2, KW: 2, SH: 1, SW: 1, PadT: 1, PadL: 1}},
		// AveragePool, opset 11: count_include_pad defaults to 0.
		{"test_averagepool_2d_default", true, Pool2D{KH: 2, KW: 2, SH: 1, SW: 1, ExcludePad: true}},
		{"test_averagepool_2d_pads", true, Pool2D{KH: 3, KW: 3, SH: 1, SW: 1, PadT: 2, PadB: 2, PadL: 2, PadR: 2, ExcludePad: true}},
		{"test_averagepool_2d_pads_count_include_pad", true, Pool2D{KH: 3, KW: 3, SH: 1, SW: 1, PadT: 2, PadB: 2, PadL: 2, PadR: 2}},
		{"test_averagepool_2d_strides", true, Pool2D{KH: 5, KW: 5, SH: 3, SW: 3, ExcludePad: true}},
		{"test_averagepool_2d_ceil", true, Pool2D{KH: 3, KW: 3, SH: 2, SW: 2, Ceil: true, ExcludePad: true}},
		{"test_averagepool_2d_precomputed_pads", true, Pool2D{KH: 5, KW: 5, SH: 1, SW: 1, PadT: 2, PadB: 2, PadL: 2, PadR: 2, ExcludePad: true}},
		{"test_averagepool_2d_precomputed_pads_count_include_pad", true, Pool2D{KH: 5, KW: 5, SH: 1, SW: 1, PadT: 2, PadB: 2, PadL: 2, PadR: 2}},
		{"test_averagepool_2d_precomputed_same_upper", true, Pool2D{KH: 3, KW: 3, SH: 2, SW: 2, PadT: 1, PadB: 1, PadL: 1, PadR: 1, ExcludePad: true}},
		{"test_averagepool_2d_same_lower", true, Pool2D{KH: 2, KW: 2, SH: 1, SW: 1, PadT: 1, PadL: 1, ExcludePad: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			in, out := loadONNX(t, c.name)
			x, d := in[0].nhwc(t)
			want, od := out[0].nhwc(t)
			if o := c.p.Out(d); o != od {
				t.Fatalf("output dims %v, want %v", o, od)
			}
			y := make([]float32, od.Len())
			if c.avg {
				AvgPool(y, x, d, c.p)
			} else {
				MaxPool(y, make([]int32, len(y)), x, d, c.p)
			}
			assertClose(t, c.name, y, want, onnxTol)
		})
	}
	for _, name := range []string{"test_globalaveragepool", "test_globalaveragepool_precomputed"} {
		t.Run(name, func(t *testing.T) {
			in, out := loadONNX(t, name)
			x, d := in[0].nhwc(t)
			y := make([]float32, d.N*d.C)
			GlobalAvgPool(y, x, d)
			assertClose(t, name, y, out[0].data, onnxTol) // N×C×1×1 is N×C
		})
	}
}

func TestONNXBatchNorm(t *testing.T) {
	for _, c := range []struct {
		name  string
		eps   float32
		train bool
	}{
		// BatchNormalization, opset 15: epsilon 1e-5 unless given, and
		// momentum 0.9 (ONNX weighs the old statistics by it).
		{"test_batchnorm_example", 1e-5, false},
		{"test_batchnorm_epsilon", 1e-2, false},
		{"test_batchnorm_example_training_mode", 1e-5, true},
		{"test_batchnorm_epsilon_training_mode", 1e-2, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			in, out := loadONNX(t, c.name)
			x, d := in[0].nhwc(t)
			want, _ := out[0].nhwc(t)
			bn := &BatchNorm{Gamma: in[1].data, Beta: in[2].data, RunMean: in[3].data, RunVar: in[4].data,
				Momentum: 1 - 0.9, Eps: c.eps}
			y := make([]float32, len(x))
			if !c.train {
				bn.ForwardInfer(y, x, d)
				assertClose(t, c.name, y, want, onnxTol)
				return
			}
			bn.ForwardTrain(y, x, d, make([]float32, d.C), make([]float32, d.C))
			assertClose(t, c.name, y, want, onnxTol)
			assertClose(t, c.name+" running mean", bn.RunMean, out[1].data, onnxTol)
			// ONNX updates the running variance with the biased batch
			// variance, PyTorch (and so this package) with the unbiased
			// one; outputs_2 is therefore not compared.
		})
	}
}

func TestONNXLRN(t *testing.T) {
	for _, c := range []struct {
		name string
		l    LRN
	}{
		// LRN, opset 13: defaults alpha 1e-4, beta 0.75, bias 1.
		{"test_lrn", LRN{Size: 3, Alpha: 2e-4, Beta: 0.5, K: 2}},
		{"test_lrn_default", LRN{Size: 3, Alpha: 1e-4, Beta: 0.75, K: 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			in, out := loadONNX(t, c.name)
			x, d := in[0].nhwc(t)
			want, _ := out[0].nhwc(t)
			y := make([]float32, len(x))
			c.l.Forward(y, x, d)
			assertClose(t, c.name, y, want, onnxTol)
		})
	}
}

// TestONNXRows covers the operators that work along the last axis or
// element by element, so need no transpose.
func TestONNXRows(t *testing.T) {
	rowsOf := func(x onnxTensor) (int, int) {
		c := x.dims[len(x.dims)-1]
		return len(x.data) / c, c
	}
	for _, c := range []struct {
		name string
		f    func(y []float32, x onnxTensor)
	}{
		// Softmax and LogSoftmax, opset 13: axis -1 by default.
		{"test_softmax_axis_2", func(y []float32, x onnxTensor) { r, c := rowsOf(x); Softmax(y, x.data, r, c) }},
		{"test_softmax_default_axis", func(y []float32, x onnxTensor) { r, c := rowsOf(x); Softmax(y, x.data, r, c) }},
		{"test_softmax_example", func(y []float32, x onnxTensor) { r, c := rowsOf(x); Softmax(y, x.data, r, c) }},
		{"test_softmax_large_number", func(y []float32, x onnxTensor) { r, c := rowsOf(x); Softmax(y, x.data, r, c) }},
		{"test_logsoftmax_axis_2", func(y []float32, x onnxTensor) { r, c := rowsOf(x); LogSoftmax(y, x.data, r, c) }},
		{"test_logsoftmax_default_axis", func(y []float32, x onnxTensor) { r, c := rowsOf(x); LogSoftmax(y, x.data, r, c) }},
		{"test_logsoftmax_example_1", func(y []float32, x onnxTensor) { r, c := rowsOf(x); LogSoftmax(y, x.data, r, c) }},
		{"test_logsoftmax_large_number", func(y []float32, x onnxTensor) { r, c := rowsOf(x); LogSoftmax(y, x.data, r, c) }},
		{"test_relu", func(y []float32, x onnxTensor) { ReLU(y, x.data) }},
		{"test_sigmoid", func(y []float32, x onnxTensor) { Sigmoid(y, x.data) }},
		{"test_sigmoid_example", func(y []float32, x onnxTensor) { Sigmoid(y, x.data) }},
		{"test_tanh", func(y []float32, x onnxTensor) { Tanh(y, x.data) }},
		{"test_tanh_example", func(y []float32, x onnxTensor) { Tanh(y, x.data) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			forEachVec(t, func(t *testing.T) {
				in, out := loadONNX(t, c.name)
				y := make([]float32, len(out[0].data))
				c.f(y, in[0])
				assertClose(t, c.name, y, out[0].data, onnxTol)
			})
		})
	}
}

func TestONNXConcat(t *testing.T) {
	// Concat, opset 13, along the last axis (1 of 2, 2 and -1 of 3), which
	// is the channel axis of NHWC: the leading axes are the pixels.
	for _, name := range []string{"test_concat_2d_axis_1", "test_concat_3d_axis_2", "test_concat_3d_axis_negative_1"} {
		t.Run(name, func(t *testing.T) {
			in, out := loadONNX(t, name)
			dims := in[0].dims
			pixels := len(in[0].data) / dims[len(dims)-1]
			var xs [][]float32
			for _, x := range in {
				xs = append(xs, x.data)
			}
			y := make([]float32, len(out[0].data))
			ConcatChannels(y, xs, pixels)
			assertClose(t, name, y, out[0].data, 0)
			for k := range xs {
				xs[k] = make([]float32, len(in[k].data))
			}
			SplitChannels(xs, y, pixels)
			for k := range xs {
				assertClose(t, name+" split", xs[k], in[k].data, 0)
			}
		})
	}
}
