package augment

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/foveaml/fovea/data"
)

func TestImageNetPCAIsOrthonormal(t *testing.T) {
	v := ImageNetPCA.EigVec
	for i := range 3 {
		for j := range 3 {
			var dot float64
			for k := range 3 {
				dot += v[k][i] * v[k][j]
			}
			want := 0.0
			if i == j {
				want = 1
			}
			if math.Abs(dot-want) > 2e-3 { // the preset is rounded to 4 digits
				t.Errorf("p%d·p%d = %v, want %v", i+1, j+1, dot, want)
			}
		}
	}
	if l := ImageNetPCA.EigVal; !(l[0] > l[1] && l[1] > l[2] && l[2] > 0) {
		t.Errorf("eigenvalues %v are not positive and descending", l)
	}
}

func TestPCAColorShiftsTheMeanExactly(t *testing.T) {
	rng := newRand(4)
	h, w := 6, 5
	img := randImage(rng, h, w, 3)
	// α = 0 is the identity.
	if got := apply(t, ImageNetPCA, img, h, w, 3, PCAParams{}); maxDiff(got, img) != 0 {
		t.Error("alpha 0 is not the identity")
	}
	alpha := PCAParams{Alpha: [3]float64{0.3, -0.2, 0.5}}
	got := apply(t, ImageNetPCA, img, h, w, 3, alpha)
	// Every pixel, hence the mean, moves by P(α⊙λ); the spatial variance
	// is unchanged.
	var want [3]float64
	for k := range 3 {
		for i := range 3 {
			want[k] += ImageNetPCA.EigVec[k][i] * alpha.Alpha[i] * ImageNetPCA.EigVal[i]
		}
	}
	m0, v0 := channelStats(img)
	m1, v1 := channelStats(got)
	for k := range 3 {
		if d := m1[k] - m0[k] - want[k]; math.Abs(d) > 1e-6 {
			t.Errorf("channel %d mean moved by %v, want %v", k, m1[k]-m0[k], want[k])
		}
		if math.Abs(v1[k]-v0[k]) > 1e-6 {
			t.Errorf("channel %d variance changed from %v to %v", k, v0[k], v1[k])
		}
	}
	if s := ImageNetPCA.Shift(alpha); s != want {
		t.Errorf("Shift = %v, want %v", s, want)
	}
	if _, _, _, err := ImageNetPCA.OutShape(28, 28, 1); err == nil {
		t.Error("PCA colour on one channel: no error")
	}
}

func channelStats(img []float32) (mean, variance [3]float64) {
	n := float64(len(img) / 3)
	for i := 0; i < len(img); i += 3 {
		for k := range 3 {
			mean[k] += float64(img[i+k]) / n
		}
	}
	for i := 0; i < len(img); i += 3 {
		for k := range 3 {
			d := float64(img[i+k]) - mean[k]
			variance[k] += d * d / n
		}
	}
	return
}

func TestPCAColorAlphaDistribution(t *testing.T) {
	rng := newRand(8)
	var ss [3]float64
	const n = 20000
	for range n {
		a := (PCAColor{}).Sample(rng, 1, 1, 3).Alpha
		for i := range 3 {
			ss[i] += a[i] * a[i]
		}
	}
	for i := range 3 {
		if sd := math.Sqrt(ss[i] / n); math.Abs(sd-0.1) > 0.004 {
			t.Errorf("alpha %d has standard deviation %v, want 0.1 (the default)", i, sd)
		}
	}
}

