package augment

import (
	"fmt"
	"strings"
)

// Fill says what lies beyond an image's edge, for padded crops and for
// the pixels an affine transform brings in from outside.
type Fill int

const (
	// FillConstant fills with a constant value (zero unless set).
	FillConstant Fill = iota
	// FillReflect mirrors the image about its edge pixels, which are not
	// repeated: d c b | a b c d | c b a (NumPy's and PyTorch's
	// "reflect").
	FillReflect
	// FillEdge repeats the edge pixels: a a a | a b c d | d d d (NumPy's
	// "edge", Keras' "nearest").
	FillEdge
	// FillWrap tiles the image: b c d | a b c d | a b c.
	FillWrap
)

var fillNames = [...]string{"constant", "reflect", "edge", "wrap"}

// String returns the fill's name: constant, reflect, edge or wrap.
func (f Fill) String() string {
	if f >= 0 && int(f) < len(fillNames) {
		return fillNames[f]
	}
	return fmt.Sprintf("Fill(%d)", int(f))
}

// ParseFill returns the Fill called name (constant, zero, reflect, edge,
// nearest or wrap).
func ParseFill(name string) (Fill, error) {
	switch strings.ToLower(name) {
	case "constant", "zero":
		return FillConstant, nil
	case "reflect":
		return FillReflect, nil
	case "edge", "nearest":
		return FillEdge, nil
	case "wrap":
		return FillWrap, nil
	}
	return 0, fmt.Errorf("fill %q: want constant, reflect, edge or wrap", name)
}

func (f Fill) valid() error {
	if f < FillConstant || f > FillWrap {
		return fmt.Errorf("unknown fill mode %d", int(f))
	}
	return nil
}

// index maps a sample index i, perhaps outside [0, n), to the index it
// reads under f, or -1 for the constant.
func (f Fill) index(i, n int) int {
	if i >= 0 && i < n {
		return i
	}
	switch f {
	case FillReflect:
		if n == 1 {
			return 0
		}
		p := 2 * (n - 1)
		i %= p
		if i < 0 {
			i += p
		}
		if i >= n {
			i = p - i
		}
		return i
	case FillEdge:
		return min(max(i, 0), n-1)
	case FillWrap:
		i %= n
		if i < 0 {
			i += n
		}
		return i
	}
	return -1
}
