package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/foveaml/fovea/data"
	"github.com/foveaml/fovea/models"
	"github.com/foveaml/fovea/serve"
	"github.com/foveaml/fovea/tensor"
)

// serveOptions bound the load test.
type serveOptions struct {
	model    string
	clients  int
	requests int           // per client
	duration time.Duration // the most one pass may take
	maxBatch int
	rounds   int // each a pass with batching and one without
}

// runServe load-tests the serve handler on the loopback interface: C
// concurrent clients, each sending up to -requests images (or until
// -duration), with dynamic batching (-max-batch) and with batches of
// one, the two passes taking turns for -rounds rounds so that a machine
// whose load changes weighs on both alike. Every answer is checked
// against the model run on that image alone. It prints one line per
// pass:
//
//	case  req/s  p50_ms  p95_ms  p99_ms  errors  wrong  rss_start_MiB  rss_end_MiB
//
// then, for each pass, the median of each column over the rounds (errors
// and wrong answers: their sum), and the batching gain: the median over
// the rounds of req/s with batching over req/s without.
func runServe(o serveOptions) error {
	spec, err := models.Lookup(o.model)
	if err != nil {
		return err
	}
	layer, err := spec.New(models.Options{Seed: 1})
	if err != nil {
		return err
	}
	m, err := serve.NewModel(spec.Name, layer, nil)
	if err != nil {
		return err
	}
	bodies, wants, err := serveImages(m, 32)
	if err != nil {
		return err
	}
	fmt.Printf("# serve %s on 127.0.0.1: %d clients × up to %d requests (at most %v a pass), %d threads\n",
		spec.Name, o.clients, o.requests, o.duration, runtime.GOMAXPROCS(0))
	fmt.Printf("%-22s %8s %8s %8s %8s %7s %6s %14s %12s\n", "case", "req/s", "p50_ms", "p95_ms", "p99_ms", "errors", "wrong", "rss_start_MiB", "rss_end_MiB")
	sizes := []int{o.maxBatch, 1}
	rounds := make([][2]passStats, o.rounds)
	for r := range rounds {
		for i, mb := range sizes {
			st, err := servePass(m, bodies, wants, o, mb)
			if err != nil {
				return err
			}
			st.print(fmt.Sprintf("%s_maxbatch%d", m.Name, mb))
			rounds[r][i] = st
		}
	}
	gains := make([]float64, o.rounds)
	for r, st := range rounds {
		gains[r] = st[0].rate / st[1].rate
	}
	if o.rounds > 1 {
		for i, mb := range sizes {
			col := func(f func(p passStats) float64) (med, sum float64) {
				v := make([]float64, o.rounds)
				for r := range rounds {
					v[r] = f(rounds[r][i])
					sum += v[r]
				}
				return median(v), sum
			}
			var all passStats
			all.rate, _ = col(func(p passStats) float64 { return p.rate })
			all.p50, _ = col(func(p passStats) float64 { return p.p50 })
			all.p95, _ = col(func(p passStats) float64 { return p.p95 })
			all.p99, _ = col(func(p passStats) float64 { return p.p99 })
			_, all.errs = col(func(p passStats) float64 { return p.errs })
			_, all.wrong = col(func(p passStats) float64 { return p.wrong })
			all.rssStart, _ = col(func(p passStats) float64 { return p.rssStart })
			all.rssEnd, _ = col(func(p passStats) float64 { return p.rssEnd })
			all.print(fmt.Sprintf("median_maxbatch%d", mb))
		}
	}
	fmt.Printf("batching gain (max-batch %d over 1, median of %d rounds): %.2f× (rounds %s)\n", o.maxBatch, o.rounds, median(gains), roundList(gains))
	return nil
}

// passStats are the figures of one pass.
type passStats struct {
	rate, p50, p95, p99, errs, wrong, rssStart, rssEnd float64
}

func (p passStats) print(name string) {
	fmt.Printf("%-22s %8.0f %8.2f %8.2f %8.2f %7.0f %6.0f %14.0f %12.0f\n", name,
		p.rate, p.p50, p.p95, p.p99, p.errs, p.wrong, p.rssStart, p.rssEnd)
}

