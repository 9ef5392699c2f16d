package data

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
)

// Stamped is a dataset whose examples come from files, each with a
// stamp (the file's size and modification time) that changes when the
// file does. A Cache file keeps an example's copy valid while its stamp
// holds.
type Stamped interface {
	Dataset
	Stamp(i int) (size, mtime int64, err error)
	// CacheTag says what the examples are (the folder, the size), so a
	// cache file of other examples is not taken for this one's.
	CacheTag() string
}

// CacheOptions configure a Cache.
type CacheOptions struct {
	// MaxMemory is the most bytes the copies may take in memory; a
	// dataset whose copies (one byte a value) take more is cached in File
	// instead.
	MaxMemory int64
	// File is where copies go when they do not fit in memory, for a
	// Stamped dataset only (another is cheap enough to read again);
	// "" caches nothing then.
	File string
}

// Cache is a dataset that keeps a copy of each example the first time it
// is read, as bytes (values in [0, 1] times 255, rounded: exact for
// decoded 8-bit images, within half a level for resized ones), so that
// epochs after the first neither decode nor resize again. The copies are
// in memory when they fit in CacheOptions.MaxMemory, else in a file of
// records keyed by each source file's size and modification time, which
// a later run reuses while the files are unchanged. It is safe for
// concurrent use.
type Cache struct {
	ds      Dataset
	size    int // values per example
	where   string
	mem     []uint8
	state   []atomic.Uint32 // memory: 0 empty, 1 being filled, 2 filled
	labels  []int32         // memory: each filled example's label
	file    *os.File
	stamped Stamped
}

const (
	cacheMagic  = "FOVEAU8\x01"
	cacheHeader = 32 // magic, tag hash, example count, values per example
	cacheKey    = 16 // a record's size and mtime, before its label and values
)

// NewCache returns a Cache of ds. Memory is taken as examples are read;
// the file, if one is used, is created (or reused, if its header is this
// dataset's) at once.
func NewCache(ds Dataset, o CacheOptions) (*Cache, error) {
	h, w, c := ds.Shape()
	c0 := &Cache{ds: ds, size: h * w * c}
	need := int64(ds.Len()) * int64(c0.size)
	if need <= o.MaxMemory {
		c0.mem = make([]uint8, need)
		c0.state = make([]atomic.Uint32, ds.Len())
		c0.labels = make([]int32, ds.Len())
		c0.where = "memory"
		return c0, nil
	}
	st, ok := ds.(Stamped)
	if !ok || o.File == "" {
		return c0, nil // nothing cached
	}
	c0.stamped = st
	if err := c0.openFile(o.File, st.CacheTag()); err != nil {
		return nil, err
	}
	c0.where = o.File
	return c0, nil
}

// openFile opens the cache file, starting it afresh unless its header
// is this dataset's.
func (c *Cache) openFile(path, tag string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("data: cache: %w", err)
	}
	tagHash := fnv.New64a()
	io.WriteString(tagHash, tag)
	head := make([]byte, cacheHeader)
	copy(head, cacheMagic)
	binary.LittleEndian.PutUint64(head[8:], tagHash.Sum64())
	binary.LittleEndian.PutUint64(head[16:], uint64(c.ds.Len()))
	binary.LittleEndian.PutUint64(head[24:], uint64(c.size))
	old := make([]byte, cacheHeader)
	total := int64(cacheHeader) + int64(c.ds.Len())*int64(c.record())
	st, _ := f.Stat()
	if _, err := f.ReadAt(old, 0); err != nil || string(old) != string(head) || st == nil || st.Size() != total {
		// Another dataset's, or none: every record starts unkeyed.
		if err := f.Truncate(0); err == nil {
			err = f.Truncate(total)
		}
		if _, err := f.WriteAt(head, 0); err != nil {
			f.Close()
			return fmt.Errorf("data: cache: %w", err)
		}
	}
	c.file = f
	return nil
}

// record is the bytes of a file record: key, label, values.
func (c *Cache) record() int { return cacheKey + 4 + c.size }

// Where says where the copies are: "memory", the cache file's path, or
// "" when nothing is cached.
func (c *Cache) Where() string { return c.where }

// Close closes the cache file, if there is one.
func (c *Cache) Close() error {
	if c.file == nil {
		return nil
	}
	return c.file.Close()
}

// Len returns the number of examples.
func (c *Cache) Len() int { return c.ds.Len() }

// Shape returns the examples' shape.
func (c *Cache) Shape() (h, w, ch int) { return c.ds.Shape() }

// Classes returns the number of classes.
func (c *Cache) Classes() int { return c.ds.Classes() }

// ClassNames returns the class names of the dataset cached.
func (c *Cache) ClassNames() []string { return ClassNames(c.ds) }

