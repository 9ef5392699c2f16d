package main

import (
	"testing"

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
func BenchmarkInfer(b *testing.B) {
	for _, name := range inferModels {
		b.Run(name, func(b *testing.B) {
			run, err := inferRunner(name, inferBatch)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := run(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(inferBatch*float64(b.N)/b.Elapsed().Seconds(), "img/s")
		})
	}
}
