package main

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"

	"github.com/foveaml/fovea/augment"
	"github.com/foveaml/fovea/data"
	"github.com/foveaml/fovea/models"
)

// prep is how images become a model's input, in training and
// evaluation: the size they are stored at after decoding (the shorter
// side resized to resize and the centre square kept, for models of 64
// pixels and more, torchvision's 256 for 224; else the input size), the
// crop to the input, and the normalisation.
type prep struct {
	model     string
	h, w, c   int
	resize    int // 0: stored at h×w
	norm      string
	mean, std []float32
}

// newPrep returns the preparation of images for a model of the given
// name and input: what the flags say, else what info (a weights file's)
// says, else the field's defaults (models.PreprocessingOf and
// models.DefaultNormalization).
func newPrep(model string, input []int, info models.FileInfo, df *dataFlags) (prep, error) {
	if len(input) != 3 {
		return prep{}, fmt.Errorf("%s has no fixed input size to prepare images for", model)
	}
	p := prep{model: model, h: input[0], w: input[1], c: input[2]}
	if p.c != 1 && p.c != 3 {
		return prep{}, fmt.Errorf("%s takes %d channels; images convert to 1 or 3", model, p.c)
	}
	p.resize = models.PreprocessingOf(info, input).Resize
	switch {
	case df.normalize != "":
		p.norm = df.normalize
	case info.Normalize != "":
		p.norm = info.Normalize
	default:
		p.norm = models.DefaultNormalization(input)
	}
	switch p.norm {
	case "imagenet":
		if p.c != 3 {
			return prep{}, usagef("--normalize imagenet: %s takes %d channel(s); ImageNet's statistics are for RGB", model, p.c)
		}
		p.mean, p.std = models.ImageNetMean, models.ImageNetStd
	case "data":
		if info.Normalize == "data" && len(info.Mean) == p.c && df.normalize == "" {
			p.mean, p.std = info.Mean, info.Std // replayed; else fitted on the training data
		}
	}
	return p, nil
}

// stored returns the size images are kept at, before the crop.
func (p prep) stored() (h, w int) {
	if p.resize > max(p.h, p.w) {
		return p.resize, p.resize
	}
	return p.h, p.w
}

// info writes p into a model file's description.
func (p prep) info(f *models.FileInfo) {
	f.Input = []int{p.h, p.w, p.c}
	f.Resize, f.Normalize, f.Mean, f.Std = p.resize, p.norm, p.mean, p.std
}

// sized returns a split at the stored size. With exact, data of fixed
// size must already be the model's.
func (p prep) sized(set data.Set, exact bool) (data.Dataset, error) {
	if f, ok := set.(data.Fixed); ok && exact {
		h, w, c := f.Shape()
		if h != p.h || w != p.w || c != p.c {
			return nil, fmt.Errorf("the data's images are %d×%d×%d but %s takes %d×%d×%d", h, w, c, p.model, p.h, p.w, p.c)
		}
		return f.Dataset, nil
	}
	h, w := p.stored()
	return set.Sized(h, w, p.c, p.resize)
}

// normalize returns the normalisation step, or nil for none.
func (p prep) normalize() augment.Transform {
	if p.mean == nil {
		return nil
	}
	n := augment.Normalize{}
	for i := range p.mean {
		n.Mean = append(n.Mean, float64(p.mean[i]))
		n.Std = append(n.Std, float64(p.std[i]))
	}
	return n
}

// evalTransform returns the deterministic steps from a stored image to
// the model's input (the centre crop, the normalisation), or nil.
func (p prep) evalTransform() data.Transform {
	var ts []augment.Transform
	if h, w := p.stored(); h != p.h || w != p.w {
		ts = append(ts, augment.CenterCrop{Height: p.h, Width: p.w})
	}
	if n := p.normalize(); n != nil {
		ts = append(ts, n)
	}
	if len(ts) == 0 {
		return nil
	}
	return augment.New(ts...).Inference()
}

// evalSet returns ds with the evaluation steps applied.
func (p prep) evalSet(ds data.Dataset) (data.Dataset, error) {
	if t := p.evalTransform(); t != nil {
		return data.WithTransform(ds, t)
	}
	return ds, nil
}

