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
