package ag

import (
	"github.com/foveaml/fovea/internal/gemm"
	"github.com/foveaml/fovea/internal/kern"
)

// Dense is a fully connected layer: y = x·w + b, with x [N, in], the
// weight w [in, out] (Keras' layout; PyTorch's Linear stores the
// transpose, [out, in]) and the bias b [out] (nil for none). The output
// is [N, out]. Flatten an NHWC batch first: its features are then in
// (h, w, c) order, where PyTorch's are (c, h, w).
func (t *Tape) Dense(x, w, b *Var) *Var {
	const op = "Dense"
	if !t.ok(op, x, w) || b != nil && !t.ok(op, b) {
		return nil
	}
	xs, ws := x.val, w.val
	if xs.Rank() != 2 {
		return t.fail(op, "input has shape %v; want [N in] (Flatten an image batch first)", xs.Shape())
	}
	if ws.Rank() != 2 || ws.Dim(0) != xs.Dim(1) {
		return t.fail(op, "weight has shape %v; want [%d out] for input %v", ws.Shape(), xs.Dim(1), xs.Shape())
	}
	n, in, out := xs.Dim(0), xs.Dim(1), ws.Dim(1)
	if !t.isVector(op, "bias", b, out, "weight", ws.Shape()) {
		return nil
	}
	y := t.newOutput([]int{n, out}, x, w, b)
	yd := y.val.Data()
	gemm.Sgemm(false, false, n, out, in, 1, xs.Data(), in, ws.Data(), out, 0, yd, out)
	if b != nil && out > 0 {
		kern.AddBias(yd, b.val.Data())
	}
	if t.tracer != nil {
		t.trace(op, nil, y, x, w, b)
	}
	return t.record(y, func(dy []float32) {
		if x.requires {
			dx, beta := t.sinkBeta(x)
			gemm.Sgemm(false, true, n, in, out, 1, dy, out, ws.Data(), out, beta, dx, in)
		}
		if w.requires {
			dw, beta := t.sinkBeta(w)
			gemm.Sgemm(true, false, in, out, n, 1, xs.Data(), in, dy, out, beta, dw, out)
		}
		if b != nil && b.requires && out > 0 {
			db := t.sink(b)
			kern.BiasGrad(db, dy)
			t.flush(b, db)
		}
	})
}
