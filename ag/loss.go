package ag

import "github.com/foveaml/fovea/internal/kern"

// SoftmaxCrossEntropy returns the mean over the batch of the
// cross-entropy between softmax(logits) and the labels, a scalar (shape
// []). logits is [N, classes] and labels holds N class indices; with
// smoothing ε > 0 the target of each example is (1−ε) on its label plus
// ε/classes on every class (PyTorch's label_smoothing). A label outside
// [0, classes) is an error.
func (t *Tape) SoftmaxCrossEntropy(logits *Var, labels []int32, smoothing float32) *Var {
	const op = "SoftmaxCrossEntropy"
	if !t.ok(op, logits) {
		return nil
	}
	if logits.val.Rank() != 2 || logits.val.Dim(0) != len(labels) {
		return t.fail(op, "logits have shape %v; want [%d classes] for %d labels", logits.val.Shape(), len(labels), len(labels))
	}
	classes := logits.val.Dim(1)
	y := t.newOutput([]int{}, logits)
	var dlogits []float32
	if y.requires {
		dlogits = t.alloc(logits.val.Len())
	}
	loss, err := kern.SoftmaxCrossEntropy(dlogits, logits.val.Data(), labels, classes, smoothing)
	if err != nil {
		return t.fail(op, "%v", err)
	}
	y.val.Data()[0] = loss
	if t.tracer != nil {
		t.trace(op, nil, y, logits)
	}
	return t.record(y, func(dy []float32) { t.accum(logits, dy[0], dlogits) })
}

// Softmax returns the softmax of each row of x, [N, classes]: the
// probabilities a classifier's logits stand for.
func (t *Tape) Softmax(x *Var) *Var {
	const op = "Softmax"
	if !t.ok(op, x) {
		return nil
	}
	if x.val.Rank() != 2 {
		return t.fail(op, "input has shape %v; want [N classes]", x.val.Shape())
	}
	rows, classes := x.val.Dim(0), x.val.Dim(1)
	y := t.newOutput(x.val.Shape(), x)
	yd := y.val.Data()
	kern.Softmax(yd, x.val.Data(), rows, classes)
	if t.tracer != nil {
		t.trace(op, nil, y, x)
	}
	return t.record(y, func(dy []float32) {
		dx := t.sink(x)
		kern.SoftmaxBackward(dx, dy, yd, rows, classes)
		t.flush(x, dx)
	})
}
