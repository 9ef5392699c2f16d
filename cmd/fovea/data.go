package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/foveaml/fovea/data"
	"github.com/foveaml/fovea/datasets/mnist"
)

// fashionDir is where Debian's dataset-fashion-mnist installs.
const fashionDir = "/usr/share/datasets/fashion-mnist"

// loadData returns the training or test split of the dataset named by
// spec: "mnist" (the copy inside fovea), "fashion-mnist" (Debian's
// package), or a folder of IDX files.
func loadData(spec string, train bool) (*data.InMemory, error) {
	switch strings.ToLower(spec) {
	case "mnist":
		if train {
			return mnist.Train()
		}
		return mnist.Test()
	case "fashion-mnist", "fashion":
		if _, err := os.Stat(fashionDir); err != nil {
			return nil, fmt.Errorf("Fashion-MNIST not found in %s: apt-get install dataset-fashion-mnist", fashionDir)
		}
		return data.FashionMNIST(fashionDir, train)
	}
	st, err := os.Stat(spec)
	if err != nil {
		return nil, fmt.Errorf("--data %q: not mnist, fashion-mnist or an existing folder of IDX files", spec)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("--data %s: a file; want a folder holding train-images-idx3-ubyte and the like", spec)
	}
	return data.MNIST(spec, train) // the MNIST file names, 10 classes
}

// limit returns the first n examples of ds (all of them when n is 0).
func limit(ds data.Dataset, n int) data.Dataset {
	if n <= 0 || n >= ds.Len() {
		return ds
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	s, _ := data.Subset(ds, idx)
	return s
}
