package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Prediction is one class of an answer.
type Prediction struct {
	Class       string  `json:"class"`
	Index       int     `json:"index"`
	Probability float32 `json:"probability"`
}

// Answer is the top classes of one image.
type Answer struct {
	File        string       `json:"file,omitempty"` // the multipart part's file name
	Predictions []Prediction `json:"predictions"`
}

// Response is the body of a POST /v1/predict answer: one Answer per
// image, in the request's order.
type Response struct {
	Model   string   `json:"model"`
	Results []Answer `json:"results"`
}

// Embedding is the vector of one image.
type Embedding struct {
	File   string    `json:"file,omitempty"`
	Vector []float32 `json:"embedding"`
}

// EmbedResponse is the body of a POST /v1/embed answer.
type EmbedResponse struct {
	Model   string      `json:"model"`
	Layer   string      `json:"layer"`
	Results []Embedding `json:"results"`
}

// httpError is an error with the status it answers.
type httpError struct {
	status int
	cause  string // the metrics label
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(status int, cause, format string, args ...any) *httpError {
	return &httpError{status, cause, fmt.Sprintf(format, args...)}
}

// imageTypes are the body types /v1/predict decodes directly.
var imageTypes = []string{"image/jpeg", "image/png", "image/gif", "application/octet-stream"}

type part struct {
	name string
	body []byte
}

// serveImages answers a predict or (embed) an embed request, with its
// metrics and log lines.
func (s *Server) serveImages(w http.ResponseWriter, r *http.Request, embed bool) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.Timeout)
	defer cancel()
	route := map[bool]string{false: "predict", true: "embed"}[embed]
	status, n, err := s.answer(ctx, w, r, embed)
	took := time.Since(start)
	s.metrics.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	s.metrics.latency.Observe(took.Seconds())
	if err != nil {
		var he *httpError
		cause := "internal"
		if errors.As(err, &he) {
			cause = he.cause
		}
		s.metrics.errors.WithLabelValues(cause).Inc()
		s.opts.Logger.Warn(route+" failed", "status", status, "cause", cause, "error", err.Error(), "remote", r.RemoteAddr)
		return
	}
	s.opts.Logger.Debug(route, "images", n, "seconds", took.Seconds(), "remote", r.RemoteAddr)
}

