package augment

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// SpecHelp lists the words of a Spec, one a line, for a command's help.
const SpecHelp = `hflip[:P]      horizontal flip with probability P (0.5)
vflip[:P]      vertical flip with probability P (0.5)
crop:N         random crop of the image's size from it padded by N pixels (CIFAR: crop:4)
rrc[:S]        random resized crop to the model's input, area fraction from [S, 1] (0.08)
rotate:D       rotation by up to ±D degrees
shear:S        x shear by up to ±S, a shear factor (the tangent of the angle: 0.2 is about 11°)
zoom:Z         zoom by a factor from [1-Z, 1+Z]
shift:F        shift by up to ±F of the width and height
jitter:B       colour jitter: brightness, contrast and saturation by up to ±B
pca:S          PCA colour augmentation (ImageNet eigenpairs) with alphas of standard deviation S
erase[:P]      random erasing with probability P (0.5)
grey[:P]       greyscale with probability P (0.1)`

// ParseSpec builds a training Pipeline from a comma-separated list of
// transforms, as a command line writes it: "hflip,crop:4,rotate:15,
// shear:0.2,pca:0.1" (SpecHelp lists the words). h and w are the size
// the pipeline must deliver, which rrc crops to; rotate, shear, zoom and
// shift are folded into one Affine, placed where the first of them is,
// so the image is resampled once. It is an error, naming the word, if a
// word is unknown or its value is out of range.
func ParseSpec(spec string, h, w int) (*Pipeline, error) {
	var ts []Transform
	var aff *Affine
	for _, word := range strings.Split(spec, ",") {
		word = strings.TrimSpace(word)
		name, arg, hasArg := strings.Cut(word, ":")
		val := func(def, lo, hi float64) (float64, error) {
			if !hasArg {
				if math.IsNaN(def) {
					return 0, fmt.Errorf("augment: %q wants a value (%s:X)", word, name)
				}
				return def, nil
			}
			v, err := strconv.ParseFloat(arg, 64)
			if err != nil || !(v >= lo && v <= hi) {
				return 0, fmt.Errorf("augment: %q: want a number in [%g, %g] after %s:", word, lo, hi, name)
			}
			return v, nil
		}
		affine := func() *Affine {
			if aff == nil {
				aff = &Affine{}
				ts = append(ts, aff)
			}
			return aff
		}
		none := math.NaN()
		var v float64
		var err error
		switch strings.ToLower(name) {
		case "hflip":
			if v, err = val(0.5, 0, 1); err == nil {
				ts = append(ts, HorizontalFlip{P: v})
			}
		case "vflip":
			if v, err = val(0.5, 0, 1); err == nil {
				ts = append(ts, VerticalFlip{P: v})
			}
		case "crop":
			if v, err = val(none, 0, 1024); err == nil {
				if v != math.Trunc(v) {
					err = fmt.Errorf("augment: %q: the padding is a whole number of pixels", word)
				}
				ts = append(ts, RandomCrop{Height: h, Width: w, Padding: int(v)})
			}
		case "rrc":
			if v, err = val(0.08, 0.01, 1); err == nil {
				ts = append(ts, RandomResizedCrop{Height: h, Width: w, Scale: [2]float64{v, 1}})
			}
		case "rotate":
			if v, err = val(none, 0, 180); err == nil {
				affine().Degrees = [2]float64{-v, v}
			}
		case "shear":
			if v, err = val(none, 0, 10); err == nil {
				d := math.Atan(v) * 180 / math.Pi
				affine().ShearX = [2]float64{-d, d}
			}
		case "zoom":
			if v, err = val(none, 0, 0.99); err == nil {
				affine().Scale = [2]float64{1 - v, 1 + v}
			}
		case "shift":
			if v, err = val(none, 0, 1); err == nil {
				affine().Translate = [2]float64{v, v}
			}
		case "jitter":
			if v, err = val(none, 0, 1); err == nil {
				ts = append(ts, ColorJitter{Brightness: v, Contrast: v, Saturation: v})
			}
		case "pca":
			if v, err = val(none, 0, 10); err == nil {
				p := ImageNetPCA
				p.Sigma = v
				if v == 0 {
					p.Sigma = math.SmallestNonzeroFloat64 // 0 would mean the default
				}
				ts = append(ts, p)
			}
		case "erase":
			if v, err = val(0.5, 0, 1); err == nil {
				ts = append(ts, RandomErasing{P: v})
			}
		case "grey", "gray":
			if v, err = val(0.1, 0, 1); err == nil {
				ts = append(ts, Grayscale{P: v})
			}
		case "":
			err = fmt.Errorf("augment: %q: an empty transform", spec)
		default:
			err = fmt.Errorf("augment: unknown transform %q in %q; known: hflip, vflip, crop:N, rrc, rotate:D, shear:S, zoom:Z, shift:F, jitter:B, pca:S, erase, grey", name, spec)
		}
		if err != nil {
			return nil, err
		}
	}
	return New(ts...), nil
}
