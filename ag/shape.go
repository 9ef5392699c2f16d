package ag

import (
	"github.com/foveaml/fovea/internal/kern"
	"github.com/foveaml/fovea/tensor"
)

// The checks below record an error naming op and the shapes involved
// and report false when a shape is not what op needs.

// isImage checks that x is an NHWC batch.
func (t *Tape) isImage(op, what string, x *Var) bool {
	if x.val.Rank() != 4 {
		t.fail(op, "%s has shape %v; want [N H W C]", what, x.val.Shape())
		return false
	}
	return true
}

// isVector checks that x (which may be nil when optional) has shape [n].
func (t *Tape) isVector(op, what string, x *Var, n int, of string, ofShape []int) bool {
	if x != nil && (x.val.Rank() != 1 || x.val.Dim(0) != n) {
		t.fail(op, "%s has shape %v; want [%d] for %s %v", what, x.val.Shape(), n, of, ofShape)
		return false
	}
	return true
}

// dims returns the NHWC dims of a rank-4 tensor, or of a rank-2 [N, C]
// one taken as N images of one pixel.
func dims(x *tensor.Tensor) kern.Dims {
	if x.Rank() == 2 {
		return kern.Dims{N: x.Dim(0), H: 1, W: 1, C: x.Dim(1)}
	}
	return kern.Dims{N: x.Dim(0), H: x.Dim(1), W: x.Dim(2), C: x.Dim(3)}
}

// shapeOf returns dims as a shape.
func shapeOf(d kern.Dims) []int { return []int{d.N, d.H, d.W, d.C} }
