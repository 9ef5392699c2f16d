package onnx

import (
	"fmt"
	"math"
	"slices"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/internal/gemm"
)

// The ops below are those ONNX graphs need and fovea's ag ops do not
// provide: gathers (transpose, slice, pad, concatenation off the last
// axis), broadcasting arithmetic and a few element-wise functions. Each
// is an ag.Func, so gradients flow through it and a tracer sees it (with
// the attrs types below, which Export turns back into ONNX nodes).

// gatherAttrs describes a gather to a tracer: the ONNX op it came from
// and that op's attributes, so that Export can write it again.
type gatherAttrs struct {
	op   string // "Transpose", "Slice", "Pad", "Concat"
	perm []int
}

// gather returns the op whose output element i is the element idx[i] of
// the inputs' values laid end to end (fill where idx[i] < 0).
func gather(tp *ag.Tape, name string, attrs any, xs []*ag.Var, shape []int, idx []int32, fill float32) *ag.Var {
	if tp.Err() != nil || slices.Contains(xs, nil) {
		return nil
	}
	if err := checkActivation(shape); err != nil {
		return tp.Fail(name, err)
	}
	offs := make([]int, len(xs)+1)
	for i, x := range xs {
		offs[i+1] = offs[i] + x.Value().Len()
	}
	locate := func(j int32) (int, int) {
		k := 0
		for int(j) >= offs[k+1] {
			k++
		}
		return k, int(j) - offs[k]
	}
	return tp.Apply(ag.Func{
		Name:  name,
		Attrs: attrs,
		Forward: func(y []float32, in [][]float32) {
			if len(in) == 1 {
				src := in[0]
				for i, j := range idx {
					if j < 0 {
						y[i] = fill
					} else {
						y[i] = src[j]
					}
				}
				return
			}
			for i, j := range idx {
				if j < 0 {
					y[i] = fill
					continue
				}
				k, o := locate(j)
				y[i] = in[k][o]
			}
		},
		Backward: func(dxs [][]float32, dy, _ []float32, _ [][]float32) {
			for _, d := range dxs {
				clear(d)
			}
			for i, j := range idx {
				if j < 0 {
					continue
				}
				k, o := locate(j)
				if dxs[k] != nil {
					dxs[k][o] += dy[i]
				}
			}
		},
	}, shape, xs...)
}

// strides returns the row-major strides of shape.
func strides(shape []int) []int {
	s := make([]int, len(shape))
	n := 1
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = n
		n *= shape[i]
	}
	return s
}

// forEach calls f with every index of shape in row-major order and its
// flat position.
func forEach(shape []int, f func(pos int, idx []int)) {
	n := 1
	for _, d := range shape {
		n *= d
	}
	idx := make([]int, len(shape))
	for pos := 0; pos < n; pos++ {
		f(pos, idx)
		for a := len(shape) - 1; a >= 0; a-- {
			idx[a]++
			if idx[a] < shape[a] {
				break
			}
			idx[a] = 0
		}
	}
}

// permute returns x with its axes reordered: output axis i is input axis
// perm[i]. A permutation that only moves axes of size 1 is a reshape.
func permute(tp *ag.Tape, x *ag.Var, perm []int) *ag.Var {
	if x == nil || tp.Err() != nil {
		return nil
	}
	s := x.Shape()
	shape := make([]int, len(perm))
	for i, p := range perm {
		shape[i] = s[p]
	}
	if trivialPerm(s, perm) {
		return tp.Reshape(x, shape...)
	}
	st := strides(s)
	idx := make([]int32, x.Value().Len())
	forEach(shape, func(pos int, ix []int) {
		o := 0
		for i, p := range perm {
			o += ix[i] * st[p]
		}
		idx[pos] = int32(o)
	})
	return gather(tp, "onnx.Transpose", gatherAttrs{op: "Transpose", perm: slices.Clone(perm)}, []*ag.Var{x}, shape, idx, 0)
}

// trivialPerm reports whether perm keeps the order of the axes of shape
// longer than 1, so that the data does not move.
func trivialPerm(shape, perm []int) bool {
	last := -1
	for _, p := range perm {
		if shape[p] == 1 {
			continue
		}
		if p < last {
			return false
		}
		last = p
	}
	return true
}

