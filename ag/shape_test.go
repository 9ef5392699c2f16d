package ag

import (
	"testing"

	"github.com/foveaml/fovea/internal/kern"
	"github.com/foveaml/fovea/tensor"
)

func TestDims(t *testing.T) {
	if d := dims(tensor.Zeros(2, 3, 4, 5)); d != (kern.Dims{N: 2, H: 3, W: 4, C: 5}) {
		t.Fatalf("dims of [2 3 4 5]: %v", d)
	}
	if d := dims(tensor.Zeros(2, 5)); d != (kern.Dims{N: 2, H: 1, W: 1, C: 5}) {
		t.Fatalf("dims of [2 5]: %v", d)
	}
}
