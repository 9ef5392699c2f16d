package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkMicro times each micro-kernel alone with its operands in L1:
// the ceiling for everything built on it.
func BenchmarkMicro(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, kern := range impls {
		const kc = 256
		a, bb := randSlice(r, kc*kern.MR), randSlice(r, kc*kern.NR)
		c := make([]float32, kern.MR*kern.NR)
		off := []int{0}
		b.Run(kern.Name, func(b *testing.B) {
			for b.Loop() {
				kern.Tile(&a[0], off, kc, 4*kc, 4, &bb[0], 4*kern.NR, &c[0], kern.NR, 1, 1, 0)
			}
			b.ReportMetric(2*kc*float64(kern.MR*kern.NR)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkMacro times the kernel over an L2-sized block of A against
// one B panel, as the driver runs it, without packing.
func BenchmarkMacro(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	kern := impl
	for _, kc := range []int{256, 1024} {
		const mc = 144
		a, bb := randSlice(r, kc*mc), randSlice(r, kc*kern.NR)
		c := make([]float32, mc*1024)
		off := []int{0}
		b.Run(fmt.Sprint(kc), func(b *testing.B) {
			for b.Loop() {
				for ib := 0; ib < mc; ib += kern.MR {
					kern.Tile(&a[ib*kc], off, kc, 4*kc, 4, &bb[0], 4*kern.NR, &c[ib*1024], 1024, 1, 1, 0)
				}
			}
			b.ReportMetric(2*float64(kc*mc*kern.NR)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkMicroParallel runs the micro-kernel on every core at once,
// operands in each core's L1: the machine's ceiling.
func BenchmarkMicroParallel(b *testing.B) {
	kern := impl
	const kc = 256
	b.RunParallel(func(pb *testing.PB) {
		r := rand.New(rand.NewPCG(1, 1))
		a, bb := randSlice(r, kc*kern.MR), randSlice(r, kc*kern.NR)
		c := make([]float32, kern.MR*kern.NR)
		off := []int{0}
		for pb.Next() {
			kern.Tile(&a[0], off, kc, 4*kc, 4, &bb[0], 4*kern.NR, &c[0], kern.NR, 1, 1, 0)
		}
	})
	b.ReportMetric(2*kc*float64(kern.MR*kern.NR)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