// windowAttrs records a window for Export.
type windowAttrs struct {
	start, step, count []int
	fill               float32
}

// window returns the elements of x at start + k·step, k < count, along
// each axis (count = the output's extent), with fill where pads move the
// window outside x (pad's case: start negative, or past the end).
func window(tp *ag.Tape, name string, x *ag.Var, start, step, count []int, fill float32) *ag.Var {
	if x == nil || tp.Err() != nil {
		return nil
	}
	s := x.Shape()
	st := strides(s)
	if err := checkActivation(count); err != nil {
		return tp.Fail(name, err)
	}
	n, _ := numel(count)
	idx := make([]int32, n)
	forEach(count, func(pos int, ix []int) {
		o := 0
		for a := range ix {
			c := start[a] + ix[a]*step[a]
			if c < 0 || c >= s[a] {
				o = -1
				break
			}
			o += c * st[a]
		}
		idx[pos] = int32(o)
	})
	attrs := windowAttrs{slices.Clone(start), slices.Clone(step), slices.Clone(count), fill}
	return gather(tp, name, attrs, []*ag.Var{x}, count, idx, fill)
}

// concatAxis joins xs along axis, which need not be the last.
func concatAxis(tp *ag.Tape, xs []*ag.Var, axis int) *ag.Var {
	if len(xs) == 0 || tp.Err() != nil || slices.Contains(xs, nil) {
		return nil
	}
	shape := xs[0].Shape()
	total := 0
	for _, x := range xs {
		s := x.Shape()
		if len(s) != len(shape) {
			return tp.Fail("onnx.Concat", fmt.Errorf("inputs of ranks %d and %d", len(shape), len(s)))
		}
		for a := range s {
			if a != axis && s[a] != shape[a] {
				return tp.Fail("onnx.Concat", fmt.Errorf("shapes %v and %v differ outside axis %d", shape, s, axis))
			}
		}
		total += s[axis]
	}
	shape[axis] = total
	if err := checkActivation(shape); err != nil {
		return tp.Fail("onnx.Concat", err)
	}
	n, _ := numel(shape)
	idx := make([]int32, n)
	// Element (outer, a, inner) of the output is element (outer, a−off, inner) of the input whose
	// slab along axis covers a.
	outer := 1
	for _, d := range shape[:axis] {
		outer *= d
	}
	inner := 1
	for _, d := range shape[axis+1:] {
		inner *= d
	}
	pos, base := 0, 0
	bases := make([]int, len(xs))
	for k, x := range xs {
		bases[k] = base
		base += x.Value().Len()
	}
	for o := 0; o < outer; o++ {
		for k, x := range xs {
			m := x.Shape()[axis] * inner
			for j := 0; j < m; j++ {
				idx[pos] = int32(bases[k] + o*m + j)
				pos++
			}
		}
	}
	return gather(tp, "onnx.Concat", gatherAttrs{op: "Concat"}, xs, shape, idx, 0)
}

// broadcast returns the numpy broadcast of two shapes, or an error.
func broadcast(a, b []int) ([]int, error) {
	n := max(len(a), len(b))
	out := make([]int, n)
	for i := range out {
		da, db := 1, 1
		if j := i - (n - len(a)); j >= 0 {
			da = a[j]
		}
		if j := i - (n - len(b)); j >= 0 {
			db = b[j]
		}
		switch {
		case da == db || db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			return nil, fmt.Errorf("shapes %v and %v do not broadcast", a, b)
		}
	}
	return out, nil
}

// broadcastIndex returns, for every element of out, the flat index of
// the element of a shape-in tensor it reads under broadcasting.
func broadcastIndex(in, out []int) []int32 {
	st := strides(in)
	n := 1
	for _, d := range out {
		n *= d
	}
	idx := make([]int32, n)
	off := len(out) - len(in)
	forEach(out, func(pos int, ix []int) {
		o := 0
		for a := range in {
			if in[a] != 1 {
				o += ix[a+off] * st[a]
			}
		}
		idx[pos] = int32(o)
	})
	return idx
}

// binaryOp is an element-wise function of two values with its partial
// derivatives (given a, b and the output y).
type binaryOp struct {
	name   string
	f      func(a, b float32) float32
	da, db func(a, b, y float32) float32
}

