package onnx

import (
	"fmt"
	"slices"
)

// The integer ops below run the shape arithmetic exporters write around
// Reshape, Pad and Slice (Shape, Gather, Concat, ...), once per pass,
// on small tensors in ONNX's order.

func scalarInts(v int64) *ints { return &ints{shape: []int{}, d: []int64{v}} }

func vecInts(vs []int64) *ints { return &ints{shape: []int{len(vs)}, d: vs} }

// newInts makes an integer tensor of a shape, bounded like every other.
func newInts(shape []int) (*ints, error) {
	n, err := numel(shape)
	if err != nil {
		return nil, err
	}
	if n > maxIntElements {
		return nil, fmt.Errorf("an integer tensor of shape %v is larger than fovea's limit for shape arithmetic", shape)
	}
	return &ints{shape: slices.Clone(shape), d: make([]int64, n)}, nil
}

// normAxis maps a possibly negative axis into [0, rank).
func normAxis(axis int64, rank int) (int, error) {
	if axis < 0 {
		axis += int64(rank)
	}
	if axis < 0 || axis >= int64(rank) {
		return 0, fmt.Errorf("axis %d is out of range for rank %d", axis, rank)
	}
	return int(axis), nil
}

func intBinary(op string, a, b *ints) (*ints, error) {
	shape, err := broadcast(a.shape, b.shape)
	if err != nil {
		return nil, err
	}
	out, err := newInts(shape)
	if err != nil {
		return nil, err
	}
	ia, ib := broadcastIndex(a.shape, shape), broadcastIndex(b.shape, shape)
	for i := range out.d {
		x, y := a.d[ia[i]], b.d[ib[i]]
		switch op {
		case "Add":
			out.d[i] = x + y
		case "Sub":
			out.d[i] = x - y
		case "Mul":
			out.d[i] = x * y
		case "Div":
			if y == 0 {
				return nil, fmt.Errorf("integer division by zero")
			}
			out.d[i] = x / y
		case "Equal":
			out.d[i] = b2i(x == y)
		case "Less":
			out.d[i] = b2i(x < y)
		case "Greater":
			out.d[i] = b2i(x > y)
		case "Max":
			out.d[i] = max(x, y)
		case "Min":
			out.d[i] = min(x, y)
		default:
			return nil, fmt.Errorf("integer %s is not supported", op)
		}
	}
	return out, nil
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// gatherInts is ONNX Gather on integers.
func gatherInts(data, idx *ints, axis int64) (*ints, error) {
	ax, err := normAxis(axis, len(data.shape))
	if err != nil {
		return nil, err
	}
	shape := append(append(slices.Clone(data.shape[:ax]), idx.shape...), data.shape[ax+1:]...)
	out, err := newInts(shape)
	if err != nil {
		return nil, err
	}
	outer, inner := 1, 1
	for _, d := range data.shape[:ax] {
		outer *= d
	}
	for _, d := range data.shape[ax+1:] {
		inner *= d
	}
	n := data.shape[ax]
	p := 0
	for o := 0; o < outer; o++ {
		for _, j := range idx.d {
			if j < 0 {
				j += int64(n)
			}
			if j < 0 || j >= int64(n) {
				return nil, fmt.Errorf("index %d is out of range for an axis of %d", j, n)
			}
			copy(out.d[p:p+inner], data.d[(o*n+int(j))*inner:])
			p += inner
		}
	}
	return out, nil
}

// sliceSpec resolves ONNX Slice's starts, ends, axes and steps for a
// shape into a start, step and count per axis.
func sliceSpec(shape []int, starts, ends, axes, steps []int64) (start, step, count []int, err error) {
	r := len(shape)
	start, step, count = make([]int, r), make([]int, r), slices.Clone(shape)
	for i := range step {
		step[i] = 1
	}
	if len(ends) != len(starts) || (axes != nil && len(axes) != len(starts)) || (steps != nil && len(steps) != len(starts)) {
		return nil, nil, nil, fmt.Errorf("slice has %d starts, %d ends, %d axes and %d steps", len(starts), len(ends), len(axes), len(steps))
	}
	for k := range starts {
		ax := int64(k)
		if axes != nil {
			ax = axes[k]
		}
		a, err := normAxis(ax, r)
		if err != nil {
			return nil, nil, nil, err
		}
		st := int64(1)
		if steps != nil {
			st = steps[k]
		}
		if st == 0 {
			return nil, nil, nil, fmt.Errorf("slice step 0")
		}
		d := int64(shape[a])
		clampIdx := func(v int64, lo, hi int64) int64 {
			if v < 0 {
				v += d
			}
			return min(max(v, lo), hi)
		}
		var b, e int64
		if st > 0 {
			b, e = clampIdx(starts[k], 0, d), clampIdx(ends[k], 0, d)
		} else {
			b, e = clampIdx(starts[k], 0, d-1), clampIdx(ends[k], -1, d-1)
			if ends[k] < -d {
				e = -1
			}
		}
		n := int64(0)
		if st > 0 && e > b {
			n = (e - b + st - 1) / st
		} else if st < 0 && b > e {
			n = (b - e + (-st) - 1) / (-st)
		}
		start[a], step[a], count[a] = int(b), int(st), int(n)
	}
	return start, step, count, nil
}

func sliceInts(t *ints, start, step, count []int) (*ints, error) {
	out, err := newInts(count)
	if err != nil {
		return nil, err
	}
	st := strides(t.shape)
	forEach(count, func(pos int, ix []int) {
		o := 0
		for a := range ix {
			o += (start[a] + ix[a]*step[a]) * st[a]
		}
		out.d[pos] = t.d[o]
	})
	return out, nil
}

func permuteInts(t *ints, perm []int) (*ints, error) {
	if len(perm) != len(t.shape) {
		return nil, fmt.Errorf("perm %v for rank %d", perm, len(t.shape))
	}
	shape := make([]int, len(perm))
	for i, p := range perm {
		if p < 0 || p >= len(perm) {
			return nil, fmt.Errorf("perm %v is not a permutation", perm)
		}
		shape[i] = t.shape[p]
	}
	out, err := newInts(shape)
	if err != nil {
		return nil, err
	}
	st := strides(t.shape)
	forEach(shape, func(pos int, ix []int) {
		o := 0
		for i, p := range perm {
			o += ix[i] * st[p]
		}
		out.d[pos] = t.d[o]
	})
	return out, nil
}

func concatInts(ts []*ints, axis int64) (*ints, error) {
	r := len(ts[0].shape)
	ax, err := normAxis(axis, r)
	if err != nil {
		return nil, err
	}
	shape := slices.Clone(ts[0].shape)
	shape[ax] = 0
	for _, t := range ts {
		if len(t.shape) != r {
			return nil, fmt.Errorf("concatenating ranks %d and %d", r, len(t.shape))
		}
		for a := range t.shape {
			if a != ax && t.shape[a] != ts[0].shape[a] {
				return nil, fmt.Errorf("shapes %v and %v differ off axis %d", ts[0].shape, t.shape, ax)
			}
		}
		shape[ax] += t.shape[ax]
	}
	out, err := newInts(shape)
	if err != nil {
		return nil, err
	}
	outer := 1
	for _, d := range shape[:ax] {
		outer *= d
	}
	p := 0
	for o := 0; o < outer; o++ {
		for _, t := range ts {
			m := len(t.d) / max(outer, 1)
			p += copy(out.d[p:], t.d[o*m:(o+1)*m])
		}
	}
	return out, nil
}

// reshapeTarget resolves ONNX Reshape's shape (0 copies a dimension
// unless allowzero, −1 is inferred) for an input shape.
func reshapeTarget(in []int, spec []int64, allowZero bool) ([]int, error) {
	n := 1
	for _, d := range in {
		n *= d
	}
	out := make([]int, len(spec))
	infer, known := -1, 1
	for i, v := range spec {
		switch {
		case v == -1:
			if infer >= 0 {
				return nil, fmt.Errorf("shape %v has two -1s", spec)
			}
			infer = i
			continue
		case v == 0 && !allowZero:
			if i >= len(in) {
				return nil, fmt.Errorf("shape %v copies dimension %d of a rank-%d input", spec, i, len(in))
			}
			out[i] = in[i]
		case v < 0 || v > maxElements:
			return nil, fmt.Errorf("shape %v has dimension %d", spec, v)
		default:
			out[i] = int(v)
		}
		if out[i] > 0 && known > maxElements/out[i] {
			return nil, fmt.Errorf("shape %v is too large", spec)
		}
		known *= out[i]
	}
	if infer >= 0 {
		if known == 0 || n%known != 0 {
			return nil, fmt.Errorf("cannot reshape %v (%d values) to %v", in, n, spec)
		}
		out[infer] = n / known
		known = n
	}
	if known != n {
		return nil, fmt.Errorf("cannot reshape %v (%d values) to %v", in, n, spec)
	}
	return out, nil
}

// squeezeShape drops axes of size 1 (all of them when axes is nil).
func squeezeShape(in []int, axes []int64) ([]int, error) {
	drop := make([]bool, len(in))
	if axes == nil {
		for i, d := range in {
			drop[i] = d == 1
		}
	}
	for _, a := range axes {
		ax, err := normAxis(a, len(in))
		if err != nil {
			return nil, err
		}
		if in[ax] != 1 {
			return nil, fmt.Errorf("cannot squeeze axis %d of shape %v", ax, in)
		}
		drop[ax] = true
	}
	var out []int
	for i, d := range in {
		if !drop[i] {
			out = append(out, d)
		}
	}
	return append([]int{}, out...), nil
}

// unsqueezeShape inserts axes of size 1.
func unsqueezeShape(in []int, axes []int64) ([]int, error) {
	r := len(in) + len(axes)
	if r > 16 {
		return nil, fmt.Errorf("unsqueezing to rank %d", r)
	}
	ins := make([]bool, r)
	for _, a := range axes {
		ax, err := normAxis(a, r)
		if err != nil {
			return nil, err
		}
		if ins[ax] {
			return nil, fmt.Errorf("axis %d given twice", ax)
		}
		ins[ax] = true
	}
	out, k := make([]int, r), 0
	for i := range out {
		if ins[i] {
			out[i] = 1
		} else {
			out[i] = in[k]
			k++
		}
	}
	return out, nil
}