// answer answers one predict (or embed) request and returns its status,
// the number of images and the error it answered, if any.
func (s *Server) answer(ctx context.Context, w http.ResponseWriter, r *http.Request, embed bool) (int, int, error) {
	fail := func(err error) (int, int, error) {
		status := http.StatusInternalServerError
		var he *httpError
		switch {
		case errors.As(err, &he):
			status = he.status
		case errors.Is(err, errQueueFull), errors.Is(err, errShuttingDown):
			w.Header().Set("Retry-After", "1")
			status, err = http.StatusServiceUnavailable, &httpError{http.StatusServiceUnavailable, "overloaded", err.Error()}
		case errors.Is(err, context.DeadlineExceeded):
			status, err = http.StatusServiceUnavailable, &httpError{http.StatusServiceUnavailable, "deadline", "the request's deadline passed before its answer"}
		case errors.Is(err, context.Canceled):
			status, err = 499, &httpError{499, "cancelled", "the client went away"}
		}
		writeError(w, status, "%s", err.Error())
		return status, 0, err
	}
	k := s.opts.TopK
	if q := r.URL.Query().Get("k"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 {
			return fail(badRequest(400, "bad_request", "k=%q: want a whole number ≥ 1", q))
		}
		k = n
	}
	m := s.model.Load()
	if embed && m.Embedder == nil {
		return fail(badRequest(http.StatusNotFound, "no_embedding", "this server answers no embeddings (fovea serve --embed-layer NAME turns them on)"))
	}
	parts, err := s.readParts(r)
	if err != nil {
		return fail(err)
	}
	jobs := make([]*job, len(parts))
	errs := make([]error, len(parts))
	done := make(chan struct{}, len(parts))
	for i, p := range parts { // each image decoded on its own goroutine
		go func() {
			defer func() { done <- struct{}{} }()
			defer func() {
				// This goroutine is outside ServeHTTP's recover: a
				// panicking decoder or preprocessing fails its request.
				if v := recover(); v != nil {
					s.opts.Logger.Error("panic while decoding", "image", p.name, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
					errs[i] = &httpError{http.StatusInternalServerError, "panic", fmt.Sprintf("%s: internal error while decoding: %v", p.name, v)}
				}
			}()
			select {
			case s.decode <- struct{}{}:
				defer func() { <-s.decode }()
			case <-ctx.Done():
				errs[i] = ctx.Err()
				return
			}
			x, err := m.input(p.name, bytes.NewReader(p.body), int64(len(p.body)))
			if err != nil {
				errs[i] = err
				return
			}
			jobs[i] = &job{model: m, embed: embed, x: x, ctx: ctx, out: make(chan result, 1)}
		}()
	}
	for range parts {
		<-done
	}
	for _, err := range errs {
		var he *httpError
		switch {
		case err == nil:
			continue
		case errors.As(err, &he), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
			return fail(err)
		}
		status, cause := 400, "not_an_image"
		if strings.Contains(err.Error(), "decompression bomb") || strings.Contains(err.Error(), "larger than MaxImagePixels") {
			status, cause = http.StatusRequestEntityTooLarge, "too_large"
		}
		// The decoder's message names the part already.
		return fail(badRequest(status, cause, "%s", strings.TrimPrefix(err.Error(), "data: ")))
	}
	if err := s.enqueue(jobs); err != nil {
		return fail(err)
	}
	rows := make([][]float32, len(jobs))
	for i, j := range jobs {
		var res result
		select {
		case res = <-j.out:
		case <-ctx.Done():
			return fail(ctx.Err())
		}
		if res.err != nil {
			return fail(res.err)
		}
		rows[i] = res.probs
	}
	if len(parts) == 1 && parts[0].name == "body" {
		parts[0].name = ""
	}
	if embed {
		resp := EmbedResponse{Model: m.Name, Layer: m.Embedder.Names()[0], Results: make([]Embedding, len(rows))}
		for i, v := range rows {
			resp.Results[i] = Embedding{File: parts[i].name, Vector: v}
		}
		writeJSON(w, http.StatusOK, resp)
		return http.StatusOK, len(jobs), nil
	}
	resp := Response{Model: m.Name, Results: make([]Answer, len(rows))}
	for i, p := range rows {
		resp.Results[i] = Answer{File: parts[i].name, Predictions: topK(m, p, k)}
	}
	writeJSON(w, http.StatusOK, resp)
	return http.StatusOK, len(jobs), nil
}

// readParts returns the images of a request: its body, or the file
// parts of a multipart form, each within the body limit.
func (s *Server) readParts(r *http.Request) ([]part, error) {
	ct := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if ct == "" {
		mt, err = "application/octet-stream", nil
	}
	if err != nil {
		return nil, badRequest(http.StatusUnsupportedMediaType, "content_type", "Content-Type %q: %v", ct, err)
	}
	body := http.MaxBytesReader(nil, r.Body, s.opts.MaxBody)
	tooLarge := func(err error) error {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return badRequest(http.StatusRequestEntityTooLarge, "too_large", "the body is over the limit of %d bytes", s.opts.MaxBody)
		}
		return badRequest(400, "bad_request", "reading the body: %v", err)
	}
	switch {
	case slices.Contains(imageTypes, mt):
		b, err := io.ReadAll(body)
		if err != nil {
			return nil, tooLarge(err)
		}
		if len(b) == 0 {
			return nil, badRequest(400, "empty", "the body is empty; send a JPEG, PNG or GIF image")
		}
		return []part{{"body", b}}, nil
	case mt == "multipart/form-data":
		mr := multipart.NewReader(body, params["boundary"])
		var parts []part
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, tooLarge(err)
			}
			if p.FileName() == "" {
				continue // form fields other than files
			}
			if len(parts) == s.opts.MaxImages {
				return nil, badRequest(http.StatusRequestEntityTooLarge, "too_many", "more than %d images in one request", s.opts.MaxImages)
			}
			b, err := io.ReadAll(p)
			if err != nil {
				return nil, tooLarge(err)
			}
			if len(b) == 0 {
				return nil, badRequest(400, "empty", "%s: empty file", p.FileName())
			}
			parts = append(parts, part{p.FileName(), b})
		}
		if len(parts) == 0 {
			return nil, badRequest(400, "empty", "the multipart body holds no file parts")
		}
		return parts, nil
	}
	return nil, badRequest(http.StatusUnsupportedMediaType, "content_type", "Content-Type %q: want image/jpeg, image/png, image/gif, application/octet-stream or multipart/form-data", mt)
}

