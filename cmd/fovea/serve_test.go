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
	"syscall"
	"testing"
	"time"

	"github.com/foveaml/fovea/models"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/weights"
)

// fovea serve as a process: it answers what fovea predict answers; a
// SIGHUP with a corrupt weights file keeps the old model serving, one
// with a good file swaps it; SIGTERM under load answers every request it
// accepted and exits 0.
func TestServeDrill(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: not building fovea")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bin := buildFovea(t, ctx)
	dir := t.TempDir()
	m, err := models.NewLeNet5(models.LeNetConfig{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	w := filepath.Join(dir, "model.safetensors")
	if err := weights.Save(w, weights.StateDict(nn.State(m)), map[string]string{"model": "lenet5", "classes": "10"}); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(w)
	img := filepath.Join(dir, "digit.png")
	pic := image.NewGray(image.Rect(0, 0, 28, 28))
	for i := range pic.Pix {
		pic.Pix[i] = uint8(i * 7)
	}
	var buf bytes.Buffer
	png.Encode(&buf, pic)
	os.WriteFile(img, buf.Bytes(), 0o644)
	predicted, err := exec.CommandContext(ctx, bin, "predict", "--weights", w, "--k", "1", img).Output()
	if err != nil {
		t.Fatal(err)
	}
	// "digit.png:  7 0.123" → class 7, probability 0.123
	var top string
	var prob float64
	fmt.Sscanf(strings.TrimSpace(strings.SplitN(string(predicted), ":", 2)[1]), "%s %g", &top, &prob)

	cmd := exec.CommandContext(ctx, bin, "serve", "--weights", w, "--addr", "127.0.0.1:0", "--json")
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var hello struct{ Addr string }
	if err := json.NewDecoder(bufio.NewReader(stdout)).Decode(&hello); err != nil {
		t.Fatalf("serve's first line: %v; stderr %s", err, stderr.String())
	}
	url := "http://" + hello.Addr + "/v1/predict"
	ask := func() (int, string) {
		resp, err := http.Post(url, "image/png", bytes.NewReader(buf.Bytes()))
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	check := func(when string) {
		t.Helper()
		status, body := ask()
		var r struct {
			Results []struct {
				Predictions []struct {
					Class       string
					Probability float64
				}
			}
		}
		if status != 200 || json.Unmarshal([]byte(body), &r) != nil || len(r.Results) != 1 {
			t.Fatalf("%s: %d %s", when, status, body)
		}
		p := r.Results[0].Predictions[0]
		if p.Class != top || fmt.Sprintf("%.3f", p.Probability) != fmt.Sprintf("%.3f", prob) {
			t.Errorf("%s: served %s %.3f, fovea predict %s %.3f", when, p.Class, p.Probability, top, prob)
		}
	}
	check("at start")
	os.WriteFile(w, good[:len(good)/3], 0o644) // a corrupt file
	cmd.Process.Signal(syscall.SIGHUP)
	time.Sleep(300 * time.Millisecond)
	check("after a SIGHUP with a corrupt file")
	if !strings.Contains(stderr.String(), "reload failed; the old model keeps serving") {
		t.Errorf("no log line for the failed reload: %s", stderr.String())
	}
	os.WriteFile(w, good, 0o644)
	cmd.Process.Signal(syscall.SIGHUP)
	time.Sleep(300 * time.Millisecond)
	check("after a SIGHUP with the good file")

	// Load, then SIGTERM in the middle of it: every request the server
	// accepted is answered 200; later ones find it gone.
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	stop := make(chan struct{})
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				status, _ := ask()
				mu.Lock()
				codes[status]++
				mu.Unlock()
				if status == 0 {
					return
				}
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGTERM)
	err = cmd.Wait()
	close(stop)
	wg.Wait()
	if err != nil {
		t.Errorf("fovea serve after SIGTERM: %v; stderr %s", err, stderr.String())
	}
	for status, n := range codes {
		if status != 200 && status != 0 {
			t.Errorf("%d requests answered %d during the shutdown", n, status)
		}
	}
	if codes[200] == 0 {
		t.Error("no request was answered under load")
	}
	if !strings.Contains(stderr.String(), "stopped") {
		t.Errorf("no log line for the stop: %s", stderr.String())
	}
}
