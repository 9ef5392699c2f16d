package augment

import (
	"fmt"
	"strings"
)

// presets are the named recipes, each a function so callers get their
// own Pipeline.
var presets = []struct {
	name, doc string
	make      func() *Pipeline
}{
	{"mnist", "digits: rotation ±15°, x shear ±10°, zoom 0.9–1.1, shift ±10%, one resampling, black fill", func() *Pipeline {
		return New(&Affine{
			Degrees:   [2]float64{-15, 15},
			ShearX:    [2]float64{-10, 10},
			Scale:     [2]float64{0.9, 1.1},
			Translate: [2]float64{0.1, 0.1},
		})
	}},
	{"cifar", "32×32 RGB: random crop with 4 pixels of zero padding, horizontal flip, PCA colour (ImageNet eigenpairs)", func() *Pipeline {
		return New(RandomCrop{Padding: 4}, HorizontalFlip{}, ImageNetPCA)
	}},
	{"alexnet", "AlexNet: random 224×224 crop (of 256×256 images), horizontal flip, PCA colour (ImageNet eigenpairs)", func() *Pipeline {
		return New(RandomCrop{Height: 224, Width: 224}, HorizontalFlip{}, ImageNetPCA)
	}},
	{"imagenet", "Inception/ResNet: random resized crop to 224×224, horizontal flip, colour jitter 0.4, PCA colour", func() *Pipeline {
		return New(RandomResizedCrop{Height: 224, Width: 224}, HorizontalFlip{},
			ColorJitter{Brightness: 0.4, Contrast: 0.4, Saturation: 0.4}, ImageNetPCA)
	}},
}

// Preset returns a new training Pipeline of a named recipe: mnist,
// cifar, alexnet or imagenet (PresetNames describes them). None
// normalises: add Normalize after it if the model wants that.
func Preset(name string) (*Pipeline, error) {
	for _, p := range presets {
		if strings.EqualFold(p.name, name) {
			return p.make(), nil
		}
	}
	return nil, fmt.Errorf("augment: unknown preset %q; known: %s", name, strings.Join(PresetNames(), ", "))
}

// PresetNames returns the names of the presets.
func PresetNames() []string {
	names := make([]string, len(presets))
	for i, p := range presets {
		names[i] = p.name
	}
	return names
}

// PresetDoc returns a one-line description of the named preset, or "".
func PresetDoc(name string) string {
	for _, p := range presets {
		if strings.EqualFold(p.name, name) {
			return p.doc
		}
	}
	return ""
}
