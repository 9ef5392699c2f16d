package ag

// In-place ops write their output over an input's value instead of into
// a buffer of their own, as PyTorch's ReLU(inplace=True) and x += y do:
// in a convolution unit (conv – batch norm – shortcut added – ReLU) they
// spare two of the four activations a training step would otherwise keep
// for backward. An input may be written over only when nothing reads its
// value any more: it is an op output of this tape, no op has taken it as
// an input yet, and the op that made it reads its output in none of its
// backward work (Conv2D, BatchNorm, Add and AddInPlace; not the
// activations, whose backward reads their output). Otherwise the in-place
// op computes into a buffer of its own, as its plain form does. An input
// that was written over is dead: an op that takes it fails, as after
// Reset, and its Value panics, so a value read after all is an error and
// never a silently wrong number.

// ReLUInPlace is ReLU(x), written over x's value when it may be (see
// above). The caller must not use x afterwards.
func (t *Tape) ReLUInPlace(x *Var) *Var { return t.apply(&relu, x, t.overwritable(x)) }

// AddInPlace is Add(a, b), written over a's value when it may be (see
// above): a residual block's shortcut added to its last batch norm's
// output. The caller must not use a afterwards, nor b: when no op but
// this one has read b and nothing reads it in backward (a projected
// shortcut, made by a batch norm), b's buffer goes back to the pool at
// once and b is dead.
func (t *Tape) AddInPlace(a, b *Var) *Var {
	over := a != b && t.overwritable(a)
	y := t.combine("Add", nil, over, a, b)
	if y != nil && over && t.unread(b, 1) && b.shares == nil {
		t.releaseValue(b, "AddInPlace")
	}
	return y
}

// Release tells t that the caller will read x no more. At inference
// (gradients off, see SetGradEnabled), when x is a live op output of t
// whose buffer it owns and no other Var shares, the buffer goes back to
// t's pool at once and x is dead, as after an in-place op (see above):
// the next op's output takes the buffer while it is still in cache, and a
// pass holds a few activations instead of all of them. Otherwise it does
// nothing: training's backward reads the values, a tracer sees them, and
// Reset hands them back. Layers call it, through nn.Ctx.Done, on the
// values they made and have finished with.
func (t *Tape) Release(x *Var) {
	if !t.noGrad || t.tracer != nil || x == nil || x.tape != t || x.released || x.overwritten != "" || x.shares != nil || x.viewed {
		return
	}
	t.releaseValue(x, "Release")
}

// releaseValue hands x's value buffer back to the pool now, from the
// buffers of the op that made it, and marks x dead, released by op.
func (t *Tape) releaseValue(x *Var, op string) {
	if x.val.Len() == 0 {
		return
	}
	p := &x.val.Data()[0]
	for i := len(t.nodes) - 1; i >= 0; i-- {
		if t.nodes[i].out != x {
			continue
		}
		from := 0
		if i > 0 {
			from = t.nodes[i-1].held
		}
		for j := from; j < t.nodes[i].held; j++ {
			if b := t.held[j]; b != nil && &b[0] == p {
				if t.poison {
					poison(b)
				}
				t.floats.Put(b)
				t.held[j] = nil
				x.overwritten = op
				return
			}
		}
		return
	}
}

// overwritable reports whether an in-place op may write over x's value:
// x is a live op output of this tape, made by an op whose backward does
// not read it (spare), and no op has taken it as an input. A tracer sees
// plain ops only.
func (t *Tape) overwritable(x *Var) bool { return t.unread(x, 0) }

// unread reports whether x is a live op output of this tape made by an
// op whose backward does not read it, which exactly reads ops have taken
// as an input, while no tracer watches.
func (t *Tape) unread(x *Var, reads int) bool {
	return x != nil && x.tape == t && x.spare && x.uses == reads && !x.released && x.overwritten == "" && t.tracer == nil
}
