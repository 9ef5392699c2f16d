package kern

import "testing"

// TestONNXConv checks Conv2D against the ONNX Conv node tests. ONNX pads
// are [top, left, bottom, right]; the filter is OIHW and is turned into
// HWIO here. The attributes are those of each test's model.onnx (see
// onnx/backend/test/case/node/conv.py in ONNX 1.12).
func TestONNXConv(t *testing.T) {
	for _, c := range []struct {
		name string
		p    Conv
	}{
		{"test_basic_conv_with_padding", Conv{KH: 3, KW: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1}},
		{"test_basic_conv_without_padding", Conv{KH: 3, KW: 3}},
		{"test_conv_with_strides_padding", Conv{KH: 3, KW: 3, SH: 2, SW: 2, PadT: 1, PadL: 1, PadB: 1, PadR: 1}},
		{"test_conv_with_strides_no_padding", Conv{KH: 3, KW: 3, SH: 2, SW: 2}},
		{"test_conv_with_strides_and_asymmetric_padding", Conv{KH: 3, KW: 3, SH: 2, SW: 2, PadT: 1, PadL: 0, PadB: 1, PadR: 0}},
		// auto_pad SAME_LOWER: the odd pixel of padding, if any, goes first.
		{"test_conv_with_autopad_same", Conv{KH: 3, KW: 3, SH: 2, SW: 2, PadT: 1, PadL: 1, PadB: 1, PadR: 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			forEachGemm(t, func(t *testing.T) {
				in, out := loadONNX(t, c.name)
				x, d := in[0].nhwc(t)
				wt := in[1] // O I H W
				o, i, kh, kw := wt.dims[0], wt.dims[1], wt.dims[2], wt.dims[3]
				w := make([]float32, len(wt.data))
				for co := range o {
					for ci := range i {
						for y := range kh {
							for xx := range kw {
								w[((y*kw+xx)*i+ci)*o+co] = wt.data[((co*i+ci)*kh+y)*kw+xx]
							}
						}
					}
				}
				p := c.p
				p.Cout = o
				want, wd := out[0].nhwc(t)
				if od := p.Out(d); od != wd {
					t.Fatalf("output dims %v, ONNX has %v", od, wd)
				}
				y := make([]float32, len(want))
				Conv2D(y, x, w, nil, d, p)
				for j := range want {
					if !closeTo(float64(y[j]), float64(want[j]), onnxTol) {
						t.Fatalf("y[%d] = %v, ONNX %v", j, y[j], want[j])
					}
				}
			})
		})
	}
}
