package ag

import (
	"fmt"
	"math"

	"github.com/foveaml/fovea/internal/kern"
	"github.com/foveaml/fovea/internal/scratch"
	"github.com/foveaml/fovea/tensor"
)

// Tape records the ops of one step so that Backward can run them in
// reverse, and owns the buffers of their outputs. The zero Tape is ready
// to use, as is NewTape's; keep one for the whole training run, calling
// Reset after each step, so that its buffers are reused.
type Tape struct {
	nodes   []node
	floats  floatPool
	ints    scratch.List[int32]
	held    [][]float32 // values and saved state, handed back by Reset
	heldInt [][]int32
	noGrad  bool
	done    bool // Backward has run since the last Reset
	release bool // see SetReleaseInBackward
	poison  bool // see SetPoisonReleased
	err     error
	tracer  func(Op) // see SetTracer
	// local, when not nil, holds the gradients of leaves that Backward
	// accumulates on this tape instead of in the leaves (see
	// SetLocalLeafGrads), with the order they were first touched in.
	local      map[*Var]*localGrad
	localOrder []*Var
}

// localGrad is a leaf's gradient accumulated on one tape.
type localGrad struct {
	g     []float32
	fresh bool
}

// node is one recorded op: its output and, if gradients flow through
// it, the closure that propagates the output's gradient dy to the
// inputs.
type node struct {
	out  *Var
	back func(dy []float32)
	// held and heldInt are the ends of the op's buffers in Tape.held and
	// heldInt: those from the previous node's ends are its own (its
	// output and saved state).
	held, heldInt int
}

// NewTape returns an empty tape that records gradients.
func NewTape() *Tape {
	return &Tape{}
}

// SetGradEnabled turns the recording of gradients on or off (PyTorch's
// torch.set_grad_enabled) and returns the previous setting. With it off,
// op outputs require no gradient and nothing is kept for Backward: the
// mode for inference.
func (t *Tape) SetGradEnabled(on bool) (was bool) {
	was = !t.noGrad
	t.noGrad = !on
	return was
}

// GradEnabled reports whether the tape records gradients.
func (t *Tape) GradEnabled() bool { return !t.noGrad }

// Err returns the first error an op on the tape met since the last
// Reset, or nil.
func (t *Tape) Err() error { return t.err }

// Backward computes the gradient of loss, a Var of one value recorded on
// t, with respect to every Var it depends on that requires one, adding
// it into the leaves' gradients. It returns the tape's error if an op
// failed, and an error if loss has more than one value, requires no
// gradient, or the tape was already backpropagated since its last Reset.
func (t *Tape) Backward(loss *Var) error {
	const op = "Backward"
	if !t.live(op, loss) {
		return t.err
	}
	switch {
	case loss.tape != t:
		return fmt.Errorf("ag.Backward: the loss is not an op output of this tape")
	case loss.val.Len() != 1:
		return fmt.Errorf("ag.Backward: loss has shape %v; want a single value", loss.val.Shape())
	case !loss.requires:
		return fmt.Errorf("ag.Backward: the loss requires no gradient: it depends on no trainable Var, or was computed with gradients disabled")
	case t.done:
		return fmt.Errorf("ag.Backward: the tape was already backpropagated; call Reset after each step")
	}
	t.backward(loss, []float32{1})
	return nil
}

// backward propagates the gradient seed of out through the tape.
func (t *Tape) backward(out *Var, seed []float32) {
	t.done = true
	t.accum(out, 1, seed)
	for i := len(t.nodes) - 1; i >= 0; i-- {
		n := &t.nodes[i]
		if n.back != nil && n.out.g != nil {
			n.back(n.out.g)
		}
		n.back = nil
		t.dropGrad(n.out)
		if t.release {
			t.releaseNode(i)
		}
	}
}

