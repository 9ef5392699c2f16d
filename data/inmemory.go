package data

import (
	"fmt"
	"slices"
)

// InMemory is a dataset held in memory: either float32 pixels or bytes
// (scaled to [0, 1] by dividing by 255 as they are read, so a file of
// bytes costs its own size in memory, not four times it), with an int32
// label per image. The readers in this package return one; NewInMemory
// and NewInMemoryUint8 build one from slices.
type InMemory struct {
	f32     []float32
	u8      []uint8
	labels  []int32
	h, w, c int
	classes int
	names   []string
}

// NewInMemory returns a dataset over images, len(labels) images of h×w×c
// float32 values each, HWC, stored one after another. It uses the slices,
// not copies of them. It is an error if a dimension is not positive, if
// len(images) is not len(labels)*h*w*c, or if a label is outside
// [0, classes).
func NewInMemory(images []float32, labels []int32, h, w, c, classes int) (*InMemory, error) {
	if err := checkInMemory("data.NewInMemory", len(images), labels, h, w, c, classes); err != nil {
		return nil, err
	}
	return &InMemory{f32: images, labels: labels, h: h, w: w, c: c, classes: classes}, nil
}

// NewInMemoryUint8 is like NewInMemory for images of bytes, which Example
// scales to [0, 1] by dividing by 255.
func NewInMemoryUint8(pixels []uint8, labels []int32, h, w, c, classes int) (*InMemory, error) {
	if err := checkInMemory("data.NewInMemoryUint8", len(pixels), labels, h, w, c, classes); err != nil {
		return nil, err
	}
	return &InMemory{u8: pixels, labels: labels, h: h, w: w, c: c, classes: classes}, nil
}

func checkInMemory(op string, npix int, labels []int32, h, w, c, classes int) error {
	if h <= 0 || w <= 0 || c <= 0 || classes <= 0 {
		return fmt.Errorf("%s: shape %dx%dx%d with %d classes: every dimension and the class count must be positive", op, h, w, c, classes)
	}
	if size := h * w * c; npix != len(labels)*size {
		return fmt.Errorf("%s: %d labels need %d values of %dx%dx%d images, have %d", op, len(labels), len(labels)*size, h, w, c, npix)
	}
	for i, l := range labels {
		if l < 0 || int(l) >= classes {
			return fmt.Errorf("%s: label %d at index %d is outside [0, %d)", op, l, i, classes)
		}
	}
	return nil
}

// Len returns the number of images.
func (m *InMemory) Len() int { return len(m.labels) }

// Shape returns the height, width and channels of the images.
func (m *InMemory) Shape() (h, w, c int) { return m.h, m.w, m.c }

// Classes returns the number of classes.
func (m *InMemory) Classes() int { return m.classes }

// Labels returns every label, in order. The caller must not modify it.
func (m *InMemory) Labels() []int32 { return m.labels }

// ClassNames returns the class names, or nil if none were given.
func (m *InMemory) ClassNames() []string { return m.names }

// SetClassNames gives the classes names, one per class, which it copies.
// It is an error if there are not Classes() of them.
func (m *InMemory) SetClassNames(names []string) error {
	if len(names) != m.classes {
		return fmt.Errorf("data.InMemory.SetClassNames: %d names for %d classes", len(names), m.classes)
	}
	m.names = slices.Clone(names)
	return nil
}

// byteScale maps a byte to its float32 value in [0, 1].
var byteScale = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(i) / 255
	}
	return
}()

// Example copies image i into dst and returns its label. It returns an
// error if i is out of range or len(dst) is not h*w*c.
func (m *InMemory) Example(i int, dst []float32) (int, error) {
	if i < 0 || i >= len(m.labels) {
		return 0, fmt.Errorf("data.InMemory.Example: index %d is outside [0, %d)", i, len(m.labels))
	}
	size := m.h * m.w * m.c
	if len(dst) != size {
		return 0, fmt.Errorf("data.InMemory.Example: destination holds %d values, a %dx%dx%d image %d", len(dst), m.h, m.w, m.c, size)
	}
	if m.u8 != nil {
		src := m.u8[i*size : (i+1)*size]
		for j, b := range src {
			dst[j] = byteScale[b]
		}
	} else {
		copy(dst, m.f32[i*size:(i+1)*size])
	}
	return int(m.labels[i]), nil
}
