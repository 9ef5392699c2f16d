package ag

// Op is one op a Tape ran, as a tracer (see SetTracer) sees it: enough
// to write the computation down in another format (ONNX export) or to
// draw it.
type Op struct {
	// Name is the Tape method that ran the op ("Conv2D", "Add",
	// "GlobalAvgPool", ...), or Func.Name for Apply.
	Name string
	// Inputs are the op's Var arguments in the method's order, nil where
	// an optional one (a bias) is absent.
	Inputs []*Var
	Output *Var
	// Attrs holds the op's options: Conv for Conv2D, FusedAttrs for
	// Conv2DFused, Pool2D for MaxPool and AvgPool, LRN, BatchNormAttrs,
	// []float32 weights for Scale and WeightedSum, []int (the new shape)
	// for Reshape, DropoutAttrs, Func.Attrs for Apply; nil otherwise.
	Attrs any
}

// FusedAttrs are the options of a Conv2DFused op beyond its inputs,
// which are, in order, x, w, and Fused's Bias, Gamma, Beta and Res.
type FusedAttrs struct {
	Conv  Conv
	Stats *BatchNormStats // nil without batch normalisation
	ReLU  bool
}

// BatchNormAttrs are the options of a BatchNorm op, whose inputs are x,
// gamma and beta.
type BatchNormAttrs struct {
	Stats *BatchNormStats
	Train bool
}

// DropoutAttrs are the options of a Dropout op that ran in training
// (at inference Dropout returns its input and runs no op).
type DropoutAttrs struct {
	P    float32
	Seed uint64
}

// SetTracer makes t call fn with every op it runs from now on, after
// the op computed its output; nil stops it. Ops that fail, and Dropout at
// inference (which returns its input), call nothing. Tracing costs one
// test per op when off.
func (t *Tape) SetTracer(fn func(Op)) { t.tracer = fn }

// trace hands an op to the tracer; callers check t.tracer first, so
// that an untraced op builds no Op.
func (t *Tape) trace(name string, attrs any, out *Var, inputs ...*Var) {
	t.tracer(Op{Name: name, Inputs: inputs, Output: out, Attrs: attrs})
}
