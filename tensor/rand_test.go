package tensor

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestRandNormal(t *testing.T) {
	x := RandNormal(rand.New(rand.NewPCG(1, 2)), 3, 2, 100, 100)
	mean, sq := 0.0, 0.0
	for _, v := range x.Data() {
		mean += float64(v)
		sq += float64(v) * float64(v)
	}
	mean /= 1e4
	std := math.Sqrt(sq/1e4 - mean*mean)
	if math.Abs(mean-3) > 0.1 || math.Abs(std-2) > 0.1 {
		t.Fatalf("mean %v std %v, want 3 and 2", mean, std)
	}
	y := RandNormal(rand.New(rand.NewPCG(1, 2)), 3, 2, 100, 100)
	if !slices.Equal(x.Data(), y.Data()) {
		t.Fatal("same seed, different values")
	}
}

func TestRandUniform(t *testing.T) {
	x := RandUniform(rand.New(rand.NewPCG(1, 2)), -2, 5, 1000)
	lo, hi := x.Data()[0], x.Data()[0]
	for _, v := range x.Data() {
		lo, hi = min(lo, v), max(hi, v)
	}
	if lo < -2 || hi >= 5 || lo > -1.9 || hi < 4.9 {
		t.Fatalf("range [%v, %v], want about [-2, 5)", lo, hi)
	}
}
