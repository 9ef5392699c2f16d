package tensor

import (
	"fmt"
	"slices"
)

// Reshape returns a tensor of the given shape sharing t's data. One
// dimension may be -1: it is inferred from the others. It is an error if
// the new shape does not hold exactly t's values.
func (t *Tensor) Reshape(shape ...int) (*Tensor, error) {
	shape = slices.Clone(shape)
	infer, known := -1, 1
	for i, d := range shape {
		switch {
		case d == -1 && infer < 0:
			infer = i
		case d < 0:
			return nil, fmt.Errorf("tensor.Reshape: cannot reshape %v to %v: bad dimension %d", t.shape, shape, d)
		default:
			known *= d
		}
	}
	if infer >= 0 && known > 0 && len(t.data)%known == 0 {
		shape[infer] = len(t.data) / known
		known *= shape[infer]
	}
	if known != len(t.data) || infer >= 0 && shape[infer] < 0 {
		return nil, fmt.Errorf("tensor.Reshape: cannot reshape %v (%d values) to %v", t.shape, len(t.data), shape)
	}
	return &Tensor{shape: shape, data: t.data}, nil
}

// Slice returns items [lo, hi) along the first axis (a batch slice)
// as a tensor sharing t's data. It is an error if t is a scalar or the
// range is not within the first axis.
func (t *Tensor) Slice(lo, hi int) (*Tensor, error) {
	if len(t.shape) == 0 || lo < 0 || hi < lo || hi > t.shape[0] {
		return nil, fmt.Errorf("tensor.Slice: range [%d, %d) is outside the first axis of shape %v", lo, hi, t.shape)
	}
	shape := slices.Clone(t.shape)
	shape[0] = hi - lo
	item := numel(t.shape[1:])
	return &Tensor{shape: shape, data: t.data[lo*item : hi*item : hi*item]}, nil
}

// offset returns the position in data of the element at idx, panicking,
// as slice indexing does, if idx does not address one.
func (t *Tensor) offset(idx []int) int {
	if len(idx) != len(t.shape) {
		panic(fmt.Sprintf("tensor: %d indices for shape %v", len(idx), t.shape))
	}
	off := 0
	for i, k := range idx {
		if k < 0 || k >= t.shape[i] {
			panic(fmt.Sprintf("tensor: index %v out of range for shape %v", idx, t.shape))
		}
		off = off*t.shape[i] + k
	}
	return off
}

// At returns the element at the given indices, one per axis. It panics
// if they do not address an element.
func (t *Tensor) At(idx ...int) float32 { return t.data[t.offset(idx)] }

// Set stores v at the given indices, one per axis. It panics if they do
// not address an element.
func (t *Tensor) Set(v float32, idx ...int) { t.data[t.offset(idx)] = v }
