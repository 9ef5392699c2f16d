package inspect

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/internal/chart"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/tensor"
	"github.com/foveaml/fovea/weights"
)

// MACCounter is a layer that counts its own multiply-accumulates, as
// nn.Conv2D and nn.Dense do (and layers that embed them); layers that are
// not MACCounters count none. in and out are the shapes of one call's
// input and output for a batch of one, batch first.
type MACCounter interface {
	MACs(in, out []int) int64
}

// LayerProfile is one layer of a Profile: a layer that calls no other.
type LayerProfile struct {
	Name   string `json:"name"`
	Kind   string `json:"type"`
	Output []int  `json:"output_shape"` // with the batch as 1
	Params int    `json:"params"`
	MACs   int64  `json:"macs"`
}

// ProfileInfo is what a model costs for one example: its parameters,
// its multiply-accumulates, and the size of its weights.
type ProfileInfo struct {
	Input  []int          `json:"input_shape"`
	Output []int          `json:"output_shape"`
	Layers []LayerProfile `json:"layers,omitempty"`
	// Params counts every parameter; Trainable and Frozen split it.
	Params    int `json:"params"`
	Trainable int `json:"trainable_params"`
	Frozen    int `json:"frozen_params"`
	// MACs are the multiply-accumulates of one example's forward pass in
	// convolutions (out_h·out_w·out_c·k_h·k_w·in_c/groups) and dense
	// layers (in·out), biases, normalisation, pooling and activations
	// not counted (see MACCounter); ConvMACs are those of layers giving
	// maps, DenseMACs of those giving vectors: the convention of torchvision's published "GFLOPS"
	// (which are MACs) and of counters built on PyTorch's forward hooks,
	// so ResNet-50 at 224×224 has 4,089,184,256.
	MACs      int64 `json:"macs"`
	ConvMACs  int64 `json:"conv_macs"`
	DenseMACs int64 `json:"dense_macs"`
	// StateBytes is the float32 size of the parameters and buffers (what
	// a model in memory holds); FileBytes the size of the safetensors file
	// of them fovea writes, its header naming each tensor, the model's
	// kind and its classes (a longer name or more metadata adds its
	// bytes).
	StateBytes int64 `json:"state_bytes"`
	FileBytes  int64 `json:"file_bytes"`
}

// Profile runs model once at inference on a zero example of shape in
// (without the batch: [H, W, C] for an image), observing every layer
// call, and returns what it costs. Only the layers the pass calls count,
// so an auxiliary classifier that runs only in training adds parameters
// but no MACs, as in torchvision's figures.
func Profile(model nn.Layer, in ...int) (ProfileInfo, error) {
	var info ProfileInfo
	tp := ag.NewTape()
	tp.SetGradEnabled(false)
	defer tp.Reset()
	var last string
	c := &nn.Ctx{Tape: tp, Observe: func(call nn.LayerCall) *ag.Var {
		last = call.Path
		if !call.Leaf || call.Out == nil {
			return call.Out
		}
		row := LayerProfile{Name: call.Path, Kind: nn.Kind(call.Layer), Output: call.Out.Shape()}
		for _, p := range call.Layer.Params() {
			row.Params += p.Var.Value().Len()
		}
		row.MACs = layerMACs(call.Layer, call.In.Shape(), row.Output)
		if len(row.Output) == 4 {
			info.ConvMACs += row.MACs
		} else {
			info.DenseMACs += row.MACs
		}
		info.MACs += row.MACs
		info.Layers = append(info.Layers, row)
		return call.Out
	}}
	x := ag.Const(tensor.Zeros(append([]int{1}, in...)...))
	out := model.Forward(c, x)
	if err := tp.Err(); err != nil {
		where := ""
		if last != "" {
			where = " (after layer " + last + ")"
		}
		return ProfileInfo{}, fmt.Errorf("inspect.Profile: input %v%s: %w", in, where, err)
	}
	info.Input, info.Output = append([]int{1}, in...), out.Shape()
	info.Trainable, info.Frozen = nn.TrainableCount(model)
	info.Params = info.Trainable + info.Frozen
	state := weights.StateDict(nn.State(model))
	for _, t := range state {
		info.StateBytes += 4 * int64(t.Len())
	}
	var n countWriter
	if err := weights.Write(&n, state, map[string]string{"model": nn.Kind(model), "classes": strconv.Itoa(nn.Classes(model))}); err != nil {
		return ProfileInfo{}, fmt.Errorf("inspect.Profile: %w", err)
	}
	info.FileBytes = int64(n)
	return info, nil
}

// layerMACs counts the multiply-accumulates of one call of l that took
// a batch of one of shape in and gave one of shape out.
func layerMACs(l nn.Layer, in, out []int) int64 {
	if m, ok := l.(MACCounter); ok {
		return m.MACs(in, out)
	}
	return 0
}

type countWriter int64

func (w *countWriter) Write(p []byte) (int, error) {
	*w += countWriter(len(p))
	return len(p), nil
}

var _ io.Writer = (*countWriter)(nil)

// Table formats p as Summary does, with each layer's MACs, and the
// totals under it.
func (p ProfileInfo) Table() string {
	var b strings.Builder
	nameW, kindW := len("Layer"), len("(type)")
	for _, r := range p.Layers {
		nameW, kindW = max(nameW, len(r.Name)), max(kindW, len(r.Kind)+2)
	}
	line := strings.Repeat("─", nameW+kindW+52)
	fmt.Fprintf(&b, "%s\n%-*s %-*s %-22s %12s %16s\n%s\n", line, nameW, "Layer", kindW, "(type)", "Output shape", "Param #", "MACs", line)
	for _, r := range p.Layers {
		fmt.Fprintf(&b, "%-*s %-*s %-22s %12s %16s\n", nameW, r.Name, kindW, "("+r.Kind+")", shapeString(r.Output), Commas(int64(r.Params)), Commas(r.MACs))
	}
	fmt.Fprintf(&b, "%s\nInput: %s   Output: %s\n", line, shapeString(p.Input), shapeString(p.Output))
	fmt.Fprintf(&b, "Total params:      %s\nTrainable params:  %s\nFrozen params:     %s\n", Commas(int64(p.Params)), Commas(int64(p.Trainable)), Commas(int64(p.Frozen)))
	fmt.Fprintf(&b, "MACs per example:  %s (%s; convolutions %s, dense %s)\n", Commas(p.MACs), Short(p.MACs), Commas(p.ConvMACs), Commas(p.DenseMACs))
	fmt.Fprintf(&b, "Weights:           %s in memory, %s as a safetensors file\n", Bytes(p.StateBytes), Bytes(p.FileBytes))
	return b.String()
}

// shapeString formats a batch shape with the batch as N: [N 28 28 6].
func shapeString(s []int) string {
	if len(s) == 0 {
		return "?"
	}
	parts := []string{"N"}
	for _, d := range s[1:] {
		parts = append(parts, strconv.Itoa(d))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// Commas formats n with thousands separators: 4,089,184,256.
func Commas(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// Short formats a count with three significant digits and an SI
// prefix: 4.09 G, 714 M, 417 k.
func Short(n int64) string { return chart.SI(n) }

// Bytes formats a size in binary units: 97.8 MiB.
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, u := float64(n), 0
	for v >= unit && u < 4 {
		v /= unit
		u++
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGT"[u-1])
}