// TestFitPCAColorRecoversEigenpairs draws pixels from a Gaussian with a
// known covariance Q·diag(λ)·Qᵀ and fits them.
func TestFitPCAColorRecoversEigenpairs(t *testing.T) {
	th := 0.7
	// An orthonormal basis: a rotation about the grey axis applied to a
	// fixed orthonormal frame.
	g := [3]float64{1 / math.Sqrt(3), 1 / math.Sqrt(3), 1 / math.Sqrt(3)}
	u := [3]float64{1 / math.Sqrt(2), -1 / math.Sqrt(2), 0}
	v := [3]float64{1 / math.Sqrt(6), 1 / math.Sqrt(6), -2 / math.Sqrt(6)}
	var q [3][3]float64 // columns q0 = g, q1, q2
	for k := range 3 {
		q[k][0] = g[k]
		q[k][1] = math.Cos(th)*u[k] + math.Sin(th)*v[k]
		q[k][2] = -math.Sin(th)*u[k] + math.Cos(th)*v[k]
	}
	lambda := [3]float64{0.04, 0.01, 0.0025}
	rng := rand.New(rand.NewPCG(1, 2))
	const n, h, w = 200, 16, 16
	pix := make([]float32, n*h*w*3)
	for p := 0; p < len(pix); p += 3 {
		var z [3]float64
		for i := range 3 {
			z[i] = rng.NormFloat64() * math.Sqrt(lambda[i])
		}
		for k := range 3 {
			pix[p+k] = float32(0.5 + q[k][0]*z[0] + q[k][1]*z[1] + q[k][2]*z[2])
		}
	}
	ds, err := data.NewInMemory(pix, make([]int32, n), h, w, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := FitPCAColor(ds, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if pc.Sigma != 0.1 {
		t.Errorf("sigma %v, want 0.1", pc.Sigma)
	}
	for i := range 3 {
		if rel := math.Abs(pc.EigVal[i]-lambda[i]) / lambda[i]; rel > 0.02 {
			t.Errorf("eigenvalue %d: %v, want %v", i, pc.EigVal[i], lambda[i])
		}
		var dot, norm float64
		for k := range 3 {
			dot += pc.EigVec[k][i] * q[k][i]
			norm += pc.EigVec[k][i] * pc.EigVec[k][i]
		}
		if math.Abs(math.Abs(dot)-1) > 1e-3 || math.Abs(norm-1) > 1e-9 {
			t.Errorf("eigenvector %d: |p·q| = %v, |p|² = %v", i, math.Abs(dot), norm)
		}
	}
	// The eigenpairs reproduce a direct covariance computation: Σ = PΛPᵀ.
	cov := directCov(pix)
	for a := range 3 {
		for b := range 3 {
			var s float64
			for i := range 3 {
				s += pc.EigVec[a][i] * pc.EigVal[i] * pc.EigVec[b][i]
			}
			if math.Abs(s-cov[a][b]) > 1e-9 {
				t.Errorf("PΛPᵀ[%d][%d] = %v, direct covariance %v", a, b, s, cov[a][b])
			}
		}
	}
	// A subsample is a pure function of the seed and close to the whole.
	s1, err1 := FitPCAColor(ds, 50, 7)
	s2, err2 := FitPCAColor(ds, 50, 7)
	if err1 != nil || err2 != nil || s1 != s2 {
		t.Errorf("subsampled fits differ: %v %v", err1, err2)
	}
	if math.Abs(s1.EigVal[0]-lambda[0])/lambda[0] > 0.05 {
		t.Errorf("subsampled first eigenvalue %v, want about %v", s1.EigVal[0], lambda[0])
	}
}

func directCov(pix []float32) (cov [3][3]float64) {
	n := float64(len(pix) / 3)
	var mean [3]float64
	for p := 0; p < len(pix); p += 3 {
		for k := range 3 {
			mean[k] += float64(pix[p+k]) / n
		}
	}
	for p := 0; p < len(pix); p += 3 {
		for a := range 3 {
			for b := range 3 {
				cov[a][b] += (float64(pix[p+a]) - mean[a]) * (float64(pix[p+b]) - mean[b]) / n
			}
		}
	}
	return cov
}

func TestFitPCAColorErrors(t *testing.T) {
	grey, _ := data.NewInMemory(make([]float32, 4), []int32{0}, 2, 2, 1, 1)
	if _, err := FitPCAColor(grey, 0, 1); err == nil {
		t.Error("one channel: no error")
	}
	rgb, _ := data.NewInMemory(make([]float32, 12), []int32{0}, 2, 2, 3, 1)
	if _, err := FitPCAColor(rgb, -1, 1); err == nil {
		t.Error("negative samples: no error")
	}
}
