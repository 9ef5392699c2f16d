package ag

import (
	"testing"

	"github.com/foveaml/fovea/tensor"
)

func TestTapeMemory(t *testing.T) {
	tp := NewTape()
	x := Param(tensor.Full(1, 2, 3))
	y := tp.ReLU(x)     // 6 floats
	z := tp.Scale(y, 2) // 6 more
	if now, peak := tp.Memory(); now != 48 || peak != 48 {
		t.Fatalf("after two ops of 6 floats: in use %d, peak %d bytes; want 48, 48", now, peak)
	}
	loss := tp.Dense(tp.Reshape(z, 1, 6), Const(tensor.Full(1, 6, 1)), nil)
	if err := tp.Backward(loss); err != nil {
		t.Fatal(err)
	}
	_, peak := tp.Memory()
	if peak <= 48 {
		t.Fatalf("peak %d bytes after backward; want more than the forward's 48", peak)
	}
	tp.Reset()
	if now, _ := tp.Memory(); now != 0 {
		t.Fatalf("in use after Reset: %d bytes; want 0", now)
	}
	tp.ResetPeak()
	if _, peak := tp.Memory(); peak != 0 {
		t.Fatalf("peak after Reset and ResetPeak: %d bytes; want 0", peak)
	}
}
