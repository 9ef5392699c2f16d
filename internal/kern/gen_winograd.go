//go:build ignore

// gen_winograd writes winograd_avx512_amd64.s, the AVX-512 transforms of
// the Winograd F(4×4, 3×3) convolution (see winograd.go):
//
//	go run gen_winograd.go   (or: go generate ./internal/kern)
//
// Each transform works on 16 channels per ZMM register, one channel block
// after another, with a masked block (K1) for the channels left over. A
// two-dimensional transform L·X·Lᵀ is two passes of the one-dimensional
// one: down the columns into a frame of vectors on the stack, then along
// the rows of that frame. The one-dimensional transforms are factored by
// hand (common sums first), and the reference loops they must equal are
// the pure-Go twins in winograd.go.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
)

var out bytes.Buffer

func w(format string, args ...any) { fmt.Fprintf(&out, format+"\n", args...) }

// z names a vector register.
func z(i int) string { return fmt.Sprintf("Z%d", i) }

// stack is the address of vector slot i of the frame.
func stack(i int) string { return fmt.Sprintf("%d(SP)", 64*i) }

// load and store move a vector, masked by K1 (zeroing on load) in the
// tail block.
func load(mem, reg string, masked bool) {
	if masked {
		w("\tVMOVUPS.Z %s, K1, %s", mem, reg)
		return
	}
	w("\tVMOVUPS %s, %s", mem, reg)
}

func store(reg, mem string, masked bool) {
	if masked {
		w("\tVMOVUPS %s, K1, %s", reg, mem)
		return
	}
	w("\tVMOVUPS %s, %s", reg, mem)
}

// Register conventions inside a 1-D transform: inputs Z0.., outputs
// from Z8, temporaries from Z16, constants from Z24.
const (
	in0, out0, tmp0 = 0, 8, 16
)

// Constant registers, broadcast once per call.
const (
	c4, cm4, cm5, c2, cm2, c8 = 31, 30, 29, 28, 27, 26
	cq, cm6, c6, c24, c12     = 31, 30, 29, 28, 27
)

// inputT is Bᵀ·d on six vectors: the input transform of F(4×4, 3×3).
//
//	o0 = 4d0 − 5d2 + d4         o3 = (d4 − d2) + 2(d3 − d1)
//	o1 = (d3 + d4) − 4(d1 + d2) o4 = (d4 − d2) − 2(d3 − d1)
//	o2 = (d4 − d3) + 4(d1 − d2) o5 = 4d1 − 5d3 + d5
func inputT() {
	d := func(i int) string { return z(in0 + i) }
	o := func(i int) string { return z(out0 + i) }
	t := func(i int) string { return z(tmp0 + i) }
	w("\tVMOVAPS %s, %s", d(4), o(0))
	w("\tVFMADD231PS %s, %s, %s", z(cm5), d(2), o(0))
	w("\tVFMADD231PS %s, %s, %s", z(c4), d(0), o(0))
	w("\tVADDPS %s, %s, %s", d(2), d(1), t(0)) // d1 + d2
	w("\tVADDPS %s, %s, %s", d(4), d(3), o(1)) // d3 + d4
	w("\tVFMADD231PS %s, %s, %s", z(cm4), t(0), o(1))
	w("\tVSUBPS %s, %s, %s", d(2), d(1), t(1)) // d1 − d2
	w("\tVSUBPS %s, %s, %s", d(3), d(4), o(2)) // d4 − d3
	w("\tVFMADD231PS %s, %s, %s", z(c4), t(1), o(2))
	w("\tVSUBPS %s, %s, %s", d(2), d(4), t(2)) // d4 − d2
	w("\tVSUBPS %s, %s, %s", d(1), d(3), t(3)) // d3 − d1
	w("\tVMOVAPS %s, %s", t(2), o(3))
	w("\tVFMADD231PS %s, %s, %s", z(c2), t(3), o(3))
	w("\tVMOVAPS %s, %s", t(2), o(4))
	w("\tVFMADD231PS %s, %s, %s", z(cm2), t(3), o(4))
	w("\tVMOVAPS %s, %s", d(5), o(5))
	w("\tVFMADD231PS %s, %s, %s", z(cm5), d(3), o(5))
	w("\tVFMADD231PS %s, %s, %s", z(c4), d(1), o(5))
}

