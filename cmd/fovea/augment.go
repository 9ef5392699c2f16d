package main

import (
	"fmt"
	"image"
	"io"
	"math/rand/v2"
	"strings"

	"github.com/foveaml/fovea/augment"
	"github.com/foveaml/fovea/data"
	"github.com/foveaml/fovea/inspect"
)

// cmdAugment draws a grid of images under sampled augmentations.
func cmdAugment(args []string, stdout, stderr io.Writer) error {
	usage := "usage: fovea augment [flags] [IMAGE]\n\n" +
		"Writes a PNG grid showing images under random draws of an augmentation preset:\n" +
		"each image first as it is, then --n augmented copies. Draw j of example i is\n" +
		"what training with --seed would show the model in epoch j.\n\npresets:\n"
	for _, n := range augment.PresetNames() {
		usage += fmt.Sprintf("  %-9s %s\n", n, augment.PresetDoc(n))
	}
	fs := newFlags("fovea augment", usage+"\ntransforms of a list (also fovea train --augment):\n"+augment.SpecHelp+"\n\n")
	preset := fs.String("augment", "mnist", "augmentation, as fovea train --augment takes it: a preset ("+strings.Join(augment.PresetNames(), ", ")+") or a list of transforms such as hflip,crop:4,rotate:15 (see below)")
	dataset := fs.String("data", "mnist", "examples from the training split of --data as fovea train takes it (without IMAGE)")
	index := fs.Int("index", 0, "index of the first example")
	images := fs.Int("images", 1, "number of examples, from --index on, one block of rows each")
	n := fs.Int("n", 15, "augmented copies of each image")
	cols := fs.Int("cols", 8, "cells per row")
	size := fs.Int("size", 0, "IMAGE is resized to size×size first (0: the preset's input, 28 for mnist, 32 for cifar, 256 otherwise)")
	scale := fs.Int("scale", 0, "magnify each pixel to scale×scale (0: 4 for images up to 64 pixels, else 1)")
	seed := fs.Uint64("seed", 1, "random seed of the draws")
	out := fs.String("out", "augment.png", "PNG file to write")
	files, err := parseArgs(fs, args, stderr)
	if err != nil {
		return err
	}
	switch {
	case len(files) > 1:
		return usagef("want at most one IMAGE, have %d", len(files))
	case *n < 1 || *n > 1000:
		return usagef("--n %d: want 1 to 1000", *n)
	case *cols < 1:
		return usagef("--cols %d: want at least 1", *cols)
	case *images < 1 || *images > 100:
		return usagef("--images %d: want 1 to 100", *images)
	case *index < 0:
		return usagef("--index %d: want 0 or more", *index)
	case *size < 0 || *size > 4096:
		return usagef("--size %d: want 0 to 4096", *size)
	case *scale < 0 || *scale > 32:
		return usagef("--scale %d: want 0 to 32", *scale)
	}
	pipe, err := augment.Preset(*preset)
	// A word with no ":" or "," is a preset's name, unless it is a
	// transform that needs no value (hflip).
	isPreset := err == nil
	if !isPreset && !strings.ContainsAny(*preset, ",:") {
		if _, serr := augment.ParseSpec(*preset, 1, 1); serr != nil {
			return usageError{err.Error()}
		}
	}
	side := *size
	if side == 0 {
		side = map[string]int{"mnist": 28, "cifar": 32}[strings.ToLower(*preset)]
		if side == 0 {
			side = 256
		}
	}
	var (
		srcs    [][]float32
		h, w, c int
		what    string
	)
	if len(files) == 1 {
		h, w, c = side, side, 3
		img, err := data.LoadImage(files[0], h, w, c)
		if err != nil {
			return err
		}
		srcs, what = [][]float32{img}, files[0]
	} else {
		src, err := openSource(*dataset)
		if err != nil {
			return err
		}
		ds, err := src.Train.Sized(side, side, 3, 0)
		if f, ok := src.Train.(data.Fixed); ok {
			ds = f.Dataset // as it is
		}
		if err != nil {
			return err
		}
		if *index+*images > ds.Len() {
			return usagef("--index %d with --images %d: %s has %d examples", *index, *images, *dataset, ds.Len())
		}
		h, w, c = ds.Shape()
		names := data.ClassNames(ds)
		var labels []string
		for i := *index; i < *index+*images; i++ {
			img := make([]float32, h*w*c)
			label, err := ds.Example(i, img)
			if err != nil {
				return err
			}
			srcs = append(srcs, img)
			labels = append(labels, className(names, label))
		}
		what = fmt.Sprintf("%s examples %d..%d (labels %s)", *dataset, *index, *index+*images-1, strings.Join(labels, " "))
		if *images == 1 {
			what = fmt.Sprintf("%s example %d (label %s)", *dataset, *index, labels[0])
		}
	}
	if !isPreset {
		if pipe, err = augment.ParseSpec(*preset, h, w); err != nil {
			return usageError{err.Error()}
		}
	}
	// A grey image meets a colour preset as RGB.
	if _, _, _, err := pipe.OutShape(h, w, c); err != nil && c == 1 {
		if _, _, _, err3 := pipe.OutShape(h, w, 3); err3 == nil {
			for i, s := range srcs {
				srcs[i] = greyToRGB(s)
			}
			c = 3
		}
	}
	oh, ow, oc, err := pipe.OutShape(h, w, c)
	if err != nil {
		return fmt.Errorf("preset %s cannot take %dx%dx%d images: %w", *preset, h, w, c, err)
	}
	pix := *scale
	if pix == 0 {
		pix = 1
		if max(h, w, oh, ow) <= 64 {
			pix = 4
		}
	}
	// One source a row (or more), then its draws; inspect's tiles draw it.
	perRow := min(*cols, *n+1)
	per := ((*n + 1 + *cols - 1) / *cols) * perRow // tiles a source takes, padded
	pcg := rand.NewPCG(0, 0)
	rng := rand.New(pcg)
	dst := make([]float32, oh*ow*oc)
	var tiles []image.Image
	for i, src := range srcs {
		row := []image.Image{inspect.Picture{H: h, W: w, C: c, Pix: src}.Image(1)}
		for j := range *n {
			// The source the loader would hand this example in epoch j.
			pcg.Seed(data.ExampleSeed(*seed, j, *index+i))
			if err := pipe.Apply(dst, src, h, w, c, rng); err != nil {
				return err
			}
			row = append(row, inspect.Picture{H: oh, W: ow, C: oc, Pix: dst}.Image(1))
		}
		for len(row) < per {
			row = append(row, image.NewRGBA(image.Rectangle{}))
		}
		tiles = append(tiles, row...)
	}
	if err := inspect.WritePNG(*out, inspect.Tiles(tiles, perRow, pix)); err != nil {
		return err
	}
	doc := augment.PresetDoc(*preset)
	if !isPreset {
		doc = "a list of transforms"
	}
	fmt.Fprintf(stdout, "wrote %s: %s, as it is and under %d draws of %s (%s)\n", *out, what, *n, *preset, doc)
	return nil
}

func greyToRGB(s []float32) []float32 {
	out := make([]float32, 3*len(s))
	for i, v := range s {
		out[3*i], out[3*i+1], out[3*i+2] = v, v, v
	}
	return out
}
