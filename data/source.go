package data

import (
	"archive/tar"
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Source is a data set found on disk by Open: its training split, its
// test split if it has one, and the class names.
type Source struct {
	// Kind says what was found: "CIFAR-10", "CIFAR-100", "IDX" or "image
	// folder".
	Kind string
	// Train is the training split; Test the test split, or nil if the
	// source has none (an image folder without train/ and val/ or test/
	// subfolders).
	Train, Test Set
	// Names are the class names by label (nil if the source has none).
	Names []string
}

// Set is one split of a Source. Its examples come at whatever size a
// model takes: Sized returns them as a Dataset.
type Set interface {
	// Len returns the number of examples.
	Len() int
	// Classes returns the number of classes.
	Classes() int
	// Sized returns the split as h×w×c examples (c 1 or 3), prepared as
	// Fit says.
	Sized(h, w, c, resize int) (Dataset, error)
}

// Fixed is a Set of examples of one size, held by a Dataset.
type Fixed struct{ Dataset }

// Sized returns Fit(f.Dataset, h, w, c, resize).
func (f Fixed) Sized(h, w, c, resize int) (Dataset, error) { return Fit(f.Dataset, h, w, c, resize) }

// SourceHelp says what Open looks for, for a message.
const SourceHelp = "a CIFAR-10 folder (data_batch_1.bin ... test_batch.bin), a CIFAR-100 folder (train.bin, test.bin), " +
	"either's .tar.gz archive, a folder of IDX files (train-images-idx3-ubyte[.gz] ...), " +
	"or an image folder (one subfolder of .jpg/.png/.gif files per class, optionally inside train/ and val/ or test/)"

// Open finds the data set at path, from what is there: a CIFAR-10 or
// CIFAR-100 binary folder as distributed (or a folder holding one), its
// .tar.gz archive (read without unpacking it), a folder of MNIST-named
// IDX files, or an image folder — class subfolders of images, or train/
// and val/ (or test/) subfolders of them, which become the splits. A
// folder that is none of these is an error saying what was looked for.
func Open(p string) (*Source, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	if !st.IsDir() {
		if strings.HasSuffix(p, ".tar.gz") || strings.HasSuffix(p, ".tgz") {
			return openCIFARArchive(p)
		}
		return nil, fileError(p, "a file; want a folder or a CIFAR .tar.gz archive: %s", SourceHelp)
	}
	has := func(names ...string) bool {
		for _, n := range names {
			if _, err := os.Stat(filepath.Join(p, n)); err != nil {
				return false
			}
		}
		return true
	}
	switch {
	case has("data_batch_1.bin"):
		return openCIFAR(os.DirFS(p), ".", p)
	case has("train.bin", "test.bin"):
		return openCIFAR(os.DirFS(p), ".", p)
	case has("cifar-10-batches-bin"):
		return Open(filepath.Join(p, "cifar-10-batches-bin"))
	case has("cifar-100-binary"):
		return Open(filepath.Join(p, "cifar-100-binary"))
	}
	for _, base := range []string{"train-images-idx3-ubyte", "t10k-images-idx3-ubyte"} {
		if has(base) || has(base+".gz") {
			return openIDX(p)
		}
	}
	return openImageSource(p)
}

func openIDX(dir string) (*Source, error) {
	te, err := MNIST(dir, false)
	if err != nil {
		return nil, err
	}
	tr, err := MNIST(dir, true)
	if err != nil {
		return nil, err
	}
	return &Source{Kind: "IDX", Train: Fixed{tr}, Test: Fixed{te}, Names: tr.ClassNames()}, nil
}

// openCIFAR reads the CIFAR binary files in folder dir of fsys; where
// names the folder or archive in errors.
func openCIFAR(fsys fs.FS, dir, where string) (*Source, error) {
	has := func(n string) bool { _, err := fs.Stat(fsys, path.Join(dir, n)); return err == nil }
	join := func(n string) string { return path.Join(dir, n) }
	var (
		trainPaths, testPaths []string
		nlabels, which        = 1, 0
		names                 = CIFAR10Names
		kind                  = "CIFAR-10"
		namesFile             = "batches.meta.txt"
	)
	if has("data_batch_1.bin") {
		for i := 1; has(fmt.Sprintf("data_batch_%d.bin", i)); i++ {
			trainPaths = append(trainPaths, join(fmt.Sprintf("data_batch_%d.bin", i)))
		}
		if !has("test_batch.bin") {
			return nil, fileError(where, "CIFAR-10 folder without test_batch.bin")
		}
		testPaths = []string{join("test_batch.bin")}
	} else {
		kind, nlabels, which, names, namesFile = "CIFAR-100", 2, 1, CIFAR100FineNames, "fine_label_names.txt"
		trainPaths, testPaths = []string{join("train.bin")}, []string{join("test.bin")}
	}
	if has(namesFile) {
		b, err := fs.ReadFile(fsys, join(namesFile))
		if err != nil {
			return nil, fmt.Errorf("data: %s: %w", namesFile, err)
		}
		var got []string
		for _, l := range strings.Split(string(b), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				got = append(got, l)
			}
		}
		if len(got) != len(names) {
			return nil, fileError(filepath.Join(where, namesFile), "%d class names; %s has %d", len(got), kind, len(names))
		}
		names = got
	}
	named := func(ps []string) []string {
		out := make([]string, len(ps))
		for i, p := range ps {
			out[i] = filepath.Join(where, p)
		}
		return out
	}
	read := func(ps []string) (*InMemory, error) {
		ds, err := readCIFARFS(fsys, ps, nlabels, which, names)
		if err != nil {
			// Name the file on disk (or in the archive), not its path
			// inside the file system.
			msg := err.Error()
			for i, p := range ps {
				msg = strings.Replace(msg, "data: "+p+":", "data: "+named(ps)[i]+":", 1)
			}
			return nil, errors.New(msg)
		}
		return ds, nil
	}
	te, err := read(testPaths)
	if err != nil {
		return nil, err
	}
	tr, err := read(trainPaths)
	if err != nil {
		return nil, err
	}
	return &Source{Kind: kind, Train: Fixed{tr}, Test: Fixed{te}, Names: names}, nil
}