// outputT is Aᵀ·m on six vectors: the output transform.
//
//	o0 = m0 + (m1 + m2) + (m3 + m4)  o2 = (m1 + m2) + 4(m3 + m4)
//	o1 = (m1 − m2) + 2(m3 − m4)      o3 = (m1 − m2) + 8(m3 − m4) + m5
func outputT() {
	m := func(i int) string { return z(in0 + i) }
	o := func(i int) string { return z(out0 + i) }
	t := func(i int) string { return z(tmp0 + i) }
	w("\tVADDPS %s, %s, %s", m(2), m(1), t(0)) // a = m1 + m2
	w("\tVSUBPS %s, %s, %s", m(2), m(1), t(1)) // b = m1 − m2
	w("\tVADDPS %s, %s, %s", m(4), m(3), t(2)) // c = m3 + m4
	w("\tVSUBPS %s, %s, %s", m(4), m(3), t(3)) // d = m3 − m4
	w("\tVADDPS %s, %s, %s", t(0), m(0), o(0))
	w("\tVADDPS %s, %s, %s", t(2), o(0), o(0))
	w("\tVMOVAPS %s, %s", t(1), o(1))
	w("\tVFMADD231PS %s, %s, %s", z(c2), t(3), o(1))
	w("\tVMOVAPS %s, %s", t(0), o(2))
	w("\tVFMADD231PS %s, %s, %s", z(c4), t(2), o(2))
	w("\tVADDPS %s, %s, %s", m(5), t(1), o(3))
	w("\tVFMADD231PS %s, %s, %s", z(c8), t(3), o(3))
}

// gradT is A·d on four vectors (A = (Aᵀ)ᵀ, 6×4): the transform of an
// output gradient's tile for backward-filter.
//
//	o0 = d0                        o3 = (d0 + 4d2) + (2d1 + 8d3)
//	o1 = (d0 + d2) + (d1 + d3)     o4 = (d0 + 4d2) − (2d1 + 8d3)
//	o2 = (d0 + d2) − (d1 + d3)     o5 = d3
func gradT() {
	d := func(i int) string { return z(in0 + i) }
	o := func(i int) string { return z(out0 + i) }
	t := func(i int) string { return z(tmp0 + i) }
	w("\tVADDPS %s, %s, %s", d(2), d(0), t(0)) // d0 + d2
	w("\tVADDPS %s, %s, %s", d(3), d(1), t(1)) // d1 + d3
	w("\tVMOVAPS %s, %s", d(0), o(0))
	w("\tVADDPS %s, %s, %s", t(1), t(0), o(1))
	w("\tVSUBPS %s, %s, %s", t(1), t(0), o(2))
	w("\tVMOVAPS %s, %s", d(0), t(2))
	w("\tVFMADD231PS %s, %s, %s", z(c4), d(2), t(2)) // d0 + 4d2
	w("\tVMULPS %s, %s, %s", z(c2), d(1), t(3))
	w("\tVFMADD231PS %s, %s, %s", z(c8), d(3), t(3)) // 2d1 + 8d3
	w("\tVADDPS %s, %s, %s", t(3), t(2), o(3))
	w("\tVSUBPS %s, %s, %s", t(3), t(2), o(4))
	w("\tVMOVAPS %s, %s", d(3), o(5))
}

