package augment

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestParseSpec(t *testing.T) {
	p, err := ParseSpec("hflip,crop:4,rotate:15,shear:0.2,zoom:0.1,pca:0.1,rrc:0.5,jitter:0.2,erase,grey:0.2,vflip:0.3,shift:0.1", 32, 32)
	if err != nil {
		t.Fatal(err)
	}
	// rotate, shear, zoom and shift are one Affine, where rotate stood.
	if len(p.Transforms) != 9 {
		t.Fatalf("%d transforms", len(p.Transforms))
	}
	a, ok := p.Transforms[2].(*Affine)
	if !ok || a.Degrees != [2]float64{-15, 15} || a.Scale != [2]float64{0.9, 1.1} || a.Translate != [2]float64{0.1, 0.1} ||
		a.ShearX[1] < 11.3 || a.ShearX[1] > 11.4 {
		t.Fatalf("affine %+v", p.Transforms[2])
	}
	src := make([]float32, 40*40*3)
	dst := make([]float32, 32*32*3)
	if err := p.Apply(dst, src, 40, 40, 3, rand.New(rand.NewPCG(1, 2))); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ spec, want string }{
		{"twirl", `unknown transform "twirl"`},
		{"rotate", `"rotate" wants a value`},
		{"crop:2.5", "whole number"},
		{"hflip:2", "want a number in [0, 1]"},
		{"hflip,,crop:4", "an empty transform"},
	} {
		if _, err := ParseSpec(c.spec, 32, 32); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseSpec(%q): %v; want %q", c.spec, err, c.want)
		}
	}
}