// servePass runs one pass of the load test with batches of up to
// maxBatch and returns its figures.
func servePass(m *serve.Model, bodies [][]byte, wants [][]float32, o serveOptions, maxBatch int) (passStats, error) {
	s := serve.New(m, serve.Options{MaxBatch: maxBatch, BatchWait: 2 * time.Millisecond, Queue: 4 * o.clients,
		TopK: 1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer s.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return passStats{}, err
	}
	srv := &http.Server{Handler: s}
	go srv.Serve(ln)
	defer srv.Close()
	url := "http://" + ln.Addr().String() + "/v1/predict"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.clients}, Timeout: 30 * time.Second}
	ask := func(i int) (time.Duration, error, bool) {
		t0 := time.Now()
		resp, err := client.Post(url, "image/png", bytes.NewReader(bodies[i]))
		if err != nil {
			return 0, err, false
		}
		defer resp.Body.Close()
		var r serve.Response
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || resp.StatusCode != 200 || len(r.Results) != 1 {
			return 0, fmt.Errorf("status %d, %v", resp.StatusCode, err), false
		}
		p := r.Results[0].Predictions[0]
		best := slices.Index(wants[i], slices.Max(wants[i]))
		ok := p.Index == best && math.Abs(float64(p.Probability-wants[i][best])) < 1e-5
		return time.Since(t0), nil, ok
	}
	load := func(requests int, deadline time.Time) (lat []time.Duration, errs, wrong int) {
		var mu sync.Mutex
		var wg sync.WaitGroup
		for c := range o.clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for r := 0; r < requests && time.Now().Before(deadline); r++ {
					d, err, ok := ask((c*7 + r) % len(bodies))
					mu.Lock()
					switch {
					case err != nil:
						errs++ // no latency: a failure's time says nothing of serving
					case !ok:
						wrong++
						lat = append(lat, d)
					default:
						lat = append(lat, d)
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		return lat, errs, wrong
	}
	// Warm-up at full concurrency: connections, buffer pools, caches.
	load(max(o.requests/10, 10), time.Now().Add(o.duration))
	debug.FreeOSMemory()
	rssStart := residentMiB()
	start := time.Now()
	lat, errs, wrong := load(o.requests, start.Add(o.duration))
	took := time.Since(start)
	debug.FreeOSMemory()
	rssEnd := residentMiB()
	if len(lat) == 0 {
		return passStats{}, fmt.Errorf("every one of the %d requests failed", errs)
	}
	slices.Sort(lat)
	q := func(f float64) float64 { return float64(lat[int(f*float64(len(lat)-1))].Microseconds()) / 1000 }
	return passStats{rate: float64(len(lat)) / took.Seconds(), p50: q(0.5), p95: q(0.95), p99: q(0.99),
		errs: float64(errs), wrong: float64(wrong), rssStart: rssStart, rssEnd: rssEnd}, nil
}

// serveImages makes n PNG images of m's input size and the model's
// answer for each computed alone.
func serveImages(m *serve.Model, n int) ([][]byte, [][]float32, error) {
	h, w, c := m.Input[0], m.Input[1], m.Input[2]
	var bodies [][]byte
	var wants [][]float32
	for i := range n {
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				img.Set(x, y, color.RGBA{uint8(x*(i+1) + y*3), uint8(y*(i+2) - x), uint8((x ^ y) * (i + 5)), 255})
			}
		}
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			return nil, nil, err
		}
		dec, err := data.DecodeImage("bench", bytes.NewReader(b.Bytes()), int64(b.Len()))
		if err != nil {
			return nil, nil, err
		}
		x, err := tensor.FromSlice(data.ImageInput(dec, h, w, c), 1, h, w, c)
		if err != nil {
			return nil, nil, err
		}
		p, err := m.Predictor.Probabilities(x)
		if err != nil {
			return nil, nil, err
		}
		bodies, wants = append(bodies, b.Bytes()), append(wants, p.Data())
	}
	return bodies, wants, nil
}

// residentMiB returns the process's resident memory now (VmRSS), in MiB.
func residentMiB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return math.NaN()
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024
		}
	}
	return math.NaN()
}