// filterT is G·g on three vectors: the filter transform.
//
//	o0 = g0/4                 o3 = (g0/24 + g2/6) + g1/12
//	o1 = −((g0 + g2) + g1)/6  o4 = (g0/24 + g2/6) − g1/12
//	o2 = −((g0 + g2) − g1)/6  o5 = g2
func filterT() {
	g := func(i int) string { return z(in0 + i) }
	o := func(i int) string { return z(out0 + i) }
	t := func(i int) string { return z(tmp0 + i) }
	w("\tVMULPS %s, %s, %s", z(cq), g(0), o(0))
	w("\tVADDPS %s, %s, %s", g(2), g(0), t(0))
	w("\tVADDPS %s, %s, %s", g(1), t(0), o(1))
	w("\tVMULPS %s, %s, %s", z(cm6), o(1), o(1))
	w("\tVSUBPS %s, %s, %s", g(1), t(0), o(2))
	w("\tVMULPS %s, %s, %s", z(cm6), o(2), o(2))
	w("\tVMULPS %s, %s, %s", z(c6), g(2), t(1))
	w("\tVFMADD231PS %s, %s, %s", z(c24), g(0), t(1))
	w("\tVMOVAPS %s, %s", t(1), o(3))
	w("\tVFMADD231PS %s, %s, %s", z(c12), g(1), o(3))
	w("\tVMOVAPS %s, %s", t(1), o(4))
	w("\tVFNMADD231PS %s, %s, %s", z(c12), g(1), o(4))
	w("\tVMOVAPS %s, %s", g(2), o(5))
}

// consts broadcasts the named float32 constants (register → value).
func consts(label string, vals map[int]float32) {
	regs := []int{}
	for r := 0; r < 32; r++ {
		if _, ok := vals[r]; ok {
			regs = append(regs, r)
		}
	}
	for _, r := range regs {
		w("\tMOVL $0x%08x, AX", math.Float32bits(vals[r]))
		w("\tVPBROADCASTD AX, %s", z(r))
	}
}

// loop emits the channel loop: full blocks of 16 (BX the byte offset,
// CX the channels left), then a masked block. body emits one block.
func loop(label string, body func(masked bool)) {
	w("\tXORQ BX, BX")
	w("%s_block:", label)
	w("\tCMPQ CX, $16")
	w("\tJLT %s_tail", label)
	body(false)
	w("\tADDQ $64, BX")
	w("\tSUBQ $16, CX")
	w("\tJMP %s_block", label)
	w("%s_tail:", label)
	w("\tTESTQ CX, CX")
	w("\tJEQ %s_done", label)
	w("\tMOVL $1, AX")
	w("\tSHLL CX, AX")
	w("\tDECL AX")
	w("\tKMOVW AX, K1")
	body(true)
	w("%s_done:", label)
	w("\tVZEROUPPER")
	w("\tRET")
}

// genInput: func winoInAVX512(v *float32, vs int, x **float32, c int).
// x holds 36 pointers, the patch's pixels row by row; transformed point
// ξ = 6i+j goes to v + ξ·vs bytes.
func genInput() {
	genSquare("winoInAVX512", "v", "vs", "x", 6, inputT, map[int]float32{c4: 4, cm4: -4, cm5: -5, c2: 2, cm2: -2})
}

// genGrad: func winoGradAVX512(m *float32, ms int, y **float32, c int).
// y holds 16 pointers, an output gradient's 4×4 tile row by row; point
// ξ = 6i+j of A·dy·Aᵀ goes to m + ξ·ms bytes.
func genGrad() {
	genSquare("winoGradAVX512", "m", "ms", "y", 4, gradT, map[int]float32{c4: 4, c2: 2, c8: 8})
}

