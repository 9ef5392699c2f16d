//go:build ignore

// gen_vec writes the element-wise assembly kernels of vec_amd64.go, one
// file per kernel and instruction set (axpy_avx512_amd64.s,
// axpy_avx2_amd64.s, ...):
//
//	go run gen_vec.go   (or: go generate ./internal/kern)
//
// Each kernel is written once here, for both instruction sets: AVX-512
// works on 16 lanes and finishes with one vector masked by K1; AVX2 on 8
// lanes and finishes one value at a time in the low lane of an X
// register. The reference loops the kernels must equal are the doc
// comments in vec_amd64.go and the Go loops in vec.go.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/foveaml/fovea/internal/asmgen"
)

// isa is one instruction set's vector width and tail.
type isa struct {
	suffix string // of the kernel's name: AVX512, AVX2
	file   string // of the file's name: avx512, avx2
	reg    string // vector register prefix: Z, Y
	lanes  int    // float32 lanes of a vector
	masked bool   // the tail is one masked vector (else scalar steps)
}

var (
	avx512 = isa{"AVX512", "avx512", "Z", 16, true}
	avx2   = isa{"AVX2", "avx2", "Y", 8, false}
)

func (s isa) bytes() int { return 4 * s.lanes }

// mode is how a body touches memory: whole vectors, the masked tail
// vector (AVX-512) or one value (AVX2's tail, X registers).
type mode int

const (
	full mode = iota
	maskedTail
	scalar
)

// gen writes one kernel's instructions into f.
type gen struct {
	*asmgen.File
	s isa
	m mode
}

// v names vector register i in the current mode.
func (g *gen) v(i int) string {
	if g.m == scalar {
		return fmt.Sprintf("X%d", i)
	}
	return fmt.Sprintf("%s%d", g.s.reg, i)
}

// mem is the operand off(base).
func mem(off int, base string) string {
	if off == 0 {
		return "(" + base + ")"
	}
	return fmt.Sprintf("%d(%s)", off, base)
}

func imm(n int) string { return fmt.Sprintf("$%d", n) }

// load and store move one vector (one value in scalar mode), masked by
// K1 in the tail.
func (g *gen) load(m, reg string) {
	switch g.m {
	case maskedTail:
		g.I("VMOVUPS.Z", m, "K1", reg)
	case scalar:
		g.I("VMOVSS", m, reg)
	default:
		g.I("VMOVUPS", m, reg)
	}
}

func (g *gen) store(reg, m string) {
	switch g.m {
	case maskedTail:
		g.I("VMOVUPS", reg, "K1", m)
	case scalar:
		g.I("VMOVSS", reg, m)
	default:
		g.I("VMOVUPS", reg, m)
	}
}

// tailMask sets K1 to the low CX bits (CX < 16).
func (g *gen) tailMask(count, mask string) {
	g.I("MOVL", "$1", "AX")
	g.I("SHLL", count, "AX")
	g.I("DECL", "AX")
	g.I("KMOVW", "AX", mask)
}

func (g *gen) zero(reg string) {
	if g.s.masked {
		g.I("VPXORD", reg, reg, reg)
		return
	}
	g.I("VXORPS", reg, reg, reg)
}

func (g *gen) end() {
	g.Label("done")
	g.I("VZEROUPPER")
	g.I("RET")
}

// stream is a kernel that walks its slices together, len(x) values: a
// loop of four vectors, then one, then the tail.
type stream struct {
	name, sig string
	ptrs      [][2]string // slice arguments and their registers, in the order loaded and advanced
	count     string      // the slice whose length is the count (into CX)
	setup     func(g *gen)
	// body works on the vector at byte offset off of every slice, with
	// registers 2u and 2u+1 its own (u the unrolled copy).
	body func(g *gen, u, off int)
}

