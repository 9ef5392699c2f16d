package models

import (
	"fmt"
	"strings"

	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/tensor"
	"github.com/foveaml/fovea/weights"
)

// LoadTorchvision loads a torchvision state dict (as read by
// weights.Load from a safetensors file, say) into model, converting
// PyTorch's layouts to fovea's on the way: convolution filters OIHW
// [out, in, kh, kw] become HWIO [kh, kw, in, out]; Linear weights
// [out, in] become Dense weights [in, out], and for the dense layers a
// model's About().Flattened names, their input rows are also permuted from (c, h, w) to
// (h, w, c) order. Batch norms' num_batches_tracked counters, which fovea
// does not keep, are dropped. The tensors are matched to nn.State(model)
// (parameters and buffers) by name, as weights.LoadStateDict does: strict
// (the default to use), nothing is loaded unless every name and shape
// matches, and the error lists the missing, unexpected and wrongly shaped
// tensors (shapes in fovea's layout); not strict, every tensor that fits
// is loaded and the Report tells what did not. tensors is not modified.
func LoadTorchvision(model nn.Layer, tensors map[string]*tensor.Tensor, strict bool) (weights.Report, error) {
	r, err := weights.LoadStateDict(nn.State(model), FromTorchvision(model, tensors), strict)
	if err != nil {
		return r, fmt.Errorf("models.LoadTorchvision: %w", err)
	}
	return r, nil
}

// FromTorchvision returns a torchvision state dict converted to fovea's
// layouts for model, as LoadTorchvision loads it: filters and dense
// weights reordered, num_batches_tracked dropped. tensors is not
// modified; tensors that need no change are shared, not copied.
func FromTorchvision(model nn.Layer, tensors map[string]*tensor.Tensor) map[string]*tensor.Tensor {
	state := nn.State(model)
	shapes := make(map[string][]int, len(state))
	for _, p := range state {
		shapes[p.Name] = p.Var.Value().Shape()
	}
	maps := nn.AboutOf(model).Flattened
	conv := make(map[string]*tensor.Tensor, len(tensors))
	for name, t := range tensors {
		if strings.HasSuffix(name, "num_batches_tracked") {
			continue
		}
		if t == nil {
			conv[name] = t
			continue
		}
		want, known := shapes[name]
		switch {
		case t.Rank() == 4:
			conv[name] = permute4(t, 2, 3, 1, 0)
		case t.Rank() == 2 && known && len(want) == 2:
			out, in := t.Dim(0), t.Dim(1)
			if hwc, ok := maps[strings.TrimSuffix(name, ".weight")]; ok && hwc[0]*hwc[1]*hwc[2] == in {
				// [out, C, H, W] → [H, W, C, out]
				r, _ := t.Reshape(out, hwc[2], hwc[0], hwc[1])
				p := permute4(r, 2, 3, 1, 0)
				conv[name], _ = p.Reshape(in, out)
			} else {
				conv[name] = transpose(t)
			}
		default:
			conv[name] = t
		}
	}
	return conv
}

// permute4 returns a copy of the rank-4 t with its axes reordered: axis i
// of the result is axis perm[i] of t.
func permute4(t *tensor.Tensor, perm ...int) *tensor.Tensor {
	in := t.Shape()
	shape := make([]int, 4)
	for i, p := range perm {
		shape[i] = in[p]
	}
	stride := [4]int{in[1] * in[2] * in[3], in[2] * in[3], in[3], 1}
	s := [4]int{stride[perm[0]], stride[perm[1]], stride[perm[2]], stride[perm[3]]}
	out := tensor.Zeros(shape...)
	src, dst := t.Data(), out.Data()
	k := 0
	for a := range shape[0] {
		for b := range shape[1] {
			for c := range shape[2] {
				base := a*s[0] + b*s[1] + c*s[2]
				for d := range shape[3] {
					dst[k] = src[base+d*s[3]]
					k++
				}
			}
		}
	}
	return out
}

// transpose returns a copy of the matrix t transposed.
func transpose(t *tensor.Tensor) *tensor.Tensor {
	r, c := t.Dim(0), t.Dim(1)
	out := tensor.Zeros(c, r)
	src, dst := t.Data(), out.Data()
	for i := range r {
		for j := range c {
			dst[j*r+i] = src[i*c+j]
		}
	}
	return out
}
