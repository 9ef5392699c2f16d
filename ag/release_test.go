package ag

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/foveaml/fovea/tensor"
)

// branchy is a graph in which values have several readers and share
// buffers: a stem whose output feeds three branches (convolutions, a
// max pooling, a reshape view and back) that are concatenated, a
// residual join written in place, dropout, and a loss. It returns the
// loss and a view of an intermediate value that no op reads (the
// caller's own).
func branchy(x, w1, w2, w3, g, b, fw *Var, s *BatchNormStats, y []int32) func(tp *Tape) (loss, kept *Var) {
	return func(tp *Tape) (*Var, *Var) {
		stem := tp.ReLUInPlace(tp.BatchNorm(tp.Conv2D(x, w1, nil, Pad(1)), g, b, s, true))
		a := tp.ReLU(tp.Conv2D(stem, w2, nil, Pad(1)))
		c := tp.MaxPool(stem, Pool2D{KH: 3, KW: 3, SH: 1, SW: 1, PadT: 1, PadB: 1, PadL: 1, PadR: 1})
		v := tp.Reshape(tp.Reshape(stem, -1), stem.Shape()...)
		h := tp.Concat(a, c, v)
		h = tp.ReLUInPlace(tp.AddInPlace(tp.Conv2D(h, w3, nil, Pad(1)), stem))
		kept := tp.Reshape(h, -1) // read by no op
		h = tp.Dropout(h, 0.25, 9, true)
		logits := tp.Dense(tp.GlobalAvgPool(h), fw, nil)
		return tp.SoftmaxCrossEntropy(logits, y, 0), kept
	}
}

// TestReleaseInBackward checks that handing buffers back during
// Backward, each filled with NaN as it goes, changes no gradient by a
// bit, on a graph of fan-outs, concatenations, views and in-place ops;
// that the loss and a value no op read stay readable after Backward; and
// that a value an op read is dead then.
func TestReleaseInBackward(t *testing.T) {
	r := newRand(31)
	x := Const(tensor.RandNormal(r, 0, 1, 2, 6, 6, 3))
	w1, w2, w3 := randn(r, 3, 3, 3, 4), randn(r, 3, 3, 4, 4), randn(r, 3, 3, 12, 4)
	g, b, fw := randn(r, 4), randn(r, 4), randn(r, 4, 5)
	s := NewBatchNormStats(4)
	y := []int32{1, 3}
	f := branchy(x, w1, w2, w3, g, b, fw, s, y)
	ls := leaves(w1, w2, w3, g, b, fw)
	run := func(release bool) (grads [][]float32, loss float32, kept []float32) {
		ZeroGrads(ls...)
		tp := NewTape()
		tp.SetReleaseInBackward(release)
		tp.SetPoisonReleased(release)
		l, k := f(tp)
		keptBefore := slices.Clone(k.Value().Data())
		if err := tp.Backward(l); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(k.Value().Data(), keptBefore) {
			t.Errorf("release %v: a value no op read changed in Backward", release)
		}
		for _, v := range ls {
			grads = append(grads, slices.Clone(v.Grad().Data()))
		}
		loss, kept = l.Item(), keptBefore
		tp.Reset()
		return grads, loss, kept
	}
	want, wantLoss, _ := run(false)
	got, gotLoss, _ := run(true)
	if gotLoss != wantLoss {
		t.Errorf("loss %v with release, %v without", gotLoss, wantLoss)
	}
	for i := range want {
		if slices.ContainsFunc(got[i], func(v float32) bool { return math.IsNaN(float64(v)) }) {
			t.Errorf("leaf %d: a NaN gradient: a buffer was read after Backward handed it back", i)
		} else if !slices.Equal(got[i], want[i]) {
			t.Errorf("leaf %d: the gradient differs when Backward hands buffers back", i)
		}
	}

	// After Backward, a value an op read is dead.
	tp := NewTape()
	tp.SetReleaseInBackward(true)
	h := tp.Scale(tp.Conv2D(x, w1, nil, Pad(1)), 2)
	loss := tp.SoftmaxCrossEntropy(tp.Dense(tp.GlobalAvgPool(h), fw, nil), y, 0)
	if err := tp.Backward(loss); err != nil {
		t.Fatal(err)
	}
	if tp.Scale(h, 1) != nil || tp.Err() == nil {
		t.Errorf("an op on a value Backward released ran")
	}
	_ = loss.Item() // the loss, read by no op, lives until Reset
	tp.Reset()
}

// TestReleaseAtInference checks Tape.Release: at inference it hands the
// value's buffer back at once (the tape holds less), poisoning it changes
// no value computed after, and the released value is dead (its Value
// panics, an op on it fails naming Release); a leaf, a value a view
// shares, a value written over in place, and any value of a tape that
// records gradients are left alone.
func TestReleaseAtInference(t *testing.T) {
	r := newRand(41)
	x := Const(tensor.RandNormal(r, 0, 1, 2, 6, 6, 3))
	w1, w2 := randn(r, 3, 3, 3, 4), randn(r, 3, 3, 4, 4)
	run := func(release bool) []float32 {
		tp := NewTape()
		tp.SetGradEnabled(false)
		tp.SetPoisonReleased(true)
		a := tp.Conv2D(x, w1, nil, Pad(1))
		b := tp.ReLU(a)
		if release {
			before, _ := tp.Memory()
			tp.Release(a)
			after, _ := tp.Memory()
			if want := int64(4 * a.val.Len()); before-after != want {
				t.Errorf("Release handed back %d bytes, want %d", before-after, want)
			}
			func() {
				defer func() {
					if recover() == nil {
						t.Error("Value of a released Var did not panic")
					}
				}()
				a.Value()
			}()
		}
		c := slices.Clone(tp.Conv2D(b, w2, nil, Pad(1)).Value().Data()) // may take a's buffer
		if release {
			if tp.ReLU(a); tp.Err() == nil || !strings.Contains(tp.Err().Error(), "Release") {
				t.Errorf("an op on a released Var: error %v, want one naming Release", tp.Err())
			}
		}
		return c
	}
	if got, want := run(true), run(false); !slices.Equal(got, want) {
		t.Error("releasing a value changed a later result")
	}

	kept := func(name string, tp *Tape, v *Var) {
		t.Helper()
		before, _ := tp.Memory()
		tp.Release(v)
		after, _ := tp.Memory()
		if before != after {
			t.Errorf("%s: Release handed back %d bytes, want none", name, before-after)
		}
		v.Value() // must not panic
	}
	tp := NewTape()
	tp.SetGradEnabled(false)
	a := tp.Conv2D(x, w1, nil, Pad(1))
	view := tp.Reshape(a, -1)
	kept("a value a view shares", tp, a)
	kept("a view", tp, view)
	kept("a leaf", tp, x)
	b := tp.Conv2D(x, w1, nil, Pad(1))
	in := tp.ReLUInPlace(b)
	kept("an in-place output", tp, in)
	train := NewTape()
	kept("a value of a tape that records gradients", train, train.Conv2D(x, w1, nil, Pad(1)))
}