func (k stream) write(f *asmgen.File, s isa) {
	g := &gen{File: f, s: s}
	fn := f.Func(k.name+s.suffix, k.sig)
	for _, p := range k.ptrs {
		g.I("MOVQ", fn.Arg(p[0]+"_base"), p[1])
	}
	g.I("MOVQ", fn.Arg(k.count+"_len"), "CX")
	if k.setup != nil {
		k.setup(g)
	}
	advance := func(bytes int) {
		for _, p := range k.ptrs {
			g.I("ADDQ", imm(bytes), p[1])
		}
	}
	g.Label("loop4")
	g.I("CMPQ", "CX", imm(4*s.lanes))
	g.I("JLT", "loop1")
	for u := range 4 {
		k.body(g, u, u*s.bytes())
	}
	advance(4 * s.bytes())
	g.I("SUBQ", imm(4*s.lanes), "CX")
	g.I("JMP", "loop4")
	g.Label("loop1")
	g.I("CMPQ", "CX", imm(s.lanes))
	g.I("JLT", "tail")
	k.body(g, 0, 0)
	advance(s.bytes())
	g.I("SUBQ", imm(s.lanes), "CX")
	g.I("JMP", "loop1")
	g.Label("tail")
	g.I("TESTQ", "CX", "CX")
	g.I("JEQ", "done")
	if s.masked {
		g.tailMask("CX", "K1")
		g.m = maskedTail
		k.body(g, 0, 0)
	} else {
		g.m = scalar
		k.body(g, 0, 0)
		advance(4)
		g.I("DECQ", "CX")
		g.I("JMP", "tail")
	}
	g.m = full
	g.end()
}

// broadcastA and zeroK fill register 12 with the scalar argument a or
// with zeros.
func broadcastA(g *gen) { g.I("VBROADCASTSS", "a+24(FP)", g.v(12)) }
func zeroK(g *gen)      { g.zero(g.v(12)) }

// binary is z = x op y.
func binary(name, op string) stream {
	return stream{name: name, sig: "z, x, y []float32",
		ptrs: [][2]string{{"z", "DI"}, {"x", "SI"}, {"y", "DX"}}, count: "x",
		body: func(g *gen, u, off int) {
			a, b := g.v(2*u), g.v(2*u+1)
			g.load(mem(off, "SI"), a)
			g.load(mem(off, "DX"), b)
			g.I(op, b, a, a)
			g.store(a, mem(off, "DI"))
		}}
}

// unary is y = op(x, register 12).
func unary(name, sig, op string, setup func(*gen)) stream {
	return stream{name: name, sig: sig,
		ptrs: [][2]string{{"y", "DI"}, {"x", "SI"}}, count: "x", setup: setup,
		body: func(g *gen, u, off int) {
			a := g.v(2 * u)
			g.load(mem(off, "SI"), a)
			g.I(op, a, g.v(12), a)
			g.store(a, mem(off, "DI"))
		}}
}

var streams = []stream{
	{name: "axpy", sig: "dst []float32, a float32, x []float32",
		ptrs: [][2]string{{"dst", "DI"}, {"x", "SI"}}, count: "x", setup: broadcastA,
		body: func(g *gen, u, off int) {
			a, b := g.v(2*u), g.v(2*u+1)
			g.load(mem(off, "SI"), a)
			g.load(mem(off, "DI"), b)
			g.I("VFMADD231PS", a, g.v(12), b)
			g.store(b, mem(off, "DI"))
		}},
	binary("add", "VADDPS"),
	{name: "maxNaN", sig: "z, x, y []float32",
		ptrs: [][2]string{{"z", "DI"}, {"x", "SI"}, {"y", "DX"}}, count: "x",
		body: func(g *gen, u, off int) {
			a, b := g.v(2*u), g.v(2*u+1)
			g.load(mem(off, "SI"), a)
			g.load(mem(off, "DX"), b)
			// a = y > x ? y : x (x when either is NaN), then y where y is NaN.
			g.I("VMAXPS", a, b, a)
			if g.s.masked {
				g.I("VCMPPS", "$3", b, b, "K2")
				g.I("VMOVAPS", b, "K2", a)
			} else {
				m := g.v(8 + u)
				g.I("VCMPPS", "$3", b, b, m)
				g.I("VBLENDVPS", m, b, a, a)
			}
			g.store(a, mem(off, "DI"))
		}},
	binary("mul", "VMULPS"),
	unary("scale", "y []float32, a float32, x []float32", "VMULPS", broadcastA),
	unary("relu", "y, x []float32", "VMAXPS", zeroK),
	{name: "reluGrad", sig: "dx, dy, x []float32",
		ptrs: [][2]string{{"dx", "DI"}, {"dy", "DX"}, {"x", "SI"}}, count: "x", setup: zeroK,
		body: func(g *gen, u, off int) {
			a, b := g.v(2*u), g.v(2*u+1)
			g.load(mem(off, "SI"), a)
			if !g.s.masked { // a lane mask of all ones where x > 0
				g.I("VCMPPS", "$0x1e", g.v(12), a, a)
				g.load(mem(off, "DX"), b)
				g.I("VANDPS", b, a, a)
				g.store(a, mem(off, "DI"))
				return
			}
			g.I("VCMPPS", "$0x1e", g.v(12), a, "K2")
			if g.m == maskedTail {
				g.I("KANDW", "K1", "K2", "K2")
			}
			g.I("VMOVUPS.Z", mem(off, "DX"), "K2", b)
			g.store(b, mem(off, "DI"))
		}},
}