var binaryOps = map[string]*binaryOp{
	"Add": {"onnx.Add", func(a, b float32) float32 { return a + b },
		func(_, _, _ float32) float32 { return 1 }, func(_, _, _ float32) float32 { return 1 }},
	"Sub": {"onnx.Sub", func(a, b float32) float32 { return a - b },
		func(_, _, _ float32) float32 { return 1 }, func(_, _, _ float32) float32 { return -1 }},
	"Mul": {"onnx.Mul", func(a, b float32) float32 { return a * b },
		func(_, b, _ float32) float32 { return b }, func(a, _, _ float32) float32 { return a }},
	"Div": {"onnx.Div", func(a, b float32) float32 { return a / b },
		func(_, b, _ float32) float32 { return 1 / b }, func(_, b, y float32) float32 { return -y / b }},
	"Pow": {"onnx.Pow", func(a, b float32) float32 { return float32(math.Pow(float64(a), float64(b))) },
		func(a, b, _ float32) float32 { return b * float32(math.Pow(float64(a), float64(b-1))) },
		func(a, _, y float32) float32 {
			if a <= 0 {
				return 0
			}
			return y * float32(math.Log(float64(a)))
		}},
}

// binaryAttrs tells a tracer which ONNX op a broadcasting Func is.
type binaryAttrs struct{ op string }

// applyBinary runs op on a and b with numpy broadcasting; both are in
// one layout (see layout.go).
func applyBinary(tp *ag.Tape, opName string, a, b *ag.Var) *ag.Var {
	if a == nil || b == nil || tp.Err() != nil {
		return nil
	}
	op := binaryOps[opName]
	sa, sb := a.Shape(), b.Shape()
	shape, err := broadcast(sa, sb)
	if err != nil {
		return tp.Fail(op.name, err)
	}
	if err := checkActivation(shape); err != nil {
		return tp.Fail(op.name, err)
	}
	var ia, ib []int32
	if !slices.Equal(sa, shape) {
		ia = broadcastIndex(sa, shape)
	}
	if !slices.Equal(sb, shape) {
		ib = broadcastIndex(sb, shape)
	}
	at := func(idx []int32, i int) int {
		if idx == nil {
			return i
		}
		return int(idx[i])
	}
	return tp.Apply(ag.Func{
		Name:  op.name,
		Attrs: binaryAttrs{opName},
		Forward: func(y []float32, in [][]float32) {
			for i := range y {
				y[i] = op.f(in[0][at(ia, i)], in[1][at(ib, i)])
			}
		},
		Backward: func(dxs [][]float32, dy, y []float32, in [][]float32) {
			da, db := dxs[0], dxs[1]
			clear(da)
			clear(db)
			for i, g := range dy {
				ja, jb := at(ia, i), at(ib, i)
				x0, x1 := in[0][ja], in[1][jb]
				if da != nil {
					da[ja] += g * op.da(x0, x1, y[i])
				}
				if db != nil {
					db[jb] += g * op.db(x0, x1, y[i])
				}
			}
		},
	}, shape, a, b)
}

// unaryAttrs tells a tracer which ONNX op an element-wise Func is, with
// its constants.
type unaryAttrs struct {
	op       string
	alpha    float32 // LeakyRelu's slope
	min, max float32 // Clip's bounds
}

// applyUnary runs an element-wise function with derivative d (of x and
// y) on x.
func applyUnary(tp *ag.Tape, attrs unaryAttrs, x *ag.Var, f func(float32) float32, d func(x, y float32) float32) *ag.Var {
	if x == nil || tp.Err() != nil {
		return nil
	}
	return tp.Apply(ag.Func{
		Name:  "onnx." + attrs.op,
		Attrs: attrs,
		Forward: func(y []float32, in [][]float32) {
			for i, v := range in[0] {
				y[i] = f(v)
			}
		},
		Backward: func(dxs [][]float32, dy, y []float32, in [][]float32) {
			for i, v := range in[0] {
				dxs[0][i] = dy[i] * d(v, y[i])
			}
		},
	}, x.Shape(), x)
}

func leakyRelu(tp *ag.Tape, x *ag.Var, alpha float32) *ag.Var {
	return applyUnary(tp, unaryAttrs{op: "LeakyRelu", alpha: alpha}, x,
		func(v float32) float32 {
			if v < 0 {
				return alpha * v
			}
			return v
		},
		func(v, _ float32) float32 {
			if v < 0 {
				return alpha
			}
			return 1
		})
}

