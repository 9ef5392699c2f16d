package data

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"
)

// epochIndices runs one epoch and returns the indices of every batch,
// checking that each batch's pixels and labels are its examples'.
func epochIndices(t *testing.T, l *Loader, epoch int) [][]int {
	t.Helper()
	var out [][]int
	for b, err := range l.All(epoch) {
		if err != nil {
			t.Fatal(err)
		}
		x := b.X.Data()
		if n := b.X.Dim(0); n != len(b.Y) || n != len(b.Indices) {
			t.Fatalf("batch of %d images, %d labels, %d indices", n, len(b.Y), len(b.Indices))
		}
		for k, i := range b.Indices {
			if int(x[k]) != i || int(b.Y[k]) != i%3 {
				t.Fatalf("batch position %d holds pixel %v label %d, want example %d's %d, %d", k, x[k], b.Y[k], i, i, i%3)
			}
		}
		out = append(out, slices.Clone(b.Indices))
	}
	return out
}

func TestLoaderEveryIndexOnce(t *testing.T) {
	ds := counting(t, 103)
	for _, opts := range []LoaderOptions{
		{BatchSize: 10, Shuffle: true, Seed: 1},
		{BatchSize: 10, Shuffle: true, Seed: 1, Workers: 4, Prefetch: 1},
		{BatchSize: 1, Shuffle: true, Workers: 3},
		{BatchSize: 200, Shuffle: true, Workers: 2},
		{BatchSize: 7},
	} {
		l, err := NewLoader(ds, opts)
		if err != nil {
			t.Fatal(err)
		}
		batches := epochIndices(t, l, 0)
		if len(batches) != l.NumBatches() {
			t.Errorf("%+v: %d batches, NumBatches says %d", opts, len(batches), l.NumBatches())
		}
		all := slices.Concat(batches...)
		if !equal(all, l.Order(0)) {
			t.Errorf("%+v: batches do not follow Order(0)", opts)
		}
		if !opts.Shuffle && !slices.IsSorted(all) {
			t.Errorf("%+v: unshuffled order %v", opts, all)
		}
		slices.Sort(all)
		for i, v := range all {
			if v != i {
				t.Fatalf("%+v: the epoch does not visit each of 103 examples once", opts)
			}
		}
	}
}