// scaleShift is y = x·a + b over rows of len(a) channels.
func scaleShift(f *asmgen.File, s isa) {
	g := &gen{File: f, s: s}
	doc := []string{"One row of C = len(a) channels at a time: full vectors of 8, then the", "C%8 left over one at a time."}
	if s.masked {
		doc = []string{"One row of C = len(a) channels at a time: full vectors of 16, then a", "masked vector (K1, computed once) for the C%16 left over."}
	}
	fn := f.Func("scaleShift"+s.suffix, "y, x, a, b []float32", doc...)
	g.I("MOVQ", fn.Arg("y_base"), "DI")
	g.I("MOVQ", fn.Arg("x_base"), "SI")
	g.I("MOVQ", fn.Arg("x_len"), "DX")
	g.I("MOVQ", fn.Arg("a_base"), "R8")
	g.I("MOVQ", fn.Arg("a_len"), "R10")
	g.I("MOVQ", fn.Arg("b_base"), "R9")
	if s.masked {
		g.I("MOVQ", "R10", "CX")
		g.I("ANDQ", imm(s.lanes-1), "CX")
		g.I("MOVQ", "CX", "R12")
		g.tailMask("CX", "K1")
	} else {
		g.I("MOVQ", "R10", "R12")
		g.I("ANDQ", imm(s.lanes-1), "R12")
	}
	g.I("MOVQ", "R10", "R11")
	g.I("SHRQ", imm(map[int]int{16: 4, 8: 3}[s.lanes]), "R11")
	g.I("MOVQ", "R10", "R13")
	g.I("SHLQ", "$2", "R13")
	g.Blank()
	g.Label("row")
	g.I("CMPQ", "DX", "R10")
	g.I("JLT", "done")
	g.I("XORQ", "BX", "BX")
	g.I("MOVQ", "R11", "CX")
	g.Blank()
	g.Label("vec")
	g.I("TESTQ", "CX", "CX")
	g.I("JEQ", "rowtail")
	g.I("VMOVUPS", "(SI)(BX*1)", g.v(0))
	g.I("VMOVUPS", "(R8)(BX*1)", g.v(1))
	g.I("VFMADD213PS", "(R9)(BX*1)", g.v(1), g.v(0))
	g.I("VMOVUPS", g.v(0), "(DI)(BX*1)")
	g.I("ADDQ", imm(s.bytes()), "BX")
	g.I("DECQ", "CX")
	g.I("JMP", "vec")
	g.Blank()
	g.Label("rowtail")
	if s.masked {
		g.m = maskedTail
		g.I("TESTQ", "R12", "R12")
		g.I("JEQ", "next")
		g.load("(SI)(BX*1)", g.v(0))
		g.load("(R8)(BX*1)", g.v(1))
		g.load("(R9)(BX*1)", g.v(2))
		g.I("VFMADD213PS", g.v(2), g.v(1), g.v(0))
		g.store(g.v(0), "(DI)(BX*1)")
	} else {
		g.m = scalar
		g.I("MOVQ", "R12", "CX")
		g.Blank()
		g.Label("scalar")
		g.I("TESTQ", "CX", "CX")
		g.I("JEQ", "next")
		g.load("(SI)(BX*1)", g.v(0))
		g.load("(R8)(BX*1)", g.v(1))
		g.load("(R9)(BX*1)", g.v(2))
		g.I("VFMADD213SS", g.v(2), g.v(1), g.v(0))
		g.store(g.v(0), "(DI)(BX*1)")
		g.I("ADDQ", "$4", "BX")
		g.I("DECQ", "CX")
		g.I("JMP", "scalar")
	}
	g.m = full
	g.Blank()
	g.Label("next")
	g.I("ADDQ", "R13", "SI")
	g.I("ADDQ", "R13", "DI")
	g.I("SUBQ", "R10", "DX")
	g.I("JMP", "row")
	g.Blank()
	g.end()
}

