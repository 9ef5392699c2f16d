package data

import (
	"slices"
	"testing"
)

// counting is an InMemory of n 1×1×1 images whose pixel is the index.
func counting(t testing.TB, n int) *InMemory {
	t.Helper()
	imgs := make([]float32, n)
	labels := make([]int32, n)
	for i := range n {
		imgs[i] = float32(i)
		labels[i] = int32(i % 3)
	}
	m, err := NewInMemory(imgs, labels, 1, 1, 1, 3)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// pixels returns the pixel of each of ds's 1×1×1 examples.
func pixels(t *testing.T, ds Dataset) []int {
	t.Helper()
	out := make([]int, ds.Len())
	dst := make([]float32, 1)
	for i := range out {
		if _, err := ds.Example(i, dst); err != nil {
			t.Fatal(err)
		}
		out[i] = int(dst[0])
	}
	return out
}

func TestSubset(t *testing.T) {
	m := counting(t, 10)
	m.SetClassNames([]string{"x", "y", "z"})
	s, err := Subset(m, []int{7, 2, 2})
	if err != nil {
		t.Fatal(err)
	}
	if got := pixels(t, s); !equal(got, []int{7, 2, 2}) {
		t.Errorf("subset holds %v", got)
	}
	if h, w, c := s.Shape(); h != 1 || w != 1 || c != 1 || s.Classes() != 3 || ClassNames(s)[1] != "y" {
		t.Errorf("subset shape %dx%dx%d, %d classes %q", h, w, c, s.Classes(), ClassNames(s))
	}
	_, err = Subset(m, []int{0, 10})
	wantErr(t, err, "indices[1] = 10", "10 examples")
}

func TestSplit(t *testing.T) {
	m := counting(t, 100)
	train, val, err := Split(m, 0.2, 7)
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 80 || val.Len() != 20 {
		t.Fatalf("split into %d and %d", train.Len(), val.Len())
	}
	all := append(pixels(t, train), pixels(t, val)...)
	if !slices.IsSorted(all[:80]) || !slices.IsSorted(all[80:]) {
		t.Error("parts are not in the original order")
	}
	slices.Sort(all)
	for i, v := range all {
		if v != i {
			t.Fatalf("parts do not partition the dataset: %v", all)
		}
	}
	_, val2, _ := Split(m, 0.2, 7)
	_, val3, _ := Split(m, 0.2, 8)
	if !equal(pixels(t, val), pixels(t, val2)) || equal(pixels(t, val), pixels(t, val3)) {
		t.Error("the split is not a function of the seed")
	}
	for _, f := range []float64{0, 1, -0.1, 0.001, 0.999} {
		_, _, err := Split(m, f, 1)
		if err == nil {
			t.Errorf("Split(%v) gave no error", f)
		}
	}
}
