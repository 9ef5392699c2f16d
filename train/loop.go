package train

import (
	"context"
	"fmt"
	"time"

	"github.com/foveaml/fovea/data"
)

// loop is the one training loop, Fit's and FitHead's: it runs a Stepper
// on the batches of the epochs its run has left and calls the hooks
// around the steps. Everything else a run does is a hook.
type loop struct {
	name    string // the entry point, for errors: "train.Fit"
	epochs  int
	loader  *data.Loader
	classes int
	stepper *Stepper
	hooks   []Hook
}

// run trains from s until s.Epoch reaches the loop's epochs or a hook
// stops it; OnEnd sees every way it ends.
func (l *loop) run(ctx context.Context, s *State) (err error) {
	defer func() {
		for _, h := range l.hooks {
			err = h.OnEnd(s, err)
		}
	}()
	if err := l.each(Hook.OnBegin, s); err != nil {
		return err
	}
	for s.Epoch < l.epochs && !s.stop {
		if err := l.epoch(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// epoch runs the steps of epoch s.Epoch left from batch s.Batch on, and
// checks ctx before each.
func (l *loop) epoch(ctx context.Context, s *State) error {
	s.tally = NewTally(l.classes)
	if err := l.each(Hook.OnEpochBegin, s); err != nil {
		return err
	}
	m := EpochMetrics{Epoch: s.Epoch, LR: s.Optimizer.LR()} // the rate a schedule hook set
	start := time.Now()
	it := l.loader.EpochFrom(s.Epoch, s.Batch)
	defer it.Close()
	for b, ok := it.Next(); ok; b, ok = it.Next() {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%s: stopped (%w) at epoch %d, step %d", l.name, err, s.Epoch+1, s.Step)
		}
		if err := l.stepper.step(b, s.Step, s.tally); err != nil {
			return fmt.Errorf("%s: epoch %d, step %d: %w", l.name, s.Epoch+1, s.Step+1, err)
		}
		s.Step++
		s.Batch++
		if err := l.each(Hook.OnStep, s); err != nil {
			return err
		}
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("%s: reading the training data: %w", l.name, err)
	}
	tm := s.tally.Metrics()
	m.Loss, m.Acc, m.Images, m.Seconds = tm.Loss, tm.Top1, tm.Count, time.Since(start).Seconds()
	s.Epoch, s.Batch, s.Metrics = s.Epoch+1, 0, m
	return l.each(Hook.OnEpochEnd, s)
}

// each calls method of every hook in order, up to the first error.
func (l *loop) each(method func(Hook, *State) error, s *State) error {
	for _, h := range l.hooks {
		if err := method(h, s); err != nil {
			return err
		}
	}
	return nil
}