// maxIdx keeps the running maximum ym of x and its pixel index ix.
func maxIdx(f *asmgen.File, s isa) {
	g := &gen{File: f, s: s}
	doc := []string{"K2 selects the lanes where x > ym (ordered) or x is NaN; they take x and pix."}
	if !s.masked {
		doc = []string{"Y3 is all ones in the lanes where x > ym (ordered) or x is NaN; they", "take x and pix by blending."}
	}
	fn := f.Func("maxIdx"+s.suffix, "ym []float32, ix []int32, x []float32, pix int32", doc...)
	g.I("MOVQ", fn.Arg("ym_base"), "DI")
	g.I("MOVQ", fn.Arg("ix_base"), "DX")
	g.I("MOVQ", fn.Arg("x_base"), "SI")
	g.I("MOVQ", fn.Arg("x_len"), "CX")
	g.I("MOVL", fn.Arg("pix"), "AX")
	g.I("VMOVD", "AX", "X2")
	g.I("VPBROADCASTD", "X2", g.v(2))
	// body updates the vector (value) at SI, DI, DX.
	body := func() {
		if s.masked {
			if g.m == full {
				g.I("VMOVUPS", "(SI)", "Z0")
				g.I("VCMPPS", "$0x1e", "(DI)", "Z0", "K2")
			} else {
				g.load("(SI)", "Z0")
				g.load("(DI)", "Z1")
				g.I("VCMPPS", "$0x1e", "Z1", "Z0", "K2")
			}
			g.I("VCMPPS", "$3", "Z0", "Z0", "K3")
			g.I("KORW", "K2", "K3", "K2")
			if g.m == maskedTail {
				g.I("KANDW", "K1", "K2", "K2")
			}
			g.I("VMOVUPS", "Z0", "K2", "(DI)")
			g.I("VMOVDQU32", "Z2", "K2", "(DX)")
			return
		}
		g.load("(SI)", g.v(0))
		g.load("(DI)", g.v(1))
		g.I("VCMPPS", "$0x1e", g.v(1), g.v(0), g.v(3))
		g.I("VCMPPS", "$3", g.v(0), g.v(0), g.v(4))
		g.I("VORPS", g.v(4), g.v(3), g.v(3))
		g.I("VBLENDVPS", g.v(3), g.v(0), g.v(1), g.v(1))
		g.store(g.v(1), "(DI)")
		g.load("(DX)", g.v(5))
		g.I("VBLENDVPS", g.v(3), g.v(2), g.v(5), g.v(5))
		g.store(g.v(5), "(DX)")
	}
	advance := func(n int) {
		for _, r := range []string{"SI", "DI", "DX"} {
			g.I("ADDQ", imm(n), r)
		}
	}
	g.Blank()
	g.Label("loop1")
	g.I("CMPQ", "CX", imm(s.lanes))
	g.I("JLT", "tail")
	body()
	advance(s.bytes())
	g.I("SUBQ", imm(s.lanes), "CX")
	g.I("JMP", "loop1")
	g.Blank()
	g.Label("tail")
	g.I("TESTQ", "CX", "CX")
	g.I("JEQ", "done")
	if s.masked {
		g.tailMask("CX", "K1")
		g.m = maskedTail
		body()
	} else {
		g.m = scalar
		body()
		advance(4)
		g.I("DECQ", "CX")
		g.I("JMP", "tail")
	}
	g.m = full
	g.Blank()
	g.end()
}