// maxArchiveMember bounds a member of a CIFAR archive that is read into
// memory: CIFAR's largest, CIFAR-100's train.bin, is 154 MB.
const maxArchiveMember = 512 << 20

// openCIFARArchive reads a CIFAR .tar.gz archive as distributed (the
// binary version), keeping only the members CIFAR's readers use, in
// memory, without unpacking anything to disk.
func openCIFARArchive(p string) (*Source, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	s, err := openSource(p)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	if s.gz == nil {
		return nil, fileError(p, "not gzip-compressed: want a CIFAR .tar.gz archive")
	}
	tr := tar.NewReader(bufio.NewReader(s.r))
	files := memFS{}
	var dir string
	var total int64
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fileError(p, "corrupt archive: %v", err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		base := path.Base(h.Name)
		if !strings.HasSuffix(base, ".bin") && !strings.HasSuffix(base, ".txt") {
			continue
		}
		total += h.Size
		if h.Size > maxArchiveMember || total > int64(MaxExpansion)*st.Size()+1<<20 {
			return nil, fileError(p, "member %s claims %d bytes, more than a CIFAR archive of %d bytes holds", h.Name, h.Size, st.Size())
		}
		b := make([]byte, h.Size)
		if _, err := io.ReadFull(tr, b); err != nil {
			return nil, fileError(p, "truncated archive in %s", h.Name)
		}
		files[h.Name] = b
		if base == "data_batch_1.bin" || base == "train.bin" {
			dir = path.Dir(h.Name)
		}
	}
	if dir == "" {
		return nil, fileError(p, "an archive without data_batch_1.bin or train.bin: not CIFAR's binary version")
	}
	return openCIFAR(files, dir, p)
}

// memFS is a read-only file system of files held in memory.
type memFS map[string][]byte

func (m memFS) Open(name string) (fs.File, error) {
	b, ok := m[name]
	if !ok {
		for k := range m { // a folder: only Stat is asked of one
			if strings.HasPrefix(k, name+"/") || name == "." {
				return &memFile{name: name, dir: true}, nil
			}
		}
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return &memFile{name: name, r: strings.NewReader(string(b)), size: int64(len(b))}, nil
}

type memFile struct {
	name string
	r    *strings.Reader
	size int64
	dir  bool
}

func (f *memFile) Stat() (fs.FileInfo, error) { return f, nil }
func (f *memFile) Read(p []byte) (int, error) {
	if f.dir {
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: fs.ErrInvalid}
	}
	return f.r.Read(p)
}
func (f *memFile) Close() error       { return nil }
func (f *memFile) Name() string       { return path.Base(f.name) }
func (f *memFile) Size() int64        { return f.size }
func (f *memFile) ModTime() time.Time { return time.Time{} }
func (f *memFile) IsDir() bool        { return f.dir }
func (f *memFile) Sys() any           { return nil }
func (f *memFile) Mode() fs.FileMode {
	if f.dir {
		return fs.ModeDir | 0o555
	}
	return 0o444
}

// openImageSource opens an image folder, split by train/ and val/ or
// test/ subfolders if it has them.
func openImageSource(root string) (*Source, error) {
	isDir := func(n string) bool { st, err := os.Stat(filepath.Join(root, n)); return err == nil && st.IsDir() }
	if isDir("train") {
		for _, v := range []string{"val", "test"} {
			if !isDir(v) {
				continue
			}
			tr, err := ListImages(filepath.Join(root, "train"))
			if err != nil {
				return nil, err
			}
			te, err := ListImages(filepath.Join(root, v))
			if err != nil {
				return nil, err
			}
			if !slices.Equal(tr.names, te.names) {
				return nil, fileError(root, "train/ has classes %s but %s/ has %s: want the same class folders in both",
					strings.Join(tr.names, ", "), v, strings.Join(te.names, ", "))
			}
			return &Source{Kind: "image folder", Train: tr, Test: te, Names: tr.names}, nil
		}
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	subdirs := 0
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") && isDir(e.Name()) {
			subdirs++
		}
	}
	if subdirs == 0 {
		return nil, fileError(root, "found no data; looked for %s", SourceHelp)
	}
	tr, err := ListImages(root)
	if err != nil {
		return nil, err
	}
	return &Source{Kind: "image folder", Train: tr, Names: tr.names}, nil
}
