package augment

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/foveaml/fovea/data"
)

// PCAColor is AlexNet's colour augmentation ("fancy PCA", Krizhevsky et
// al. 2012, section 4.1): to every pixel of an RGB image it adds
//
//	[p1 p2 p3]·[α1·λ1, α2·λ2, α3·λ3]ᵀ
//
// where p_i and λ_i are the eigenvectors and eigenvalues of the 3×3
// covariance of the dataset's RGB values and each α_i is drawn once per
// image from N(0, σ²). The shift follows the natural variations of the
// data's colour and intensity, to which object identity is invariant.
// The eigenvalues carry the scale of the pixel values: fit them on data
// in the range the model sees (FitPCAColor), or use ImageNetPCA for
// pixels in [0, 1]. Nothing is clipped, as in the paper.
type PCAColor struct {
	// EigVec holds the eigenvectors as columns: EigVec[k][i] is channel
	// k's component of p_i, each p_i of unit length.
	EigVec [3][3]float64
	// EigVal holds the eigenvalues λ_i, largest first.
	EigVal [3]float64
	// Sigma is the standard deviation of the alphas; 0 means 0.1, the
	// paper's.
	Sigma float64
}

// ImageNetPCA is the widely used PCA of ImageNet's RGB values in [0, 1]
// (from fb.resnet.torch), with σ = 0.1.
var ImageNetPCA = PCAColor{
	EigVec: [3][3]float64{
		{-0.5675, 0.7192, 0.4009},
		{-0.5808, -0.0045, -0.8140},
		{-0.5836, -0.6948, 0.4203},
	},
	EigVal: [3]float64{0.2175, 0.0188, 0.0045},
	Sigma:  0.1,
}

// PCAParams are the alphas of one image.
type PCAParams struct{ Alpha [3]float64 }

// Shift returns the RGB offset that the alphas of p add to every pixel.
func (pc PCAColor) Shift(p PCAParams) [3]float64 {
	var s [3]float64
	for k := range 3 {
		for i := range 3 {
			s[k] += pc.EigVec[k][i] * p.Alpha[i] * pc.EigVal[i]
		}
	}
	return s
}

// OutShape returns the shape unchanged; the image must have three
// channels.
func (pc PCAColor) OutShape(h, w, c int) (int, int, int, error) {
	if err := checkShape(h, w, c); err != nil {
		return 0, 0, 0, err
	}
	if c != 3 {
		return 0, 0, 0, fmt.Errorf("PCA colour augmentation needs 3 (RGB) channels, not %d", c)
	}
	if pc.Sigma < 0 || math.IsNaN(pc.Sigma) || math.IsInf(pc.Sigma, 0) {
		return 0, 0, 0, fmt.Errorf("PCA colour sigma %v is not a finite standard deviation", pc.Sigma)
	}
	for i, l := range pc.EigVal {
		if l < 0 || math.IsNaN(l) || math.IsInf(l, 0) {
			return 0, 0, 0, fmt.Errorf("PCA colour eigenvalue %d is %v: want a finite value >= 0", i, l)
		}
	}
	return h, w, c, nil
}

// Sample draws the three alphas from N(0, σ²).
func (pc PCAColor) Sample(rng *rand.Rand, h, w, c int) PCAParams {
	s := orDefault(pc.Sigma, 0.1)
	return PCAParams{Alpha: [3]float64{s * rng.NormFloat64(), s * rng.NormFloat64(), s * rng.NormFloat64()}}
}

// Inference returns zero alphas: the identity.
func (PCAColor) Inference(h, w, c int) PCAParams { return PCAParams{} }

func (pc PCAColor) step(k call) (Params, error) { return runStep(pc, k) }

// Apply adds the shift of p to every pixel of src, into dst.
// It checks the shape and the buffers first, as the function Apply
// does.
func (pc PCAColor) Apply(dst, src []float32, h, w, c int, p PCAParams) error {
	return Apply[PCAParams](pc, dst, src, h, w, c, p)
}

