package gemm

import (
	"strings"
	"testing"

	"github.com/foveaml/fovea/internal/asmgen"
)

// TestAsmGenerated checks that every .s file of the package is exactly
// what gen_kernels.go writes, so that none is edited by hand or left
// stale by an edit to the generator.
func TestAsmGenerated(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the generator")
	}
	problems, err := asmgen.Stale(".", "gen_kernels.go")
	if err == asmgen.ErrNoGoTool {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) > 0 {
		t.Errorf("the assembly is not what the generator writes (run go generate ./internal/gemm):\n%s", strings.Join(problems, "\n"))
	}
}