func TestLoaderOrderFromSeed(t *testing.T) {
	ds := counting(t, 50)
	mk := func(seed uint64, workers int) *Loader {
		l, err := NewLoader(ds, LoaderOptions{BatchSize: 8, Shuffle: true, Seed: seed, Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	a0 := slices.Concat(epochIndices(t, mk(42, 1), 0)...)
	b0 := slices.Concat(epochIndices(t, mk(42, 4), 0)...)
	a1 := slices.Concat(epochIndices(t, mk(42, 2), 1)...)
	c0 := slices.Concat(epochIndices(t, mk(43, 2), 0)...)
	if !equal(a0, b0) {
		t.Error("the same seed and epoch gave different orders")
	}
	if equal(a0, a1) {
		t.Error("epochs 0 and 1 have the same order")
	}
	if equal(a0, c0) {
		t.Error("seeds 42 and 43 give the same order")
	}
	// Resuming at epoch 1 on a fresh loader gives epoch 1's order.
	if l := mk(42, 1); !equal(slices.Concat(epochIndices(t, l, 0)...), a0) || !equal(slices.Concat(epochIndices(t, l, 1)...), a1) {
		t.Error("a loader's epochs differ from fresh loaders' epochs")
	}
}

func TestLoaderLastBatch(t *testing.T) {
	ds := counting(t, 10)
	for _, tc := range []struct {
		dropLast bool
		sizes    []int
	}{{false, []int{4, 4, 2}}, {true, []int{4, 4}}} {
		l, _ := NewLoader(ds, LoaderOptions{BatchSize: 4, DropLast: tc.dropLast})
		var sizes []int
		for epoch := range 2 { // the second epoch reuses the buffers
			sizes = sizes[:0]
			for b, err := range l.All(epoch) {
				if err != nil {
					t.Fatal(err)
				}
				if s := b.X.Shape(); !equal(s, []int{len(b.Y), 1, 1, 1}) {
					t.Errorf("batch shape %v with %d labels", s, len(b.Y))
				}
				sizes = append(sizes, len(b.Y))
			}
		}
		if !equal(sizes, tc.sizes) || l.NumBatches() != len(tc.sizes) {
			t.Errorf("DropLast=%v: batches of %v (NumBatches %d), want %v", tc.dropLast, sizes, l.NumBatches(), tc.sizes)
		}
	}
}

// noisy adds uniform noise from rng to every value.
var noisy = TransformFunc(func(dst, src []float32, h, w, c int, rng *rand.Rand) error {
	for i, v := range src {
		dst[i] = v + rng.Float32()
	}
	return nil
})

// crop keeps the top-left 2×3 corner of each image, moved by up to one
// pixel at random.
type crop struct{}

func (crop) OutShape(h, w, c int) (int, int, int, error) {
	if h < 3 || w < 4 {
		return 0, 0, 0, fmt.Errorf("crop needs 3x4 images, not %dx%d", h, w)
	}
	return 2, 3, c, nil
}

func (crop) Apply(dst, src []float32, h, w, c int, rng *rand.Rand) error {
	dy, dx := rng.IntN(2), rng.IntN(2)
	for y := range 2 {
		copy(dst[y*3*c:(y+1)*3*c], src[((y+dy)*w+dx)*c:])
	}
	return nil
}

func TestLoaderTransformDeterministic(t *testing.T) {
	n := 64
	imgs := make([]float32, n*4*5*2)
	for i := range imgs {
		imgs[i] = float32(i)
	}
	ds, _ := NewInMemory(imgs, make([]int32, n), 4, 5, 2, 1)
	for _, tr := range []Transform{noisy, crop{}} {
		var runs [][]float32
		for _, workers := range []int{1, 4} {
			l, err := NewLoader(ds, LoaderOptions{BatchSize: 5, Shuffle: true, Seed: 9, Workers: workers, Transform: tr})
			if err != nil {
				t.Fatal(err)
			}
			var xs []float32
			for epoch := range 2 {
				for b, err := range l.All(epoch) {
					if err != nil {
						t.Fatal(err)
					}
					xs = append(xs, b.X.Data()...)
				}
			}
			runs = append(runs, xs)
			if h, w, c := l.Shape(); tr == Transform(crop{}) && (h != 2 || w != 3 || c != 2) {
				t.Errorf("crop: batches of %dx%dx%d", h, w, c)
			}
		}
		if !equal(runs[0], runs[1]) {
			t.Errorf("%T: 1 and 4 workers transform differently", tr)
		}
		if len(runs[0]) == 0 {
			t.Fatal("no data")
		}
	}
	// Each example's randomness is its own: epoch 0 and 1 differ.
	l, _ := NewLoader(ds, LoaderOptions{BatchSize: 64, Transform: noisy})
	var e [2][]float32
	for epoch := range 2 {
		for b := range l.All(epoch) {
			e[epoch] = slices.Clone(b.X.Data())
		}
	}
	if equal(e[0], e[1]) {
		t.Error("the transform drew the same noise in two epochs")
	}
	// And it can be replayed outside the loader.
	rng := rand.New(rand.NewPCG(ExampleSeed(0, 1, 3)))
	if want := imgs[3*40] + rng.Float32(); e[1][3*40] != want {
		t.Errorf("replayed noise %v, loader's %v", want, e[1][3*40])
	}
}

// slow is a dataset whose examples take varied times and may fail.
type slow struct {
	*InMemory
	failAt int
	label  int // a label to return at failAt instead of an error, if not 0
}

func (s *slow) Example(i int, dst []float32) (int, error) {
	time.Sleep(time.Duration(i%4) * 50 * time.Microsecond)
	if i == s.failAt {
		if s.label != 0 {
			s.InMemory.Example(i, dst)
			return s.label, nil
		}
		return 0, fmt.Errorf("example %d is broken", i)
	}
	return s.InMemory.Example(i, dst)
}

func TestLoaderInOrderWithSlowWorkers(t *testing.T) {
	l, _ := NewLoader(&slow{InMemory: counting(t, 60), failAt: -1}, LoaderOptions{BatchSize: 3, Workers: 4, Prefetch: 4, Shuffle: true})
	if got := slices.Concat(epochIndices(t, l, 0)...); !equal(got, l.Order(0)) {
		t.Errorf("batches came out of order: %v", got)
	}
}

func TestLoaderErrors(t *testing.T) {
	ds := &slow{InMemory: counting(t, 40), failAt: 17}
	l, _ := NewLoader(ds, LoaderOptions{BatchSize: 5, Workers: 3})
	it := l.Epoch(0)
	n := 0
	for {
		if _, ok := it.Next(); !ok {
			break
		}
		n++
	}
	it.Close()
	wantErr(t, it.Err(), "example 17 is broken")
	if n != 3 { // batches [0,5) [5,10) [10,15) precede the failure
		t.Errorf("%d batches before the error, want 3", n)
	}
	if _, ok := it.Next(); ok {
		t.Error("Next after the error returned a batch")
	}

	var last error
	for _, err := range l.All(0) {
		last = err
	}
	wantErr(t, last, "example 17 is broken")

	ds.label = 3
	_, err := drain(l)
	wantErr(t, err, "example 17 has label 3, outside [0, 3)")

	bad := TransformFunc(func(dst, src []float32, h, w, c int, rng *rand.Rand) error {
		if src[0] == 6 {
			return errors.New("cannot")
		}
		copy(dst, src)
		return nil
	})
	l, _ = NewLoader(counting(t, 10), LoaderOptions{Transform: bad})
	_, err = drain(l)
	wantErr(t, err, "transform of example 6: cannot")

	// A panic on a worker is an error, not a crash.
	panicky := TransformFunc(func(dst, src []float32, h, w, c int, rng *rand.Rand) error {
		if src[0] == 4 {
			var m map[int]int
			m[0] = 1
		}
		copy(dst, src)
		return nil
	})
	l, _ = NewLoader(counting(t, 10), LoaderOptions{Transform: panicky, Workers: 2})
	_, err = drain(l)
	wantErr(t, err, "example 4: panic while reading it: assignment to entry in nil map")
}

// drain runs epoch 0 and returns the number of batches and the error.
func drain(l *Loader) (int, error) {
	n := 0
	for _, err := range l.All(0) {
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func TestNewLoaderErrors(t *testing.T) {
	ds := counting(t, 5)
	_, err := NewLoader(ds, LoaderOptions{BatchSize: -1})
	wantErr(t, err, "BatchSize -1")
	_, err = NewLoader(nil, LoaderOptions{})
	wantErr(t, err, "nil dataset")
	_, err = NewLoader(ds, LoaderOptions{Transform: crop{}})
	wantErr(t, err, "transform of 1x1x1 examples: crop needs 3x4 images")

	l, err := NewLoader(counting(t, 0), LoaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := drain(l); n != 0 || err != nil || l.NumBatches() != 0 {
		t.Errorf("empty dataset: %d batches, %v", n, err)
	}
	l, _ = NewLoader(ds, LoaderOptions{})
	if l.opts.BatchSize != 32 || l.opts.Prefetch != 2 || l.opts.Workers != runtime.GOMAXPROCS(0) {
		t.Errorf("defaults %+v", l.opts)
	}
}

// settle waits for the goroutine count to fall to want, and returns it.
func settle(want int) int {
	var n int
	for range 100 {
		if n = runtime.NumGoroutine(); n <= want {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return n
}

func TestLoaderNoGoroutineLeak(t *testing.T) {
	ds := &slow{InMemory: counting(t, 500), failAt: 250}
	before := runtime.NumGoroutine()
	l, _ := NewLoader(ds, LoaderOptions{BatchSize: 4, Workers: 4, Prefetch: 3})
	for range l.All(0) { // break early
		break
	}
	it := l.Epoch(1) // close without a Next
	it.Close()
	it.Close()
	it = l.Epoch(2) // close after one
	it.Next()
	it.Close()
	drain(l) // stopped by an error
	if n := settle(before); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines before, %d after:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

func TestLoaderConcurrentEpochs(t *testing.T) {
	l, _ := NewLoader(counting(t, 200), LoaderOptions{BatchSize: 16, Shuffle: true, Workers: 2})
	done := make(chan []int)
	for epoch := range 3 {
		go func() {
			var all []int
			for b, err := range l.All(epoch) {
				if err != nil {
					panic(err)
				}
				for k, i := range b.Indices {
					if int(b.X.Data()[k]) != i {
						panic("batch mixed up between epochs")
					}
				}
				all = append(all, b.Indices...)
			}
			done <- all
		}()
	}
	for range 3 {
		if all := <-done; len(all) != 200 {
			t.Errorf("an epoch of %d examples", len(all))
		}
	}
}

// TestLoaderAllocations checks that steady-state iteration allocates
// little: buffers are recycled, only per-epoch setup allocates.
func TestLoaderAllocations(t *testing.T) {
	l, _ := NewLoader(counting(t, 4000), LoaderOptions{BatchSize: 4, Workers: 2, Shuffle: true, Transform: noisy})
	drain(l) // make the buffers
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	n, _ := drain(l)
	runtime.ReadMemStats(&b)
	if per := float64(b.Mallocs-a.Mallocs) / float64(n); per > 0.5 {
		t.Errorf("%.2f allocations per batch over %d batches", per, n)
	}
}

func BenchmarkLoader(b *testing.B) {
	const n = 10000
	pix := make([]uint8, n*28*28)
	r := rand.New(rand.NewPCG(1, 1))
	for i := range pix {
		pix[i] = byte(r.Uint32())
	}
	ds, _ := NewInMemoryUint8(pix, make([]int32, n), 28, 28, 1, 1)
	flip := TransformFunc(func(dst, src []float32, h, w, c int, rng *rand.Rand) error {
		if rng.IntN(2) == 0 {
			copy(dst, src)
			return nil
		}
		for y := range h {
			row, out := src[y*w*c:(y+1)*w*c], dst[y*w*c:(y+1)*w*c]
			for x := range w {
				for k := range c {
					out[x*c+k] = row[(w-1-x)*c+k]
				}
			}
		}
		return nil
	})
	for _, bc := range []struct {
		name string
		tr   Transform
	}{{"plain", nil}, {"flip", flip}} {
		for _, workers := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/workers=%d", bc.name, workers), func(b *testing.B) {
				l, _ := NewLoader(ds, LoaderOptions{BatchSize: 64, Shuffle: true, Workers: workers, Transform: bc.tr})
				b.ReportAllocs()
				images := 0
				for epoch := 0; images < b.N*64; epoch++ {
					for batch, err := range l.All(epoch) {
						if err != nil {
							b.Fatal(err)
						}
						images += len(batch.Y)
						if images >= b.N*64 {
							break
						}
					}
				}
				b.ReportMetric(float64(images)/b.Elapsed().Seconds(), "images/s")
			})
		}
	}
}

// TestLoaderEpochFrom checks that an epoch started part of the way
// through delivers what the whole epoch delivers from there on.
func TestLoaderEpochFrom(t *testing.T) {
	ds := counting(t, 23)
	l, err := NewLoader(ds, LoaderOptions{BatchSize: 4, Shuffle: true, Seed: 9, Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	whole := epochIndices(t, l, 2)
	for _, first := range []int{0, 1, 5, 6, 99, -1} {
		it := l.EpochFrom(2, first)
		var got [][]int
		for b, ok := it.Next(); ok; b, ok = it.Next() {
			got = append(got, slices.Clone(b.Indices))
			if b.X.Data()[0] != float32(b.Indices[0]) {
				t.Fatalf("from %d: batch of %v holds example %v", first, b.Indices, b.X.Data()[0])
			}
		}
		if it.Err() != nil {
			t.Fatal(it.Err())
		}
		want := whole[min(max(first, 0), len(whole)):]
		if len(got) != len(want) {
			t.Fatalf("from %d: %d batches, want %d", first, len(got), len(want))
		}
		for i := range want {
			if !slices.Equal(got[i], want[i]) {
				t.Fatalf("from %d: batch %d is %v, want %v", first, i, got[i], want[i])
			}
		}
	}
}
