// Package serve turns a fovea model into an HTTP inference endpoint:
// the handler behind `fovea serve`, which a Go program can also mount in
// a server of its own.
//
//	m, _ := serve.NewModel("lenet5", model, classNames)
//	s := serve.New(m, serve.Options{MaxBatch: 16})
//	defer s.Close()
//	http.ListenAndServe("127.0.0.1:8080", s)
//
// Routes: POST /v1/predict (an image body, or a multipart batch of
// them) answers the top classes as JSON; POST /v1/embed answers a
// feature vector per image (with Model.WithEmbedding); GET /v1/model describes the
// model; GET /healthz and /readyz are for orchestrators; GET /metrics is
// Prometheus' text format. Concurrent requests are gathered into one
// forward pass (dynamic batching) on a bounded queue, run at a few batch
// sizes (Options.BatchSizes) so that a long run's memory stays level; a
// full queue answers 503 with Retry-After. Swap replaces the model
// atomically: a request is answered by the model it was decoded for,
// whole. The package example mounts the handler in a program's own
// server.
package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/foveaml/fovea/tensor"
)

// Options tune a Server. Zero values take the defaults noted.
type Options struct {
	// MaxBatch is the most images one forward pass takes; default 16.
	MaxBatch int
	// BatchSizes are the batch sizes a forward pass runs at. A batch is
	// run as passes of the largest of them that fit (11 images with the
	// default sizes: 8, 2 and 1); a rest smaller than them all is padded
	// with blank images, whose answers are dropped, to the smallest. A
	// pass at a new size makes the activation buffers of that size and
	// keeps them for the next, so a few sizes bound the memory of a long
	// run, where every size up to MaxBatch may hold buffers for each.
	// Default: the powers of two below MaxBatch, and MaxBatch; sizes over
	// MaxBatch are dropped and MaxBatch is added.
	BatchSizes []int
	// NoWarm skips the warm-up: by default the batcher first runs a
	// blank batch of each of BatchSizes, so that the memory a long run
	// needs is taken and the filters are packed before the first request
	// (which waits for it; GET /readyz answers 503 until then).
	NoWarm bool
	// BatchWait is how long the first image of a batch waits for others;
	// default 5 ms. 0 after defaults means no wait is ever added: set
	// NoWait.
	BatchWait time.Duration
	// NoWait runs each batch as soon as the batcher is free, with
	// whatever has queued (BatchWait is ignored).
	NoWait bool
	// Queue is the most images waiting for a forward pass; beyond it
	// requests get 503 and Retry-After. Default 4·MaxBatch.
	Queue int
	// Decoders is the most images decoded at once, over all requests;
	// the others wait their turn (within their deadline). It bounds the
	// memory of decoding under load: an image may decode to
	// data.MaxImagePixels pixels. Default 2·GOMAXPROCS.
	Decoders int
	// MaxBody is the largest request body in bytes; default 32 MiB.
	MaxBody int64
	// MaxImages is the most images of one multipart request; default
	// MaxBatch.
	MaxImages int
	// Timeout bounds a request from its arrival to its answer; default
	// 30 s.
	Timeout time.Duration
	// TopK is the number of classes answered per image; default 5 (a
	// request may ask for fewer or more with ?k=N, up to the classes).
	TopK int
	// Logger gets one line per error, and one per request at debug
	// level; default slog.Default().
	Logger *slog.Logger
}

