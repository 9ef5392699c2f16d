package train

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// calls records every hook call of a run, with the state it saw.
type calls struct {
	log []string
}

func (c *calls) hook() Hook {
	note := func(what string) func(s *State) error {
		return func(s *State) error {
			c.log = append(c.log, fmt.Sprintf("%s e%d b%d/%d s%d", what, s.Epoch, s.Batch, s.Batches, s.Step))
			return nil
		}
	}
	return HookFuncs{Begin: note("begin"), EpochBegin: note("epoch"), Step: note("step"),
		EpochEnd: func(s *State) error {
			// Fit's own hooks ran first: validation is in the metrics,
			// and the epoch is in the history.
			if !s.Metrics.HasVal || len(s.History.Epochs) != s.Epoch || s.History.Last() != s.Metrics {
				return fmt.Errorf("epoch %d: metrics %+v, %d in the history", s.Epoch, s.Metrics, len(s.History.Epochs))
			}
			return note("end")(s)
		},
		End: func(s *State, err error) error {
			c.log = append(c.log, fmt.Sprintf("done e%d s%d: %v", s.Epoch, s.Step, err))
			return err
		}}
}

// TestLoopCallsHooks checks the order of the hook calls of a run of two
// epochs of three batches, and the state each sees.
func TestLoopCallsHooks(t *testing.T) {
	m := smallNet(t, 1)
	var c calls
	_, err := Fit(context.Background(), m, bars(t, 40, 1), Config{Epochs: 2, BatchSize: 16, Optimizer: adam(t, m, 0.01),
		Validation: bars(t, 8, 2), Hooks: []Hook{c.hook()}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"begin e0 b0/3 s0",
		"epoch e0 b0/3 s0", "step e0 b1/3 s1", "step e0 b2/3 s2", "step e0 b3/3 s3", "end e1 b0/3 s3",
		"epoch e1 b0/3 s3", "step e1 b1/3 s4", "step e1 b2/3 s5", "step e1 b3/3 s6", "end e2 b0/3 s6",
		"done e2 s6: <nil>"}
	if got := strings.Join(c.log, "; "); got != strings.Join(want, "; ") {
		t.Fatalf("hook calls:\n%s\nwant:\n%s", got, strings.Join(want, "; "))
	}
}

// TestLoopStops checks how a run ends: a hook's Stop ends it after the
// epoch's hooks, a hook's error at once with that error, which OnEnd
// sees, and every OnEnd may add to the error.
func TestLoopStops(t *testing.T) {
	ds := bars(t, 40, 1)
	m := smallNet(t, 1)
	stopAt := HookFuncs{Step: func(s *State) error {
		if s.Step == 2 {
			s.Stop()
		}
		return nil
	}}
	h, err := Fit(context.Background(), m, ds, Config{Epochs: 3, BatchSize: 16, Optimizer: adam(t, m, 0.01), Hooks: []Hook{stopAt}})
	if err != nil || len(h.Epochs) != 1 || h.Epochs[0].Images != 40 {
		t.Fatalf("stopped at step 2: %v, %+v; want the whole first epoch", err, h)
	}
	boom := errors.New("boom")
	var seen error
	rec := HookFuncs{End: func(s *State, err error) error {
		seen = err
		return err
	}}
	fail := HookFuncs{Step: func(s *State) error {
		if s.Step == 4 {
			return boom
		}
		return nil
	}}
	say := HookFuncs{End: func(s *State, err error) error { return fmt.Errorf("%w (said at step %d)", err, s.Step) }}
	h, err = Fit(context.Background(), m, ds, Config{Epochs: 3, BatchSize: 16, Optimizer: adam(t, m, 0.01),
		Hooks: []Hook{fail, rec, say}})
	if !errors.Is(err, boom) || err.Error() != "boom (said at step 4)" || len(h.Epochs) != 1 {
		t.Fatalf("a hook's error: %v, %d epochs", err, len(h.Epochs))
	}
	if seen != boom {
		t.Errorf("OnEnd saw %v; want the hook's error itself", seen)
	}
}