// epilogueRows is a convolution's epilogue on rows of a matrix, AVX-512
// only: y = max(x·scale + shift + res, 0 if relu), each part optional (a
// nil slice, relu false).
func epilogueRows(f *asmgen.File) {
	g := &gen{File: f, s: avx512}
	fn := f.Func("epilogueRowsAVX512", "y, x []float32, ld, rows, cols int, scale, shift, res []float32, relu bool",
		"rows rows of cols values, ld floats apart in y, x and res; scale and",
		"shift are the same for every row. Full vectors of 16, then a masked",
		"vector (K2, computed once) for the cols%16 left over.")
	g.I("MOVQ", fn.Arg("y_base"), "DI")
	g.I("MOVQ", fn.Arg("x_base"), "SI")
	g.I("MOVQ", fn.Arg("ld"), "R15")
	g.I("SHLQ", "$2", "R15")
	g.I("MOVQ", fn.Arg("rows"), "DX")
	// A part is skipped when its slice is empty (its length register 0).
	parts := []struct{ arg, base, n, op string }{
		{"scale", "R8", "R11", "VMULPS"},
		{"shift", "R9", "R12", "VADDPS"},
		{"res", "R10", "R13", "VADDPS"},
	}
	for _, p := range parts {
		g.I("MOVQ", fn.Arg(p.arg+"_base"), p.base)
		g.I("MOVQ", fn.Arg(p.arg+"_len"), p.n)
	}
	g.I("MOVBQZX", fn.Arg("relu"), "R14")
	g.I("VPXORD", "Z12", "Z12", "Z12")
	g.I("MOVQ", fn.Arg("cols"), "CX")
	g.I("ANDQ", "$15", "CX")
	g.tailMask("CX", "K2")
	g.Blank()
	g.Label("row")
	g.I("TESTQ", "DX", "DX")
	g.I("JEQ", "done")
	g.I("XORQ", "BX", "BX")
	g.I("MOVQ", fn.Arg("cols"), "AX")
	g.I("SHRQ", "$4", "AX")
	// steps writes the optional parts on Z0; label names the skips.
	steps := func(label string, masked bool) {
		for i, p := range parts {
			g.I("TESTQ", p.n, p.n)
			g.I("JEQ", fmt.Sprintf("%s%d", label, i+1))
			if masked {
				g.I("VMOVUPS.Z", "("+p.base+")(BX*1)", "K2", "Z1")
				g.I(p.op, "Z1", "Z0", "Z0")
			} else {
				g.I(p.op, "("+p.base+")(BX*1)", "Z0", "Z0")
			}
			g.Blank()
			g.Label(fmt.Sprintf("%s%d", label, i+1))
		}
		g.I("TESTQ", "R14", "R14")
		g.I("JEQ", fmt.Sprintf("%s%d", label, len(parts)+1))
		g.I("VMAXPS", "Z0", "Z12", "Z0")
		g.Blank()
		g.Label(fmt.Sprintf("%s%d", label, len(parts)+1))
	}
	g.Blank()
	g.Label("chunk")
	g.I("TESTQ", "AX", "AX")
	g.I("JEQ", "tail")
	g.I("VMOVUPS", "(SI)(BX*1)", "Z0")
	steps("c", false)
	g.I("VMOVUPS", "Z0", "(DI)(BX*1)")
	g.I("ADDQ", "$64", "BX")
	g.I("DECQ", "AX")
	g.I("JMP", "chunk")
	g.Blank()
	g.Label("tail")
	g.I("KORTESTW", "K2", "K2")
	g.I("JEQ", "next")
	g.I("VMOVUPS.Z", "(SI)(BX*1)", "K2", "Z0")
	steps("t", true)
	g.I("VMOVUPS", "Z0", "K2", "(DI)(BX*1)")
	g.Blank()
	g.Label("next")
	g.I("ADDQ", "R15", "SI")
	g.I("ADDQ", "R15", "DI")
	g.I("ADDQ", "R15", "R10")
	g.I("DECQ", "DX")
	g.I("JMP", "row")
	g.Blank()
	g.end()
}