func (o *Options) defaults() {
	if o.MaxBatch <= 0 {
		o.MaxBatch = 16
	}
	sizes := []int{o.MaxBatch}
	if len(o.BatchSizes) == 0 {
		for n := 1; n < o.MaxBatch; n *= 2 {
			sizes = append(sizes, n)
		}
	}
	for _, n := range o.BatchSizes {
		if n >= 1 && n <= o.MaxBatch {
			sizes = append(sizes, n)
		}
	}
	slices.Sort(sizes)
	o.BatchSizes = slices.Compact(sizes)
	if o.BatchWait <= 0 {
		o.BatchWait = 5 * time.Millisecond
	}
	if o.Queue <= 0 {
		o.Queue = 4 * o.MaxBatch
	}
	if o.Decoders <= 0 {
		o.Decoders = 2 * runtime.GOMAXPROCS(0)
	}
	if o.MaxBody <= 0 {
		o.MaxBody = 32 << 20
	}
	if o.MaxImages <= 0 {
		o.MaxImages = o.MaxBatch
	}
	// A request of more images than the queue holds could never be
	// queued: it is over the limit (413), not a 503 to retry forever.
	o.MaxImages = min(o.MaxImages, o.Queue)
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.TopK <= 0 {
		o.TopK = 5
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Server is the inference endpoint: an http.Handler with its batcher.
// Close it to stop the batcher once the HTTP server in front of it has
// drained.
type Server struct {
	opts    Options
	model   atomic.Pointer[Model]
	queue   chan *job
	decode  chan struct{} // a place per image being decoded
	mux     *http.ServeMux
	metrics *metrics
	stop    chan struct{}
	done    chan struct{}
	closing atomic.Bool
	warm    atomic.Bool // the warm-up is over
	once    sync.Once
}

// job is one image waiting for its forward pass.
type job struct {
	model *Model
	embed bool // a /v1/embed job: the vector, not the probabilities
	x     []float32
	ctx   context.Context
	out   chan result // buffered: the batcher never blocks on it
}

type result struct {
	probs []float32
	err   error
}

// New returns a Server running m.
func New(m *Model, o Options) *Server {
	o.defaults()
	s := &Server{opts: o, queue: make(chan *job, o.Queue), decode: make(chan struct{}, o.Decoders), mux: http.NewServeMux(),
		metrics: newMetrics(), stop: make(chan struct{}), done: make(chan struct{})}
	s.model.Store(m)
	s.metrics.queue = prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "fovea_queue_depth",
		Help: "Images waiting for a forward pass."}, func() float64 { return float64(len(s.queue)) })
	s.metrics.reg.MustRegister(s.metrics.queue)
	routes := []struct {
		method, path string
		h            http.Handler
	}{
		{"POST", "/v1/predict", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.serveImages(w, r, false) })},
		{"POST", "/v1/embed", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.serveImages(w, r, true) })},
		{"GET", "/v1/model", http.HandlerFunc(s.describe)},
		{"GET", "/healthz", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, map[string]string{"status": "ok"}) })},
		{"GET", "/readyz", http.HandlerFunc(s.ready)},
		{"GET", "/metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})},
	}
	methods := map[string]string{}
	var all []string
	for _, rt := range routes {
		s.mux.Handle(rt.method+" "+rt.path, rt.h)
		methods[rt.path] = rt.method
		all = append(all, rt.method+" "+rt.path)
	}
	// Anything else is a one-line JSON error that names the routes.
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if m, ok := methods[r.URL.Path]; ok {
			w.Header().Set("Allow", m)
			writeError(w, http.StatusMethodNotAllowed, "%s %s: this route answers %s", r.Method, r.URL.Path, m)
			return
		}
		writeError(w, http.StatusNotFound, "%s %s: no such route; there are %s", r.Method, r.URL.Path, strings.Join(all, ", "))
	})
	go s.batcher()
	return s
}

// Model returns the model being served.
func (s *Server) Model() *Model { return s.model.Load() }

// Swap makes m the model that new requests are decoded for and answered
// by; requests already decoded finish on the model they began with.
func (s *Server) Swap(m *Model) {
	s.model.Store(m)
	s.metrics.reloads.Inc()
}

// Close marks the server not ready, answers what is queued and stops the
// batcher. Call it after the HTTP server's Shutdown has drained the
// requests in flight.
func (s *Server) Close() {
	s.once.Do(func() {
		s.closing.Store(true)
		close(s.stop)
		<-s.done
	})
}

// ServeHTTP implements http.Handler; a panic while answering one request
// is that request's 500, logged, and the server goes on.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.opts.Logger.Error("panic while answering", "path", r.URL.Path, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			s.metrics.errors.WithLabelValues("panic").Inc()
			writeError(w, http.StatusInternalServerError, "internal error: %v", p)
		}
	}()
	s.mux.ServeHTTP(w, r)
}