// apply is Apply on a shape and buffers already checked.
func (pc PCAColor) apply(dst, src []float32, h, w, c int, p PCAParams) error {
	s := pc.Shift(p)
	r, g, b := float32(s[0]), float32(s[1]), float32(s[2])
	for i := 0; i < len(src); i += 3 {
		dst[i] = src[i] + r
		dst[i+1] = src[i+1] + g
		dst[i+2] = src[i+2] + b
	}
	return nil
}

// FitPCAColor computes the PCA of ds's RGB values: the covariance of all
// the pixels of samples images drawn without replacement (all of them if
// samples is 0 or at least ds.Len(); which ones is a pure function of
// seed), in float64, and its eigen-decomposition. It returns a PCAColor
// with σ = 0.1 and the eigenpairs largest first, each eigenvector's
// largest component positive. It is an error if ds's images do not have
// three channels.
func FitPCAColor(ds data.Dataset, samples int, seed uint64) (PCAColor, error) {
	h, w, c := ds.Shape()
	if c != 3 {
		return PCAColor{}, fmt.Errorf("augment.FitPCAColor: the images have %d channels, want 3 (RGB)", c)
	}
	n := ds.Len()
	if n == 0 {
		return PCAColor{}, fmt.Errorf("augment.FitPCAColor: the dataset is empty")
	}
	if samples < 0 {
		return PCAColor{}, fmt.Errorf("augment.FitPCAColor: %d samples: want 0 (all) or more", samples)
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	if samples > 0 && samples < n {
		rng := rand.New(rand.NewPCG(seed, 0x9ca5eed))
		for i := range samples { // a partial Fisher-Yates shuffle
			j := i + rng.IntN(n-i)
			idx[i], idx[j] = idx[j], idx[i]
		}
		idx = idx[:samples]
	}
	img := make([]float32, h*w*c)
	// Sums of values shifted by the first pixel, for accuracy.
	var ref, sum [3]float64
	var prod [3][3]float64
	count := 0
	for k, i := range idx {
		if _, err := ds.Example(i, img); err != nil {
			return PCAColor{}, fmt.Errorf("augment.FitPCAColor: %w", err)
		}
		if k == 0 {
			ref = [3]float64{float64(img[0]), float64(img[1]), float64(img[2])}
		}
		for p := 0; p < len(img); p += 3 {
			d := [3]float64{float64(img[p]) - ref[0], float64(img[p+1]) - ref[1], float64(img[p+2]) - ref[2]}
			for a := range 3 {
				sum[a] += d[a]
				for b := a; b < 3; b++ {
					prod[a][b] += d[a] * d[b]
				}
			}
		}
		count += h * w
	}
	cnt := float64(count)
	cov := mat.NewSymDense(3, nil)
	for a := range 3 {
		for b := a; b < 3; b++ {
			v := prod[a][b]/cnt - (sum[a]/cnt)*(sum[b]/cnt)
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return PCAColor{}, fmt.Errorf("augment.FitPCAColor: the pixel values are not finite")
			}
			cov.SetSym(a, b, v)
		}
	}
	var es mat.EigenSym
	if !es.Factorize(cov, true) {
		return PCAColor{}, fmt.Errorf("augment.FitPCAColor: the eigen-decomposition did not converge")
	}
	vals := es.Values(nil) // ascending
	var vecs mat.Dense
	es.VectorsTo(&vecs)
	pc := PCAColor{Sigma: 0.1}
	for i := range 3 {
		j := 2 - i // largest first
		pc.EigVal[i] = max(vals[j], 0)
		big := 0
		for k := range 3 {
			if math.Abs(vecs.At(k, j)) > math.Abs(vecs.At(big, j)) {
				big = k
			}
		}
		sign := 1.0
		if vecs.At(big, j) < 0 {
			sign = -1
		}
		for k := range 3 {
			pc.EigVec[k][i] = sign * vecs.At(k, j)
		}
	}
	return pc, nil
}
