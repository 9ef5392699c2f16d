package serve

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"math"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/data"
	"github.com/foveaml/fovea/models"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/tensor"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func lenet(t *testing.T, seed uint64) *Model {
	t.Helper()
	m, err := models.NewLeNet5(models.LeNetConfig{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}
	sm, err := NewModel("lenet5", m, names)
	if err != nil {
		t.Fatal(err)
	}
	return sm
}

// digit is a PNG of a 20×20 grey pattern that depends on i.
func digit(t *testing.T, i int) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 20+i%5, 20))
	for y := range 20 {
		for x := range img.Bounds().Dx() {
			img.SetGray(x, y, color.Gray{uint8((x*(i+3) + y*(7-i%7)) * 11)})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// want is the model's answer for an image computed alone, as fovea
// predict computes it.
func want(t *testing.T, m *Model, body []byte) []float32 {
	t.Helper()
	img, err := data.DecodeImage("x", bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	x, _ := tensor.FromSlice(data.ImageInput(img, 28, 28, 1), 1, 28, 28, 1)
	p, err := m.Predictor.Probabilities(x)
	if err != nil {
		t.Fatal(err)
	}
	return p.Data()
}

// multipartOf returns a multipart form of the files bodies named names,
// and its content type.
func multipartOf(names []string, bodies [][]byte) (string, []byte) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for i, name := range names {
		f, _ := w.CreateFormFile("image", name)
		f.Write(bodies[i])
	}
	w.Close()
	return w.FormDataContentType(), b.Bytes()
}

func post(url, ct string, body []byte) (int, []byte, http.Header, error) {
	resp, err := http.Post(url, ct, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header, err
}

// 16 concurrent clients get the answers each image gets alone, through
// shared forward passes, with a reload in the middle that fails none;
// the metrics parse and count the requests.
func TestConcurrentBatchedAnswersAndReload(t *testing.T) {
	m := lenet(t, 1)
	s := New(m, Options{MaxBatch: 8, BatchWait: 2 * time.Millisecond, Logger: quiet, TopK: 10})
	defer s.Close()
	ts := httptest.NewServer(s)
	defer ts.Close()
	bodies := make([][]byte, 10)
	wants := make([][]float32, len(bodies))
	for i := range bodies {
		bodies[i] = digit(t, i)
		wants[i] = want(t, m, bodies[i])
	}
	const clients, each = 16, 25
	var wg sync.WaitGroup
	errs := make(chan string, clients*each)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range each {
				i := (c + r) % len(bodies)
				status, b, _, err := post(ts.URL+"/v1/predict", "image/png", bodies[i])
				if err != nil || status != 200 {
					errs <- fmt.Sprintf("status %d, %v: %s", status, err, b)
					continue
				}
				var resp Response
				if err := json.Unmarshal(b, &resp); err != nil || len(resp.Results) != 1 {
					errs <- fmt.Sprintf("answer %s: %v", b, err)
					continue
				}
				for _, p := range resp.Results[0].Predictions {
					if math.Abs(float64(p.Probability-wants[i][p.Index])) > 1e-5 || p.Class != m.Classes[p.Index] {
						errs <- fmt.Sprintf("image %d class %s: %v, alone %v", i, p.Class, p.Probability, wants[i][p.Index])
					}
				}
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	s.Swap(lenet(t, 1)) // the same weights, so the answers stay
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	resp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	var ok200 float64
	for _, mt := range fams["fovea_requests_total"].GetMetric() {
		for _, l := range mt.GetLabel() {
			if l.GetName() == "code" && l.GetValue() == "200" {
				ok200 += mt.GetCounter().GetValue()
			}
		}
	}
	if ok200 != clients*each {
		t.Errorf("metrics count %v answered requests, want %d", ok200, clients*each)
	}
	h := fams["fovea_batch_size"].GetMetric()[0].GetHistogram()
	if h.GetSampleCount() >= clients*each {
		t.Errorf("%d forward passes for %d requests: no batching", h.GetSampleCount(), clients*each)
	}
}

// Every bad request gets its 4xx with a one-line JSON error, and the
// server goes on answering.
func TestBadRequests(t *testing.T) {
	m := lenet(t, 1)
	s := New(m, Options{MaxBatch: 2, MaxBody: 64 << 10, Logger: quiet})
	defer s.Close()
	ts := httptest.NewServer(s)
	defer ts.Close()
	good := digit(t, 0)
	// A 67-byte PNG header claiming 5000×5000 pixels: a decompression bomb.
	bomb := append([]byte(nil), good[:33]...)
	bomb[16], bomb[17], bomb[18], bomb[19] = 0, 0, 0x13, 0x88
	bomb[20], bomb[21], bomb[22], bomb[23] = 0, 0, 0x13, 0x88
	binary.BigEndian.PutUint32(bomb[29:], crc32.ChecksumIEEE(bomb[12:29])) // IHDR's checksum
	multi := func(n int) (string, []byte) {
		names, bodies := make([]string, n), make([][]byte, n)
		for i := range n {
			names[i], bodies[i] = fmt.Sprintf("%d.png", i), good
		}
		return multipartOf(names, bodies)
	}
	overCT, over := multi(3)
	mixedCT, mixed := multipartOf([]string{"good.png", "bad.png"}, [][]byte{good, []byte("not a picture")})
	for _, c := range []struct {
		name, ct string
		body     []byte
		status   int
		names    string // the image the error names, once
	}{
		{"not an image", "image/png", []byte("hello, not a picture"), 400, "body:"},
		{"truncated", "image/png", good[:len(good)/2], 400, "body:"},
		{"bomb", "image/png", bomb, 413, "body:"},
		{"wrong type", "text/plain", good, 415, ""},
		{"empty", "image/png", nil, 400, ""},
		{"over the body limit", "image/png", make([]byte, 100<<10), 413, ""},
		{"batch over the limit", overCT, over, 413, ""},
		{"a bad image in a batch", mixedCT, mixed, 400, "bad.png:"},
	} {
		status, b, _, err := post(ts.URL+"/v1/predict", c.ct, c.body)
		var e map[string]string
		if err != nil || status != c.status || json.Unmarshal(b, &e) != nil || e["error"] == "" || strings.Count(string(b), "\n") != 1 {
			t.Errorf("%s: status %d (want %d), %v: %q", c.name, status, c.status, err, b)
		}
		if c.names != "" && strings.Count(e["error"], c.names) != 1 {
			t.Errorf("%s: the error should name %q once: %q", c.name, c.names, e["error"])
		}
	}
	ct, two := multi(2)
	if status, b, _, _ := post(ts.URL+"/v1/predict", ct, two); status != 200 || !strings.Contains(string(b), `"file":"1.png"`) {
		t.Errorf("after the bad requests: %d %s", status, b)
	}
	for _, path := range []string{"/healthz", "/readyz", "/v1/model"} {
		if resp, err := http.Get(ts.URL + path); err != nil || resp.StatusCode != 200 {
			t.Errorf("GET %s: %v %v", path, resp.Status, err)
		}
	}
	for _, c := range []struct {
		path   string
		status int
		allow  string
	}{{"/v1/predict", 405, "POST"}, {"/v2/predict", 404, ""}} {
		resp, err := http.Get(ts.URL + c.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var e map[string]string
		if resp.StatusCode != c.status || resp.Header.Get("Allow") != c.allow || json.Unmarshal(b, &e) != nil || !strings.Contains(e["error"], "GET "+c.path) {
			t.Errorf("GET %s: %s, Allow %q: %s", c.path, resp.Status, resp.Header.Get("Allow"), b)
		}
	}
}

// gate is a model layer that blocks until released, and panics on a
// batch of 3 images.
type gate struct {
	inner   nn.Layer
	release chan struct{}
}

func (g *gate) Forward(c *nn.Ctx, x *ag.Var) *ag.Var {
	<-g.release
	if x.Shape()[0] == 3 {
		panic("three")
	}
	return g.inner.Forward(c, x)
}
func (g *gate) Params() []nn.Param { return g.inner.Params() }
func (g *gate) About() nn.About    { return nn.About{Input: []int{28, 28, 1}} }

// A full queue answers 503 with Retry-After; a panic in the forward pass
// fails its batch with 500 and nothing else; Close answers what is
// queued.
func TestOverloadAndPanic(t *testing.T) {
	inner, _ := models.NewLeNet5(models.LeNetConfig{})
	g := &gate{inner: inner, release: make(chan struct{})}
	m, err := NewModel("gate", g, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := New(m, Options{MaxBatch: 1, Queue: 1, NoWait: true, NoWarm: true, Logger: quiet})
	ts := httptest.NewServer(s)
	defer ts.Close()
	body := digit(t, 1)
	first := make(chan int, 2)
	for range 2 { // one in the forward pass, one queued
		go func() {
			status, _, _, _ := post(ts.URL+"/v1/predict", "image/png", body)
			first <- status
		}()
		time.Sleep(50 * time.Millisecond)
	}
	status, b, h, _ := post(ts.URL+"/v1/predict", "image/png", body)
	if status != 503 || h.Get("Retry-After") == "" {
		t.Errorf("full queue: %d %s, Retry-After %q", status, b, h.Get("Retry-After"))
	}
	g.release <- struct{}{}
	g.release <- struct{}{}
	for range 2 {
		if st := <-first; st != 200 {
			t.Errorf("a request that was accepted got %d", st)
		}
	}
	close(g.release)
	s.Close()
	s2 := New(m, Options{MaxBatch: 4, BatchSizes: []int{1, 3}, BatchWait: 200 * time.Millisecond, Logger: quiet})
	defer s2.Close()
	ts2 := httptest.NewServer(s2)
	defer ts2.Close()
	ct3, b3 := multipartOf([]string{"0", "1", "2"}, [][]byte{body, body, body})
	if status, b, _, _ := post(ts2.URL+"/v1/predict", ct3, b3); status != 500 || !strings.Contains(string(b), "three") {
		t.Errorf("panicking batch: %d %s", status, b)
	}
	if status, _, _, _ := post(ts2.URL+"/v1/predict", "image/png", body); status != 200 {
		t.Errorf("after the panic: %d", status)
	}
}

// POST /v1/embed answers each image's pooled vector at the layer the
// model was given, through the same batcher; without a layer it is 404.
func TestEmbed(t *testing.T) {
	layer, err := models.NewLeNet5(models.LeNetConfig{Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewModel("lenet5", layer, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := New(m, Options{Logger: quiet})
	ts := httptest.NewServer(s)
	if status, _, _, _ := post(ts.URL+"/v1/embed", "image/png", digit(t, 1)); status != 404 {
		t.Errorf("embed without a layer: %d", status)
	}
	ts.Close()
	s.Close()
	if err := m.WithEmbedding(layer, "features"); err != nil {
		t.Fatal(err)
	}
	s = New(m, Options{Logger: quiet})
	defer s.Close()
	ts = httptest.NewServer(s)
	defer ts.Close()
	body := digit(t, 4)
	status, b, _, _ := post(ts.URL+"/v1/embed", "image/png", body)
	var resp EmbedResponse
	if status != 200 || json.Unmarshal(b, &resp) != nil || len(resp.Results) != 1 || resp.Layer != "features" {
		t.Fatalf("embed: %d %s", status, b)
	}
	img, _ := data.DecodeImage("x", bytes.NewReader(body), int64(len(body)))
	x, _ := tensor.FromSlice(data.ImageInput(img, 28, 28, 1), 1, 28, 28, 1)
	want, err := m.Embedder.Embed(x)
	if err != nil {
		t.Fatal(err)
	}
	got := resp.Results[0].Vector
	if len(got) != 16 || len(got) != want.Len() {
		t.Fatalf("embedding of %d values, want 16 (features' channels)", len(got))
	}
	for i, v := range want.Data() {
		if math.Abs(float64(got[i]-v)) > 1e-5 {
			t.Fatalf("embedding[%d] = %v, alone %v", i, got[i], v)
		}
	}
}

// A panic while decoding or preparing one request's image is that
// request's 500 with a JSON error; the server goes on answering.
func TestPanicWhileDecoding(t *testing.T) {
	m := lenet(t, 1)
	m.Preprocess = func(img image.Image) ([]float32, error) {
		if img.Bounds().Dx() == 21 {
			panic("twenty-one")
		}
		return data.ImageInput(img, 28, 28, 1), nil
	}
	s := New(m, Options{Logger: quiet})
	defer s.Close()
	ts := httptest.NewServer(s)
	defer ts.Close()
	status, b, _, err := post(ts.URL+"/v1/predict", "image/png", digit(t, 1)) // 21 pixels wide
	var e map[string]string
	if err != nil || status != 500 || json.Unmarshal(b, &e) != nil || !strings.Contains(e["error"], "twenty-one") {
		t.Errorf("panicking preprocessing: %d %v %s", status, err, b)
	}
	if status, b, _, err := post(ts.URL+"/v1/predict", "image/png", digit(t, 0)); err != nil || status != 200 {
		t.Errorf("after the panic: %d %v %s", status, err, b)
	}
}

// GET /v1/model tells the preprocessing the answers are computed with,
// and the answers are the model's on images so prepared.
func TestModelInfoAndPreprocessing(t *testing.T) {
	m := lenet(t, 1)
	m.Preprocessing = &models.Preprocessing{Input: []int{28, 28, 1}, Resize: 32, Mean: []float32{0.5}, Std: []float32{0.25}}
	s := New(m, Options{Logger: quiet, TopK: 10})
	defer s.Close()
	ts := httptest.NewServer(s)
	defer ts.Close()
	resp, err := http.Get(ts.URL + "/v1/model")
	if err != nil {
		t.Fatal(err)
	}
	var info ModelInfo
	err = json.NewDecoder(resp.Body).Decode(&info)
	resp.Body.Close()
	if err != nil || info.Name != "lenet5" || len(info.Classes) != 10 || info.Input != [3]int{28, 28, 1} || info.Params != 61706 ||
		info.Preprocessing.Resize != 32 || len(info.Preprocessing.Mean) != 1 || info.Preprocessing.Std[0] != 0.25 || info.Preprocessing.Custom {
		t.Fatalf("GET /v1/model: %+v, %v", info, err)
	}
	body := digit(t, 3)
	img, _ := data.DecodeImage("x", bytes.NewReader(body), int64(len(body)))
	in, err := m.Preprocessing.Image(img)
	if err != nil {
		t.Fatal(err)
	}
	x, _ := tensor.FromSlice(in, 1, 28, 28, 1)
	alone, err := m.Predictor.Probabilities(x)
	if err != nil {
		t.Fatal(err)
	}
	status, b, _, _ := post(ts.URL+"/v1/predict", "image/png", body)
	var r Response
	if status != 200 || json.Unmarshal(b, &r) != nil || len(r.Results) != 1 {
		t.Fatalf("predict: %d %s", status, b)
	}
	for _, p := range r.Results[0].Predictions {
		if math.Abs(float64(p.Probability-alone.Data()[p.Index])) > 1e-5 {
			t.Errorf("class %d: served %v, alone on the prepared image %v", p.Index, p.Probability, alone.Data()[p.Index])
		}
	}
}

// sizes is a model layer that records the batch sizes it is run at.
type sizes struct {
	inner nn.Layer
	mu    sync.Mutex
	seen  []int
}

func (l *sizes) Forward(c *nn.Ctx, x *ag.Var) *ag.Var {
	l.mu.Lock()
	l.seen = append(l.seen, x.Shape()[0])
	l.mu.Unlock()
	return l.inner.Forward(c, x)
}
func (l *sizes) Params() []nn.Param { return l.inner.Params() }
func (l *sizes) About() nn.About    { return nn.About{Input: []int{28, 28, 1}} }

// A batch runs as passes of the largest batch sizes that fit, the rest
// padded to the smallest, and its images get the answers they get
// alone.
func TestBatchSizes(t *testing.T) {
	inner, _ := models.NewLeNet5(models.LeNetConfig{Seed: 5})
	rec := &sizes{inner: inner}
	m, err := NewModel("sizes", rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := New(m, Options{MaxBatch: 6, Logger: quiet}); !slices.Equal(got.opts.BatchSizes, []int{1, 2, 4, 6}) {
		t.Errorf("default batch sizes for MaxBatch 6: %v", got.opts.BatchSizes)
	} else {
		got.Close()
	}
	// An empty list is the default too, not MaxBatch alone; a request
	// can hold no more images than the queue.
	got := New(m, Options{MaxBatch: 6, BatchSizes: []int{}, Queue: 3, Logger: quiet})
	if !slices.Equal(got.opts.BatchSizes, []int{1, 2, 4, 6}) || got.opts.MaxImages != 3 {
		t.Errorf("empty batch sizes for MaxBatch 6: %v; MaxImages with Queue 3: %d", got.opts.BatchSizes, got.opts.MaxImages)
	}
	got.Close()
	for _, c := range []struct {
		maxBatch int
		sizes    []int
		images   int
		passes   []int
	}{
		{16, nil, 11, []int{8, 2, 1}},
		{16, nil, 16, []int{16}},
		{8, []int{4, 16}, 3, []int{4}},
		{8, []int{4, 16}, 5, []int{4, 4}},
		{8, []int{4, 16}, 8, []int{8}},
	} {
		s := New(m, Options{MaxBatch: c.maxBatch, BatchSizes: c.sizes, NoWarm: true, Logger: quiet, TopK: 10})
		ts := httptest.NewServer(s)
		names, bodies := make([]string, c.images), make([][]byte, c.images)
		for i := range bodies {
			names[i], bodies[i] = fmt.Sprint(i), digit(t, i+c.images)
		}
		ct, b := multipartOf(names, bodies)
		rec.mu.Lock()
		rec.seen = nil
		rec.mu.Unlock()
		status, out, _, _ := post(ts.URL+"/v1/predict", ct, b)
		ts.Close()
		s.Close()
		rec.mu.Lock()
		seen := rec.seen
		rec.mu.Unlock()
		if !slices.Equal(seen, c.passes) {
			t.Errorf("sizes %v of max %d: %d images ran as passes of %v, want %v", c.sizes, c.maxBatch, c.images, seen, c.passes)
		}
		var resp Response
		if status != 200 || json.Unmarshal(out, &resp) != nil || len(resp.Results) != c.images {
			t.Fatalf("%d images: %d %s", c.images, status, out)
		}
		for i, r := range resp.Results {
			alone := want(t, m, bodies[i])
			for _, p := range r.Predictions {
				if math.Abs(float64(p.Probability-alone[p.Index])) > 1e-5 || r.File != names[i] {
					t.Errorf("%d images, image %s (answer for %s) class %d: %v in passes %v, %v alone", c.images, names[i], r.File, p.Index, p.Probability, seen, alone[p.Index])
				}
			}
		}
	}
}

// No more images are decoded at once than Decoders, over all requests,
// and the ones that wait are answered.
func TestDecodersBound(t *testing.T) {
	m := lenet(t, 1)
	var mu sync.Mutex
	now, most := 0, 0
	m.Preprocess = func(img image.Image) ([]float32, error) {
		mu.Lock()
		now++
		most = max(most, now)
		mu.Unlock()
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		now--
		mu.Unlock()
		return data.ImageInput(img, 28, 28, 1), nil
	}
	s := New(m, Options{Decoders: 1, Logger: quiet})
	defer s.Close()
	ts := httptest.NewServer(s)
	defer ts.Close()
	ct, b := multipartOf([]string{"0", "1", "2"}, [][]byte{digit(t, 0), digit(t, 1), digit(t, 2)})
	var wg sync.WaitGroup
	statuses := make([]int, 4)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i == 0 {
				statuses[i], _, _, _ = post(ts.URL+"/v1/predict", ct, b)
				return
			}
			statuses[i], _, _, _ = post(ts.URL+"/v1/predict", "image/png", digit(t, i))
		}()
	}
	wg.Wait()
	if most != 1 || !slices.Equal(statuses, []int{200, 200, 200, 200}) {
		t.Errorf("Decoders 1: %d images decoded at once, statuses %v", most, statuses)
	}
}

// A request answered is one debug line, a request failed one warning.
func TestLogLines(t *testing.T) {
	logs := make(lineWriter, 10)
	m := lenet(t, 1)
	s := New(m, Options{Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	defer s.Close()
	ts := httptest.NewServer(s)
	defer ts.Close()
	for _, c := range []struct {
		body   []byte
		status int
		line   string
	}{
		{digit(t, 0), 200, "level=DEBUG msg=predict images=1"},
		{[]byte("no"), 400, `level=WARN msg="predict failed" status=400 cause=not_an_image`},
	} {
		if status, _, _, _ := post(ts.URL+"/v1/predict", "image/png", c.body); status != c.status {
			t.Fatalf("%d, want %d", status, c.status)
		}
		select { // the line may follow the answer
		case line := <-logs:
			if !strings.Contains(line, c.line) {
				t.Errorf("logged %q, want a line with %q", line, c.line)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no log line %q", c.line)
		}
	}
	select {
	case line := <-logs:
		t.Errorf("a line too many: %q", line)
	case <-time.After(50 * time.Millisecond):
	}
}

// lineWriter hands each write (a slog handler writes a record in one)
// to the test.
type lineWriter chan string

func (w lineWriter) Write(p []byte) (int, error) {
	w <- string(p)
	return len(p), nil
}

// Before the first request, a blank batch of each batch size is run;
// /readyz answers 503 until then.
func TestWarmUp(t *testing.T) {
	inner, _ := models.NewLeNet5(models.LeNetConfig{Seed: 6})
	g := &gate{inner: inner, release: make(chan struct{})}
	m, err := NewModel("gate", g, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := New(m, Options{MaxBatch: 4, Logger: quiet})
	defer s.Close()
	ts := httptest.NewServer(s)
	defer ts.Close()
	readyz := func() int {
		resp, err := http.Get(ts.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := readyz(); st != 503 {
		t.Errorf("/readyz during the warm-up: %d", st)
	}
	rec := &sizes{inner: inner}
	g.inner = rec
	for range 3 { // batch sizes 1, 2 and 4
		g.release <- struct{}{}
	}
	for deadline := time.Now().Add(5 * time.Second); readyz() != 200; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("/readyz not 200 5 s after the warm-up")
		}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if !slices.Equal(rec.seen, []int{1, 2, 4}) {
		t.Errorf("warm-up passes of %v images, want [1 2 4]", rec.seen)
	}
}
