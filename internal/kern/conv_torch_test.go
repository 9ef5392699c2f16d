package kern

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"testing"
)

// torchConvCase is one case of testdata/torch_conv.bin (made by
// testdata/gen_torch_conv.py from PyTorch's conv2d in float64).
type torchConvCase struct {
	N, H, W, Cin, Cout int
	KH, KW, SH, SW     int
	Pad                [4]int // top, bottom, left, right
	DH, DW             int
	Arrays             [][2]json.RawMessage
	data               map[string][]float32
}

func loadTorchConv(t *testing.T) []torchConvCase {
	t.Helper()
	f, err := os.Open("testdata/torch_conv.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := bufio.NewReader(f)
	line, err := r.ReadBytes('\n')
	if err != nil {
		t.Fatal(err)
	}
	var cases []torchConvCase
	if err := json.Unmarshal(line, &cases); err != nil {
		t.Fatal(err)
	}
	for i := range cases {
		c := &cases[i]
		c.data = map[string][]float32{}
		for _, a := range c.Arrays {
			var name string
			var shape []int
			if json.Unmarshal(a[0], &name) != nil || json.Unmarshal(a[1], &shape) != nil {
				t.Fatalf("case %d: bad array entry %s", i, a)
			}
			n := 1
			for _, s := range shape {
				n *= s
			}
			v := make([]float32, n)
			if err := binary.Read(r, binary.LittleEndian, v); err != nil {
				t.Fatalf("case %d %s: %v", i, name, err)
			}
			c.data[name] = v
		}
	}
	if _, err := r.ReadByte(); err != io.EOF {
		t.Fatal("trailing bytes after the last array")
	}
	return cases
}

// TestTorchConv checks the forward and both backward passes against
// PyTorch on the same inputs, filters and output gradients.
func TestTorchConv(t *testing.T) {
	cases := loadTorchConv(t)
	forEachGemm(t, func(t *testing.T) {
		for i, c := range cases {
			d := Dims{c.N, c.H, c.W, c.Cin}
			p := Conv{KH: c.KH, KW: c.KW, SH: c.SH, SW: c.SW, PadT: c.Pad[0], PadB: c.Pad[1], PadL: c.Pad[2], PadR: c.Pad[3], DH: c.DH, DW: c.DW, Cout: c.Cout}
			g := c.data
			name := fmt.Sprintf("case %d %v %+v", i, d, p)
			y := make([]float32, len(g["y"]))
			Conv2D(y, g["x"], g["w"], g["b"], d, p)
			dx := make([]float32, len(g["dx"]))
			Conv2DBackwardData(dx, g["dy"], g["w"], d, p)
			dw, db := make([]float32, len(g["dw"])), make([]float32, len(g["db"]))
			Conv2DBackwardFilter(dw, db, g["x"], g["dy"], d, p)
			for _, v := range []struct {
				what      string
				got, want []float32
			}{{"y", y, g["y"]}, {"dx", dx, g["dx"]}, {"dw", dw, g["dw"]}, {"db", db, g["db"]}} {
				// Relative to the array's scale: values near zero are
				// sums of cancelling terms.
				scale := 0.0
				for _, w := range v.want {
					scale = math.Max(scale, math.Abs(float64(w)))
				}
				for j := range v.want {
					if math.Abs(float64(v.got[j]-v.want[j])) > 1e-5*scale {
						t.Fatalf("%s: %s[%d] = %v, PyTorch %v", name, v.what, j, v.got[j], v.want[j])
					}
				}
			}
		}
	})
}
