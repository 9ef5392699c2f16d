package kern

import (
	"strings"
	"testing"

	"github.com/foveaml/fovea/internal/asmgen"
)

// TestAsmGenerated checks that every .s file of the package is exactly
// what its generator writes (gen_vec.go: the element-wise kernels;
// gen_winograd.go: the Winograd transforms), so that none is edited by
// hand or left stale by an edit to a generator.
func TestAsmGenerated(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the generators")
	}
	problems, err := asmgen.Stale(".", "gen_vec.go", "gen_winograd.go")
	if err == asmgen.ErrNoGoTool {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) > 0 {
		t.Errorf("the assembly is not what the generators write (run go generate ./internal/kern):\n%s", strings.Join(problems, "\n"))
	}
}
