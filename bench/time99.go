package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/foveaml/fovea/datasets/mnist"
	"github.com/foveaml/fovea/models"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/optim"
	"github.com/foveaml/fovea/train"
)

// time99 trains LeNet-5 (ReLU) on the 60,000 MNIST training images, in
// fovea and in PyTorch, with the same recipe: Adam at learning rate 0.001,
// batch 64, a new shuffle every epoch, a cosine schedule over -epochs
// epochs stepped once per epoch. After every epoch both score the 10,000
// test images, and both stop after the first epoch whose test top-1
// reaches 0.99. The clock starts when training starts (data loaded, model
// built) and stops at the end of that epoch's evaluation: the time a user
// waits for a 99% model.
const (
	time99Name   = "lenet5-mnist-to-99%"
	time99Target = 0.99
	time99Batch  = 64
	time99LR     = 1e-3
	// time99Peer is PyTorch's side, relative to the module's root.
	time99Peer = "bench/peer/torch_lenet_mnist.py"
)

// time99Result is one framework's run, as the peer script prints it.
type time99Result struct {
	// Seconds is the wall time from the start of training to the end of
	// the first epoch whose test top-1 reached the target, its
	// evaluation included; nil if no epoch did.
	Seconds *float64 `json:"seconds_to_99"`
	// Epoch is that epoch, from 1 (0 if none).
	Epoch int `json:"epoch"`
	// FinalTop1 is the test top-1 after the last epoch run.
	FinalTop1 float64 `json:"final_top1"`
	// EpochsRun is the number of epochs trained.
	EpochsRun int `json:"epochs_run"`
}

// parseTime99 returns the last line of the peer's output that is a JSON
// object with an epochs_run above 0.
func parseTime99(out []byte) (time99Result, error) {
	var res time99Result
	found := false
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var r time99Result
		if json.Unmarshal(sc.Bytes(), &r) != nil || r.EpochsRun < 1 {
			continue
		}
		res, found = r, true
	}
	if !found {
		return time99Result{}, errors.New("peer printed no result")
	}
	return res, nil
}

// stopAtTarget is the Fit callback of the fovea run: it records, in res,
// the epochs run and the last test accuracy (Fit's validation set is the
// test set), and the time and epoch at which that accuracy first reaches
// target, and then stops the run.
type stopAtTarget struct {
	train.BaseHook
	target float64
	start  time.Time
	now    func() time.Time // time.Now, or a fake in tests
	log    io.Writer        // one line per epoch, or nil
	res    time99Result
}

// OnEpochEnd implements train.Hook.
func (c *stopAtTarget) OnEpochEnd(s *train.State) error {
	secs := c.now().Sub(c.start).Seconds()
	c.res.EpochsRun, c.res.FinalTop1 = s.Epoch, s.Metrics.ValAcc
	if c.log != nil {
		fmt.Fprintf(c.log, "fovea epoch %d: test top-1 %.4f (%.1f s)\n", s.Epoch, s.Metrics.ValAcc, secs)
	}
	if c.res.Seconds == nil && s.Metrics.ValAcc >= c.target {
		c.res.Seconds, c.res.Epoch = &secs, s.Epoch
		s.Stop()
	}
	return nil
}

// fovea99 runs fovea's side of time99 over at most epochs epochs.
func fovea99(epochs int, log io.Writer) (time99Result, error) {
	trainSet, err := mnist.Train()
	if err != nil {
		return time99Result{}, err
	}
	testSet, err := mnist.Test()
	if err != nil {
		return time99Result{}, err
	}
	model, err := models.NewLeNet5(models.LeNetConfig{Act: nn.ReLU, Seed: 1})
	if err != nil {
		return time99Result{}, err
	}
	opt, err := optim.NewAdam(model.Params(), optim.AdamConfig{LR: time99LR})
	if err != nil {
		return time99Result{}, err
	}
	cb := &stopAtTarget{target: time99Target, now: time.Now, log: log}
	cfg := train.Config{Epochs: epochs, BatchSize: time99Batch, Optimizer: opt,
		Schedule: optim.CosineAnnealingLR{TMax: epochs}, Seed: 1,
		Validation: testSet, Hooks: []train.Hook{cb}}
	runtime.GC()
	cb.start = time.Now()
	if _, err := train.Fit(context.Background(), model, trainSet, cfg); err != nil {
		return time99Result{}, err
	}
	return cb.res, nil
}

