package train

import (
	"context"
	"errors"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/optim"
	"github.com/foveaml/fovea/weights"
)

// cancelAt returns a context and a hook that cancels it after step n.
func cancelAt(t *testing.T, n int64) (context.Context, Hook) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ctx, HookFuncs{Step: func(s *State) error {
		if s.Step == n {
			cancel()
		}
		return nil
	}}
}

// TestCheckpointMidEpoch stops a run part of the way through its second
// epoch, through its context, with checkpoints every 4 steps and on
// stopping, and checks the checkpoint left and that resuming from it
// ends with the very weights of an uninterrupted run (one thread).
func TestCheckpointMidEpoch(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	ds := bars(t, 300, 4) // 19 batches of 16
	dir := t.TempDir()
	run := func(ctx context.Context, resume *weights.Checkpoint, hooks ...Hook) (nn.Layer, error) {
		m := smallNet(t, 5)
		_, err := Fit(ctx, m, ds, Config{Epochs: 3, BatchSize: 16, Optimizer: adam(t, m, 0.005),
			Seed: 9, Workers: 1, Resume: resume, Hooks: hooks})
		return m, err
	}
	full, err := run(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stopAt := cancelAt(t, 25)
	ck := &ModelCheckpoint{Path: filepath.Join(dir, "ck-{epoch}.safetensors"), EverySteps: 4, OnStop: true}
	_, err = run(ctx, nil, ck, stopAt)
	want := filepath.Join(dir, "ck-2.safetensors")
	if !errors.Is(err, context.Canceled) || !strings.HasSuffix(err.Error(), "at epoch 2, step 25, and saved "+want) {
		t.Fatalf("stopped run: %v; want it to say it saved %s", err, want)
	}
	if c, err := weights.LoadCheckpoint(filepath.Join(dir, "ck-1.safetensors")); err != nil || c.Epoch != 1 || c.Meta["batch"] != "0" {
		t.Errorf("the checkpoint of epoch 1: %v", err)
	}
	c, err := weights.LoadCheckpoint(want)
	if err != nil {
		t.Fatal(err)
	}
	if c.Epoch != 1 || c.Step != 25 || c.Meta["batch"] != "6" {
		t.Fatalf("the checkpoint on stopping is at epoch %d, step %d, batch %s; want 1, 25, 6", c.Epoch, c.Step, c.Meta["batch"])
	}
	resumed, err := run(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	sameWeights(t, full, resumed)
}

// sameWeights fails unless the resumed model's parameters and buffers
// are the uninterrupted one's, bit for bit.
func sameWeights(t *testing.T, uninterrupted, resumed nn.Layer) {
	t.Helper()
	a, b := weights.StateDict(nn.State(uninterrupted)), weights.StateDict(nn.State(resumed))
	for name, ta := range a {
		for i, v := range ta.Data() {
			if w := b[name].Data()[i]; v != w {
				t.Fatalf("%s[%d]: uninterrupted %v, resumed %v", name, i, v, w)
			}
		}
	}
}

// TestFitHeadResumes checks that FitHead's checkpoints are the whole
// model's and that a run resumed from one, part of the way through an
// epoch, ends with the very weights of an uninterrupted run (one
// thread), the backbone's untouched.
func TestFitHeadResumes(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	ds := bars(t, 100, 6)
	run := func(ctx context.Context, resume *weights.Checkpoint, hooks ...Hook) (nn.Layer, error) {
		m := bnNet(t, 2)
		nn.FreezeAllButHead(m)
		_, err := FitHead(ctx, m, ds, Config{Epochs: 3, BatchSize: 16, Optimizer: adam(t, m, 0.01), Seed: 4,
			ValidationSplit: 0.2, Resume: resume, Hooks: hooks})
		return m, err
	}
	full, err := run(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stopAt := cancelAt(t, 7) // two batches into epoch 2
	path := filepath.Join(t.TempDir(), "ck.safetensors")
	if _, err := run(ctx, nil, &ModelCheckpoint{Path: path, OnStop: true}, stopAt); !errors.Is(err, context.Canceled) {
		t.Fatalf("stopped FitHead: %v", err)
	}
	ck, err := weights.LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(ck.Weights) != len(nn.State(full)) || ck.Meta["batch"] != "2" {
		t.Fatalf("the checkpoint holds %d tensors at batch %s; want the whole model's %d at batch 2", len(ck.Weights), ck.Meta["batch"], len(nn.State(full)))
	}
	resumed, err := run(context.Background(), ck)
	if err != nil {
		t.Fatal(err)
	}
	want, got := snapshot(full), snapshot(resumed)
	init := snapshot(bnNet(t, 2))
	for name, v := range want {
		if !slices.Equal(v, got[name]) {
			t.Errorf("%s: uninterrupted and resumed differ", name)
		}
		if changed := !slices.Equal(v, init[name]); changed != strings.HasPrefix(name, "7.") {
			t.Errorf("%s changed %v", name, changed)
		}
	}
}

// TestCheckpointNotOnNaN checks that a run a non-finite loss stops
// saves nothing on stopping, OnStop or not.
func TestCheckpointNotOnNaN(t *testing.T) {
	m := smallNet(t, 1)
	o, err := optim.NewSGD(m.Params(), optim.SGDConfig{LR: 1e30})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ck.safetensors")
	_, err = Fit(context.Background(), m, bars(t, 200, 1), Config{Epochs: 3, Optimizer: o,
		Hooks: []Hook{&ModelCheckpoint{Path: path, OnStop: true}}})
	if !errors.Is(err, ErrNonFinite) || strings.Contains(err.Error(), "saved") {
		t.Fatalf("error %v: want ErrNonFinite, nothing saved", err)
	}
	if _, err := weights.LoadCheckpoint(path); err == nil {
		t.Error("a checkpoint was saved after the loss became non-finite")
	}
}

// TestResumeErrors checks that a checkpoint that does not fit the run is
// a *ResumeError naming the part that does not.
func TestResumeErrors(t *testing.T) {
	ds := bars(t, 64, 1)
	m := smallNet(t, 1)
	s := &State{Model: m, Optimizer: adam(t, m, 0.01), Batch: 2}
	good := s.Checkpoint()
	withBatch := func(b string) *weights.Checkpoint {
		c := *good
		c.Meta = map[string]string{"batch": b}
		return &c
	}
	sgd := func(m nn.Layer) optim.Optimizer {
		o, err := optim.NewSGD(m.Params(), optim.SGDConfig{LR: 0.1})
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	for _, c := range []struct {
		name  string
		model nn.Layer
		opt   func(nn.Layer) optim.Optimizer
		ck    *weights.Checkpoint
		part  string
		want  string
	}{
		{"other model", bnNet(t, 1), func(m nn.Layer) optim.Optimizer { return adam(t, m, 0.01) }, good, "weights", "weights do not fit the model"},
		{"other optimiser", smallNet(t, 1), sgd, good, "optimiser", "optimiser state does not fit"},
		{"past the epoch", smallNet(t, 1), func(m nn.Layer) optim.Optimizer { return adam(t, m, 0.01) }, withBatch("4"), "position",
			"4 batches into epoch 1, which has 4 batches"},
		{"not a count", smallNet(t, 1), func(m nn.Layer) optim.Optimizer { return adam(t, m, 0.01) }, withBatch("x"), "position", `"x"`},
	} {
		_, err := Fit(context.Background(), c.model, ds, Config{Epochs: 2, BatchSize: 16, Optimizer: c.opt(c.model), Resume: c.ck})
		var re *ResumeError
		if !errors.As(err, &re) || re.Part != c.part || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v; want a ResumeError of the %s saying %q", c.name, err, c.part, c.want)
		}
	}
	// The good one resumes, at its batch.
	m2 := smallNet(t, 1)
	h, err := Fit(context.Background(), m2, ds, Config{Epochs: 1, BatchSize: 16, Optimizer: adam(t, m2, 0.01), Resume: good})
	if err != nil || len(h.Epochs) != 1 || h.Epochs[0].Images != 32 {
		t.Errorf("resuming 2 batches into the epoch: %v, %+v; want the 32 images left", err, h)
	}
}
