// Package tensor holds fovea's n-dimensional float32 arrays: a shape and
// the contiguous, row-major data it describes. Images are NHWC (batch,
// height, width, channels), channels varying fastest; filters are HWIO.
// There is no autodiff here: package ag builds that on top.
//
//	x := tensor.Zeros(2, 3)
//	x.Set(1, 0, 2)
//	y, err := x.Reshape(3, -1) // a view: y shares x's data
//	fmt.Println(y, err)
//	// [[0 0]
//	//  [1 0]
//	//  [0 0]] <nil>
//
// Constructors panic on negative dimensions, as make does on a negative
// length; methods that take a shape from their caller (FromSlice,
// Reshape, CopyFrom, Slice) return errors that name both shapes.
package tensor

import (
	"fmt"
	"slices"
)

// Tensor is a float32 array of a fixed shape, stored row-major (the last
// axis varies fastest) in one slice. A Tensor may share its data with
// others (see Reshape and Slice); writes through one show in all.
type Tensor struct {
	shape []int
	data  []float32
}

// numel returns the number of values a shape holds, panicking on a
// negative dimension.
func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 {
			panic(fmt.Sprintf("tensor: negative dimension in shape %v", shape))
		}
		n *= d
	}
	return n
}

// Zeros returns a new tensor of the given shape holding zeros. No
// dimensions make a scalar (one value).
func Zeros(shape ...int) *Tensor {
	return &Tensor{shape: slices.Clone(shape), data: make([]float32, numel(shape))}
}

// Full returns a new tensor of the given shape with every value v.
func Full(v float32, shape ...int) *Tensor {
	t := Zeros(shape...)
	for i := range t.data {
		t.data[i] = v
	}
	return t
}

// FromSlice returns a tensor of the given shape over data, which it uses,
// not copies. It is an error if len(data) is not the shape's size.
func FromSlice(data []float32, shape ...int) (*Tensor, error) {
	if n := numel(shape); n != len(data) {
		return nil, fmt.Errorf("tensor.FromSlice: %d values do not fill shape %v (%d values)", len(data), shape, n)
	}
	return &Tensor{shape: slices.Clone(shape), data: data}, nil
}

// Shape returns a copy of t's shape.
func (t *Tensor) Shape() []int { return slices.Clone(t.shape) }

// Rank returns the number of axes of t (0 for a scalar).
func (t *Tensor) Rank() int { return len(t.shape) }

// Dim returns the length of axis i; negative i counts from the end.
func (t *Tensor) Dim(i int) int {
	if i < 0 {
		i += len(t.shape)
	}
	return t.shape[i]
}

// Len returns the number of values t holds.
func (t *Tensor) Len() int { return len(t.data) }

// Data returns t's values, row-major. The slice is t's storage, not a
// copy.
func (t *Tensor) Data() []float32 { return t.data }

// SameShape reports whether t and u have the same shape.
func (t *Tensor) SameShape(u *Tensor) bool { return slices.Equal(t.shape, u.shape) }

// Clone returns a deep copy of t.
func (t *Tensor) Clone() *Tensor {
	return &Tensor{shape: slices.Clone(t.shape), data: slices.Clone(t.data)}
}

// CopyFrom copies src's values into t. It is an error if the shapes
// differ.
func (t *Tensor) CopyFrom(src *Tensor) error {
	if !t.SameShape(src) {
		return fmt.Errorf("tensor.CopyFrom: source shape %v, destination shape %v", src.shape, t.shape)
	}
	copy(t.data, src.data)
	return nil
}