// genSquare writes a transform L·X·Lᵀ of an n×n patch of pixels (n
// pointers a row, argument src) into the 6×6 points at dst + ξ·stride
// bytes, L the 6×n matrix that oneD applies to n vectors from Z0.
func genSquare(name, dst, stride, src string, n int, oneD func(), k map[int]float32) {
	w("// func %s(%s *float32, %s int, %s **float32, c int)", name, dst, stride, src)
	w("TEXT ·%s(SB), 0, $%d-32", name, 6*n*64)
	w("\tMOVQ %s+0(FP), DI", dst)
	w("\tMOVQ %s+8(FP), R8", stride)
	w("\tMOVQ %s+16(FP), SI", src)
	w("\tMOVQ c+24(FP), CX")
	w("\tLEAQ (R8)(R8*2), R13")   // 3·stride
	w("\tSHLQ $1, R13")           // 6·stride
	w("\tLEAQ (R13)(R13*2), R14") // 18·stride
	w("\tLEAQ (R13)(R13*4), R15") // 30·stride
	label := strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(name, "wino"), "AVX512"))
	consts(label, k)
	loop(label, func(masked bool) {
		// Rows of the patch: L along each row, into frame[6a+ξb].
		for a := 0; a < n; a++ {
			for b := 0; b < n; b++ {
				w("\tMOVQ %d(SI), R10", 8*(n*a+b))
				load("(R10)(BX*1)", z(in0+b), masked)
			}
			oneD()
			for j := 0; j < 6; j++ {
				w("\tVMOVUPS %s, %s", z(out0+j), stack(6*a+j))
			}
		}
		// Columns of the frame: L down each, to point 6ξa+ξb.
		w("\tLEAQ (DI)(BX*1), R12")
		for b := 0; b < 6; b++ {
			for a := 0; a < n; a++ {
				w("\tVMOVUPS %s, %s", stack(6*a+b), z(in0+a))
			}
			oneD()
			addr := []string{"(R12)", "(R12)(R13*1)", "(R12)(R13*2)", "(R12)(R14*1)", "(R12)(R13*4)", "(R12)(R15*1)"}
			for a := 0; a < 6; a++ {
				store(z(out0+a), addr[a], masked)
			}
			if b < 5 {
				w("\tADDQ R8, R12")
			}
		}
	})
}

// genOutput: func winoOutAVX512(y, r **float32, m *float32, ms int, c int, scale, shift *float32, floor float32).
// Point ξ of the tile's products is at m + ξ·ms bytes; y and r hold the
// 16 output and residual pixels row by row. Each value stored is
// max(v·scale + shift + res, floor).
func genOutput() {
	w("// func winoOutAVX512(y, r **float32, m *float32, ms int, c int, scale, shift *float32, floor float32)")
	w("TEXT ·winoOutAVX512(SB), 0, $%d-60", 24*64)
	w("\tMOVQ y+0(FP), DI")
	w("\tMOVQ r+8(FP), DX")
	w("\tMOVQ m+16(FP), SI")
	w("\tMOVQ ms+24(FP), R8")
	w("\tMOVQ c+32(FP), CX")
	w("\tMOVQ scale+40(FP), R9")
	w("\tMOVQ shift+48(FP), R11")
	w("\tVBROADCASTSS floor+56(FP), Z25")
	w("\tLEAQ (R8)(R8*2), R13")
	w("\tSHLQ $1, R13")
	w("\tLEAQ (R13)(R13*2), R14")
	w("\tLEAQ (R13)(R13*4), R15")
	consts("out", map[int]float32{c4: 4, c2: 2, c8: 8})
	loop("out", func(masked bool) {
		// Columns: Aᵀ down each column ξb of the 6×6 products, into
		// frame[6i+ξb].
		w("\tLEAQ (SI)(BX*1), R12")
		addr := []string{"(R12)", "(R12)(R13*1)", "(R12)(R13*2)", "(R12)(R14*1)", "(R12)(R13*4)", "(R12)(R15*1)"}
		for b := 0; b < 6; b++ {
			for a := 0; a < 6; a++ {
				load(addr[a], z(in0+a), masked)
			}
			outputT()
			for i := 0; i < 4; i++ {
				w("\tVMOVUPS %s, %s", z(out0+i), stack(6*i+b))
			}
			if b < 5 {
				w("\tADDQ R8, R12")
			}
		}
		load("(R9)(BX*1)", z(23), masked)  // scale
		load("(R11)(BX*1)", z(24), masked) // shift
		// Rows: Aᵀ along each, then the epilogue, to pixel 4i+j.
		for i := 0; i < 4; i++ {
			for b := 0; b < 6; b++ {
				w("\tVMOVUPS %s, %s", stack(6*i+b), z(in0+b))
			}
			outputT()
			for j := 0; j < 4; j++ {
				v := z(out0 + j)
				w("\tVFMADD213PS %s, %s, %s", z(24), z(23), v)
				w("\tMOVQ %d(DX), R10", 8*(4*i+j))
				load("(R10)(BX*1)", z(tmp0+4), masked)
				w("\tVADDPS %s, %s, %s", z(tmp0+4), v, v)
				w("\tVMAXPS %s, %s, %s", v, z(25), v)
				w("\tMOVQ %d(DI), R10", 8*(4*i+j))
				store(v, "(R10)(BX*1)", masked)
			}
		}
	})
}