func (s *Server) ready(w http.ResponseWriter, _ *http.Request) {
	if s.closing.Load() || !s.warm.Load() || s.model.Load() == nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// errQueueFull answers 503 with Retry-After.
var errQueueFull = errors.New("the queue is full; retry shortly")

// enqueue hands the images of one request to the batcher, all or none.
func (s *Server) enqueue(jobs []*job) error {
	if s.closing.Load() {
		return errShuttingDown
	}
	if len(s.queue)+len(jobs) > cap(s.queue) {
		return errQueueFull
	}
	for i, j := range jobs {
		select {
		case s.queue <- j:
		default:
			// Raced with another request for the last places: the ones
			// queued are answered and dropped.
			for _, q := range jobs[i:] {
				q.out <- result{err: errQueueFull}
			}
			return errQueueFull
		}
	}
	return nil
}

var errShuttingDown = errors.New("the server is shutting down")

// Warm runs m once at each of the batch sizes (and its embedder once),
// so that its filters are packed and its buffers made before it answers
// requests: call it on a model before Swap. It stops early when the
// server closes. Passes may run beside the server's own.
func (s *Server) Warm(m *Model) {
	if !s.opts.NoWarm {
		s.warmUp(m)
	}
}

// warmUp is Warm's passes, logged when one fails.
func (s *Server) warmUp(m *Model) {
	for _, n := range s.opts.BatchSizes {
		select {
		case <-s.stop:
			return
		default:
		}
		if _, err := s.forward(m, nil, n); err != nil {
			s.opts.Logger.Error("warm-up failed", "model", m.Name, "batch", n, "error", err.Error())
			return
		}
	}
	if m.Embedder != nil {
		if _, err := s.forward(m, []*job{{embed: true}}, s.opts.BatchSizes[0]); err != nil {
			s.opts.Logger.Error("warm-up failed", "model", m.Name, "embed", true, "error", err.Error())
		}
	}
}

// batcher gathers queued images into batches of one model, up to
// MaxBatch, waiting at most BatchWait after the first, and runs them.
func (s *Server) batcher() {
	defer close(s.done)
	if !s.opts.NoWarm {
		s.warmUp(s.model.Load())
	}
	s.warm.Store(true)
	var pending *job // the first of the next batch, taken from the queue
	for {
		first := pending
		pending = nil
		if first == nil {
			select {
			case first = <-s.queue:
			case <-s.stop:
				s.drain()
				return
			}
		}
		batch := []*job{first}
		var timer <-chan time.Time
		if !s.opts.NoWait {
			timer = time.After(s.opts.BatchWait)
		}
	gather:
		for len(batch) < s.opts.MaxBatch {
			var j *job
			if s.opts.NoWait {
				select {
				case j = <-s.queue:
				default:
					break gather
				}
			} else {
				select {
				case j = <-s.queue:
				case <-timer:
					break gather
				}
			}
			if j.model != first.model || j.embed != first.embed {
				pending = j // a reload or the other route: the next batch is its own
				break
			}
			batch = append(batch, j)
		}
		s.run(batch)
	}
}

// drain answers what is left in the queue when the server closes.
func (s *Server) drain() {
	for {
		select {
		case j := <-s.queue:
			s.run([]*job{j})
		default:
			return
		}
	}
}

// run computes one batch and answers its jobs. Jobs whose requests have
// gone (deadline, client away) are dropped before the pass.
func (s *Server) run(batch []*job) {
	live := batch[:0]
	for _, j := range batch {
		if j.ctx.Err() != nil {
			j.out <- result{err: j.ctx.Err()}
			continue
		}
		live = append(live, j)
	}
	if len(live) == 0 {
		return
	}
	m := live[0].model
	for len(live) > 0 {
		sizes := s.opts.BatchSizes
		n := sizes[0] // the rest smaller than every size: padded to it
		if k := sort.SearchInts(sizes, len(live)+1); k > 0 {
			n = sizes[k-1] // the largest that fits
		}
		pass := live[:min(n, len(live))]
		live = live[len(pass):]
		s.metrics.batch.Observe(float64(len(pass)))
		s.metrics.queued.Observe(float64(len(s.queue)))
		probs, err := s.forward(m, pass, n)
		for i, j := range pass {
			if err != nil {
				j.out <- result{err: err}
				continue
			}
			j.out <- result{probs: probs[i]}
		}
	}
}

// forward runs m on the jobs' images as one batch of n (≥ len(jobs))
// images, padded with blank ones (no jobs: the warm-up); a panic in the
// model is an error for this batch only.
func (s *Server) forward(m *Model, jobs []*job, n int) (out [][]float32, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.opts.Logger.Error("panic in the forward pass", "model", m.Name, "batch", len(jobs), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			out, err = nil, fmt.Errorf("internal error in the forward pass: %v", p)
		}
	}()
	per := m.Input[0] * m.Input[1] * m.Input[2]
	x := tensor.Zeros(n, m.Input[0], m.Input[1], m.Input[2])
	for i, j := range jobs {
		copy(x.Data()[i*per:(i+1)*per], j.x)
	}
	var p *tensor.Tensor
	if len(jobs) > 0 && jobs[0].embed {
		p, err = m.Embedder.Embed(x)
	} else {
		p, err = m.Predictor.Probabilities(x)
	}
	if err != nil {
		return nil, err
	}
	classes := p.Dim(1)
	out = make([][]float32, len(jobs))
	for i := range jobs {
		out[i] = p.Data()[i*classes : (i+1)*classes]
	}
	return out, nil
}
