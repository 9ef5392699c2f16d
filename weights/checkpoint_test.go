package weights

import (
	"bytes"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/optim"
	"github.com/foveaml/fovea/tensor"
)

// run is a small training run: a linear classifier on random points,
// trained with Adam under a cosine schedule and with dropout seeded from
// the run's random source, so that a resume must restore all of them.
type run struct {
	params []nn.Param
	opt    *optim.Adam
	rng    *rand.PCG
	epoch  int
}

func newRun(t testing.TB) *run {
	init := rand.New(rand.NewPCG(3, 4))
	w := nn.Param{Name: "fc.weight", Var: ag.Param(tensor.RandNormal(init, 0, 0.5, 3, 2))}
	b := nn.Param{Name: "fc.bias", Var: ag.Param(tensor.Zeros(2))}
	o, err := optim.NewAdam([]nn.Param{w}, optim.AdamConfig{LR: 0.05, WeightDecay: 1e-3}, optim.Group{Params: []nn.Param{b}, LRScale: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	return &run{params: []nn.Param{w, b}, opt: o, rng: rand.NewPCG(5, 6)}
}

func (r *run) epochs(t testing.TB, n int) {
	sched := optim.CosineAnnealingLR{TMax: 10}
	tp := ag.NewTape()
	for range n {
		r.opt.SetLR(sched.LR(r.opt.BaseLR(), r.epoch))
		rng := rand.New(r.rng)
		x := tensor.RandNormal(rng, 0, 1, 8, 3)
		labels := make([]int32, 8)
		for i := range labels {
			labels[i] = int32(rng.IntN(2))
		}
		h := tp.Dropout(ag.Const(x), 0.2, rng.Uint64(), true)
		loss := tp.SoftmaxCrossEntropy(tp.Dense(h, r.params[0].Var, r.params[1].Var), labels, 0)
		if err := tp.Backward(loss); err != nil {
			t.Fatal(err)
		}
		r.opt.Step()
		r.opt.ZeroGrad()
		tp.Reset()
		r.epoch++
	}
}

func (r *run) checkpoint(t testing.TB) *Checkpoint {
	st, meta := r.opt.State()
	rng, err := r.rng.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return &Checkpoint{Weights: StateDict(r.params), Optim: st, OptimMeta: meta,
		Epoch: r.epoch, Step: r.opt.Steps(), RNG: rng, Meta: map[string]string{"model": "linear"}}
}

func (r *run) restore(t *testing.T, c *Checkpoint) {
	if _, err := LoadStateDict(r.params, c.Weights, true); err != nil {
		t.Fatal(err)
	}
	if err := r.opt.LoadState(c.Optim, c.OptimMeta); err != nil {
		t.Fatal(err)
	}
	if err := r.rng.UnmarshalBinary(c.RNG); err != nil {
		t.Fatal(err)
	}
	r.epoch = c.Epoch
}

// TestResume checks that a run checkpointed after 3 epochs and resumed
// in a fresh process-like state ends bit for bit where an uninterrupted
// run of 6 epochs does.
func TestResume(t *testing.T) {
	whole := newRun(t)
	whole.epochs(t, 6)

	first := newRun(t)
	first.epochs(t, 3)
	path := filepath.Join(t.TempDir(), "ckpt.safetensors")
	if err := SaveCheckpoint(path, first.checkpoint(t)); err != nil {
		t.Fatal(err)
	}
	c, err := LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Epoch != 3 || c.Step != 3 || c.Meta["model"] != "linear" || c.OptimMeta["type"] != "Adam" {
		t.Errorf("checkpoint epoch %d step %d meta %v optim meta %v", c.Epoch, c.Step, c.Meta, c.OptimMeta)
	}
	second := newRun(t)
	second.restore(t, c)
	second.epochs(t, 3)
	sameTensors(t, StateDict(second.params), StateDict(whole.params))
	if second.opt.Steps() != 6 || second.opt.LR() != whole.opt.LR() {
		t.Errorf("steps %d lr %v, want 6 and %v", second.opt.Steps(), second.opt.LR(), whole.opt.LR())
	}
}

func TestCheckpointErrors(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.safetensors")
	if err := Save(plain, map[string]*tensor.Tensor{"w": tensor.Zeros(1)}, nil); err != nil {
		t.Fatal(err)
	}
	_, err := LoadCheckpoint(plain)
	if err == nil || !strings.Contains(err.Error(), plain) || !strings.Contains(err.Error(), "not a fovea checkpoint") {
		t.Errorf("plain weights as a checkpoint: %v", err)
	}
	for _, c := range []struct {
		ts   map[string]*tensor.Tensor
		meta map[string]string
		want string
	}{
		{nil, map[string]string{"format": CheckpointFormat, "epoch": "x", "step": "0"}, `epoch "x"`},
		{nil, map[string]string{"format": CheckpointFormat, "epoch": "1", "step": "-1"}, `step "-1"`},
		{nil, map[string]string{"format": CheckpointFormat, "epoch": "1", "step": "1", "rng": "!!"}, "base64"},
		{nil, map[string]string{"format": CheckpointFormat, "epoch": "1", "step": "1", "other": "1"}, `"other"`},
		{map[string]*tensor.Tensor{"w": tensor.Zeros(1)}, map[string]string{"format": CheckpointFormat, "epoch": "1", "step": "1"}, `"w"`},
	} {
		var buf bytes.Buffer
		if err := Write(&buf, c.ts, c.meta); err != nil {
			t.Fatal(err)
		}
		_, err := Options{}.ReadCheckpoint(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "ck")
		if err == nil || !strings.Contains(err.Error(), "ck") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one saying %s", c.meta, err, c.want)
		}
	}
	if err := SaveCheckpoint(filepath.Join(dir, "c"), &Checkpoint{Epoch: -1}); err == nil {
		t.Error("negative epoch saved")
	}
}
