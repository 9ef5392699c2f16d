package data

import (
	"fmt"
	"path/filepath"
	"testing"
)

// cifarRecords returns n records of nlabels label bytes (labels[k][r])
// and an image whose byte at channel ch, pixel p is byte(r+ch*3+p).
func cifarRecords(nlabels int, labels ...[]byte) []byte {
	var b []byte
	for r := range labels[0] {
		for k := range nlabels {
			b = append(b, labels[k][r])
		}
		for ch := range 3 {
			for p := range 1024 {
				b = append(b, byte(r+ch*3+p))
			}
		}
	}
	return b
}

func TestReadCIFAR10(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "data_batch_1.bin", cifarRecords(1, []byte{3, 9}))
	b := writeFile(t, dir, "data_batch_2.bin", cifarRecords(1, []byte{0}))
	m, err := ReadCIFAR10(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if h, w, c := m.Shape(); m.Len() != 3 || h != 32 || w != 32 || c != 3 || m.Classes() != 10 {
		t.Fatalf("got %d images of %dx%dx%d, %d classes", m.Len(), h, w, c, m.Classes())
	}
	if !equal(m.Labels(), []int32{3, 9, 0}) || m.ClassNames()[3] != "cat" {
		t.Errorf("labels %v, names %q", m.Labels(), m.ClassNames())
	}
	dst := make([]float32, 32*32*3)
	m.Example(1, dst) // record 1 of the first file
	for p := range 1024 {
		for ch := range 3 {
			if got, want := dst[3*p+ch], float32(byte(1+ch*3+p))/255; got != want {
				t.Fatalf("pixel %d channel %d = %v, want %v (CHW not turned to HWC?)", p, ch, got, want)
			}
		}
	}
}

func TestReadCIFAR100(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "train.bin", cifarRecords(2, []byte{19, 4}, []byte{99, 30}))
	fine, err := ReadCIFAR100(true, p)
	if err != nil {
		t.Fatal(err)
	}
	coarse, err := ReadCIFAR100(false, p)
	if err != nil {
		t.Fatal(err)
	}
	if !equal(fine.Labels(), []int32{99, 30}) || fine.Classes() != 100 || fine.ClassNames()[99] != "worm" {
		t.Errorf("fine: labels %v, %d classes", fine.Labels(), fine.Classes())
	}
	if !equal(coarse.Labels(), []int32{19, 4}) || coarse.Classes() != 20 || coarse.ClassNames()[19] != "vehicles_2" {
		t.Errorf("coarse: labels %v, %d classes", coarse.Labels(), coarse.Classes())
	}
	if len(CIFAR10Names) != 10 || len(CIFAR100CoarseNames) != 20 || len(CIFAR100FineNames) != 100 {
		t.Errorf("%d, %d, %d class names", len(CIFAR10Names), len(CIFAR100CoarseNames), len(CIFAR100FineNames))
	}
}

func TestCIFARDirs(t *testing.T) {
	dir := t.TempDir()
	for i := 1; i <= 5; i++ {
		writeFile(t, dir, fmt.Sprintf("data_batch_%d.bin", i), cifarRecords(1, []byte{byte(i)}))
	}
	writeFile(t, dir, "test_batch.bin", cifarRecords(1, []byte{7, 7}))
	train, err := CIFAR10(dir, true)
	if err != nil || !equal(train.Labels(), []int32{1, 2, 3, 4, 5}) {
		t.Fatalf("CIFAR10 train: %v, %v", err, train)
	}
	test, err := CIFAR10(dir, false)
	if err != nil || test.Len() != 2 {
		t.Fatalf("CIFAR10 test: %v", err)
	}
	writeFile(t, dir, "test.bin", cifarRecords(2, []byte{1}, []byte{2}))
	if m, err := CIFAR100(dir, false, true); err != nil || m.Labels()[0] != 2 {
		t.Fatalf("CIFAR100 test: %v", err)
	}
	_, err = CIFAR100(dir, true, true)
	wantErr(t, err, filepath.Join(dir, "train.bin"), "no such file")
}

func TestReadCIFARCorrupt(t *testing.T) {
	dir := t.TempDir()
	good := cifarRecords(1, []byte{1, 2, 3})
	badLabel := cifarRecords(1, []byte{1, 10, 3})
	gz := gzipBytes(t, good)
	for _, tc := range []struct {
		name string
		b    []byte
		want []string
	}{
		{"truncated", good[:len(good)-1], []string{"size 9218 bytes", "3073-byte CIFAR record", "truncated"}},
		{"trailing", append(good, 0), []string{"size 9220 bytes"}},
		{"empty", nil, []string{"size 0 bytes"}},
		{"label", badLabel, []string{"label 10 of record 1 is outside [0, 10)"}},
		{"gzip", gz, []string{"gzip-compressed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			okPath := writeFile(t, dir, "ok.bin", good)
			p := writeFile(t, dir, tc.name+".bin", tc.b)
			_, err := ReadCIFAR10(okPath, p)
			wantErr(t, err, append([]string{p}, tc.want...)...)
		})
	}
	// A CIFAR-10 file is not a whole number of CIFAR-100 records.
	p := writeFile(t, dir, "c10.bin", good)
	_, err := ReadCIFAR100(true, p)
	wantErr(t, err, p, "3074-byte CIFAR record")
	p = writeFile(t, dir, "fine.bin", cifarRecords(2, []byte{0}, []byte{100}))
	_, err = ReadCIFAR100(true, p)
	wantErr(t, err, p, "label 100 of record 0 is outside [0, 100)")
	_, err = ReadCIFAR10()
	wantErr(t, err, "no CIFAR files")
	_, err = ReadCIFAR10(dir)
	wantErr(t, err, dir, "not a regular file")
}
