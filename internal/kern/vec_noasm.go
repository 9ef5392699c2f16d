//go:build noasm || !amd64

package kern

// asmVecs is empty without assembly: the kernels use goVec.
func asmVecs() []vecKernels { return nil }
