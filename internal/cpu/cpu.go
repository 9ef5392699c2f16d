// Package cpu tells which vector instructions this processor has and runs
// loops in parallel on one shared pool of worker goroutines.
//
// Every kernel of fovea splits its work through For, so the number of
// threads is decided in one place (GOMAXPROCS) and nested parallel loops
// never oversubscribe the machine:
//
//	cpu.For(rows, 16, func(lo, hi int) {
//		for r := lo; r < hi; r++ {
//			process(r)
//		}
//	})
//
// A reduction that must give the same bits on every run keeps a partial
// result per chunk and adds them up in chunk order, whoever finishes
// first:
//
//	var sum cpu.Ordered
//	cpu.ForChunks(rows, 16, func(c, lo, hi int) {
//		part := partialSum(lo, hi)
//		sum.Do(c, func() { addInto(total, part) })
//	})
package cpu

import (
	"runtime"

	"golang.org/x/sys/cpu"
)

// HasAVX512 reports whether the processor and the operating system support
// the AVX-512 foundation instructions (ZMM registers, masking, embedded
// broadcast), the fastest path of fovea's kernels.
var HasAVX512 = cpu.X86.HasAVX512F

// HasAVX2FMA reports whether the processor and the operating system support
// AVX2 together with fused multiply-add, the second-fastest path.
var HasAVX2FMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// ISA names the instruction set the kernels dispatch to: "avx512",
// "avx2+fma" or "generic". Builds with the noasm tag always use "generic";
// the kernel packages decide that, this only reports the hardware.
func ISA() string {
	switch {
	case HasAVX512:
		return "avx512"
	case HasAVX2FMA:
		return "avx2+fma"
	}
	return "generic"
}

// Workers returns how many goroutines a parallel loop uses: GOMAXPROCS.
func Workers() int { return runtime.GOMAXPROCS(0) }
