package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/foveaml/fovea/models"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/weights"
)

// fovea serve as a process: it answers what fovea predict answers; a
// SIGHUP with a corrupt weights file keeps the old model serving; --watch
// swaps in a new file by itself; a SIGHUP with a good file under load
// swaps it with no request failed or answered by neither model; SIGTERM
// under load answers every request it accepted and exits 0.
func TestServeDrill(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: not building fovea")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bin := buildFovea(t, ctx)
	dir := t.TempDir()
	img := filepath.Join(dir, "digit.png")
	pic := image.NewGray(image.Rect(0, 0, 28, 28))
	for i := range pic.Pix {
		pic.Pix[i] = uint8(i * 7)
	}
	var buf bytes.Buffer
	png.Encode(&buf, pic)
	os.WriteFile(img, buf.Bytes(), 0o644)
	// Two models, each with fovea predict's answer for the image:
	// "digit.png:  7 0.123" → "7 0.123".
	files := make([][]byte, 2)
	answers := make([]string, 2)
	for i, seed := range []uint64{3, 4} {
		m, err := models.NewLeNet5(models.LeNetConfig{Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, fmt.Sprintf("seed%d.safetensors", seed))
		if err := weights.Save(f, weights.StateDict(nn.State(m)), map[string]string{"model": "lenet5", "classes": "10"}); err != nil {
			t.Fatal(err)
		}
		files[i], _ = os.ReadFile(f)
		out, err := exec.CommandContext(ctx, bin, "predict", "--weights", f, "--k", "1", img).Output()
		if err != nil {
			t.Fatal(err)
		}
		var class string
		var prob float64
		fmt.Sscanf(strings.TrimSpace(strings.SplitN(string(out), ":", 2)[1]), "%s %g", &class, &prob)
		answers[i] = fmt.Sprintf("%s %.3f", class, prob)
	}
	if answers[0] == answers[1] {
		t.Fatalf("the two models answer alike (%s): the swaps would not show", answers[0])
	}
	w := filepath.Join(dir, "model.safetensors")
	replace := func(b []byte) { // as fovea train writes its files: whole, by a rename
		tmp := w + ".tmp"
		if err := os.WriteFile(tmp, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, w); err != nil {
			t.Fatal(err)
		}
	}
	replace(files[0])

	cmd := exec.CommandContext(ctx, bin, "serve", "--weights", w, "--addr", "127.0.0.1:0", "--json", "--watch", "50ms")
	stdout, _ := cmd.StdoutPipe()
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var hello struct{ Addr string }
	if err := json.NewDecoder(bufio.NewReader(stdout)).Decode(&hello); err != nil {
		t.Fatalf("serve's first line: %v; stderr %s", err, stderr.String())
	}
	url := "http://" + hello.Addr + "/v1/predict"
	// ask returns the status and, for a 200, the top class and its
	// probability as fovea predict prints them.
	ask := func() (int, string) {
		resp, err := http.Post(url, "image/png", bytes.NewReader(buf.Bytes()))
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var r struct {
			Results []struct {
				Predictions []struct {
					Class       string
					Probability float64
				}
			}
		}
		if resp.StatusCode != 200 || json.Unmarshal(b, &r) != nil || len(r.Results) != 1 || len(r.Results[0].Predictions) == 0 {
			return resp.StatusCode, string(b)
		}
		p := r.Results[0].Predictions[0]
		return 200, fmt.Sprintf("%s %.3f", p.Class, p.Probability)
	}
	check := func(when string, model int) {
		t.Helper()
		if status, got := ask(); status != 200 || got != answers[model] {
			t.Fatalf("%s: %d %s, fovea predict %s", when, status, got, answers[model])
		}
	}
	check("at start", 0)
	os.WriteFile(w, files[0][:len(files[0])/3], 0o644) // a corrupt file
	cmd.Process.Signal(syscall.SIGHUP)
	time.Sleep(300 * time.Millisecond)
	check("after a SIGHUP with a corrupt file", 0)
	if !strings.Contains(stderr.String(), `"msg":"reload failed; the old model keeps serving","why":"SIGHUP"`) {
		t.Errorf("no log line for the failed reload: %s", stderr.String())
	}
	replace(files[1]) // --watch, no signal
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, got := ask(); got == answers[1] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("--watch did not swap in the new file in 10 s; stderr %s", stderr.String())
		}
	}

	// Load; a SIGHUP with the first model's file in the middle of it,
	// then SIGTERM. Until SIGTERM every request is answered 200 by one
	// of the two models, whole; after it, every request the server
	// accepted is answered 200 and later ones find it gone.
	var wg sync.WaitGroup
	var mu sync.Mutex
	before, after := map[string]int{}, map[int]int{}
	var terminated atomic.Bool
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				status, got := ask()
				mu.Lock()
				if terminated.Load() { // may have met the shutdown
					after[status]++
				} else {
					before[fmt.Sprint(status, " ", got)]++
				}
				mu.Unlock()
				if status == 0 {
					return
				}
			}
		}()
	}
	time.Sleep(200 * time.Millisecond)
	replace(files[0])
	cmd.Process.Signal(syscall.SIGHUP)
	time.Sleep(400 * time.Millisecond)
	check("after a SIGHUP with a good file, under load", 0)
	terminated.Store(true)
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	wg.Wait()
	if err != nil {
		t.Errorf("fovea serve after SIGTERM: %v; stderr %s", err, stderr.String())
	}
	t.Logf("answers under load and a reload: %v; after SIGTERM, statuses: %v", before, after)
	for answer, n := range before {
		if answer != "200 "+answers[0] && answer != "200 "+answers[1] {
			t.Errorf("%d requests answered %q under load and a reload", n, answer)
		}
	}
	for status, n := range after {
		if status != 200 && status != 0 {
			t.Errorf("%d requests answered %d during the shutdown", n, status)
		}
	}
	if before["200 "+answers[0]] == 0 || before["200 "+answers[1]] == 0 {
		t.Errorf("under load, answers %v: not both models answered", before)
	}
	for _, line := range []string{`"msg":"reloaded","why":"file changed"`, `"msg":"reloaded","why":"SIGHUP"`, `"msg":"stopped"`} {
		if !strings.Contains(stderr.String(), line) {
			t.Errorf("no log line %s: %s", line, stderr.String())
		}
	}
}

// syncBuffer is a bytes.Buffer a process's output may be copied into
// while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
