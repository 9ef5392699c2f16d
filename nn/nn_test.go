package nn

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/tensor"
)

func rng() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }

func TestConfigErrors(t *testing.T) {
	for _, c := range []struct {
		cfg  Conv2DConfig
		want string
	}{
		{Conv2DConfig{In: 0, Out: 3, Kernel: 3}, "channels in 0"},
		{Conv2DConfig{In: 1, Out: 3}, "kernel 0×0"},
		{Conv2DConfig{In: 1, Out: 3, Kernel: 3, Pad: -1}, "padding -1"},
		{Conv2DConfig{In: 1, Out: 3, Kernel: 3, Stride: 2, Same: true}, "Same padding needs stride 1"},
	} {
		if _, err := NewConv2D(c.cfg, rng()); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.cfg, err, c.want)
		}
	}
	if _, err := NewDense(DenseConfig{In: 3}, rng()); err == nil || !strings.Contains(err.Error(), "out 0") {
		t.Errorf("dense error %v", err)
	}
	if _, err := NewBatchNorm(0); err == nil {
		t.Error("batch norm of 0 channels")
	}
}

func TestSequentialNamesAndState(t *testing.T) {
	conv, _ := NewConv2D(Conv2DConfig{In: 3, Out: 4, Kernel: 3, Same: true}, rng())
	bn, _ := NewBatchNorm(4)
	dense, _ := NewDense(DenseConfig{In: 4, Out: 2, NoBias: true}, rng())
	s := NewSequential(conv, bn, ReLU, GlobalAvgPool{}, dense)
	var names []string
	for _, p := range State(s) {
		names = append(names, p.Name)
	}
	want := "0.weight 0.bias 1.weight 1.bias 4.weight 1.running_mean 1.running_var"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("state names %q, want %q", got, want)
	}
	info, err := Summarize(s, 5, 7, 3)
	if err != nil {
		t.Fatal(err)
	}
	if info.Total != 3*3*3*4+4+4+4+4*2 || len(info.Layers) != 5 || info.Layers[0].Output[1] != 5 {
		t.Fatalf("summary %+v", info)
	}
	Freeze(s, true)
	if info, _ := Summarize(s, 5, 7, 3); info.Trainable != 0 || info.Frozen != info.Total {
		t.Fatalf("frozen summary %+v", info)
	}
}

// TestFrozenBatchNormKeepsStatistics checks the fine-tuning rule: a
// frozen batch norm uses and keeps its running statistics while the model
// trains, unless told to keep training them.
func TestFrozenBatchNormKeepsStatistics(t *testing.T) {
	bn, _ := NewBatchNorm(2)
	x := ag.Const(tensor.RandNormal(rng(), 3, 2, 2, 4, 4, 2)) // mean 3, std 2, [2 4 4 2]
	step := func() {
		tp := ag.NewTape()
		bn.Forward(&Ctx{Tape: tp, Train: true}, x)
		if err := tp.Err(); err != nil {
			t.Fatal(err)
		}
		tp.Reset()
	}
	step()
	if m := bn.Stats.Mean.Data()[0]; m == 0 {
		t.Fatal("a training batch norm did not update its running mean")
	}
	Freeze(bn, true)
	before := bn.Stats.Mean.Clone()
	step()
	if bn.Stats.Mean.Data()[0] != before.Data()[0] {
		t.Fatal("a frozen batch norm moved its running mean")
	}
	bn.KeepTraining = true
	step()
	if bn.Stats.Mean.Data()[0] == before.Data()[0] {
		t.Fatal("KeepTraining did not update the statistics")
	}
}

func TestDropoutDependsOnStep(t *testing.T) {
	x := ag.Const(tensor.Full(1, 1, 100))
	d := Dropout{P: 0.5, Seed: 3}
	mask := func(step int64, train bool) string {
		tp := ag.NewTape()
		defer tp.Reset()
		y := d.Forward(&Ctx{Tape: tp, Train: train, Step: step}, x)
		var b strings.Builder
		for _, v := range y.Value().Data() {
			if v == 0 {
				b.WriteByte('0')
			} else {
				b.WriteByte('1')
			}
		}
		return b.String()
	}
	if mask(1, true) != mask(1, true) || mask(1, true) == mask(2, true) {
		t.Fatal("dropout masks should repeat for a step and differ between steps")
	}
	if mask(1, false) != strings.Repeat("1", 100) {
		t.Fatal("dropout is not the identity at inference")
	}
}
