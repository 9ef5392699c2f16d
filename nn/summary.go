package nn

import (
	"fmt"
	"strings"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/tensor"
)

// Summary returns Keras' model summary of model for inputs of shape in
// (one example, without the batch: H, W, C for images): a row per layer
// with its dotted name, type, output shape (batch shown as N) and
// parameter count, then the total, trainable and frozen parameter counts.
// It runs the model once, without gradients, on a zero input, so it also
// reports a model that does not fit its input.
func Summary(model Layer, in ...int) (string, error) {
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
		return "", fmt.Errorf("nn.Summary: input %v%s: %w", in, layer, err)
	}
	var total, trainable int
	for _, p := range model.Params() {
		n := p.Var.Value().Len()
		total += n
		if p.Trainable() {
			trainable += n
		}
	}
	var b strings.Builder
	nameW, kindW := len("Layer"), len("(type)")
	for _, r := range rows {
		if r.leaf {
			nameW, kindW = max(nameW, len(r.name)), max(kindW, len(r.kind)+2)
		}
	}
	line := strings.Repeat("─", nameW+kindW+36)
	fmt.Fprintf(&b, "%s\n%-*s %-*s %-22s %10s\n%s\n", line, nameW, "Layer", kindW, "(type)", "Output shape", "Param #", line)
	for _, r := range rows {
		if r.leaf {
			fmt.Fprintf(&b, "%-*s %-*s %-22s %10s\n", nameW, r.name, kindW, "("+r.kind+")", shapeString(r.out), commas(r.params))
		}
	}
	fmt.Fprintf(&b, "%s\nInput: %s   Output: %s\n", line, shapeString(append([]int{1}, in...)), shapeString(out.Shape()))
	fmt.Fprintf(&b, "Total params:      %s\nTrainable params:  %s\nFrozen params:     %s\n", commas(total), commas(trainable), commas(total-trainable))
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