func clip(tp *ag.Tape, x *ag.Var, lo, hi float32) *ag.Var {
	return applyUnary(tp, unaryAttrs{op: "Clip", min: lo, max: hi}, x,
		func(v float32) float32 { return min(max(v, lo), hi) },
		func(v, _ float32) float32 {
			if v < lo || v > hi {
				return 0
			}
			return 1
		})
}

// unaries are the parameterless element-wise ops beyond ag's.
var unaries = map[string][2]any{
	"Neg": {func(v float32) float32 { return -v }, func(_, _ float32) float32 { return -1 }},
	"Exp": {func(v float32) float32 { return float32(math.Exp(float64(v))) }, func(_, y float32) float32 { return y }},
	"Sqrt": {func(v float32) float32 { return float32(math.Sqrt(float64(v))) },
		func(_, y float32) float32 { return 0.5 / y }},
	"Abs": {func(v float32) float32 { return float32(math.Abs(float64(v))) }, func(v, _ float32) float32 {
		if v < 0 {
			return -1
		}
		return 1
	}},
	"Reciprocal": {func(v float32) float32 { return 1 / v }, func(_, y float32) float32 { return -y * y }},
}

// matmul is ONNX MatMul (numpy's matmul) of two computed values in ONNX
// order: a [..., M, K] by b [..., K, N], the batch axes broadcast, a 1-D
// operand taken as a row (a) or a column (b) and its axis dropped after.
func matmul(tp *ag.Tape, a, b *ag.Var) *ag.Var {
	if a == nil || b == nil || tp.Err() != nil {
		return nil
	}
	sa, sb := a.Shape(), b.Shape()
	if len(sa) == 0 || len(sb) == 0 {
		return tp.Fail("onnx.MatMul", fmt.Errorf("scalar operands %v and %v", sa, sb))
	}
	va, vb := slices.Clone(sa), slices.Clone(sb)
	if len(va) == 1 {
		va = []int{1, va[0]}
	}
	if len(vb) == 1 {
		vb = []int{vb[0], 1}
	}
	m, k, k2, n := va[len(va)-2], va[len(va)-1], vb[len(vb)-2], vb[len(vb)-1]
	if k != k2 {
		return tp.Fail("onnx.MatMul", fmt.Errorf("shapes %v and %v do not multiply", sa, sb))
	}
	batch, err := broadcast(va[:len(va)-2], vb[:len(vb)-2])
	if err != nil {
		return tp.Fail("onnx.MatMul", err)
	}
	shape := append(slices.Clone(batch), m, n)
	if err := checkActivation(shape); err != nil {
		return tp.Fail("onnx.MatMul", err)
	}
	// Which matrix of a and of b each output matrix reads.
	ia, ib := broadcastIndex(va[:len(va)-2], batch), broadcastIndex(vb[:len(vb)-2], batch)
	out := slices.Clone(batch)
	if len(sa) > 1 {
		out = append(out, m)
	}
	if len(sb) > 1 {
		out = append(out, n)
	}
	y := tp.Apply(ag.Func{
		Name: "onnx.MatMul",
		Forward: func(y []float32, in [][]float32) {
			for i := range ia {
				gemm.Sgemm(false, false, m, n, k, 1, in[0][int(ia[i])*m*k:], k, in[1][int(ib[i])*k*n:], n, 0, y[i*m*n:], n)
			}
		},
		Backward: func(dxs [][]float32, dy, _ []float32, in [][]float32) {
			da, db := dxs[0], dxs[1]
			clear(da)
			clear(db)
			for i := range ia {
				g := dy[i*m*n:]
				if da != nil { // dA += dY·Bᵀ
					gemm.Sgemm(false, true, m, k, n, 1, g, n, in[1][int(ib[i])*k*n:], n, 1, da[int(ia[i])*m*k:], k)
				}
				if db != nil { // dB += Aᵀ·dY
					gemm.Sgemm(true, false, k, n, m, 1, in[0][int(ia[i])*m*k:], k, g, n, 1, db[int(ib[i])*k*n:], n)
				}
			}
		},
	}, shape, a, b)
	if y == nil {
		return nil
	}
	return tp.Reshape(y, out...)
}