// torch99 runs PyTorch's side of time99: the peer script, on 2 threads,
// with its per-epoch lines passed on to log.
func torch99(script string, epochs int, log io.Writer) (time99Result, error) {
	args := []string{"--epochs", strconv.Itoa(epochs), "--threads", "2", "--seed", "1",
		"--batch", strconv.Itoa(time99Batch), "--lr", strconv.FormatFloat(time99LR, 'g', -1, 64),
		"--target", strconv.FormatFloat(time99Target, 'g', -1, 64)}
	if dir := findUp(filepath.Join("datasets", "mnist")); filepath.IsAbs(dir) {
		args = append(args, "--data", dir) // the files fovea embeds
	}
	cmd := peerCommand(script, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if log != nil {
		cmd.Stderr = io.MultiWriter(log, &stderr)
	}
	out, err := cmd.Output()
	if err != nil {
		return time99Result{}, fmt.Errorf("%v: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	return parseTime99(out)
}

// time99Row formats the table's line; torch is nil when PyTorch was not
// run. The ratio is torch's seconds over fovea's: above 1, fovea got
// there first.
func time99Row(f time99Result, torch *time99Result) string {
	secs := func(r time99Result) (string, string) {
		if r.Seconds == nil {
			return "-", fmt.Sprintf(">%d", r.EpochsRun)
		}
		return fmt.Sprintf("%.1f", *r.Seconds), strconv.Itoa(r.Epoch)
	}
	fs, fe := secs(f)
	ts, te, tt, ratio := "-", "-", "-", "-"
	if torch != nil {
		ts, te = secs(*torch)
		tt = fmt.Sprintf("%.4f", torch.FinalTop1)
		if f.Seconds != nil && torch.Seconds != nil && *f.Seconds > 0 {
			ratio = fmt.Sprintf("%.2f", *torch.Seconds / *f.Seconds)
		}
	}
	return fmt.Sprintf("%-20s %8s %8s %10.4f %8s %8s %10s %6s", time99Name, fs, fe, f.FinalTop1, ts, te, tt, ratio)
}

// runTime99 prints the time99 table: fovea first, then PyTorch, one after
// the other so that neither shares the cores.
func runTime99(o options) error {
	fmt.Printf("# time to %.0f%% MNIST test top-1: LeNet-5 (ReLU), 60000 training images, Adam lr %g, batch %d, cosine over %d epochs,\n"+
		"# test set scored after every epoch (in the clock); fovea %d threads (GOMAXPROCS), PyTorch 2; seconds, ratio torch_s/fovea_s\n",
		100*time99Target, time99LR, time99Batch, o.epochs, o.threads)
	if o.why != "" {
		fmt.Printf("# PyTorch column skipped: %s\n", o.why)
	}
	f, err := fovea99(o.epochs, os.Stderr)
	if err != nil {
		return fmt.Errorf("fovea: %w", err)
	}
	runtime.GC()
	var torch *time99Result
	if o.why == "" {
		r, err := torch99(o.peer, o.epochs, os.Stderr)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: torch: %v\n", time99Name, err)
		} else {
			torch = &r
		}
	}
	fmt.Printf("%-20s %8s %8s %10s %8s %8s %10s %6s\n", "case", "fovea_s", "fovea_ep", "fovea_top1", "torch_s", "torch_ep", "torch_top1", "ratio")
	fmt.Println(time99Row(f, torch))
	return nil
}