// trainTransform returns the training augmentation that --augment names,
// ending at the model's input size and normalised, and whether it draws
// anything at random (if not, it can be applied to the data once).
func (p prep) trainTransform(spec string) (t data.Transform, random bool, err error) {
	var pipe *augment.Pipeline
	switch {
	case spec == "none":
		pipe = augment.New()
	case spec == "default":
		switch {
		case models.ImageNetSize([]int{p.h, p.w, p.c}):
			pipe = augment.New(augment.RandomResizedCrop{Height: p.h, Width: p.w}, augment.HorizontalFlip{})
		case p.c == 3:
			pipe = augment.New(augment.RandomCrop{Height: p.h, Width: p.w, Padding: 4}, augment.HorizontalFlip{})
		default:
			pipe = augment.New()
		}
	case !strings.ContainsAny(spec, ",:") && augment.PresetDoc(spec) != "":
		pipe, _ = augment.Preset(spec)
	default:
		if pipe, err = augment.ParseSpec(spec, p.h, p.w); err != nil {
			return nil, false, usagef("--augment: %v", err)
		}
	}
	random = len(pipe.Transforms) > 0
	h, w := p.stored()
	oh, ow, _, err := pipe.OutShape(h, w, p.c)
	if err != nil {
		return nil, false, usagef("--augment %s on %d×%d×%d images: %v", spec, h, w, p.c, err)
	}
	switch {
	case oh == p.h && ow == p.w:
	case oh >= p.h && ow >= p.w:
		pipe.Transforms = append(pipe.Transforms, augment.CenterCrop{Height: p.h, Width: p.w})
	default:
		pipe.Transforms = append(pipe.Transforms, augment.Resize{Height: p.h, Width: p.w})
	}
	if n := p.normalize(); n != nil {
		pipe.Transforms = append(pipe.Transforms, n)
	}
	if len(pipe.Transforms) == 0 {
		return nil, false, nil
	}
	return pipe, random, nil
}

// fitNormalization fits the "data" normalisation's mean and standard
// deviation per channel on up to 1,000 examples of ds, spread over it,
// if they are not known already.
func (p *prep) fitNormalization(ds data.Dataset) error {
	if p.norm != "data" || p.mean != nil {
		return nil
	}
	h, w, c := ds.Shape()
	n := min(ds.Len(), 1000)
	sum, sq := make([]float64, c), make([]float64, c)
	img := make([]float32, h*w*c)
	for k := range n {
		if _, err := ds.Example(k*ds.Len()/n, img); err != nil {
			return err
		}
		for i, v := range img {
			sum[i%c] += float64(v)
			sq[i%c] += float64(v) * float64(v)
		}
	}
	count := float64(n * h * w)
	for k := range c {
		m := sum[k] / count
		sd := math.Sqrt(max(sq[k]/count-m*m, 0))
		p.mean = append(p.mean, float32(m))
		p.std = append(p.std, float32(max(sd, 1e-3)))
	}
	return nil
}

// prepared is a split ready for a run: at the stored size, cached, and
// read through once if its examples are decoded from files, so a bad file
// stops the command before it starts (or, with --skip-bad, is left out).
type prepared struct {
	ds      data.Dataset
	skipped int
	cache   *data.Cache
}

// prepare readies a split. cacheFile is where its copies go if they do
// not fit in memory ("": nowhere); n, if above 0, keeps the first n
// examples only. Reading the files stops when ctx is done.
func prepare(ctx context.Context, set data.Set, p prep, df *dataFlags, n int, cacheFile string, budget *int64) (*prepared, error) {
	ds, err := p.sized(set, df.input == "exact")
	if err != nil {
		return nil, fmt.Errorf("--data %s: %w", df.spec, err)
	}
	f, fixed := set.(data.Fixed)
	asIs := fixed && f.Dataset == ds // in memory already
	_, files := set.(*data.Images)
	ds = limitStep(ds, n, files)
	out := &prepared{ds: ds}
	if df.cache != "off" && !asIs {
		o := data.CacheOptions{MaxMemory: *budget}
		if df.cache == "auto" {
			o.File = cacheFile
		}
		c, err := data.NewCache(ds, o)
		if err != nil {
			return nil, err
		}
		if c.Where() == "memory" {
			h, w, ch := ds.Shape()
			*budget -= int64(ds.Len() * h * w * ch)
		}
		if c.Where() != "" {
			out.ds, out.cache = c, c
		}
	}
	if !files {
		return out, nil
	}
	good, bad, err := data.CheckContext(ctx, out.ds, 0)
	if err != nil {
		return nil, fmt.Errorf("interrupted while reading the images of --data %s (%v); nothing was written", df.spec, err)
	}
	if len(bad) > 0 && !df.skipBad {
		more := ""
		if len(bad) > 1 {
			more = fmt.Sprintf(" (and %d more)", len(bad)-1)
		}
		return nil, fmt.Errorf("%w%s; --skip-bad leaves such files out", bad[0].Err, more)
	}
	if len(good) == 0 {
		return nil, fmt.Errorf("no image of %s could be read", filepath.Clean(df.spec))
	}
	if len(bad) > 0 {
		out.ds, _ = data.Subset(out.ds, good)
		out.skipped = len(bad)
	}
	return out, nil
}

// close closes the split's cache file, if it has one.
func (pr *prepared) close() {
	if pr != nil && pr.cache != nil {
		pr.cache.Close()
	}
}

// checkClasses says whether the data's labels fit the model's outputs.
func checkClasses(df *dataFlags, src *data.Source, classes int, hint string) error {
	if n := src.Train.Classes(); n > classes {
		return fmt.Errorf("--data %s has %d classes but the model has %d outputs: %s %d", df.spec, n, classes, hint, n)
	}
	return nil
}
