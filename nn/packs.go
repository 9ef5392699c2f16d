package nn

import (
	"sync"

	"github.com/foveaml/fovea/ag"
)

// PackCache keeps, for inference over the same weights again and again,
// each convolution's filter packed in the forms the kernels read (see
// ag.Filters), and its batch norm folded into a scale and shift: a pass
// whose Ctx has a PackCache packs a unit's filter the first time and
// reuses it after, which is what makes small batches fast (packing a
// ResNet-50's filters costs about as much as running one image). It
// answers for the weights, batch-norm statistics included, as they were
// when each filter was packed: make a new PackCache (or call Reset)
// after changing them — loading weights, a training step. Predictor, FeatureExtractor and the
// evaluation loops keep one. It is safe for concurrent use.
type PackCache struct {
	mu      sync.Mutex
	filters map[*ag.Var]*ag.Filters
}

// NewPackCache returns an empty PackCache.
func NewPackCache() *PackCache { return &PackCache{filters: map[*ag.Var]*ag.Filters{}} }

// of returns the filters kept for the convolution weights w; nil for a
// nil cache.
func (pc *PackCache) of(w *ag.Var) *ag.Filters {
	if pc == nil || w == nil {
		return nil
	}
	pc.mu.Lock()
	defer pc.mu.Unlock()
	f := pc.filters[w]
	if f == nil {
		f = new(ag.Filters)
		pc.filters[w] = f
	}
	return f
}

// Bytes returns the memory the packed filters hold.
func (pc *PackCache) Bytes() int64 {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	var n int64
	for _, f := range pc.filters {
		n += f.Bytes()
	}
	return n
}

// Reset drops every packed filter: for after the weights have changed.
func (pc *PackCache) Reset() {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	clear(pc.filters)
}
