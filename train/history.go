package train

// EpochMetrics are the figures of one epoch of training: mean training
// loss and accuracy over its batches, and the validation loss and
// accuracy when there is validation data (HasVal), with the learning rate
// the epoch ran at.
type EpochMetrics struct {
	Epoch           int
	Loss, Acc       float64
	ValLoss, ValAcc float64
	HasVal          bool
	LR              float64
	Images          int
	Seconds         float64
}

// History is the record of a Fit: one EpochMetrics per epoch run, in
// order (Keras' History).
type History struct {
	Epochs []EpochMetrics
}

// Last returns the metrics of the last epoch, or the zero value if none
// ran.
func (h *History) Last() EpochMetrics {
	if h == nil || len(h.Epochs) == 0 {
		return EpochMetrics{}
	}
	return h.Epochs[len(h.Epochs)-1]
}
