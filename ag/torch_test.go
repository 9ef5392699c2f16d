package ag

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"testing"

	"github.com/foveaml/fovea/tensor"
)

// readSafetensors reads the F32 and I32 tensors of a safetensors file
// (the int32s converted to float32), enough for test fixtures.
func readSafetensors(path string) (map[string]*tensor.Tensor, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < 8 {
		return nil, fmt.Errorf("%s: too short", path)
	}
	n := binary.LittleEndian.Uint64(b)
	if n > uint64(len(b)-8) {
		return nil, fmt.Errorf("%s: header of %d bytes in a file of %d", path, n, len(b))
	}
	var header map[string]struct {
		Dtype   string
		Shape   []int
		Offsets [2]int `json:"data_offsets"`
	}
	if err := json.Unmarshal(b[8:8+n], &header); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	data := b[8+n:]
	out := map[string]*tensor.Tensor{}
	for name, h := range header {
		if name == "__metadata__" {
			continue
		}
		raw := data[h.Offsets[0]:h.Offsets[1]]
		vals := make([]float32, len(raw)/4)
		for i := range vals {
			u := binary.LittleEndian.Uint32(raw[4*i:])
			switch h.Dtype {
			case "F32":
				vals[i] = math.Float32frombits(u)
			case "I32":
				vals[i] = float32(int32(u))
			default:
				return nil, fmt.Errorf("%s: tensor %s has dtype %s", path, name, h.Dtype)
			}
		}
		if out[name], err = tensor.FromSlice(vals, h.Shape...); err != nil {
			return nil, fmt.Errorf("%s: tensor %s: %v", path, name, err)
		}
	}
	return out, nil
}

// closeTo checks that got matches want within rel of want's largest
// magnitude, or within 1e-6 where that is about zero (the gradient of a
// bias that batch norm cancels is zero up to rounding).
func closeTo(t *testing.T, name string, got, want *tensor.Tensor, rel float64) {
	t.Helper()
	if !got.SameShape(want) {
		t.Errorf("%s: shape %v, want %v", name, got.Shape(), want.Shape())
		return
	}
	scale, worst := 0.0, 0.0
	for i, w := range want.Data() {
		scale = max(scale, math.Abs(float64(w)))
		worst = max(worst, math.Abs(float64(got.Data()[i]-w)))
	}
	if worst > max(rel*scale, 1e-6) {
		t.Errorf("%s: differs from PyTorch by %.3g, more than %g of its largest magnitude %.3g", name, worst, rel, scale)
	}
}

// TestMatchesPyTorch runs testdata/gen_fixture.py's network, conv - batch
// norm - ReLU - max pool - dense - cross-entropy, forward and backward,
// and compares the loss, the logits, the batch norm's running statistics
// and every gradient with PyTorch's.
func TestMatchesPyTorch(t *testing.T) {
	f, err := readSafetensors("testdata/torch_net.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	labels := make([]int32, f["labels"].Len())
	for i, v := range f["labels"].Data() {
		labels[i] = int32(v)
	}
	x := Param(f["x"])
	cw, cb := Param(f["conv.w"]), Param(f["conv.b"])
	gamma, beta := Param(f["bn.gamma"]), Param(f["bn.beta"])
	fw, fb := Param(f["fc.w"]), Param(f["fc.b"])
	stats := NewBatchNormStats(gamma.Value().Len())

	tp := NewTape()
	h := tp.ReLU(tp.BatchNorm(tp.Conv2D(x, cw, cb, Pad(1)), gamma, beta, stats, true))
	logits := tp.Dense(tp.Flatten(tp.MaxPool(h, Pool2D{KH: 2, KW: 2})), fw, fb)
	loss := tp.SoftmaxCrossEntropy(logits, labels, 0.1)
	if err := tp.Backward(loss); err != nil {
		t.Fatal(err)
	}
	const rel = 1e-4
	closeTo(t, "loss", loss.Value(), f["loss"], rel)
	closeTo(t, "logits", logits.Value(), f["logits"], rel)
	closeTo(t, "running mean", stats.Mean, f["bn.running_mean"], rel)
	closeTo(t, "running var", stats.Var, f["bn.running_var"], rel)
	for _, p := range []struct {
		name string
		v    *Var
	}{{"x", x}, {"conv.w", cw}, {"conv.b", cb}, {"bn.gamma", gamma}, {"bn.beta", beta}, {"fc.w", fw}, {"fc.b", fb}} {
		closeTo(t, "gradient of "+p.name, p.v.Grad(), f["grad."+p.name], rel)
	}
	if !slices.Equal(f["x"].Shape(), []int{4, 8, 8, 3}) {
		t.Fatalf("fixture input shape %v", f["x"].Shape())
	}
}