// SetReleaseInBackward makes Backward hand each op's buffers (its output
// and saved state) back to the pool as soon as the op's own backward has
// run, when every later reader of them has run its backward too, instead
// of at Reset: the gradients computed after then reuse them, which lowers
// a training step's peak memory. An op output that some op read is then
// dead after Backward (Value panics, ops on it fail); one that no op read
// (the loss, or a value the caller kept as a result) lives until Reset,
// with the buffers it shares. Read what a step needs of its intermediate
// values (logits for accuracy) before Backward. It returns the previous
// setting; the default is off.
func (t *Tape) SetReleaseInBackward(on bool) (was bool) {
	was, t.release = t.release, on
	return was
}

// SetPoisonReleased makes the buffers that Backward hands back early
// (see SetReleaseInBackward) be filled with NaN first, so that an op that
// reads one after all shows as NaN gradients rather than as plausible
// numbers: a debugging aid for tests of new ops, costing a pass over each
// buffer. It returns the previous setting.
func (t *Tape) SetPoisonReleased(on bool) (was bool) {
	was, t.poison = t.poison, on
	return was
}

// releaseNode hands back the buffers of node i, whose backward has run,
// unless its output is the caller's (read by no op) or shares its buffer
// with a Var that is; then it keeps them, and so does the Var whose
// buffer the output lies in.
func (t *Tape) releaseNode(i int) {
	n := &t.nodes[i]
	v := n.out
	if v.uses == 0 || v.keep {
		if v.shares != nil {
			v.shares.keep = true
		}
		return
	}
	v.overwritten = "Backward"
	from, fromInt := 0, 0
	if i > 0 {
		from, fromInt = t.nodes[i-1].held, t.nodes[i-1].heldInt
	}
	for j := from; j < n.held; j++ {
		if b := t.held[j]; b != nil {
			if t.poison {
				poison(b)
			}
			t.floats.Put(b)
			t.held[j] = nil
		}
	}
	for j := fromInt; j < n.heldInt; j++ {
		if b := t.heldInt[j]; b != nil {
			if t.poison {
				for k := range b {
					b[k] = -1 << 31
				}
			}
			t.ints.Put(b)
			t.heldInt[j] = nil
		}
	}
}

// Reset ends a step: it hands every buffer of the step's op outputs back
// to the pool, marks those Vars dead, forgets the recorded ops and clears
// the error. Leaves and their gradients are untouched.
func (t *Tape) Reset() {
	for i := range t.nodes {
		v := t.nodes[i].out
		t.dropGrad(v)
		v.val, v.released = nil, true
		t.nodes[i] = node{}
	}
	t.nodes = t.nodes[:0]
	for i, b := range t.held {
		if b != nil {
			t.floats.Put(b)
		}
		t.held[i] = nil
	}
	t.held = t.held[:0]
	for i, b := range t.heldInt {
		if b != nil {
			t.ints.Put(b)
		}
		t.heldInt[i] = nil
	}
	t.heldInt = t.heldInt[:0]
	t.releaseLocal()
	t.done, t.err = false, nil
}

// fail records the first error of op (if none is recorded yet) and
// returns nil, the result of a failed op.
func (t *Tape) fail(op, format string, args ...any) *Var {
	if t.err == nil {
		t.err = fmt.Errorf("ag."+op+": "+format, args...)
	}
	return nil
}

// ok reports whether op may run on inputs xs: no earlier error, and
// every input a live Var of this tape or a leaf. Otherwise it records
// the error. It counts the uses of the inputs that are this tape's
// outputs; a leaf (a weight, an input batch) is not written, as tapes
// on several goroutines read it at once (a Predictor's calls).
func (t *Tape) ok(op string, xs ...*Var) bool {
	if !t.live(op, xs...) {
		return false
	}
	for _, x := range xs {
		if x.tape == t {
			x.uses++
		}
	}
	return true
}

