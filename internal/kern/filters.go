package kern

import (
	"sync"

	"github.com/foveaml/fovea/internal/scratch"
)

// Filters keeps one convolution's filter in the packed forms its kernels
// read — the direct kernel's panels, Winograd's transformed filter —
// each made the first time a convolution asks for it and reused after:
// for inference, where the same weights run again and again, so that a
// call pays no packing. The forms are those of the weights as they were
// when made: whoever holds a Filters drops it when the weights change.
// The zero value is ready to use; a nil *Filters keeps nothing (each call
// packs into scratch memory). It is safe for concurrent use.
type Filters struct {
	mu    sync.Mutex
	forms map[filterForm][]float32
	held  int
}

// filterForm names one packed form of a filter: the direct kernel's for
// a panel width and chunk of input channels, Winograd's (flipped for
// backward-data) for a panel width, or the convolution's other
// parameters folded (see Folded); n is its length.
type filterForm struct {
	wino, flip, folded bool
	nr, chunk, n       int
}

// Folded returns n floats made by fill the first time and kept after,
// as the packed forms are: what a fused convolution computes from its
// other parameters at every call otherwise (its batch norm folded into
// one scale and shift a channel), which at a batch of one image is a
// few microseconds of a layer that workers wait through. f must not be
// nil, and those parameters must be as they were when it was made.
func (f *Filters) Folded(n int, fill func(u []float32)) []float32 {
	u, _ := f.get(filterForm{folded: true, n: n}, fill)
	return u
}

// Bytes returns the memory f holds.
func (f *Filters) Bytes() int64 {
	if f == nil {
		return 0
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return 4 * int64(f.held)
}

// get returns form, made by fill the first time f is asked for it. With
// a nil f it is made in scratch memory every time, and release hands it
// back; otherwise release does nothing.
func (f *Filters) get(form filterForm, fill func(u []float32)) (u []float32, release func()) {
	if f == nil {
		up := scratch.Get(form.n)
		fill(*up)
		return *up, func() { scratch.Put(up) }
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if u := f.forms[form]; u != nil {
		return u, func() {}
	}
	u = make([]float32, form.n)
	fill(u)
	if f.forms == nil {
		f.forms = map[filterForm][]float32{}
	}
	f.forms[form] = u
	f.held += form.n
	return u, func() {}
}
