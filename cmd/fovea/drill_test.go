package main

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/foveaml/fovea/weights"
)

// TestCrashDrill kills fovea train with SIGKILL in the middle of an
// epoch, resumes it from the checkpoint it left, and checks that the
// final weights are bit for bit those of a run that was never
// interrupted, and that the checkpoint found after the kill was whole.
func TestCrashDrill(t *testing.T) {
	if testing.Short() {
		t.Skip("the crash drill builds fovea and trains three times; skipped with -short")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the crash drill builds the fovea binary and needs the go command on PATH")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// The default build, whatever tags the test runs with: the drill is
	// about checkpoints and resuming, not kernels.
	bin := filepath.Join(t.TempDir(), "fovea")
	if out, err := exec.CommandContext(ctx, goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// One thread: the kernels' reductions then run in one order, and two
	// runs of the same configuration agree to the bit.
	trainArgs := func(dir string, extra ...string) []string {
		return append([]string{"train", "--limit", "3000", "--epochs", "3", "--threads", "1", "--quiet", "--out", dir}, extra...)
	}
	runToEnd := func(args ...string) {
		t.Helper()
		var stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("fovea %v: %v\n%s", args, err, stderr.String())
		}
	}

	ref := t.TempDir()
	runToEnd(trainArgs(ref)...)
	// The reference's history says how long its second epoch trained.
	epoch2 := 200 * time.Millisecond
	if csv, err := os.ReadFile(filepath.Join(ref, "history.csv")); err == nil {
		if rows := strings.Split(strings.TrimSpace(string(csv)), "\n"); len(rows) == 4 {
			cols := strings.Split(rows[2], ",")
			if s, err := strconv.ParseFloat(cols[len(cols)-1], 64); err == nil && s > 0 {
				epoch2 = time.Duration(s * float64(time.Second))
			}
		}
	}

	// The same run, killed once its first epoch's checkpoint is on disk
	// and it is some way into the second epoch.
	dir := t.TempDir()
	ckPath := filepath.Join(dir, "checkpoint.safetensors")
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, trainArgs(dir)...)
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var waitErr error
	finished := false
poll:
	for {
		select {
		case waitErr = <-exited:
			finished = true
			break poll
		case <-time.After(5 * time.Millisecond):
		}
		if _, err := os.Stat(ckPath); err == nil {
			break
		}
	}
	if !finished {
		time.Sleep(epoch2 / 2) // half way through epoch 2
		if err := cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
			t.Fatal(err)
		}
		waitErr = <-exited
	}
	var exitErr *exec.ExitError
	killed := errors.As(waitErr, &exitErr) && !exitErr.Exited()
	switch {
	case killed:
	case waitErr == nil:
		t.Logf("the run ended before it could be killed; the drill resumes a finished run")
	default:
		t.Fatalf("fovea train failed before the kill: %v\n%s", waitErr, stderr.String())
	}
	if killed {
		if _, err := os.Stat(filepath.Join(dir, "model.safetensors")); err == nil {
			t.Fatal("the killed run had written model.safetensors: it was not killed mid-run")
		}
	}
	ck, err := weights.LoadCheckpoint(ckPath)
	if err != nil {
		t.Fatalf("the checkpoint left by the kill does not load: %v", err)
	}
	if ck.Epoch < 1 || ck.Epoch > 3 || len(ck.Weights) == 0 {
		t.Fatalf("the checkpoint left by the kill says epoch %d, %d tensors", ck.Epoch, len(ck.Weights))
	}
	t.Logf("killed=%v after %v; resuming after epoch %d of 3", killed, time.Since(start).Round(time.Millisecond), ck.Epoch)

	runToEnd(trainArgs(dir, "--resume", ckPath)...)

	want, _, err := weights.Load(filepath.Join(ref, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := weights.Load(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 || len(got) != len(want) {
		t.Fatalf("the resumed model has %d tensors, the uninterrupted one %d", len(got), len(want))
	}
	for name, w := range want {
		g, ok := got[name]
		if !ok {
			t.Errorf("%s: missing from the resumed model", name)
			continue
		}
		if !slices.Equal(g.Shape(), w.Shape()) {
			t.Errorf("%s: shape %v, uninterrupted %v", name, g.Shape(), w.Shape())
			continue
		}
		gd, wd := g.Data(), w.Data()
		for i := range wd {
			if math.Float32bits(gd[i]) != math.Float32bits(wd[i]) {
				t.Errorf("%s[%d] = %v after the crash and resume, %v uninterrupted (and maybe more differ)", name, i, gd[i], wd[i])
				break
			}
		}
	}
}
