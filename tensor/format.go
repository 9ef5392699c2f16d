package tensor

import (
	"fmt"
	"strings"
)

// maxPrint is the most values String prints in full.
const maxPrint = 256

// String formats t as nested brackets, one innermost row per line, like
// NumPy. A tensor of more than 256 values is summarised by its shape.
func (t *Tensor) String() string {
	if len(t.data) > maxPrint {
		return fmt.Sprintf("Tensor%v (%d values)", t.shape, len(t.data))
	}
	if len(t.shape) == 0 {
		return fmt.Sprint(t.data[0])
	}
	var b strings.Builder
	t.format(&b, 0, 0)
	return b.String()
}

// format writes the sub-tensor of axis ax starting at data offset off.
func (t *Tensor) format(b *strings.Builder, ax, off int) {
	b.WriteByte('[')
	n := t.shape[ax]
	if ax == len(t.shape)-1 {
		for i, v := range t.data[off : off+n] {
			if i > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprint(b, v)
		}
		b.WriteByte(']')
		return
	}
	step := numel(t.shape[ax+1:])
	for i := range n {
		if i > 0 {
			// A blank line per axis beyond the innermost two, as NumPy.
			b.WriteString(strings.Repeat("\n", len(t.shape)-ax-1))
			b.WriteString(strings.Repeat(" ", ax+1))
		}
		t.format(b, ax+1, off+i*step)
	}
	b.WriteByte(']')
}