// topK returns the k most probable classes of probs, most probable
// first.
func topK(m *Model, probs []float32, k int) []Prediction {
	idx := make([]int, len(probs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case probs[a] > probs[b]:
			return -1
		case probs[a] < probs[b]:
			return 1
		}
		return 0
	})
	out := make([]Prediction, min(k, len(idx)))
	for i := range out {
		out[i] = Prediction{Class: m.className(idx[i]), Index: idx[i], Probability: probs[idx[i]]}
	}
	return out
}

// ModelInfo is the body of GET /v1/model.
type ModelInfo struct {
	Name          string            `json:"name"`
	Source        string            `json:"source,omitempty"`
	Classes       []string          `json:"classes"`
	Input         [3]int            `json:"input_hwc"`
	Preprocessing PreprocessInfo    `json:"preprocessing"`
	Params        int               `json:"parameters"`
	Meta          map[string]string `json:"metadata,omitempty"`
}

// PreprocessInfo is how the server turns an image into the model's
// input (see models.Preprocessing): decoded to [0, 1] in the input's
// channels, resized (its shorter side to Resize and its centre cut to
// the input; Resize 0: to the input), then normalised by Mean and Std.
// Custom: the program's own Model.Preprocess, which says no more.
type PreprocessInfo struct {
	Custom bool      `json:"custom,omitempty"`
	Resize int       `json:"resize,omitempty"`
	Mean   []float32 `json:"mean,omitempty"`
	Std    []float32 `json:"std,omitempty"`
}

func (s *Server) describe(w http.ResponseWriter, _ *http.Request) {
	m := s.model.Load()
	names := make([]string, len(m.Classes))
	copy(names, m.Classes)
	var pre PreprocessInfo
	switch {
	case m.Preprocess != nil:
		pre.Custom = true
	case m.Preprocessing != nil:
		pre = PreprocessInfo{Resize: m.Preprocessing.Resize, Mean: m.Preprocessing.Mean, Std: m.Preprocessing.Std}
	}
	writeJSON(w, http.StatusOK, ModelInfo{Name: m.Name, Source: m.Source, Classes: names, Input: m.Input,
		Preprocessing: pre, Params: m.Params, Meta: m.Meta})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// writeError answers a one-line JSON error.
func writeError(w http.ResponseWriter, status int, format string, args ...any) {
	msg := strings.ReplaceAll(fmt.Sprintf(format, args...), "\n", " ")
	writeJSON(w, status, map[string]string{"error": msg})
}

// metrics are a Server's Prometheus collectors, on a registry of its
// own so that several servers (and tests) do not collide.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	errors   *prometheus.CounterVec
	latency  prometheus.Histogram
	batch    prometheus.Histogram
	queued   prometheus.Histogram
	reloads  prometheus.Counter
	queue    prometheus.GaugeFunc
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fovea_requests_total",
			Help: "Requests answered, by endpoint and HTTP status."}, []string{"endpoint", "code"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fovea_errors_total",
			Help: "Requests that failed, by cause."}, []string{"cause"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "fovea_request_duration_seconds",
			Help: "Time from a predict request's arrival to its answer.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 15)}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "fovea_batch_size",
			Help: "Images per forward pass.", Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128}}),
		queued: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "fovea_queued_images",
			Help: "Images left waiting in the queue as each forward pass begins.", Buckets: []float64{0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512}}),
		reloads: prometheus.NewCounter(prometheus.CounterOpts{Name: "fovea_model_reloads_total",
			Help: "Models swapped in since the start."}),
	}
	m.reg.MustRegister(m.requests, m.errors, m.latency, m.batch, m.queued, m.reloads,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}
