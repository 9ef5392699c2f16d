//go:build noasm || !amd64

package kern

// winoAsm is nil without assembly: Winograd then runs only in tests.
func winoAsm() *winoKernels { return nil }
