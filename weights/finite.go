package weights

import (
	"fmt"
	"math"
	"slices"

	"github.com/foveaml/fovea/tensor"
)

// CheckFinite returns an error naming the first tensor (in name order)
// that holds a NaN or an infinity, with the index and value of the first
// such element, or nil if every value is finite. Load uses it unless
// told otherwise (Options.AllowNonFinite).
func CheckFinite(tensors map[string]*tensor.Tensor) error {
	names := make([]string, 0, len(tensors))
	for k := range tensors {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		if tensors[k] == nil {
			continue
		}
		for i, v := range tensors[k].Data() {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("tensor %q holds %v at flat index %d", k, v, i)
			}
		}
	}
	return nil
}
