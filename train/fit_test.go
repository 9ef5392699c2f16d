package train

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/optim"
	"github.com/foveaml/fovea/weights"
)

func TestFitLearns(t *testing.T) {
	train, val := bars(t, 600, 1), bars(t, 200, 2)
	m := smallNet(t, 1)
	var log bytes.Buffer
	csv := filepath.Join(t.TempDir(), "log.csv")
	h, err := Fit(context.Background(), m, train, Config{Epochs: 4, BatchSize: 32, Optimizer: adam(t, m, 0.01),
		Validation: val, Seed: 3, Progress: &log, Hooks: []Hook{CSVLogger{Path: csv}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Epochs) != 4 {
		t.Fatalf("%d epochs in the history", len(h.Epochs))
	}
	if first, last := h.Epochs[0], h.Last(); last.ValAcc < 0.9 || last.Loss >= first.Loss {
		t.Fatalf("did not learn: first %+v, last %+v", first, last)
	}
	if got := strings.Count(log.String(), "\n"); got != 4 || !strings.Contains(log.String(), "Epoch 4/4") {
		t.Fatalf("progress on a non-terminal should be one line per epoch, got:\n%s", log.String())
	}
	b, err := os.ReadFile(csv)
	if err != nil || strings.Count(string(b), "\n") != 5 {
		t.Fatalf("CSV log: %v\n%s", err, b)
	}
	ev, err := Evaluate(m, val, EvalConfig{})
	if err != nil || ev.Count != 200 || ev.Top1 != h.Last().ValAcc {
		t.Fatalf("Evaluate: %+v, %v; want the last validation accuracy %v", ev, err, h.Last().ValAcc)
	}
	probs, err := Predict(m, val, EvalConfig{})
	if err != nil || len(probs) != 200 {
		t.Fatalf("Predict: %d rows, %v", len(probs), err)
	}
	if top := TopK(probs[0], 3); len(top) != 3 || probs[0][top[0]] < probs[0][top[1]] {
		t.Fatalf("TopK %v of %v", top, probs[0])
	}
}

// TestResumeIsExact checks that a run stopped after two epochs and
// resumed from its checkpoint ends with the very weights of an
// uninterrupted run (single thread, so sums are in a fixed order).
func TestResumeIsExact(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	train := bars(t, 300, 4)
	dir := t.TempDir()
	var hist *History
	run := func(epochs int, resume *weights.Checkpoint, hooks ...Hook) nn.Layer {
		m := smallNet(t, 5)
		h, err := Fit(context.Background(), m, train, Config{Epochs: epochs, BatchSize: 16, Optimizer: adam(t, m, 0.005),
			Seed: 9, Workers: 1, Resume: resume, Hooks: hooks})
		if err != nil {
			t.Fatal(err)
		}
		hist = h
		return m
	}
	full := run(4, nil)
	fullHist := hist
	run(2, nil, &ModelCheckpoint{Path: filepath.Join(dir, "ck-{epoch}.safetensors")})
	ck, err := weights.LoadCheckpoint(filepath.Join(dir, "ck-2.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	sameWeights(t, full, run(4, ck))
	// The resumed run's History starts at the first epoch, as the
	// uninterrupted run's does (its CSV log and curves are drawn from it).
	if len(hist.Epochs) != 4 || hist.Epochs[0].Epoch != 0 || hist.Epochs[1].Loss != fullHist.Epochs[1].Loss ||
		hist.Epochs[3].Loss != fullHist.Epochs[3].Loss {
		t.Fatalf("resumed History %+v; want the uninterrupted run's four epochs %+v", hist.Epochs, fullHist.Epochs)
	}
}

func TestFitStopsOnNaN(t *testing.T) {
	m := smallNet(t, 1)
	o, err := optim.NewSGD(m.Params(), optim.SGDConfig{LR: 1e30})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Fit(context.Background(), m, bars(t, 200, 1), Config{Epochs: 3, Optimizer: o})
	if !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), "step") || !strings.Contains(err.Error(), "learning rate") {
		t.Fatalf("error %v: want ErrNonFinite naming the step and the learning rate", err)
	}
}

func TestEarlyStoppingAndCancel(t *testing.T) {
	m := smallNet(t, 1)
	// Nothing improves by 10: patience 2 stops after 3 epochs.
	h, err := Fit(context.Background(), m, bars(t, 100, 1), Config{Epochs: 10, Optimizer: adam(t, m, 0),
		Hooks: []Hook{&EarlyStopping{Monitor: "loss", Patience: 2, MinDelta: 10}}})
	if err != nil || len(h.Epochs) != 3 {
		t.Fatalf("ran %d epochs, %v; want 3", len(h.Epochs), err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Fit(ctx, m, bars(t, 100, 1), Config{Epochs: 2, Optimizer: adam(t, m, 0.01)}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Fit returned %v", err)
	}
}

func TestFitConfigErrors(t *testing.T) {
	m := smallNet(t, 1)
	ds := bars(t, 10, 1)
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Epochs: 0, Optimizer: adam(t, m, 0.1)}, "epochs"},
		{Config{Epochs: 1}, "optimiser"},
	} {
		if _, err := Fit(context.Background(), m, ds, c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("%+v: error %v, want one mentioning %q", c.cfg, err, c.want)
		}
	}
}

// TestDataParallelMatchesOnePart checks that cutting batches into parts
// on their own tapes makes the same updates as whole batches, up to
// rounding (the model has no dropout, whose masks depend on the part).
func TestDataParallelMatchesOnePart(t *testing.T) {
	ds := bars(t, 256, 11)
	run := func(parts int) nn.Layer {
		r := rand.New(rand.NewPCG(3, 4))
		conv, _ := nn.NewConv2D(nn.Conv2DConfig{In: 1, Out: 4, Kernel: 3, Pad: 1}, r)
		dense, _ := nn.NewDense(nn.DenseConfig{In: 4 * 4 * 4, Out: 3}, r)
		m := nn.NewSequential(conv, nn.ReLU, nn.MaxPool2D{KH: 2, KW: 2}, nn.Flatten{}, dense)
		if _, err := Fit(context.Background(), m, ds, Config{Epochs: 2, BatchSize: 32, Optimizer: adam(t, m, 0.01),
			Seed: 5, DataParallel: parts}); err != nil {
			t.Fatal(err)
		}
		return m
	}
	one, three := weights.StateDict(nn.State(run(1))), weights.StateDict(nn.State(run(3)))
	for name, a := range one {
		for i, v := range a.Data() {
			if w := three[name].Data()[i]; math.Abs(float64(v-w)) > 1e-4*(1+math.Abs(float64(v))) {
				t.Fatalf("%s[%d]: whole batches %v, three parts %v", name, i, v, w)
			}
		}
	}
}

// TestDataParallelDefault checks the default: small models without
// buffers are cut into parts; a model with batch norm is not.
func TestDataParallelDefault(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	small := smallNet(t, 1)
	if got := dataParallel(small, Config{BatchSize: 64}); got != 2 {
		t.Fatalf("small model: %d parts, want 2", got)
	}
	bn, _ := nn.NewBatchNorm(1)
	withBN := nn.NewSequential(bn, small)
	if got := dataParallel(withBN, Config{BatchSize: 64}); got != 1 {
		t.Fatalf("model with batch norm: %d parts, want 1", got)
	}
}

// TestReduceLROnPlateau checks the callback through Fit: the first
// epoch sets the best loss; after that nothing counts as improving (a
// threshold no change can meet), so with patience 0 the rate halves after
// every later epoch, as PyTorch's ReduceLROnPlateau does.
func TestReduceLROnPlateau(t *testing.T) {
	m := smallNet(t, 1)
	o, err := optim.NewSGD(m.Params(), optim.SGDConfig{LR: 0.08})
	if err != nil {
		t.Fatal(err)
	}
	p, err := optim.NewPlateau(o, optim.PlateauConfig{Factor: 0.5, Patience: 0, Threshold: 10, ThresholdMode: optim.Abs})
	if err != nil {
		t.Fatal(err)
	}
	h, err := Fit(context.Background(), m, bars(t, 64, 1), Config{Epochs: 4, Optimizer: o,
		Hooks: []Hook{&ReduceLROnPlateau{Plateau: p, Monitor: "loss"}}})
	if err != nil {
		t.Fatal(err)
	}
	var lrs []float64
	for _, e := range h.Epochs {
		lrs = append(lrs, e.LR)
	}
	if want := []float64{0.08, 0.08, 0.04, 0.02}; !slices.Equal(lrs, want) {
		t.Fatalf("learning rates %v, want %v", lrs, want)
	}
}

// BenchmarkFit times an epoch of Fit on the toy task, with the progress
// bar on (a writer that is not a terminal), to measure what the loop and
// its hooks add to the steps.
func BenchmarkFit(b *testing.B) {
	ds := bars(b, 1024, 1)
	m := smallNet(b, 1)
	o := adam(b, m, 0.001)
	b.ResetTimer()
	for range b.N {
		if _, err := Fit(context.Background(), m, ds, Config{Epochs: 1, BatchSize: 32, Optimizer: o, Seed: 1, Progress: io.Discard}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*ds.Len())/b.Elapsed().Seconds(), "img/s")
}
