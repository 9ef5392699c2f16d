package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/foveaml/fovea/data"
	"github.com/foveaml/fovea/datasets/mnist"
)

// fashionDir is where Debian's dataset-fashion-mnist installs.
const fashionDir = "/usr/share/datasets/fashion-mnist"

// dataFlags are the flags that choose data and say how to prepare it,
// shared by every command that reads a data set.
type dataFlags struct {
	spec      string
	augment   string
	normalize string
	input     string
	cache     string
	skipBad   bool
	limit     int
	given     map[string]bool
}

// register adds the flags; what says what the data is for.
func (d *dataFlags) register(fs *flag.FlagSet, what string, training bool) {
	fs.StringVar(&d.spec, "data", "mnist", what+": mnist, fashion-mnist, a CIFAR-10/100 folder or its .tar.gz, an IDX folder, or an image folder (class subfolders; train/ and val/ or test/ inside it are the splits)")
	fs.StringVar(&d.normalize, "normalize", "", "imagenet (ImageNet's mean and std), data (fitted on a sample of the training set) or none; default: what the weights file says, else imagenet for models of 64 pixels and more, data for smaller colour models, none for digits")
	fs.StringVar(&d.input, "input", "follow", "follow: images are converted to the model's input size and channels; exact: the data must already have them")
	fs.StringVar(&d.cache, "data-cache", "auto", "keep decoded, resized images: auto (in memory when they fit, else in a file beside the run), memory, off")
	fs.BoolVar(&d.skipBad, "skip-bad", false, "skip image files that do not decode, and say how many, instead of stopping")
	if training {
		fs.StringVar(&d.augment, "augment", "default", "training augmentation: none, default (random resized crop + flip for models of 64 pixels and more, 4-pixel pad-crop + flip for smaller colour models, nothing for digits), a preset (mnist, cifar, alexnet, imagenet) or a list such as hflip,crop:4,rotate:15,shear:0.2,pca:0.1 (fovea augment -h lists the words)")
		fs.IntVar(&d.limit, "limit", 0, "train on N examples only (0: all): the first N, or of an image folder N spread over its classes")
	}
}

// noteGiven records which flags the command line set, which win over a
// weights file's metadata.
func noteGiven(fs *flag.FlagSet) map[string]bool {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	return given
}

// check validates the flags' values.
func (d *dataFlags) check() error {
	switch {
	case d.input != "follow" && d.input != "exact":
		return usagef("--input %q: want follow or exact", d.input)
	case d.normalize != "" && d.normalize != "imagenet" && d.normalize != "data" && d.normalize != "none":
		return usagef("--normalize %q: want imagenet, data or none", d.normalize)
	case d.cache != "auto" && d.cache != "memory" && d.cache != "off":
		return usagef("--data-cache %q: want auto, memory or off", d.cache)
	case d.limit < 0:
		return usagef("--limit %d: want 0 (all) or more", d.limit)
	}
	return nil
}

// openSource returns the data set named by spec: "mnist" (the copy
// inside fovea), "fashion-mnist" (Debian's package), or what data.Open
// finds at a path.
func openSource(spec string) (*data.Source, error) {
	switch strings.ToLower(spec) {
	case "mnist":
		tr, err := mnist.Train()
		if err != nil {
			return nil, err
		}
		te, err := mnist.Test()
		if err != nil {
			return nil, err
		}
		return &data.Source{Kind: "MNIST", Train: data.Fixed{Dataset: tr}, Test: data.Fixed{Dataset: te}, Names: tr.ClassNames()}, nil
	case "fashion-mnist", "fashion":
		if _, err := os.Stat(fashionDir); err != nil {
			return nil, fmt.Errorf("Fashion-MNIST not found in %s: apt-get install dataset-fashion-mnist", fashionDir)
		}
		tr, err := data.FashionMNIST(fashionDir, true)
		if err != nil {
			return nil, err
		}
		te, err := data.FashionMNIST(fashionDir, false)
		if err != nil {
			return nil, err
		}
		return &data.Source{Kind: "Fashion-MNIST", Train: data.Fixed{Dataset: tr}, Test: data.Fixed{Dataset: te}, Names: tr.ClassNames()}, nil
	}
	if _, err := os.Stat(spec); err != nil {
		return nil, fmt.Errorf("--data %q: not mnist, fashion-mnist or an existing folder or archive", spec)
	}
	src, err := data.Open(spec)
	if err != nil {
		return nil, fmt.Errorf("--data %s: %w", spec, err)
	}
	return src, nil
}

// limit returns the first n examples of ds (all of them when n is 0).
func limit(ds data.Dataset, n int) data.Dataset { return limitStep(ds, n, false) }

// limitStep is limit, or with spread n examples spread evenly over ds,
// so that a data set stored class by class (an image folder) keeps its
// classes.
func limitStep(ds data.Dataset, n int, spread bool) data.Dataset {
	if n <= 0 || n >= ds.Len() {
		return ds
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
		if spread {
			idx[i] = i * ds.Len() / n
		}
	}
	s, _ := data.Subset(ds, idx)
	return s
}

// cacheMemory is how much memory decoded images may take: half of what
// the system says is available, or 2 GiB if it does not say.
func cacheMemory() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 2 << 30
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemAvailable:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err == nil && kb > 0 {
				return kb << 10 / 2
			}
		}
	}
	return 2 << 30
}
