//go:build amd64 && !noasm

package kern

import "github.com/foveaml/fovea/internal/cpu"

//go:generate go run gen_winograd.go

// winoInAVX512, winoOutAVX512, winoFilterAVX512 and winoGradAVX512 are
// winoInGo, winoOutGo, winoFilterGo and winoGradGo (the in, out, filter
// and grad transforms of winoKernels) on 16 channels a vector, with a masked vector for the
// channels left over. The caller checks every address.
//
//go:noescape
func winoInAVX512(v *float32, vs int, x **float32, c int)

//go:noescape
func winoOutAVX512(y, r **float32, m *float32, ms int, c int, scale, shift *float32, floor float32)

//go:noescape
func winoFilterAVX512(u *float32, us int, f *float32, fs int, c int)

//go:noescape
func winoGradAVX512(m *float32, ms int, y **float32, c int)

// winoAsm returns the assembly transforms where the CPU has AVX-512.
func winoAsm() *winoKernels {
	if !cpu.HasAVX512 {
		return nil
	}
	return &winoKernels{name: "avx512", in: winoInAVX512, out: winoOutAVX512, filter: winoFilterAVX512, grad: winoGradAVX512}
}
