package asmgen

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
)

// ErrNoGoTool is returned by Stale when there is no go command to run
// the generators with.
var ErrNoGoTool = errors.New("asmgen: no go command on PATH to run the generators")

// Stale runs each generator program of the package in dir (go run gen
// -dir tmp, from dir) into a directory of its own, and returns one line
// for every assembly file of dir that is not exactly what they write —
// edited since, or never generated — and for every file they write that
// dir lacks. An empty result means go generate would change nothing.
func Stale(dir string, generators ...string) ([]string, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return nil, ErrNoGoTool
	}
	out, err := os.MkdirTemp("", "asmgen")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(out)
	for _, gen := range generators {
		cmd := exec.Command(goTool, "run", gen, "-dir", out)
		cmd.Dir = dir
		if msg, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("asmgen: go run %s: %v\n%s", gen, err, msg)
		}
	}
	made, err := filepath.Glob(filepath.Join(out, "*.s"))
	if err != nil {
		return nil, err
	}
	have, err := filepath.Glob(filepath.Join(dir, "*.s"))
	if err != nil {
		return nil, err
	}
	var problems []string
	written := map[string]bool{}
	for _, m := range made {
		name := filepath.Base(m)
		written[name] = true
		want, err := os.ReadFile(m)
		if err != nil {
			return nil, err
		}
		got, err := os.ReadFile(filepath.Join(dir, name))
		switch {
		case errors.Is(err, os.ErrNotExist):
			problems = append(problems, name+": missing; the generators write it")
		case err != nil:
			return nil, err
		case !bytes.Equal(got, want):
			problems = append(problems, name+": differs from what the generators write")
		}
	}
	for _, h := range have {
		if name := filepath.Base(h); !written[name] {
			problems = append(problems, name+": no generator writes it (assembly must not be written by hand)")
		}
	}
	sort.Strings(problems)
	return problems, nil
}
