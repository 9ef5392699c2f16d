package main

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/foveaml/fovea/weights"
)

// The drills train LeNet-5 on 3,000 MNIST images for 2 epochs of 338
// steps (batch 8), on one thread so that two runs of one configuration
// agree to the bit, with a checkpoint every 200 steps and at the end of
// each epoch.
func drillArgs(dir string, extra ...string) []string {
	return append([]string{"train", "--limit", "3000", "--epochs", "2", "--batch", "8", "--threads", "1",
		"--checkpoint-every", "200", "--quiet", "--out", dir}, extra...)
}

// buildFovea builds the fovea binary (the default build, whatever tags
// the test runs with: the drills are about checkpoints, not kernels).
func buildFovea(t *testing.T, ctx context.Context) string {
	t.Helper()
	if testing.Short() {
		t.Skip("the drills build fovea and train several times; skipped with -short")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the drills build the fovea binary and need the go command on PATH")
	}
	bin := filepath.Join(t.TempDir(), "fovea")
	if out, err := exec.CommandContext(ctx, goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// runToEnd runs bin with args and fails the test unless it succeeds.
func runToEnd(t *testing.T, ctx context.Context, bin string, args ...string) {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("fovea %v: %v\n%s", args, err, stderr.String())
	}
}

// sameWeights fails unless the model files in dirs a and b hold the
// same tensors, bit for bit.
func sameWeights(t *testing.T, a, b string) {
	t.Helper()
	want, _, err := weights.Load(filepath.Join(a, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := weights.Load(filepath.Join(b, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 || len(got) != len(want) {
		t.Fatalf("the resumed model has %d tensors, the uninterrupted one %d", len(got), len(want))
	}
	for name, w := range want {
		g, ok := got[name]
		if !ok || !slices.Equal(g.Shape(), w.Shape()) {
			t.Errorf("%s: missing from the resumed model or of another shape", name)
			continue
		}
		gd, wd := g.Data(), w.Data()
		for i := range wd {
			if math.Float32bits(gd[i]) != math.Float32bits(wd[i]) {
				t.Errorf("%s[%d] = %v after the kills and resumes, %v uninterrupted (and maybe more differ)", name, i, gd[i], wd[i])
				break
			}
		}
	}
}

// epochSeconds returns how long epoch (from 1) of the run in dir
// trained, from its history.csv.
func epochSeconds(t *testing.T, dir string, epoch int) time.Duration {
	t.Helper()
	csv, err := os.ReadFile(filepath.Join(dir, "history.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(strings.TrimSpace(string(csv)), "\n")
	if len(rows) <= epoch {
		t.Fatalf("history.csv has %d rows", len(rows))
	}
	cols := strings.Split(rows[epoch], ",")
	s, err := strconv.ParseFloat(cols[len(cols)-1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return time.Duration(s * float64(time.Second))
}

// tempFiles returns the temporary files atomicfile left in dir.
func tempFiles(dir string) []string {
	m, _ := filepath.Glob(filepath.Join(dir, ".*.tmp-*"))
	return m
}

// TestCrashDrill runs the drills against one uninterrupted reference
// run.
func TestCrashDrill(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin := buildFovea(t, ctx)
	ref := t.TempDir()
	// The reference run, timed to its first checkpoint (step 200).
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, drillArgs(ref)...)
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var first time.Duration
	var err error
wait:
	for {
		select {
		case err = <-exited:
			break wait
		case <-time.After(time.Millisecond):
			if _, serr := os.Stat(filepath.Join(ref, "checkpoint.safetensors")); first == 0 && serr == nil {
				first = time.Since(start)
			}
		}
	}
	if err != nil {
		t.Fatalf("fovea train: %v\n%s", err, stderr.String())
	}
	// Start-up: the time to the first checkpoint less that of its 200
	// steps.
	startup := max(first-epochSeconds(t, ref, 1)*200/338, 0)
	t.Run("SIGKILL", func(t *testing.T) { killDrill(t, ctx, bin, ref, startup) })
	t.Run("SIGINT", func(t *testing.T) { interruptDrill(t, ctx, bin, ref, drillArgs, os.Interrupt) })
}

// TestFinetuneSIGTERM checks that finetune is train's run: SIGTERM in
// the middle of its second epoch stops it with a checkpoint, from which
// finetune --resume, with no --from, ends where an uninterrupted run
// does, bit for bit.
func TestFinetuneSIGTERM(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin := buildFovea(t, ctx)
	from := pretrainedLeNet(t, t.TempDir())
	args := func(dir string, extra ...string) []string {
		a := drillArgs(dir, append([]string{"--freeze", "none"}, extra...)...)
		a[0] = "finetune"
		if !slices.Contains(extra, "--resume") {
			a = append(a, "--from", from)
		}
		return a
	}
	ref := t.TempDir()
	runToEnd(t, ctx, bin, args(ref)...)
	interruptDrill(t, ctx, bin, ref, args, syscall.SIGTERM)
}

// killDrill kills fovea train with SIGKILL at 20 random moments, some of
// them while it writes a checkpoint, resuming each time from the
// checkpoint it left. After every kill the checkpoint must load (whole,
// finite, never older than the one before); at the end, the resumed run
// must hold the same weights, bit for bit, as the reference run in ref,
// which took startup to start training.
func killDrill(t *testing.T, ctx context.Context, bin, ref string, startup time.Duration) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("FOVEA_DRILL_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("FOVEA_DRILL_SEED=%d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	training := epochSeconds(t, ref, 1) + epochSeconds(t, ref, 2)
	dir := t.TempDir()
	ck := filepath.Join(dir, "checkpoint.safetensors")
	const kills = 20
	lastStep, inWrite, finished, killed := -1, 0, 0, 0
	seen := map[string]bool{}
	var steps []int // the checkpoint's step after each kill
	for k := range kills {
		args := drillArgs(dir)
		if _, err := os.Stat(ck); err == nil {
			args = append(args, "--resume", ck)
		}
		var stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		// Every third kill, while training is left, waits for a
		// checkpoint write to begin (its temporary file to appear); the
		// others come at a random moment up to as long as the reference
		// run took to start and to train for 90% of the steps left, so
		// that the runs make progress in fits and starts.
		waitForWrite := k%3 == 0 && lastStep < 676
		left := float64(676-max(lastStep, 0)) / 676
		span := startup + time.Duration(0.9*left*float64(training))
		deadline := time.Now().Add(time.Duration(rng.Int64N(int64(span) + 1)))
		if waitForWrite {
			deadline = time.Now().Add(30 * time.Second)
		}
		var waitErr error
		done := false
		for !done && time.Now().Before(deadline) {
			select {
			case waitErr = <-exited:
				done = true
			default:
				if waitForWrite && len(tempFiles(dir)) > 0 {
					deadline = time.Now()
				} else {
					time.Sleep(200 * time.Microsecond)
				}
			}
		}
		if !done {
			cmd.Process.Signal(syscall.SIGKILL)
			waitErr = <-exited
		}
		var exitErr *exec.ExitError
		switch {
		case errors.As(waitErr, &exitErr) && !exitErr.Exited():
			killed++
		case waitErr == nil:
			finished++
		default:
			t.Fatalf("kill %d: fovea %v failed on its own: %v\n%s", k+1, args, waitErr, stderr.String())
		}
		// A kill during a write leaves a temporary file, which the next
		// run removes.
		for _, f := range tempFiles(dir) {
			if strings.HasPrefix(filepath.Base(f), ".checkpoint.safetensors.tmp-") && !seen[f] {
				inWrite++
			}
			seen[f] = true
		}
		if _, err := os.Stat(ck); errors.Is(err, os.ErrNotExist) {
			continue // killed before the first checkpoint
		}
		c, err := weights.LoadCheckpoint(ck)
		if err != nil {
			t.Fatalf("kill %d: the checkpoint left does not load: %v", k+1, err)
		}
		if c.Step < lastStep || c.Epoch > 2 || len(c.Weights) == 0 || len(c.Optim) == 0 {
			t.Fatalf("kill %d: the checkpoint says epoch %d step %d (%d weights, %d optimiser tensors); the one before, step %d",
				k+1, c.Epoch, c.Step, len(c.Weights), len(c.Optim), lastStep)
		}
		lastStep = c.Step
		steps = append(steps, c.Step)
	}
	t.Logf("%d kills: %d killed the run (%d while a checkpoint was being written), %d came after it had finished; the checkpoint after each kill was at step %v of 676, and always loaded",
		kills, killed, inWrite, finished, steps)
	if killed < kills/2 || inWrite == 0 {
		t.Errorf("only %d of %d kills hit a running fovea, %d during a checkpoint write", killed, kills, inWrite)
	}
	runToEnd(t, ctx, bin, drillArgs(dir, "--resume", ck)...)
	sameWeights(t, ref, dir)
	if left := tempFiles(dir); len(left) > 0 {
		t.Errorf("temporary files left after the last run: %v", left)
	}
}

// interruptDrill sends sig (SIGINT, Ctrl-C, or SIGTERM) to the run that
// drill's arguments describe in the middle of its second epoch: it must
// stop promptly with a one-line message, having saved a checkpoint part
// of the way through the epoch, from which --resume ends where the
// reference run in ref does, bit for bit.
func interruptDrill(t *testing.T, ctx context.Context, bin, ref string, drill func(dir string, extra ...string) []string, sig os.Signal) {
	dir := t.TempDir()
	ck := filepath.Join(dir, "checkpoint.safetensors")
	// Checkpoints only at epoch ends: the one the signal leaves is its own.
	args := drill(dir, "--checkpoint-every", "0")
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// history.csv is written last at the end of epoch 1.
	for {
		if _, err := os.Stat(filepath.Join(dir, "history.csv")); err == nil {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	time.Sleep(epochSeconds(t, ref, 2) / 4) // a quarter of the way into epoch 2
	sent := time.Now()
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	took := time.Since(sent)
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 1 {
		t.Fatalf("after %v fovea %s returned %v; want exit status 1\n%s", sig, args[0], err, stderr.String())
	}
	msg := stderr.String()
	if strings.Count(msg, "\n") != 1 || !strings.Contains(msg, "interrupted") || !strings.Contains(msg, "--resume "+ck) {
		t.Errorf("after %v fovea %s said %q", sig, args[0], msg)
	}
	if took > 5*time.Second {
		t.Errorf("fovea %s took %v to stop after %v", args[0], took, sig)
	}
	c, err := weights.LoadCheckpoint(ck)
	if err != nil {
		t.Fatalf("the checkpoint %v saved does not load: %v", sig, err)
	}
	if c.Epoch != 1 || c.Meta["batch"] == "0" || c.Step <= 338 {
		t.Errorf("the checkpoint %v saved is at epoch %d, batch %s, step %d; want part of the way through epoch 2", sig, c.Epoch, c.Meta["batch"], c.Step)
	}
	t.Logf("stopped %v after %v, at step %d (batch %s of epoch 2): %s", took.Round(time.Millisecond), sig, c.Step, c.Meta["batch"], strings.TrimSpace(msg))
	runToEnd(t, ctx, bin, drill(dir, "--resume", ck)...)
	sameWeights(t, ref, dir)
}

// TestInterruptWhileReading sends SIGTERM while fovea train reads an
// image folder, before training: it stops with one line, and the output
// folder it had made is gone.
func TestInterruptWhileReading(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin := buildFovea(t, ctx)
	root := t.TempDir()
	for c, class := range []string{"dark", "bright"} {
		dir := filepath.Join(root, class)
		os.MkdirAll(dir, 0o755)
		for i := range 150 {
			m := image.NewGray(image.Rect(0, 0, 640, 480))
			for k := range m.Pix {
				m.Pix[k] = uint8(k/640+i) + uint8(100*c)
			}
			f, err := os.Create(filepath.Join(dir, strconv.Itoa(i)+".jpg"))
			if err != nil {
				t.Fatal(err)
			}
			jpeg.Encode(f, m, nil)
			f.Close()
		}
	}
	out := filepath.Join(t.TempDir(), "run")
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "train", "--data", root, "--epochs", "1", "--out", out, "--quiet")
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The folder is made just before the images are read.
	for {
		if _, err := os.Stat(out); err == nil {
			break
		}
		time.Sleep(100 * time.Microsecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	var exitErr *exec.ExitError
	msg := stderr.String()
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 1 || strings.Count(msg, "\n") != 1 || !strings.Contains(msg, "interrupted") {
		t.Fatalf("after SIGTERM while reading: %v, %q; want exit status 1 and one line saying it was interrupted", err, msg)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("%s is left after a run interrupted before training (%s)", out, strings.TrimSpace(msg))
	}
	t.Log(strings.TrimSpace(msg))
}