// live is ok without counting uses.
func (t *Tape) live(op string, xs ...*Var) bool {
	if t.err != nil {
		return false
	}
	for i, x := range xs {
		switch {
		case x == nil:
			t.fail(op, "input %d is nil", i)
		case x.released:
			t.fail(op, "input %d was released by Tape.Reset", i)
		case x.overwritten != "":
			t.fail(op, "input %d was written over or released by %s", i, x.overwritten)
		case x.tape != nil && x.tape != t:
			t.fail(op, "input %d is an op output of another tape", i)
		}
	}
	return t.err == nil
}

// alloc returns a pooled buffer of n floats, contents undefined, that
// lives until Reset.
func (t *Tape) alloc(n int) []float32 {
	b := t.floats.GetSized(n)
	t.held = append(t.held, b)
	return b
}

// allocInt is alloc for int32s.
func (t *Tape) allocInt(n int) []int32 {
	b := t.ints.Get(n)
	t.heldInt = append(t.heldInt, b)
	return b
}

// output returns a new op output over data with the given shape. It
// requires a gradient if the tape records them and any of inputs (nil
// ones ignored) does.
func (t *Tape) output(data []float32, shape []int, inputs ...*Var) *Var {
	val, err := tensor.FromSlice(data, shape...)
	if err != nil {
		panic("ag: " + err.Error()) // the op computed its shape wrongly
	}
	v := &Var{val: val, tape: t}
	if !t.noGrad {
		for _, x := range inputs {
			v.requires = v.requires || x != nil && x.requires
		}
	}
	return v
}

// newOutput is output over a fresh pooled buffer of the shape's size.
func (t *Tape) newOutput(shape []int, inputs ...*Var) *Var {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return t.output(t.alloc(n), shape, inputs...)
}

// record adds out to the tape, with back as its backward closure when
// out requires a gradient.
func (t *Tape) record(out *Var, back func(dy []float32)) *Var {
	if !out.requires {
		back = nil
	}
	t.nodes = append(t.nodes, node{out: out, back: back, held: len(t.held), heldInt: len(t.heldInt)})
	return out
}

// initGrad gives v an empty gradient to accumulate into: a leaf's own
// (allocated once, then kept), or a pooled buffer for an op output.
func (t *Tape) initGrad(v *Var) {
	g, fresh := t.gradOf(v)
	if v.tape == nil && t.local == nil {
		if v.grad == nil || !v.grad.SameShape(v.val) {
			v.grad = tensor.Zeros(v.val.Shape()...)
			*fresh = true
		}
		*g = v.grad.Data()
		return
	}
	*g, *fresh = t.floats.Get(v.val.Len()), true
}

// gradOf returns where v's gradient is accumulated during Backward: v's
// own fields, or, for a leaf on a tape with local leaf gradients, the
// tape's buffer for it.
func (t *Tape) gradOf(v *Var) (*[]float32, *bool) {
	if v.tape != nil || t.local == nil {
		return &v.g, &v.fresh
	}
	lg := t.local[v]
	if lg == nil {
		lg = &localGrad{}
		t.local[v] = lg
		t.localOrder = append(t.localOrder, v)
	}
	return &lg.g, &lg.fresh
}

// SetLocalLeafGrads makes Backward accumulate the gradients of leaves
// (parameters) in buffers of this tape's own rather than in the leaves,
// so that several tapes may backpropagate into the same parameters at
// once: data-parallel training, one tape per part of a batch. After
// Backward, AddLeafGrads adds the tape's gradients into the leaves; call
// it for one tape at a time. Ops that update state of a leaf's own (batch
// normalisation's running statistics) must not run on such tapes at once.
func (t *Tape) SetLocalLeafGrads(on bool) {
	t.releaseLocal()
	t.local = nil
	if on {
		t.local = map[*Var]*localGrad{}
	}
}

