package data

import (
	"encoding/binary"
	"math/rand/v2"
	"runtime"
	"testing"
)

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// TestReadAllocationBound checks that files which claim far more than
// they hold cost memory in proportion to what they hold.
func TestReadAllocationBound(t *testing.T) {
	dir := t.TempDir()
	labels := writeFile(t, dir, "labels", idxLabels(make([]byte, 10000)...))

	// A bomb: 4 MiB of zeros gzip to 4 KiB, the header claims 3.3 GB.
	bomb := make([]byte, 16+4<<20)
	copy(bomb, idxImages(0, 28, 28))
	binary.BigEndian.PutUint32(bomb[4:], 1<<22)
	bombPath := writeFile(t, dir, "bomb", gzipBytes(t, bomb))

	// A liar within MaxExpansion: 400 KB of noise (which does not
	// compress) under a header claiming 100 MB.
	liar := idxImages(0, 100, 100)
	binary.BigEndian.PutUint32(liar[4:], 10000)
	r := rand.New(rand.NewPCG(1, 2))
	for range 400_000 {
		liar = append(liar, byte(r.Uint32()))
	}
	gz := gzipBytes(t, liar)
	liarPath := writeFile(t, dir, "liar", gz)

	for _, tc := range []struct {
		path  string
		size  int
		claim string
	}{{bombPath, 4 << 10, "3288334336 bytes"}, {liarPath, len(gz), "truncated"}} {
		var err error
		got := allocated(func() { _, err = ReadIDX(tc.path, labels) })
		wantErr(t, err, tc.path, tc.claim)
		if limit := uint64(16*tc.size + 1<<20); got > limit {
			t.Errorf("%s: reading a %d-byte file allocated %d bytes, more than %d", tc.path, tc.size, got, limit)
		}
	}
}

func TestMulBounded(t *testing.T) {
	for _, tc := range []struct {
		a, b, limit, want uint64
		ok                bool
	}{
		{3, 4, 12, 12, true},
		{3, 4, 11, 12, false},
		{1 << 32, 1 << 32, 1 << 62, 0, false}, // overflows
	} {
		got, ok := mulBounded(tc.a, tc.b, tc.limit)
		if got != tc.want || ok != tc.ok {
			t.Errorf("mulBounded(%d, %d, %d) = %d, %v; want %d, %v", tc.a, tc.b, tc.limit, got, ok, tc.want, tc.ok)
		}
	}
}
