package main

import (
	"slices"
	"testing"
	"time"

	"github.com/foveaml/fovea/internal/kern"
	"github.com/foveaml/fovea/models"
)

func BenchmarkLeNetStep(b *testing.B) {
	m, err := models.NewLeNet5(models.LeNetConfig{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	step, err := sgdTrainer(m, 64, 28, 28, 1, 10)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := step(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(64*float64(b.N)/b.Elapsed().Seconds(), "img/s")
}

// BenchmarkInfer times one batch-8 224×224 inference of each model of the
// infer case (profile one with -bench Infer/resnet50 -cpuprofile).
func BenchmarkInfer(b *testing.B) { benchModels(b, inferBatch) }

// benchModels times inferences of each of inferModels at batch, and
// reports images/s and milliseconds a call.
func benchModels(b *testing.B, batch int) {
	for _, name := range inferModels {
		b.Run(name, func(b *testing.B) {
			run, err := inferRunner(name, batch)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := run(); err != nil {
					b.Fatal(err)
				}
			}
			secs := b.Elapsed().Seconds()
			b.ReportMetric(float64(batch*b.N)/secs, "img/s")
			b.ReportMetric(1000*secs/float64(b.N), "ms/call")
		})
	}
}

// BenchmarkInferWinograd alternates batch-8 inferences with Winograd on
// and off in one process, so both see the same load on a shared machine,
// and reports the images a second of each (from the median batch time)
// and the speed-up, of the medians and of the fastest batches.
func BenchmarkInferWinograd(b *testing.B) {
	for _, name := range inferModels {
		b.Run(name, func(b *testing.B) {
			run, err := inferRunner(name, inferBatch)
			if err != nil {
				b.Fatal(err)
			}
			defer kern.SetWinograd(kern.SetWinograd(true))
			var on, off []float64
			timed := func(win bool) float64 {
				kern.SetWinograd(win)
				t0 := time.Now()
				if _, err := run(); err != nil {
					b.Fatal(err)
				}
				return time.Since(t0).Seconds()
			}
			timed(true) // the filter transforms are kept from the second call
			timed(true)
			timed(false)
			for b.Loop() {
				on = append(on, timed(true))
				off = append(off, timed(false))
			}
			slices.Sort(on)
			slices.Sort(off)
			b.ReportMetric(inferBatch/on[len(on)/2], "wino-img/s")
			b.ReportMetric(inferBatch/off[len(off)/2], "direct-img/s")
			b.ReportMetric(off[len(off)/2]/on[len(on)/2], "speedup")
			b.ReportMetric(off[0]/on[0], "speedup-best")
		})
	}
}

// BenchmarkLatency times one batch-1 224×224 inference of each model of
// the latency table (profile one with -bench Latency/googlenet
// -cpuprofile).
func BenchmarkLatency(b *testing.B) { benchModels(b, latencyBatch) }
