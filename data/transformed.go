package data

import (
	"fmt"
	"math/rand/v2"

	"github.com/foveaml/fovea/internal/scratch"
)

// WithTransform returns ds with t applied to every example as it is
// read: the view of a dataset a model evaluates (a centre crop, a
// normalisation), for code that takes a Dataset rather than a Transform,
// such as a training run's validation set. t must be deterministic: it is
// handed a source of a fixed seed. Class names are kept.
func WithTransform(ds Dataset, t Transform) (Dataset, error) {
	h, w, c := ds.Shape()
	oh, ow, oc, err := t.OutShape(h, w, c)
	if err != nil {
		return nil, fmt.Errorf("data.WithTransform: %dx%dx%d examples: %w", h, w, c, err)
	}
	return &transformed{ds: ds, t: t, h: oh, w: ow, c: oc}, nil
}

type transformed struct {
	ds      Dataset
	t       Transform
	h, w, c int
}

func (d *transformed) Len() int             { return d.ds.Len() }
func (d *transformed) Shape() (h, w, c int) { return d.h, d.w, d.c }
func (d *transformed) Classes() int         { return d.ds.Classes() }
func (d *transformed) ClassNames() []string { return ClassNames(d.ds) }

func (d *transformed) Example(i int, dst []float32) (int, error) {
	if len(dst) != d.h*d.w*d.c {
		return 0, fmt.Errorf("data: destination holds %d values, a %dx%dx%d image %d", len(dst), d.h, d.w, d.c, d.h*d.w*d.c)
	}
	h, w, c := d.ds.Shape()
	src := scratch.Floats.Get(h * w * c)
	defer scratch.Floats.Put(src)
	label, err := d.ds.Example(i, src)
	if err != nil {
		return 0, err
	}
	var pcg rand.PCG
	if err := d.t.Apply(dst, src, h, w, c, rand.New(&pcg)); err != nil {
		return 0, err
	}
	return label, nil
}
