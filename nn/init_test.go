package nn

import (
	"math"
	"testing"
)

// TestInitialisers draws many weights from each initialiser and checks
// the spread its doc comment states: the standard deviation of the normal
// ones, the bound (and matching standard deviation) of the uniform ones.
func TestInitialisers(t *testing.T) {
	const fanIn, fanOut, n = 300, 100, 200000
	for _, c := range []struct {
		name  string
		init  Init
		std   float64 // expected standard deviation
		bound float64 // for uniform ones: |w| ≤ bound; 0 for normal ones
	}{
		{"HeNormal", HeNormal, math.Sqrt(2.0 / fanIn), 0},
		{"HeUniform", HeUniform, math.Sqrt(2.0 / fanIn), math.Sqrt(6.0 / fanIn)},
		{"GlorotNormal", GlorotNormal, math.Sqrt(2.0 / (fanIn + fanOut)), 0},
		{"GlorotUniform", GlorotUniform, math.Sqrt(2.0 / (fanIn + fanOut)), math.Sqrt(6.0 / (fanIn + fanOut))},
		{"LeCunNormal", LeCunNormal, math.Sqrt(1.0 / fanIn), 0},
		{"LeCunUniform", LeCunUniform, math.Sqrt(1.0 / fanIn), math.Sqrt(3.0 / fanIn)},
		{"TorchDefault", TorchDefault, 1 / math.Sqrt(3*fanIn), 1 / math.Sqrt(fanIn)},
	} {
		w := make([]float32, n)
		c.init(w, fanIn, fanOut, rng())
		var sum, sq, most float64
		for _, v := range w {
			sum += float64(v)
			sq += float64(v) * float64(v)
			most = math.Max(most, math.Abs(float64(v)))
		}
		mean, std := sum/n, math.Sqrt(sq/n-(sum/n)*(sum/n))
		if math.Abs(mean) > 0.02*c.std || math.Abs(std-c.std) > 0.02*c.std {
			t.Errorf("%s: mean %.4g, std %.4g; want 0 and %.4g", c.name, mean, std, c.std)
		}
		if c.bound > 0 && most > c.bound {
			t.Errorf("%s: |w| reaches %v, above the bound %v", c.name, most, c.bound)
		}
	}
	z, o := make([]float32, 5), make([]float32, 5)
	Zeros(z, 1, 1, nil)
	Ones(o, 1, 1, nil)
	for i := range z {
		if z[i] != 0 || o[i] != 1 {
			t.Fatalf("Zeros %v, Ones %v", z, o)
		}
	}
}
