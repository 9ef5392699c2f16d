package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkSgemm reports GFLOP/s for square, wide and the tall-skinny
// shapes that convolutions in NHWC produce (m = pixels, n = channels).
func BenchmarkSgemm(b *testing.B) {
	cases := []struct {
		name    string
		m, n, k int
	}{
		{"1024x1024x1024", 1024, 1024, 1024},
		{"256x1024x2304", 256, 1024, 2304},
		{"conv3x3_b32_32x32_64to64", 32768, 64, 576},
		{"conv1x1_b32_32x32_64to256", 32768, 256, 64},
		{"conv1x1_b8_56x56_256to64", 25088, 64, 256},
		{"conv3x3_b8_14x14_256to256", 1568, 256, 2304},
		{"stem7x7_b8_224_3to64", 100352, 64, 147},
		{"dense_b64_9216to4096", 64, 4096, 9216},
		{"dense_b8_9216to4096", 8, 4096, 9216},
		{"dense_b1_9216to4096", 1, 4096, 9216},
		{"dense_b1_4096to4096", 1, 4096, 4096},
		{"dense_b1_2048to1000", 1, 1000, 2048},
		{"dense_b1_4096to1000", 1, 1000, 4096},
	}
	r := rand.New(rand.NewPCG(1, 1))
	for _, c := range cases {
		b.Run(fmt.Sprintf("%s/%s", c.name, impl.Name), func(b *testing.B) {
			a, bb, cc := randSlice(r, c.m*c.k), randSlice(r, c.k*c.n), make([]float32, c.m*c.n)
			for b.Loop() {
				Sgemm(false, false, c.m, c.n, c.k, 1, a, c.k, bb, c.n, 0, cc, c.n)
			}
			b.ReportMetric(2*float64(c.m)*float64(c.n)*float64(c.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
