package kern

import (
	"fmt"
	"math"
)

// LRN is local response normalisation across channels (Krizhevsky et al.
// 2012), with the semantics of PyTorch's nn.LocalResponseNorm: at every
// pixel of an NHWC tensor,
//
//	s[c] = K + Alpha/Size · Σ x[c']²  over  c−⌊Size/2⌋ ≤ c' ≤ c+⌊(Size−1)/2⌋
//	y[c] = x[c] · s[c]^(−Beta)
//
// with channels outside [0, C) counting as 0. Alpha is divided by Size,
// as in PyTorch and ONNX's LRN (whose bias is K); for odd Size the window
// is the same as ONNX's, for even Size ONNX puts the extra channel after
// c and PyTorch, and this, before. AlexNet's is LRN{Size: 5, Alpha: 1e-4,
// Beta: 0.75, K: 2}.
type LRN struct {
	Size           int
	Alpha, Beta, K float32
}

// window returns how far the sum reaches below and above c.
func (l LRN) window() (below, above int) { return l.Size / 2, (l.Size - 1) / 2 }

// scales sets s[c] and p[c] = s[c]^(−Beta) for one pixel's channels x.
func (l LRN) scales(s, p, x []float32) {
	below, above := l.window()
	a := float64(l.Alpha) / float64(l.Size)
	for c := range x {
		sum := 0.0
		for _, v := range x[max(c-below, 0):min(c+above+1, len(x))] {
			sum += float64(v) * float64(v)
		}
		sc := float64(l.K) + a*sum
		s[c] = float32(sc)
		switch l.Beta {
		case 0.75: // AlexNet's: two square roots beat a power
			r := math.Sqrt(sc)
			p[c] = float32(1 / (r * math.Sqrt(r)))
		case 0.5:
			p[c] = float32(1 / math.Sqrt(sc))
		default:
			p[c] = float32(math.Pow(sc, -float64(l.Beta)))
		}
	}
}

func (l LRN) check(op string, d Dims, s ...[]float32) {
	if l.Size < 1 {
		panic(fmt.Sprintf("kern.LRN.%s: size %d", op, l.Size))
	}
	for _, v := range s {
		if len(v) != d.Len() {
			panic(fmt.Sprintf("kern.LRN.%s: tensor of length %d for dims %v", op, len(v), d))
		}
	}
}

// Forward sets y = LRN(x) for x and y of dims d. y must not alias x.
func (l LRN) Forward(y, x []float32, d Dims) {
	l.check("Forward", d, y, x)
	c := d.C
	forRows(d.N*d.H*d.W, c*l.Size, func(lo, hi int) {
		sp := make([]float32, 2*c)
		s, p := sp[:c], sp[c:]
		for r := lo; r < hi; r++ {
			xr, yr := x[r*c:(r+1)*c], y[r*c:(r+1)*c]
			l.scales(s, p, xr)
			vec.mul(yr, xr, p)
		}
	})
}

// Backward sets dx to the gradient of Forward at x (dims d), given dy:
//
//	dx[i] = dy[i]·s[i]^(−Beta) − 2·Beta·Alpha/Size · x[i] · Σ_c dy[c]·x[c]·s[c]^(−Beta−1)
//
// where c runs over the channels whose windows contain i. It recomputes s
// from x, so it needs no saved state. dx must not alias x or dy.
func (l LRN) Backward(dx, dy, x []float32, d Dims) {
	l.check("Backward", d, dx, dy, x)
	c := d.C
	below, above := l.window()
	coef := 2 * l.Beta * l.Alpha / float32(l.Size)
	forRows(d.N*d.H*d.W, 2*c*l.Size, func(lo, hi int) {
		sp := make([]float32, 3*c)
		s, p, t := sp[:c], sp[c:2*c], sp[2*c:]
		for r := lo; r < hi; r++ {
			xr, dyr, dxr := x[r*c:(r+1)*c], dy[r*c:(r+1)*c], dx[r*c:(r+1)*c]
			l.scales(s, p, xr)
			for j, v := range xr {
				t[j] = dyr[j] * v * p[j] / s[j]
			}
			// Channel i is in the window of c for c−below ≤ i ≤ c+above,
			// that is i−above ≤ c ≤ i+below.
			for i, v := range xr {
				sum := float32(0)
				for _, u := range t[max(i-above, 0):min(i+below+1, c)] {
					sum += u
				}
				dxr[i] = dyr[i]*p[i] - coef*v*sum
			}
		}
	})
}
