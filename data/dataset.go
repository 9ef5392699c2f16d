package data

import (
	"fmt"
	"math"
	"slices"
)

// Dataset is a fixed, indexable collection of labelled images, all of one
// shape. Example must be safe for concurrent use: the Loader calls it from
// several goroutines at once.
type Dataset interface {
	// Len returns the number of examples.
	Len() int
	// Shape returns the height, width and channels of every image.
	Shape() (h, w, c int)
	// Classes returns the number of classes; labels lie in [0, Classes()).
	Classes() int
	// Example writes image i into dst, which has length h*w*c, as float32
	// values in HWC order (channels vary fastest), overwriting all of dst,
	// and returns its label. Decoding errors name the file at fault.
	Example(i int, dst []float32) (label int, err error)
}

// Named is implemented by datasets that know their class names.
type Named interface {
	// ClassNames returns the name of each class, indexed by label. The
	// caller must not modify the slice.
	ClassNames() []string
}

// ClassNames returns ds's class names if it has them, or nil.
func ClassNames(ds Dataset) []string {
	if n, ok := ds.(Named); ok {
		return n.ClassNames()
	}
	return nil
}

// subset is a view of some of a parent's examples, in a given order.
type subset struct {
	parent  Dataset
	indices []int
}

// Subset returns a view of ds holding the examples at the given indices,
// in that order (an index may repeat). The indices are copied. It is an
// error if one is outside [0, ds.Len()). The view has ds's class names,
// if ds has any.
func Subset(ds Dataset, indices []int) (Dataset, error) {
	n := ds.Len()
	for k, i := range indices {
		if i < 0 || i >= n {
			return nil, fmt.Errorf("data.Subset: indices[%d] = %d is outside the dataset's %d examples", k, i, n)
		}
	}
	return &subset{parent: ds, indices: slices.Clone(indices)}, nil
}

func (s *subset) Len() int             { return len(s.indices) }
func (s *subset) Shape() (h, w, c int) { return s.parent.Shape() }
func (s *subset) Classes() int         { return s.parent.Classes() }
func (s *subset) ClassNames() []string { return ClassNames(s.parent) }
func (s *subset) Example(i int, dst []float32) (int, error) {
	return s.parent.Example(s.indices[i], dst)
}

// Split divides ds at random into a training part and a validation part
// holding round(fraction*ds.Len()) examples, as Keras' validation_split
// does but shuffled: which examples go where is a pure function of seed.
// Each part keeps the examples in their original order. It is an error if
// fraction is not in (0, 1) or if either part would be empty.
func Split(ds Dataset, fraction float64, seed uint64) (train, val Dataset, err error) {
	n := ds.Len()
	if !(fraction > 0 && fraction < 1) {
		return nil, nil, fmt.Errorf("data.Split: fraction %v is not in (0, 1)", fraction)
	}
	nv := int(math.Round(fraction * float64(n)))
	if nv == 0 || nv == n {
		return nil, nil, fmt.Errorf("data.Split: a fraction of %v of %d examples leaves %d for training and %d for validation; both need at least one", fraction, n, n-nv, nv)
	}
	perm := permutation(n, mix64(seed^0x5be1a7), mix64(seed+0x51a17))
	vi, ti := perm[:nv], perm[nv:]
	slices.Sort(vi)
	slices.Sort(ti)
	return &subset{parent: ds, indices: ti}, &subset{parent: ds, indices: vi}, nil
}
