package main

import (
	"testing"
	"time"

	"github.com/foveaml/fovea/augment"
	"github.com/foveaml/fovea/data"
)

// TestMeasureLoader runs the loader measurement on a small in-memory set
// with LeNet-5: every rate is a positive number of images per second.
func TestMeasureLoader(t *testing.T) {
	y := make([]int32, 64)
	for i := range y {
		y[i] = int32(i % 10)
	}
	ds, err := data.NewInMemory(make([]float32, 64*28*28), y, 28, 28, 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	r, err := measureLoader(ds, augment.New(augment.HorizontalFlip{}), "lenet5", 16, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if !(r.cold > 0 && r.warm > 0 && r.train > 0) {
		t.Errorf("rates %+v; want all positive", r)
	}
	if _, err := measureLoader(ds, nil, "lenet5", 64, time.Millisecond); err == nil {
		t.Errorf("one batch per epoch: no error")
	}
}
