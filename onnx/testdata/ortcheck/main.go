// Command ortcheck runs an ONNX model in ONNX Runtime and writes its
// output, for package onnx's tests to compare with fovea's: an
// independent implementation of the file's graph. It is a module of its
// own because ONNX Runtime is reached through cgo, which fovea itself
// does without.
//
//	ortcheck -lib libonnxruntime.so.1 -model m.onnx -in x.f32 -shape 2,3,224,224 -out y.f32
//
// x.f32 and y.f32 are little-endian float32; the output's shape goes to
// stdout as comma-separated dimensions.
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	ort "github.com/yalue/onnxruntime_go"
)

func main() {
	lib := flag.String("lib", "", "path of libonnxruntime.so")
	model := flag.String("model", "", "ONNX model")
	in := flag.String("in", "", "input, float32 little-endian")
	shape := flag.String("shape", "", "input shape, comma-separated")
	out := flag.String("out", "", "where to write the first output")
	inName := flag.String("input-name", "input", "the graph's input")
	outName := flag.String("output-name", "logits", "the graph's output")
	flag.Parse()
	if err := run(*lib, *model, *in, *shape, *out, *inName, *outName); err != nil {
		fmt.Fprintln(os.Stderr, "ortcheck:", err)
		os.Exit(1)
	}
}

func run(lib, model, in, shape, out, inName, outName string) error {
	ort.SetSharedLibraryPath(lib)
	if err := ort.InitializeEnvironment(); err != nil {
		return err
	}
	defer ort.DestroyEnvironment()
	var dims []int64
	for _, s := range strings.Split(shape, ",") {
		d, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("shape %q: %v", shape, err)
		}
		dims = append(dims, d)
	}
	b, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	x := make([]float32, len(b)/4)
	for i := range x {
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	input, err := ort.NewTensor(ort.NewShape(dims...), x)
	if err != nil {
		return err
	}
	defer input.Destroy()
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return err
	}
	defer opts.Destroy()
	if err := opts.SetIntraOpNumThreads(2); err != nil {
		return err
	}
	sess, err := ort.NewDynamicAdvancedSession(model, []string{inName}, []string{outName}, opts)
	if err != nil {
		return err
	}
	defer sess.Destroy()
	outs := []ort.Value{nil}
	if err := sess.Run([]ort.Value{input}, outs); err != nil {
		return err
	}
	defer outs[0].Destroy()
	t, ok := outs[0].(*ort.Tensor[float32])
	if !ok {
		return fmt.Errorf("the output is not a float32 tensor")
	}
	y := t.GetData()
	ob := make([]byte, 4*len(y))
	for i, v := range y {
		binary.LittleEndian.PutUint32(ob[4*i:], math.Float32bits(v))
	}
	if err := os.WriteFile(out, ob, 0o644); err != nil {
		return err
	}
	s := t.GetShape()
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = strconv.FormatInt(d, 10)
	}
	fmt.Println(strings.Join(parts, ","))
	return nil
}