// AddLeafGrads adds the leaf gradients that Backward accumulated on this
// tape (with SetLocalLeafGrads) into the leaves' own, in a fixed order,
// and forgets them.
func (t *Tape) AddLeafGrads() {
	for _, v := range t.localOrder {
		lg := t.local[v]
		if lg.g == nil || lg.fresh {
			continue // nothing was written
		}
		if v.grad == nil || !v.grad.SameShape(v.val) {
			v.grad = tensor.Zeros(v.val.Shape()...)
			v.fresh = true
		}
		v.g = v.grad.Data()
		if v.fresh {
			copy(v.g, lg.g)
		} else {
			kern.Acc(v.g, lg.g)
		}
		v.fresh = false
	}
	t.releaseLocal()
}

// releaseLocal hands the local leaf gradients back to the pool.
func (t *Tape) releaseLocal() {
	for _, v := range t.localOrder {
		if lg := t.local[v]; lg.g != nil {
			t.floats.Put(lg.g)
		}
		delete(t.local, v)
	}
	t.localOrder = t.localOrder[:0]
}

// canTake reports whether x, an input of the op that made y, may take
// y's gradient buffer as its own (see take): x is an op output of this
// tape whose gradient holds nothing yet, of y's size.
func (t *Tape) canTake(x, y *Var) bool {
	return x.tape == t && x.requires && x.g == nil && y.g != nil && len(y.g) == x.val.Len()
}

// take makes y's gradient buffer x's gradient, which the backward of the
// op that made y has computed in it (ReLU's) or which is x's gradient as
// it is (Add's): the gradient moves instead of being copied into a buffer
// of its own. Call it last in the backward closure.
func (t *Tape) take(x, y *Var) {
	x.g, x.fresh, y.g = y.g, false, nil
}

// poison fills a buffer handed back early with NaN, so that a test in
// which anything reads it again sees NaN gradients (SetPoisonReleased).
func poison(b []float32) {
	nan := float32(math.NaN())
	for i := range b {
		b[i] = nan
	}
}

// dropGrad hands an op output's gradient back to the pool.
func (t *Tape) dropGrad(v *Var) {
	if v.tape != nil && v.g != nil {
		t.floats.Put(v.g)
		v.g = nil
	}
}

// sink returns a buffer for a kernel to overwrite with its contribution
// to v's gradient; flush then adds it in. The buffer is v's gradient
// itself when that holds nothing yet, so the common case copies nothing.
// For a v that requires no gradient it is scratch, for kernels that
// compute several gradients at once; flush discards it.
func (t *Tape) sink(v *Var) []float32 {
	if !v.requires {
		return t.floats.Get(v.val.Len())
	}
	g, fresh := t.gradOf(v)
	if *g == nil {
		t.initGrad(v)
	}
	if *fresh {
		*fresh = false
		return *g
	}
	return t.floats.Get(len(*g))
}

// flush completes a sink: it adds buf into v's gradient, unless it is
// that gradient, and recycles it.
func (t *Tape) flush(v *Var, buf []float32) {
	if len(buf) == 0 {
		return
	}
	if v.requires {
		g, _ := t.gradOf(v)
		if &buf[0] == &(*g)[0] {
			return
		}
		kern.Acc(*g, buf)
	}
	t.floats.Put(buf)
}

// sinkBeta is sink for kernels that accumulate themselves, as gemm does
// with its beta: it returns v's gradient and 0 if the kernel is to
// overwrite it, 1 if it is to add to it.
func (t *Tape) sinkBeta(v *Var) ([]float32, float32) {
	g, fresh := t.gradOf(v)
	if *g == nil {
		t.initGrad(v)
	}
	if *fresh {
		*fresh = false
		return *g, 0
	}
	return *g, 1
}

// accum adds a·src to v's gradient.
func (t *Tape) accum(v *Var, a float32, src []float32) {
	g, fresh := t.gradOf(v)
	if *g == nil {
		t.initGrad(v)
	}
	switch {
	case !*fresh:
		kern.Axpy(*g, a, src)
	case a == 1:
		copy(*g, src)
	default:
		kern.Scale(*g, a, src)
	}
	*fresh = false
}
