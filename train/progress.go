package train

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progress draws Keras' per-epoch progress bar:
//
//	Epoch 3/10
//	 412/938 [=========>..........] ETA 7s  loss 0.2345  acc 0.9312  5123 img/s
//
// On a terminal it redraws one line in place, at most ten times a second;
// on anything else (a log file, a pipe) it prints only the line that ends
// each epoch.
type progress struct {
	BaseHook
	w        io.Writer
	tty      bool
	epochs   int
	epoch    int
	batches  int
	start    time.Time
	lastDraw time.Time
	midLine  bool // a bar is drawn and its line not ended
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func newProgress(w io.Writer, epochs int) *progress {
	if w == nil {
		return nil
	}
	return &progress{w: w, tty: isTerminal(w), epochs: epochs}
}

// beginEpoch starts the bar of epoch (0-based) of batches batches.
func (p *progress) beginEpoch(epoch, batches int) {
	if p == nil {
		return
	}
	p.epoch, p.batches, p.start = epoch, batches, time.Now()
	if p.tty {
		fmt.Fprintf(p.w, "Epoch %d/%d\n", epoch+1, p.epochs)
	}
}

// update redraws the bar after done batches and seen images, with the
// running loss and accuracy.
func (p *progress) update(done, images int, loss, acc float64) {
	if p == nil || !p.tty {
		return
	}
	now := time.Now()
	if done < p.batches && now.Sub(p.lastDraw) < 100*time.Millisecond {
		return
	}
	p.lastDraw, p.midLine = now, true
	el := now.Sub(p.start)
	eta := time.Duration(float64(el) / float64(max(done, 1)) * float64(p.batches-done))
	fmt.Fprintf(p.w, "\r%s %s ETA %s  loss %.4f  acc %.4f  %.0f img/s\x1b[K",
		counter(done, p.batches), bar(done, p.batches, 30), roundDur(eta), loss, acc, float64(images)/el.Seconds())
}

// endEpoch prints the epoch's closing line with its metrics.
func (p *progress) endEpoch(images int, m EpochMetrics) {
	if p == nil {
		return
	}
	el := time.Since(p.start)
	line := fmt.Sprintf("%s %s %s  loss %.4f  acc %.4f", counter(p.batches, p.batches), bar(p.batches, p.batches, 30),
		roundDur(el), m.Loss, m.Acc)
	if m.HasVal {
		line += fmt.Sprintf("  val_loss %.4f  val_acc %.4f", m.ValLoss, m.ValAcc)
	}
	// The rate is the training's alone (m.Seconds), as in the history;
	// the time shown includes validation.
	line += fmt.Sprintf("  %.0f img/s  lr %.3g", float64(images)/max(m.Seconds, 1e-9), m.LR)
	p.midLine = false
	if p.tty {
		fmt.Fprintf(p.w, "\r%s\x1b[K\n", line)
	} else {
		fmt.Fprintf(p.w, "Epoch %d/%d %s\n", p.epoch+1, p.epochs, line)
	}
}

// finish ends a bar left mid-line (training stopped inside an epoch), so
// that what is printed next starts on a line of its own.
func (p *progress) finish() {
	if p != nil && p.midLine {
		fmt.Fprintln(p.w)
		p.midLine = false
	}
}

// OnEpochBegin implements Hook.
func (p *progress) OnEpochBegin(s *State) error {
	p.beginEpoch(s.Epoch, s.Batches)
	return nil
}

// OnStep implements Hook.
func (p *progress) OnStep(s *State) error {
	loss, acc, images := s.Running()
	p.update(s.Batch, images, loss, acc)
	return nil
}

// OnEpochEnd implements Hook.
func (p *progress) OnEpochEnd(s *State) error {
	p.endEpoch(s.Metrics.Images, s.Metrics)
	return nil
}

// OnEnd implements Hook.
func (p *progress) OnEnd(_ *State, err error) error {
	p.finish()
	return err
}

func counter(done, total int) string {
	w := len(fmt.Sprint(total))
	return fmt.Sprintf("%*d/%d", w, done, total)
}

func bar(done, total, width int) string {
	n := width
	if total > 0 {
		n = width * done / total
	}
	s := strings.Repeat("=", n)
	if n < width {
		s += ">" + strings.Repeat(".", width-n-1)
	}
	return "[" + s + "]"
}

func roundDur(d time.Duration) time.Duration {
	if d > 10*time.Second {
		return d.Round(time.Second)
	}
	return d.Round(100 * time.Millisecond)
}
