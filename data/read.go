package data

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/bits"
	"os"
)

// MaxExpansion bounds how far a gzip-compressed data file may expand: its
// header may claim at most MaxExpansion times the compressed file's size
// (plus one MiB, for tiny files). The readers reject a larger claim before
// allocating anything for it, so a small file that claims, or inflates
// to, gigabytes (a decompression bomb) costs nothing. Real image data
// compresses far less than this (MNIST about 5-fold); deflate's own
// ceiling is about 1032-fold.
const MaxExpansion = 256

// source is an open data file, read through gzip if it starts with
// gzip's magic bytes (whatever its name).
type source struct {
	path string
	f    fs.File
	size int64 // bytes on disk
	gz   *gzip.Reader
	r    io.Reader
}

// fileError returns an error naming path and saying what is wrong with it.
func fileError(path string, format string, args ...any) error {
	return fmt.Errorf("data: %s: %w", path, fmt.Errorf(format, args...))
}

func openSource(path string) (*source, error) { return openSourceFS(nil, path) }

// openSourceFS opens path in fsys, or in the operating system's file
// system when fsys is nil.
func openSourceFS(fsys fs.FS, path string) (*source, error) {
	var f fs.File
	var err error
	if fsys == nil {
		f, err = os.Open(path)
	} else {
		f, err = fsys.Open(path)
	}
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("data: %w", err)
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fileError(path, "not a regular file")
	}
	s := &source{path: path, f: f, size: st.Size()}
	br := bufio.NewReaderSize(f, int(min(s.size+1, 64<<10))) // no more than a small file needs
	s.r = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		s.gz, err = gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, fileError(path, "corrupt gzip header: %w", err)
		}
		s.r = s.gz
	}
	return s, nil
}

func (s *source) Close() error { return s.f.Close() }

// readHeader reads part of a header of size bytes into buf.
func (s *source) readHeader(buf []byte, size int) error {
	if _, err := io.ReadFull(s.r, buf); err != nil {
		return s.readError(err, fmt.Sprintf("truncated: the %d-byte header is incomplete", size))
	}
	return nil
}

// readError turns an error from reading s into one naming the file,
// describing an early end of data with short.
func (s *source) readError(err error, short string) error {
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return fileError(s.path, "%s", short)
	case s.gz != nil:
		return fileError(s.path, "corrupt gzip data: %w", err)
	default:
		return fileError(s.path, "%w", err)
	}
}

// mulBounded returns a*b, and false if that exceeds limit.
func mulBounded(a, b, limit uint64) (uint64, bool) {
	hi, lo := bits.Mul64(a, b)
	return lo, hi == 0 && lo <= limit
}

// checkClaim checks, before anything is allocated, that a header (already
// read, header bytes long) may claim n more bytes of what (e.g. "pixels"):
// exactly the rest of a raw file, or within MaxExpansion of a gzip file.
func (s *source) checkClaim(header, n uint64, what string) error {
	if s.gz == nil {
		rest := uint64(s.size) - header
		switch {
		case n > rest:
			return fileError(s.path, "truncated: the header claims %d bytes of %s, the file has %d after the header", n, what, rest)
		case n < rest:
			return fileError(s.path, "%d bytes of trailing data after the %d bytes of %s the header claims", rest-n, n, what)
		}
		return nil
	}
	limit := uint64(s.size)*MaxExpansion + 1<<20
	if header+n > limit {
		return fileError(s.path, "the header claims %d bytes of %s, more than a %d-byte gzip file may hold (%d-fold expansion at most)", n, what, s.size, MaxExpansion)
	}
	return nil
}

// readPayload reads the n bytes of what that follow the header, which
// checkClaim has allowed, and checks that nothing follows them. From a
// gzip file it allocates as the data arrives, not all that the header
// claims at once, so memory stays a small multiple of the data really
// there.
func (s *source) readPayload(n int, what string) ([]byte, error) {
	first := n
	if s.gz != nil {
		first = min(n, int(8*s.size)+64<<10)
	}
	buf := make([]byte, first)
	got := 0
	for {
		k, err := io.ReadFull(s.r, buf[got:])
		got += k
		if err != nil {
			return nil, s.readError(err, fmt.Sprintf("truncated: the header claims %d bytes of %s, the file holds only %d", n, what, got))
		}
		if got == n {
			break
		}
		grown := make([]byte, min(n, 2*len(buf)))
		copy(grown, buf)
		buf = grown
	}
	// One more byte must be the end; from gzip this read also checks the
	// stream's CRC and length.
	var one [1]byte
	k, err := io.ReadFull(s.r, one[:])
	if k > 0 {
		return nil, fileError(s.path, "trailing data after the %d bytes of %s the header claims", n, what)
	}
	if !errors.Is(err, io.EOF) {
		return nil, s.readError(err, "truncated")
	}
	return buf, nil
}
