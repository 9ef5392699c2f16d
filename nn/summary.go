package nn

import (
	"fmt"
	"strings"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/tensor"
)

// LayerRow is one layer of a model's summary.
type LayerRow struct {
	Name   string `json:"name"`
	Kind   string `json:"type"`
	Output []int  `json:"output_shape"` // with the batch as 1
	Params int    `json:"params"`
	Frozen int    `json:"frozen_params"` // of Params, those that do not train
}

// SummaryInfo is a model's summary as data: its layers and parameter
// counts.
type SummaryInfo struct {
	Layers    []LayerRow `json:"layers"`
	Input     []int      `json:"input_shape"`
	Output    []int      `json:"output_shape"`
	Total     int        `json:"total_params"`
	Trainable int        `json:"trainable_params"`
	Frozen    int        `json:"frozen_params"`
}

// Summarize traces model on one zero input of shape in (without the
// batch) and returns its summary as data; Summary formats it.
func Summarize(model Layer, in ...int) (SummaryInfo, error) {
	var rows []traceRow
	tp := ag.NewTape()
	tp.SetGradEnabled(false)
	defer tp.Reset()
	c := &Ctx{Tape: tp, trace: &rows}
	x := ag.Const(tensor.Zeros(append([]int{1}, in...)...))
	out := model.Forward(c, x)
	if err := tp.Err(); err != nil {
		layer := ""
		if len(rows) > 0 {
			layer = fmt.Sprintf(" (in layer %s, %s)", rows[len(rows)-1].name, rows[len(rows)-1].kind)
		}
		return SummaryInfo{}, fmt.Errorf("nn.Summary: input %v%s: %w", in, layer, err)
	}
	info := SummaryInfo{Input: append([]int{1}, in...), Output: out.Shape()}
	for _, r := range rows {
		if r.leaf {
			info.Layers = append(info.Layers, LayerRow{r.name, r.kind, r.out, r.params, r.frozen})
		}
	}
	for _, p := range model.Params() {
		n := p.Var.Value().Len()
		info.Total += n
		if p.Trainable() {
			info.Trainable += n
		}
	}
	info.Frozen = info.Total - info.Trainable
	return info, nil
}

// Summary returns Keras' model summary of model for inputs of shape in
// (one example, without the batch: H, W, C for images): a row per layer
// with its dotted name, type, output shape (batch shown as N) and
// parameter count (and, when some are frozen, whether each layer trains:
// yes, no or part), then the total, trainable and frozen parameter counts.
// It runs the model once, without gradients, on a zero input, so it also
// reports a model that does not fit its input.
func Summary(model Layer, in ...int) (string, error) {
	info, err := Summarize(model, in...)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	nameW, kindW := len("Layer"), len("(type)")
	for _, r := range info.Layers {
		nameW, kindW = max(nameW, len(r.Name)), max(kindW, len(r.Kind)+2)
	}
	extra, head := 0, ""
	if info.Frozen > 0 {
		extra, head = 8, "  Trains"
	}
	line := strings.Repeat("─", nameW+kindW+36+extra)
	fmt.Fprintf(&b, "%s\n%-*s %-*s %-22s %10s%s\n%s\n", line, nameW, "Layer", kindW, "(type)", "Output shape", "Param #", head, line)
	for _, r := range info.Layers {
		trains := ""
		if info.Frozen > 0 && r.Params > 0 {
			switch r.Frozen {
			case 0:
				trains = "  yes"
			case r.Params:
				trains = "  no"
			default:
				trains = "  part"
			}
		}
		fmt.Fprintf(&b, "%-*s %-*s %-22s %10s%s\n", nameW, r.Name, kindW, "("+r.Kind+")", shapeString(r.Output), commas(r.Params), trains)
	}
	fmt.Fprintf(&b, "%s\nInput: %s   Output: %s\n", line, shapeString(info.Input), shapeString(info.Output))
	fmt.Fprintf(&b, "Total params:      %s\nTrainable params:  %s\nFrozen params:     %s\n", commas(info.Total), commas(info.Trainable), commas(info.Frozen))
	return b.String(), nil
}

// shapeString formats a batch shape with the batch as N: [N 28 28 6].
func shapeString(s []int) string {
	if len(s) == 0 {
		return "?"
	}
	parts := []string{"N"}
	for _, d := range s[1:] {
		parts = append(parts, fmt.Sprint(d))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// commas formats n with thousands separators: 61,706.
func commas(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
