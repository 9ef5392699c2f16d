package kern

// Activations and their backward passes. Every function takes slices of
// one length (it panics otherwise), runs in parallel for long slices, and
// allows its output to alias its input, so layers can work in place.
// Backward passes overwrite dx with dy·f'(·), taking whichever of x or y
// gives f' most cheaply.

// LeNet's scaled tanh, f(x) = lecunA·tanh(lecunB·x) (LeCun et al. 1998,
// "Efficient BackProp"), which maps ±1 to about ±1.
const (
	lecunA = 1.7159
	lecunB = 2.0 / 3
)

// ReLU sets y[i] = max(x[i], 0). A NaN in x passes through to y, as in
// PyTorch, so that a diverging model shows up in the loss.
func ReLU(y, x []float32) {
	forElems(sameLen("ReLU", y, x), func(lo, hi int) { vec.relu(y[lo:hi], x[lo:hi]) })
}

// ReLUBackward sets dx[i] = dy[i] where x[i] > 0 and 0 elsewhere (NaN
// included). x may be the forward input or its output y = ReLU(x): they
// are positive at the same places, so an in-place ReLU keeps enough.
func ReLUBackward(dx, dy, x []float32) {
	forElems(sameLen("ReLUBackward", dx, dy, x), func(lo, hi int) { vec.reluGrad(dx[lo:hi], dy[lo:hi], x[lo:hi]) })
}

// Sigmoid sets y[i] = 1/(1+e^(−x[i])), computed without overflow for any
// x (within a few ulp, see exp32).
func Sigmoid(y, x []float32) {
	forElems(sameLen("Sigmoid", y, x), func(lo, hi int) {
		for i, v := range x[lo:hi] {
			y[lo+i] = sigmoid32(v)
		}
	})
}

// SigmoidBackward sets dx[i] = dy[i]·y[i]·(1−y[i]), from the forward
// output y.
func SigmoidBackward(dx, dy, y []float32) {
	forElems(sameLen("SigmoidBackward", dx, dy, y), func(lo, hi int) {
		for i, v := range y[lo:hi] {
			dx[lo+i] = dy[lo+i] * v * (1 - v)
		}
	})
}

// Tanh sets y[i] = tanh(x[i]) (within a few ulp, ±1 for |x| ≥ 9).
func Tanh(y, x []float32) {
	forElems(sameLen("Tanh", y, x), func(lo, hi int) {
		for i, v := range x[lo:hi] {
			y[lo+i] = tanh32(v)
		}
	})
}

// TanhBackward sets dx[i] = dy[i]·(1−y[i]²), from the forward output y.
func TanhBackward(dx, dy, y []float32) {
	forElems(sameLen("TanhBackward", dx, dy, y), func(lo, hi int) {
		for i, v := range y[lo:hi] {
			dx[lo+i] = dy[lo+i] * (1 - v*v)
		}
	})
}

// ScaledTanh sets y[i] = 1.7159·tanh(2·x[i]/3), LeNet-5's squashing
// function.
func ScaledTanh(y, x []float32) {
	forElems(sameLen("ScaledTanh", y, x), func(lo, hi int) {
		for i, v := range x[lo:hi] {
			y[lo+i] = lecunA * tanh32(lecunB*v)
		}
	})
}

// ScaledTanhBackward sets dx[i] = dy[i]·(2/3)·(1.7159 − y[i]²/1.7159),
// the derivative of ScaledTanh written with its output y.
func ScaledTanhBackward(dx, dy, y []float32) {
	forElems(sameLen("ScaledTanhBackward", dx, dy, y), func(lo, hi int) {
		for i, v := range y[lo:hi] {
			dx[lo+i] = dy[lo+i] * (lecunB * (lecunA - v*v/lecunA))
		}
	})
}
