package kern

import "unsafe"

// vecKernels is one implementation of the element-wise loops that every
// kernel of this package bottoms out in. The pure-Go set below is the
// reference; assembly sets must give the same results (bit for bit, except
// that fused multiply-adds round once).
//
// Each loop handles len(x) elements; callers check that the other slices
// are at least that long.
type vecKernels struct {
	name string
	// axpy: dst[i] += a * x[i]
	axpy func(dst []float32, a float32, x []float32)
	// add: z[i] = x[i] + y[i]
	add func(z, x, y []float32)
	// mul: z[i] = x[i] * y[i]
	mul func(z, x, y []float32)
	// scale: y[i] = a * x[i]
	scale func(y []float32, a float32, x []float32)
	// relu: y[i] = 0 if x[i] < 0 else x[i] (NaN passes through)
	relu func(y, x []float32)
	// reluGrad: dx[i] = dy[i] if x[i] > 0 else 0
	reluGrad func(dx, dy, x []float32)
	// scaleShift: y[r*C+c] = x[r*C+c]*a[c] + b[c] with C = len(a) = len(b)
	scaleShift func(y, x, a, b []float32)
	// maxNaN: z[i] = y[i] if y[i] > x[i] or y[i] is NaN, else x[i] (the
	// maximum, NaN when either is; VMAXPS's choice on ties and zeros)
	maxNaN func(z, x, y []float32)
	// maxIdx: where x[i] > ym[i] or x[i] is NaN, ym[i] = x[i] and ix[i] = pix
	maxIdx func(ym []float32, ix []int32, x []float32, pix int32)
	// epilogueRows: for rows rows of cols values that start ld apart in y,
	// x and res, y[i] = act(x[i]·scale[j] + shift[j] + res[i]) with j the
	// column, where an empty scale, shift or res stands for 1, 0 and 0 and
	// act is ReLU (NaN passes through) when relu is set, else the identity.
	// The multiply and the additions round one at a time, in that order.
	epilogueRows func(y, x []float32, ld, rows, cols int, scale, shift, res []float32, relu bool)
	// maxWindow: for each output pixel p of c channels in y (len(y)/c of
	// them), y[p·c+j] = the maximum over the taps t of x[t][p·xs+j], made
	// as maxNaN makes it, tap after tap: acc = x[0][…], then acc = v
	// where v > acc or v is NaN (a max pooling's window, the first tap
	// kept on ties, as PyTorch does). The caller checks that every tap's
	// pixels lie within its input.
	maxWindow func(y []float32, x []*float32, c, xs int)
}

// goVec is the pure-Go implementation, used with the noasm tag, on other
// architectures and on processors without AVX2+FMA.
var goVec = vecKernels{
	name: "go",
	axpy: func(dst []float32, a float32, x []float32) {
		dst = dst[:len(x)]
		for i, v := range x {
			dst[i] += a * v
		}
	},
	add: func(z, x, y []float32) {
		z, y = z[:len(x)], y[:len(x)]
		for i, v := range x {
			z[i] = v + y[i]
		}
	},
	mul: func(z, x, y []float32) {
		z, y = z[:len(x)], y[:len(x)]
		for i, v := range x {
			z[i] = v * y[i]
		}
	},
	scale: func(y []float32, a float32, x []float32) {
		y = y[:len(x)]
		for i, v := range x {
			y[i] = a * v
		}
	},
	relu: func(y, x []float32) {
		y = y[:len(x)]
		for i, v := range x {
			if v < 0 {
				v = 0
			}
			y[i] = v
		}
	},
	reluGrad: func(dx, dy, x []float32) {
		dx, dy = dx[:len(x)], dy[:len(x)]
		for i, v := range x {
			g := dy[i]
			if !(v > 0) {
				g = 0
			}
			dx[i] = g
		}
	},
	scaleShift: func(y, x, a, b []float32) {
		c := len(a)
		if c == 0 {
			return
		}
		b = b[:c]
		y = y[:len(x)]
		for r := 0; r+c <= len(x); r += c {
			xr, yr := x[r:r+c], y[r:r+c]
			for j, v := range xr {
				yr[j] = v*a[j] + b[j]
			}
		}
	},
	maxNaN: goMaxNaN,
	maxIdx: func(ym []float32, ix []int32, x []float32, pix int32) {
		ym, ix = ym[:len(x)], ix[:len(x)]
		for i, v := range x {
			if v > ym[i] || v != v {
				ym[i], ix[i] = v, pix
			}
		}
	},
	epilogueRows: goEpilogueRows,
	maxWindow:    tapByTap(goMaxNaN),
}

func goMaxNaN(z, x, y []float32) {
	z, y = z[:len(x)], y[:len(x)]
	for i, v := range x {
		if w := y[i]; w > v || w != w {
			v = w
		}
		z[i] = v
	}
}

// tapByTap is maxWindow made of a set's maxNaN, one call a pixel and tap:
// for the sets without a kernel of their own.
func tapByTap(maxNaN func(z, x, y []float32)) func(y []float32, x []*float32, c, xs int) {
	return func(y []float32, x []*float32, c, xs int) {
		for px := range len(y) / c {
			yr := y[px*c : (px+1)*c]
			for t, p := range x {
				src := unsafe.Slice((*float32)(unsafe.Add(unsafe.Pointer(p), 4*px*xs)), c)
				if t == 0 {
					copy(yr, src)
					continue
				}
				maxNaN(yr, yr, src)
			}
		}
	}
}

func goEpilogueRows(y, x []float32, ld, rows, cols int, scale, shift, res []float32, relu bool) {
	for r := range rows {
		var rr []float32
		if len(res) > 0 {
			rr = res[r*ld : r*ld+cols]
		}
		goEpilogue(y[r*ld:r*ld+cols], x[r*ld:r*ld+cols], scale, shift, rr, relu)
	}
}

func goEpilogue(y, x, scale, shift, res []float32, relu bool) {
	y = y[:len(x)]
	for i, v := range x {
		if len(scale) > 0 {
			v *= scale[i]
		}
		if len(shift) > 0 {
			v += shift[i]
		}
		if len(res) > 0 {
			v += res[i]
		}
		if relu && v < 0 {
			v = 0
		}
		y[i] = v
	}
}

// vecImpls lists every implementation this machine can run, fastest
// first; the tests run all of them.
var vecImpls = append(asmVecs(), goVec)

// vec is the implementation the kernels use, chosen once at start-up.
var vec = vecImpls[0]