// Example returns example i from its copy, making the copy if there is
// none yet.
func (c *Cache) Example(i int, dst []float32) (int, error) {
	if i < 0 || i >= c.ds.Len() {
		return 0, fmt.Errorf("data: cache: index %d is outside [0, %d)", i, c.ds.Len())
	}
	if len(dst) != c.size {
		return 0, fmt.Errorf("data: cache: destination holds %d values, an example %d", len(dst), c.size)
	}
	switch {
	case c.mem != nil:
		return c.memExample(i, dst)
	case c.file != nil:
		return c.fileExample(i, dst)
	}
	return c.ds.Example(i, dst)
}

func (c *Cache) memExample(i int, dst []float32) (int, error) {
	copyOf := c.mem[i*c.size : (i+1)*c.size]
	if c.state[i].Load() == 2 {
		for j, b := range copyOf {
			dst[j] = byteScale[b]
		}
		return int(c.labels[i]), nil
	}
	label, err := c.ds.Example(i, dst)
	if err != nil {
		return 0, err
	}
	quantise(dst)
	if c.state[i].CompareAndSwap(0, 1) { // else another reader is filling it
		for j, v := range dst {
			copyOf[j] = uint8(v*255 + 0.5)
		}
		c.labels[i] = int32(label)
		c.state[i].Store(2)
	}
	return label, nil
}

// quantise rounds dst to what its copy holds, so an example reads the
// same the first time as every later time.
func quantise(dst []float32) {
	for j, v := range dst {
		dst[j] = byteScale[uint8(min(max(v, 0), 1)*255+0.5)]
	}
}

// fileExample reads example i's record, valid if its key is the source
// file's stamp; else it decodes the example and writes the record,
// values first, so a record cut short by a crash is never taken as
// whole.
func (c *Cache) fileExample(i int, dst []float32) (int, error) {
	size, mtime, err := c.stamped.Stamp(i)
	if err != nil {
		return 0, err
	}
	rec := make([]byte, c.record())
	off := int64(cacheHeader) + int64(i)*int64(c.record())
	if _, err := c.file.ReadAt(rec, off); err == nil &&
		int64(binary.LittleEndian.Uint64(rec)) == size && int64(binary.LittleEndian.Uint64(rec[8:])) == mtime && size != 0 {
		label := int(int32(binary.LittleEndian.Uint32(rec[cacheKey:])))
		for j, b := range rec[cacheKey+4:] {
			dst[j] = byteScale[b]
		}
		return label, nil
	}
	label, err := c.ds.Example(i, dst)
	if err != nil {
		return 0, err
	}
	quantise(dst)
	clear(rec[:cacheKey])
	binary.LittleEndian.PutUint32(rec[cacheKey:], uint32(int32(label)))
	for j, v := range dst {
		rec[cacheKey+4+j] = uint8(v*255 + 0.5)
	}
	if _, err := c.file.WriteAt(rec[cacheKey:], off+cacheKey); err != nil {
		return 0, fmt.Errorf("data: cache %s: %w", c.where, err)
	}
	binary.LittleEndian.PutUint64(rec, uint64(size))
	binary.LittleEndian.PutUint64(rec[8:], uint64(mtime))
	if _, err := c.file.WriteAt(rec[:cacheKey], off); err != nil {
		return 0, fmt.Errorf("data: cache %s: %w", c.where, err)
	}
	return label, nil
}

// BadExample is an example Check could not read.
type BadExample struct {
	Index int
	Err   error
}

// Check reads every example of ds once, on workers goroutines (0:
// GOMAXPROCS) — which fills a Cache — and returns the indices of those
// that read, in order, and the errors of those that did not. A run that
// must not start on bad data calls it first; one that skips bad files
// trains on a Subset of the good indices.
func Check(ds Dataset, workers int) (good []int, bad []BadExample) {
	good, bad, _ = CheckContext(context.Background(), ds, workers)
	return good, bad
}

// CheckContext is Check that stops when ctx is done (Ctrl-C while a large
// folder is read): its workers finish the examples in hand, and it
// returns ctx's error, with nothing else.
func CheckContext(ctx context.Context, ds Dataset, workers int) (good []int, bad []BadExample, err error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	h, w, c := ds.Shape()
	n := ds.Len()
	errs := make([]error, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]float32, h*w*c)
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				errs[i] = readExample(ds, i, buf)
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	for i, err := range errs {
		if err != nil {
			bad = append(bad, BadExample{Index: i, Err: err})
		} else {
			good = append(good, i)
		}
	}
	return good, bad, nil
}

// readExample reads example i, a panic in a decoder becoming an error.
func readExample(ds Dataset, i int, buf []float32) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("data: example %d: %v", i, r)
		}
	}()
	label, err := ds.Example(i, buf)
	if err == nil && (label < 0 || label >= ds.Classes()) {
		err = fmt.Errorf("data: example %d has label %d, outside [0, %d)", i, label, ds.Classes())
	}
	if err == nil {
		for _, v := range buf {
			if math.IsNaN(float64(v)) {
				return errors.New("data: example holds NaN")
			}
		}
	}
	return err
}
