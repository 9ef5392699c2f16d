package ag

import (
	"fmt"

	"github.com/foveaml/fovea/tensor"
)

// Var is a value in a computation and, when it requires one, its
// gradient. See the package documentation for leaves, op outputs and
// their lifetimes.
type Var struct {
	val  *tensor.Tensor
	grad *tensor.Tensor // a leaf's gradient, kept across steps
	// g is the gradient being accumulated during Backward: a leaf's
	// grad data, or a pooled buffer for an op output.
	g []float32
	// fresh is set when g may be overwritten instead of added to: it
	// holds zeros, or nothing has been written to it yet.
	fresh    bool
	requires bool
	tape     *Tape // the op output's tape; nil for a leaf
	released bool
	// uses counts the ops that have taken v as an input.
	uses int
	// spare is set when the op that made v reads v's value in none of
	// its backward work (Conv2D, BatchNorm, Add), so that an in-place op
	// may write over it.
	spare bool
	// overwritten names the in-place op that wrote over v's value, or
	// says that Backward released it.
	overwritten string
	// shares is the Var whose buffer v's value lies in (an in-place op's
	// or Reshape's input), nil when v's op made a buffer of its own.
	shares *Var
	// viewed is set when another Var's value lies in v's buffer (see
	// shares): Release then leaves the buffer alone.
	viewed bool
	// keep is set during Backward when a Var sharing v's buffer is read
	// by no op (the caller's own): the buffer then lives until Reset.
	keep bool
}

// Param returns a trainable leaf over t: it requires a gradient, which
// Backward accumulates into a buffer of t's shape (see Grad). t is used,
// not copied, so an optimiser that updates t in place updates the Var.
func Param(t *tensor.Tensor) *Var { return &Var{val: t, requires: true} }

// Const returns a leaf over t that requires no gradient: an input batch,
// or a frozen weight. t is used, not copied.
func Const(t *tensor.Tensor) *Var { return &Var{val: t} }

// Value returns v's value. For an op output it lives until its tape's
// Reset; Value panics after that.
func (v *Var) Value() *tensor.Tensor {
	if v.released {
		panic("ag: Var used after its Tape was Reset")
	}
	if v.overwritten != "" {
		panic("ag: Var used after " + v.overwritten + " wrote over or released its value")
	}
	return v.val
}

// Shape returns a copy of the shape of v's value.
func (v *Var) Shape() []int { return v.Value().Shape() }

// Item returns the value of a Var holding one value, such as a loss.
// It panics if v holds more or fewer.
func (v *Var) Item() float32 {
	t := v.Value()
	if t.Len() != 1 {
		panic(fmt.Sprintf("ag: Item of a Var of shape %v", t.Shape()))
	}
	return t.Data()[0]
}

// Grad returns the gradient accumulated into a leaf by Backward since
// the last ZeroGrad, or nil if none was ever computed. Op outputs keep
// no gradient: Grad returns nil for them.
func (v *Var) Grad() *tensor.Tensor { return v.grad }

// IsLeaf reports whether v was made by Param or Const rather than by an
// op.
func (v *Var) IsLeaf() bool { return v.tape == nil }

// RequiresGrad reports whether gradients flow to v.
func (v *Var) RequiresGrad() bool { return v.requires }

// SetRequiresGrad makes a leaf trainable (on) or frozen (off); a frozen
// leaf keeps its gradient buffer, which Backward no longer touches. An op
// output's flag follows from its inputs, so SetRequiresGrad panics on one.
func (v *Var) SetRequiresGrad(on bool) {
	if !v.IsLeaf() {
		panic("ag: SetRequiresGrad on an op output; freeze the leaves it comes from")
	}
	v.requires = on
}

// ZeroGrad sets a leaf's gradient to zero, so the next Backward
// overwrites it instead of adding to it.
func (v *Var) ZeroGrad() {
	if v.grad != nil {
		clear(v.grad.Data())
		v.fresh = true
	}
}

// ZeroGrads calls ZeroGrad on every Var.
func ZeroGrads(vs ...*Var) {
	for _, v := range vs {
		v.ZeroGrad()
	}
}
