package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/foveaml/fovea/serve"
)

func cmdServe(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fovea serve", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: fovea serve --weights FILE [flags]\n\n"+
			"Serves the model in FILE over HTTP:\n"+
			"  POST /v1/predict   an image body (JPEG, PNG, GIF) or a multipart batch → top classes as JSON (?k=N)\n"+
			"  POST /v1/embed     the same → one feature vector per image (--embed-layer)\n"+
			"  GET  /v1/model     the model: name, classes, input, parameters, metadata\n"+
			"  GET  /healthz, /readyz, /metrics (Prometheus)\n"+
			"Concurrent requests share forward passes (--max-batch, --batch-wait); a full queue answers 503.\n"+
			"SIGHUP (or --watch) reloads FILE, keeping the old model if the new one fails to load;\n"+
			"SIGTERM or Ctrl-C stops after answering the requests in flight.\n\n")
		fs.PrintDefaults()
	}
	w := fs.String("weights", "", "weights file (model, best or checkpoint file of fovea train); required")
	model := fs.String("model", "", "the zoo model the weights are for (default: the file's metadata)")
	embedLayer := fs.String("embed-layer", "", "layer whose output POST /v1/embed answers, pooled to a vector (default: the last convolutional stage)")
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	maxBatch := fs.Int("max-batch", 16, "most images in one forward pass")
	sizesFlag := fs.String("batch-sizes", "", "the batch sizes forward passes run at, e.g. 1,4,16: a batch runs as passes of the largest that fit, a rest smaller than them all padded to the smallest; a few sizes bound the memory kept for activations (default: the powers of two up to --max-batch)")
	wait := fs.Duration("batch-wait", 5*time.Millisecond, "longest wait for a batch to fill (0: never wait)")
	queue := fs.Int("queue", 0, "most images waiting (default 4×max-batch)")
	decoders := fs.Int("decoders", 0, "most images decoded at once, over all requests (default 2×GOMAXPROCS)")
	maxBody := fs.Int64("max-body", 32<<20, "largest request body, bytes")
	timeout := fs.Duration("timeout", 30*time.Second, "deadline of one request")
	k := fs.Int("k", 5, "classes answered per image")
	watch := fs.Duration("watch", 0, "reload the weights when the file changes, checking this often (0: only on SIGHUP)")
	level := fs.String("log-level", "info", "debug (a line per request), info, warn or error")
	asJSON := fs.Bool("json", false, "log as JSON lines, and print the listening address as JSON")
	if _, err := parseArgs(fs, args, stderr); err != nil {
		return err
	}
	if *w == "" {
		return usagef("--weights is required")
	}
	if *maxBatch < 1 || *k < 1 || *maxBody < 1 || *timeout <= 0 || *queue < 0 || *decoders < 0 || *wait < 0 || *watch < 0 {
		return usagef("--max-batch, --k, --max-body and --timeout must be positive; --queue, --decoders, --batch-wait and --watch not negative")
	}
	var sizes []int
	if *sizesFlag != "" {
		for _, f := range strings.Split(*sizesFlag, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 || n > *maxBatch {
				return usagef("--batch-sizes %q: want whole numbers from 1 to --max-batch (%d), found %q", *sizesFlag, *maxBatch, f)
			}
			sizes = append(sizes, n)
		}
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		return usagef("--log-level %q: want debug, info, warn or error", *level)
	}
	hopts := &slog.HandlerOptions{Level: lv}
	var logger *slog.Logger
	if *asJSON {
		logger = slog.New(slog.NewJSONHandler(stderr, hopts))
	} else {
		logger = slog.New(slog.NewTextHandler(stderr, hopts))
	}
	m, err := serve.Load(*w, *model, *embedLayer)
	if err != nil {
		return err
	}
	s := serve.New(m, serve.Options{MaxBatch: *maxBatch, BatchSizes: sizes, BatchWait: *wait, NoWait: *wait == 0, Queue: *queue, Decoders: *decoders,
		MaxBody: *maxBody, Timeout: *timeout, TopK: *k, Logger: logger})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		s.Close()
		return err
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: *timeout, WriteTimeout: *timeout + 5*time.Second,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	if *asJSON {
		json.NewEncoder(stdout).Encode(map[string]any{"serving": m.Name, "addr": ln.Addr().String(), "classes": len(m.Classes), "parameters": m.Params})
	} else {
		fmt.Fprintf(stdout, "serving %s (%s) on http://%s\n", m.Name, *w, ln.Addr())
	}

	reload := func(why string) {
		n, err := serve.Load(*w, *model, *embedLayer)
		if err != nil {
			logger.Error("reload failed; the old model keeps serving", "why", why, "weights", *w, "error", err.Error())
			return
		}
		s.Warm(n) // packed and its buffers made before it answers
		s.Swap(n)
		logger.Info("reloaded", "why", why, "weights", *w, "model", n.Name)
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		var tick <-chan time.Time
		// The file as last seen: its time and size, since a file being
		// written may keep its time (the clock's grain) and not its size.
		type seen struct {
			mod  time.Time
			size int64
		}
		var last seen
		if *watch > 0 {
			t := time.NewTicker(*watch)
			defer t.Stop()
			tick = t.C
			if st, err := os.Stat(*w); err == nil {
				last = seen{st.ModTime(), st.Size()}
			}
		}
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				reload("SIGHUP")
			case <-tick:
				if st, err := os.Stat(*w); err == nil && (!st.ModTime().Equal(last.mod) || st.Size() != last.size) {
					last = seen{st.ModTime(), st.Size()}
					reload("file changed")
				}
			}
		}
	}()

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		s.Close()
		return err
	case <-ctx.Done():
	}
	logger.Info("stopping: answering the requests in flight")
	shut, cancel := context.WithTimeout(context.Background(), *timeout+5*time.Second)
	defer cancel()
	err = srv.Shutdown(shut)
	s.Close()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}
