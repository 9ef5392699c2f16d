// Package onnx reads ONNX models into fovea layers and writes fovea
// models as ONNX files.
//
//	m, err := onnx.Load("resnet18.onnx") // e.g. torch.onnx.export of torchvision's
//	if err != nil {
//		return err // one line: the node, its op and the opset, or the file's problem
//	}
//	logits, err := nn.NewPredictor(m).Logits(batch) // batch NHWC: [N, 224, 224, 3]
//
//	err = onnx.ExportFile("lenet5.onnx", model, onnx.ExportOptions{
//		Metadata: map[string]string{"model": "lenet5", "classes": "10"},
//	}) // opset 17, input [N, 1, 28, 28], dynamic N
//
// # Import
//
// Load compiles the graph (opsets 7 to 21 of the default domain) into a
// Model, an nn.Layer that runs the nodes on fovea's ops. ONNX is NCHW and
// fovea NHWC: a model's rank-4 input and output are NHWC, filters are
// converted to HWIO once at load, and every rank-4 value inside is kept
// NHWC, so convolutions and pooling run on fovea's kernels directly; the
// few ops that reinterpret memory (Flatten, Reshape, Transpose, MatMul)
// move their operand to ONNX's order and back.
//
// A Conv with the BatchNormalization, residual Add and Relu that follow
// it (when nothing else reads the values between) runs as one nn.Unit:
// fused into a single pass at inference (ag.Tape.Conv2DFused), layer by
// layer while training or while nn.Summary or nn.Capture look at it.
// Conv, BatchNormalization, Gemm and MatMul by a constant become nn
// layers named after their weights ("layer1.0.conv1", "fc"), or after the
// module path in PyTorch's node names when the exporter made the weights'
// names up (constant folding's "onnx::Conv_193" becomes
// "layer1.0.conv1.weight"). Float initializers are the Model's
// parameters and running statistics its buffers, so it trains, freezes
// (nn.FreezeUpTo, nn.FreezeAllButHead), takes a new head (NewHead: the
// last Gemm) and saves and loads its state as a zoo model does.
//
// The ops: Conv (groups, dilations, pads, auto_pad), ConvTranspose
// (ungrouped, pads and output_padding), BatchNormalization,
// Relu, LeakyRelu, Sigmoid, Tanh, Clip, Neg, Exp, Sqrt, Abs, Reciprocal,
// MaxPool and AveragePool (2-D, ceil_mode, pads, count_include_pad),
// GlobalAveragePool, GlobalMaxPool, LRN (odd sizes), Gemm, MatMul, Add,
// Sub, Mul, Div, Pow (broadcasting), Concat, Flatten, Reshape, Squeeze,
// Unsqueeze, Transpose, Slice, Pad (constant), Gather, Dropout, Softmax,
// Identity, Constant, ConstantOfShape, Cast, and the integer shape
// arithmetic exporters write around them (Shape, Size, Gather, Concat,
// Slice, Equal, Where, ...). Anything else, or an attribute fovea does
// not implement, is an error naming the node, the op and the opset.
//
// Files are untrusted: a tensor must hold the data its shape claims
// (nothing is allocated for a claim alone), external data is read only
// from the model's own directory (through os.Root, so neither ".." nor a
// symbolic link leads out), cycles and dangling inputs are errors, and
// sizes a graph computes at run time are bounded (maxActivation).
//
// A Model keeps its graph without the weights' data: MarshalGraph
// returns it (the head as NewHead left it, the initializers under the
// names Params and Buffers give), and ReadGraph builds the Model again
// from it and the shapes of the weights, which the caller then loads. A
// fovea weights file of a fine-tuned graph carries it in its metadata
// (models.FileInfo.Graph); linking this package lets models.Pretrained,
// and so every fovea command, read such files and .onnx files alike.
//
// # Export
//
// Export traces one inference pass of any nn.Layer (ag.Tape.SetTracer)
// and writes the ops it ran: zoo models, models built from nn layers, and
// imported Models alike. The file is opset 17 with a dynamic batch axis
// and NCHW input, as other tools expect, weights in PyTorch's layouts
// under fovea's names, and ExportOptions.Metadata in metadata_props.
package onnx
