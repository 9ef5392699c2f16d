package weights

import (
	"encoding/base64"
	"fmt"
	"github.com/foveaml/fovea/internal/atomicfile"
	"io"
	"strconv"
	"strings"

	"github.com/foveaml/fovea/tensor"
)

// Checkpoint is everything a training run needs to resume exactly: the
// model's weights, the optimiser's state (as optim's State returns
// it), the position in training, the random generator's state and free
// metadata. It is stored in one safetensors file: the tensors are named
// "model.<name>" and "optim.<key>", and the header's metadata holds
// "format" (CheckpointFormat), "epoch", "step", "rng" (base64),
// "optim.<key>" and "meta.<key>", so other tools can read it too.
type Checkpoint struct {
	Weights   map[string]*tensor.Tensor // the model's parameters by name (StateDict)
	Optim     map[string]*tensor.Tensor // the optimiser's state tensors (optim.Optimizer.State)
	OptimMeta map[string]string         // the optimiser's scalar state, and any scheduler's
	// Epoch is the number of epochs completed, Step the number of
	// optimiser steps taken.
	Epoch, Step int
	// RNG is the state of the run's random source, for example from a
	// math/rand/v2 PCG's MarshalBinary; it is stored as it is.
	RNG []byte
	// Meta is free metadata: the model's name, a note, metrics.
	Meta map[string]string
}

// CheckpointFormat is the "format" of a checkpoint file's metadata.
const CheckpointFormat = "fovea.checkpoint.v1"

// SaveCheckpoint writes c to path, atomically (see Save).
func SaveCheckpoint(path string, c *Checkpoint) error {
	return atomicfile.Write(path, func(w io.Writer) error { return WriteCheckpoint(wrapWriter(w), c) })
}

// WriteCheckpoint writes c to w as a safetensors file.
func WriteCheckpoint(w io.Writer, c *Checkpoint) error {
	if c.Epoch < 0 || c.Step < 0 {
		return fmt.Errorf("weights: checkpoint at epoch %d, step %d; want both >= 0", c.Epoch, c.Step)
	}
	ts := make(map[string]*tensor.Tensor, len(c.Weights)+len(c.Optim))
	for k, t := range c.Weights {
		ts["model."+k] = t
	}
	for k, t := range c.Optim {
		ts["optim."+k] = t
	}
	meta := map[string]string{
		"format": CheckpointFormat,
		"epoch":  strconv.Itoa(c.Epoch),
		"step":   strconv.Itoa(c.Step),
	}
	if c.RNG != nil {
		meta["rng"] = base64.StdEncoding.EncodeToString(c.RNG)
	}
	for k, v := range c.OptimMeta {
		meta["optim."+k] = v
	}
	for k, v := range c.Meta {
		meta["meta."+k] = v
	}
	return Write(w, ts, meta)
}

// LoadCheckpoint reads a checkpoint written by SaveCheckpoint. Any
// problem, with the file or with what it holds, is an error naming the
// file.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	return Options{}.LoadCheckpoint(path)
}

// LoadCheckpoint is the package's LoadCheckpoint with options o.
func (o Options) LoadCheckpoint(path string) (*Checkpoint, error) {
	ts, meta, err := o.Load(path)
	if err != nil {
		return nil, err
	}
	c, err := checkpointFrom(ts, meta)
	if err != nil {
		return nil, oneLine(fmt.Errorf("weights: %s: %v", path, err))
	}
	return c, nil
}

// ReadCheckpoint is LoadCheckpoint for a file already open, or in
// memory, of size bytes; name is used in errors.
func (o Options) ReadCheckpoint(r io.ReaderAt, size int64, name string) (*Checkpoint, error) {
	ts, meta, err := o.Read(r, size, name)
	if err != nil {
		return nil, err
	}
	c, err := checkpointFrom(ts, meta)
	if err != nil {
		return nil, oneLine(fmt.Errorf("weights: %s: %v", name, err))
	}
	return c, nil
}

func checkpointFrom(ts map[string]*tensor.Tensor, meta map[string]string) (*Checkpoint, error) {
	if f := meta["format"]; f != CheckpointFormat {
		return nil, fmt.Errorf("metadata format is %q, not %q: not a fovea checkpoint (Load reads plain weights)", f, CheckpointFormat)
	}
	c := &Checkpoint{
		Weights:   map[string]*tensor.Tensor{},
		Optim:     map[string]*tensor.Tensor{},
		OptimMeta: map[string]string{},
		Meta:      map[string]string{},
	}
	var err error
	if c.Epoch, err = strconv.Atoi(meta["epoch"]); err != nil || c.Epoch < 0 {
		return nil, fmt.Errorf("epoch %q is not an integer >= 0", meta["epoch"])
	}
	if c.Step, err = strconv.Atoi(meta["step"]); err != nil || c.Step < 0 {
		return nil, fmt.Errorf("step %q is not an integer >= 0", meta["step"])
	}
	for k, v := range meta {
		switch {
		case k == "format" || k == "epoch" || k == "step":
		case k == "rng":
			if c.RNG, err = base64.StdEncoding.DecodeString(v); err != nil {
				return nil, fmt.Errorf("rng state is not base64: %v", err)
			}
		case strings.HasPrefix(k, "optim."):
			c.OptimMeta[k[len("optim."):]] = v
		case strings.HasPrefix(k, "meta."):
			c.Meta[k[len("meta."):]] = v
		default:
			return nil, fmt.Errorf("unknown metadata key %q", k)
		}
	}
	for k, t := range ts {
		switch {
		case strings.HasPrefix(k, "model."):
			c.Weights[k[len("model."):]] = t
		case strings.HasPrefix(k, "optim."):
			c.Optim[k[len("optim."):]] = t
		default:
			return nil, fmt.Errorf("tensor %q is neither model.* nor optim.*", k)
		}
	}
	return c, nil
}
