//go:build amd64 && !noasm

package gemm

import "github.com/foveaml/fovea/internal/cpu"

// rowsAxpyAVX512 adds A·B into C for a few rows of A (see rows.go); cols
// is any width, k is even, rows at least 1. The caller checks
// the bounds.
//
//go:noescape
func rowsAxpyAVX512(c *float32, ldc int, a *float32, lda int, b *float32, ldb int, rows, k, cols int)

var hasRowsAxpy = cpu.HasAVX512