// genFilter: func winoFilterAVX512(u *float32, us int, f *float32, fs int, c int).
// Tap t = 3ky+kx of the filter is at f + t·fs bytes (fs may be negative:
// the taps last first); point ξ of G·f·Gᵀ goes to u + ξ·us.
func genFilter() {
	w("// func winoFilterAVX512(u *float32, us int, f *float32, fs int, c int)")
	w("TEXT ·winoFilterAVX512(SB), 0, $%d-40", 18*64)
	w("\tMOVQ u+0(FP), DI")
	w("\tMOVQ us+8(FP), R8")
	w("\tMOVQ f+16(FP), SI")
	w("\tMOVQ fs+24(FP), R9")
	w("\tMOVQ c+32(FP), CX")
	w("\tLEAQ (R9)(R9*2), R10")   // 3gs
	w("\tLEAQ (R8)(R8*2), R13")   // 3us
	w("\tLEAQ (R8)(R8*4), R14")   // 5us
	w("\tLEAQ (R13)(R13*1), R15") // 6us
	consts("flt", map[int]float32{cq: 0.25, cm6: -1.0 / 6, c6: 1.0 / 6, c24: 1.0 / 24, c12: 1.0 / 12})
	loop("flt", func(masked bool) {
		// Columns kx: G down each, into frame[3ξa+kx].
		w("\tLEAQ (SI)(BX*1), R12")
		for kx := 0; kx < 3; kx++ {
			load("(R12)", z(in0), masked)
			load("(R12)(R10*1)", z(in0+1), masked)
			load("(R12)(R10*2)", z(in0+2), masked)
			filterT()
			for a := 0; a < 6; a++ {
				w("\tVMOVUPS %s, %s", z(out0+a), stack(3*a+kx))
			}
			if kx < 2 {
				w("\tADDQ R9, R12")
			}
		}
		// Rows ξa: G along each, to points 6ξa..6ξa+5.
		w("\tLEAQ (DI)(BX*1), R12")
		addr := []string{"(R12)", "(R12)(R8*1)", "(R12)(R8*2)", "(R12)(R13*1)", "(R12)(R8*4)", "(R12)(R14*1)"}
		for a := 0; a < 6; a++ {
			for kx := 0; kx < 3; kx++ {
				w("\tVMOVUPS %s, %s", stack(3*a+kx), z(in0+kx))
			}
			filterT()
			for b := 0; b < 6; b++ {
				store(z(out0+b), addr[b], masked)
			}
			if a < 5 {
				w("\tADDQ R15, R12")
			}
		}
	})
}

func main() {
	dir := flag.String("dir", ".", "the directory to write winograd_avx512_amd64.s into")
	flag.Parse()
	dst := filepath.Join(*dir, "winograd_avx512_amd64.s")
	w("// Code generated by gen_winograd.go; DO NOT EDIT.")
	w("")
	w("//go:build amd64 && !noasm")
	w("")
	w("#include \"textflag.h\"")
	w("")
	genInput()
	w("")
	genOutput()
	w("")
	genFilter()
	w("")
	genGrad()
	// Align the operands into columns as gofmt would for Go.
	var res strings.Builder
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(line, "\t") {
			op, rest, _ := strings.Cut(line[1:], " ")
			if rest != "" {
				line = fmt.Sprintf("\t%-12s %s", op, rest)
			}
		}
		res.WriteString(line + "\n")
	}
	if err := os.WriteFile(dst, []byte(strings.TrimRight(res.String(), "\n")+"\n"), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