func main() {
	dir := flag.String("dir", ".", "the directory to write the files into")
	flag.Parse()
	files := map[string]*asmgen.File{}
	file := func(kernel string, s isa) *asmgen.File {
		f := asmgen.NewFile("gen_vec.go")
		files[fmt.Sprintf("%s_%s_amd64.s", kernel, s.file)] = f
		return f
	}
	for _, s := range []isa{avx512, avx2} {
		for _, k := range streams {
			k.write(file(lower(k.name), s), s)
		}
		scaleShift(file("scaleshift", s), s)
		maxIdx(file("maxidx", s), s)
	}
	epilogueRows(file("epilogue", avx512))
	maxWindow(file("maxwindow", avx512))
	if err := asmgen.Write(*dir, files); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// lower is the kernel's name in its file's: reluGrad → relugrad.
func lower(name string) string {
	b := []byte(name)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// maxWindow is a max pooling's inner loop, AVX-512 only: for pixels
// output pixels of c channels each, the maximum (NaN when any is) over
// the taps input pixels whose first-pixel addresses x lists, each tap's
// next pixel xs floats on. Channels go 64 at a time in four registers
// while every tap is read, then 16 at a time, then a masked vector.
func maxWindow(f *asmgen.File) {
	g := &gen{File: f, s: avx512}
	fn := f.Func("maxWindowAVX512", "y *float32, x **float32, taps, c, pixels, xs int",
		"y[p·c+j] = the maximum over taps t of x[t][p·xs+j], for p < pixels and",
		"j < c, as maxNaN makes it tap by tap (taps ≥ 1, c ≥ 1).")
	g.I("MOVQ", fn.Arg("y"), "DI")
	g.I("MOVQ", fn.Arg("x"), "R8")
	g.I("MOVQ", fn.Arg("taps"), "R9")
	g.I("MOVQ", fn.Arg("pixels"), "R11")
	g.I("MOVQ", fn.Arg("xs"), "R12")
	g.I("SHLQ", "$2", "R12")
	g.I("MOVQ", fn.Arg("c"), "CX")
	g.I("ANDQ", "$15", "CX")
	g.tailMask("CX", "K1")
	g.I("XORQ", "R13", "R13") // the pixel's offset in the taps, bytes
	g.Blank()
	g.Label("pixel")
	g.I("TESTQ", "R11", "R11")
	g.I("JEQ", "done")
	g.I("XORQ", "BX", "BX") // the channel's offset, bytes
	g.I("MOVQ", fn.Arg("c"), "R10")
	// block reduces n vectors (masked: one, by K1) from channel BX over
	// every tap into Z0..Z(n−1) and stores them at DI+BX.
	block := func(label string, n int, masked bool) {
		g.m = full
		if masked {
			g.m = maskedTail
		}
		g.I("LEAQ", "(R13)(BX*1)", "R15")
		g.I("MOVQ", "(R8)", "R14")
		for v := range n {
			g.load(fmt.Sprintf("%d(R14)(R15*1)", 64*v), g.v(v))
		}
		g.I("MOVQ", "$1", "AX")
		g.Label(label)
		g.I("CMPQ", "AX", "R9")
		g.I("JGE", label+"_store")
		g.I("MOVQ", "(R8)(AX*8)", "R14")
		for v := range n {
			a, b := g.v(v), g.v(8+v)
			g.load(fmt.Sprintf("%d(R14)(R15*1)", 64*v), b)
			// a = b > a ? b : a (a when either is NaN), then b where b is NaN.
			g.I("VMAXPS", a, b, a)
			g.I("VCMPPS", "$3", b, b, "K2")
			g.I("VMOVAPS", b, "K2", a)
		}
		g.I("INCQ", "AX")
		g.I("JMP", label)
		g.Label(label + "_store")
		for v := range n {
			g.store(g.v(v), fmt.Sprintf("%d(DI)(BX*1)", 64*v))
		}
		g.m = full
	}
	// Blocks of four vectors while there are 64 channels, then of one.
	for _, b := range []struct {
		label, next string
		n           int
	}{{"four", "one", 4}, {"one", "tail", 1}} {
		g.Blank()
		g.Label(b.label)
		g.I("CMPQ", "R10", imm(16*b.n))
		g.I("JLT", b.next)
		block(b.label+"tap", b.n, false)
		g.I("ADDQ", imm(64*b.n), "BX")
		g.I("SUBQ", imm(16*b.n), "R10")
		g.I("JMP", b.label)
	}
	g.Blank()
	g.Label("tail")
	g.I("TESTQ", "R10", "R10")
	g.I("JEQ", "next")
	block("tailtap", 1, true)
	g.Blank()
	g.Label("next")
	g.I("MOVQ", fn.Arg("c"), "AX")
	g.I("LEAQ", "(DI)(AX*4)", "DI")
	g.I("ADDQ", "R12", "R13")
	g.I("DECQ", "R11")
	g.I("JMP", "pixel")
	g.Blank()
	g.end()
}
