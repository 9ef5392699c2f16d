package data

import "testing"

func TestNewInMemory(t *testing.T) {
	imgs := []float32{1, 2, 3, 4, 5, 6, 7, 8}
	m, err := NewInMemory(imgs, []int32{0, 2}, 2, 1, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]float32, 4)
	if l, err := m.Example(1, dst); err != nil || l != 2 || !equal(dst, []float32{5, 6, 7, 8}) {
		t.Errorf("Example(1) = %d, %v, %v", l, dst, err)
	}
	_, err = m.Example(2, dst)
	wantErr(t, err, "index 2 is outside [0, 2)")
	_, err = m.Example(0, dst[:3])
	wantErr(t, err, "destination holds 3 values", "2x1x2 image 4")

	if err := m.SetClassNames([]string{"a", "b"}); err == nil {
		t.Error("SetClassNames took 2 names for 3 classes")
	}
	m.SetClassNames([]string{"a", "b", "c"})
	if ClassNames(m)[2] != "c" {
		t.Errorf("ClassNames = %q", ClassNames(m))
	}

	_, err = NewInMemory(imgs, []int32{0, 3}, 2, 1, 2, 3)
	wantErr(t, err, "label 3 at index 1 is outside [0, 3)")
	_, err = NewInMemory(imgs, []int32{0}, 2, 1, 2, 3)
	wantErr(t, err, "1 labels need 4 values", "have 8")
	_, err = NewInMemory(imgs, []int32{0, 1}, 2, 0, 2, 3)
	wantErr(t, err, "must be positive")
}

func TestNewInMemoryUint8(t *testing.T) {
	m, err := NewInMemoryUint8([]uint8{0, 51, 255}, []int32{1}, 1, 1, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]float32, 3)
	if l, _ := m.Example(0, dst); l != 1 || !equal(dst, []float32{0, 0.2, 1}) {
		t.Errorf("Example(0) = %d, %v; want 1, [0 0.2 1]", l, dst)
	}
	_, err = NewInMemoryUint8([]uint8{0, 51}, []int32{1}, 1, 1, 3, 2)
	wantErr(t, err, "data.NewInMemoryUint8")
}
