//go:build ignore

// gen_kernels writes the assembly of package gemm: kernel_amd64.s, the
// micro-kernels, and rowsaxpy_amd64.s, the few-rows product:
//
//	go run gen_kernels.go   (or: go generate ./internal/gemm)
//
// Every micro-kernel computes, for an MR×NR tile,
//
//	C[r][j] = alpha · Σ_s Σ_p A_s(r, p) · B[s·kc+p][j] + beta · C[r][j]
//
// with A_s(r, p) at byte offset off[s] + r·rs + p·ps from a and B rows bs
// bytes apart (see Kernel in kernel.go). The accumulators stay in
// registers for the whole reduction; rows of A are addressed from a few
// base registers at multiples of rs (1, 2, 3·rs via scaled index), and
// every base steps by ps.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/foveaml/fovea/internal/asmgen"
)

// rowAddr addresses rows 4i, 4i+1, 4i+2, 4i+3 of A from base i (R8 = rs,
// R9 = 3·rs).
var rowAddr = []string{"(%s)", "(%s)(R8*1)", "(%s)(R8*2)", "(%s)(R9*1)"}

const microSig = "a *float32, off *int, nseg, kc, rs, ps int, b *float32, bs int, c *float32, ldc int, alpha, beta float32, pf int"

// micro is one micro-kernel: mr rows, vpr vectors of width bytes a row
// (NR = vpr·width/4), in vector registers vec0..vec(nregs−1).
type micro struct {
	name     string
	mr       int
	vec      string // Z or Y
	nregs    int
	width    int
	vpr      int
	epilogue bool // take e *Epilogue (kernel.go) and store max(acc·scale + shift + res, floor): a convolution's batch norm, residual and ReLU, applied while the tile is in registers
	doc      []string
}

func off(bytes int, base string) string {
	if bytes == 0 {
		return "(" + base + ")"
	}
	return fmt.Sprintf("%d(%s)", bytes, base)
}

func (k micro) write(f *asmgen.File) {
	reg := func(i int) string { return fmt.Sprintf("%s%d", k.vec, i) }
	var acc, bv, bcast []string
	for i := range k.vpr * k.mr {
		acc = append(acc, reg(i))
	}
	for v := range k.vpr {
		bv = append(bv, reg(k.vpr*k.mr+v))
	}
	for i := k.vpr*k.mr + k.vpr; i < k.nregs; i++ {
		bcast = append(bcast, reg(i))
	}
	bases := []string{"SI", "R10", "R11", "AX"}[:(k.mr+3)/4]
	lab := lowerASCII(k.name)
	f.Comment(k.doc...)
	sig := microSig
	if k.epilogue {
		sig += ", e *Epilogue"
	}
	fn := f.Func(k.name, sig)
	k.prefetchTile(f, fn)
	f.I("MOVQ", fn.Arg("off"), "BX")
	f.I("MOVQ", fn.Arg("nseg"), "DX")
	f.I("MOVQ", fn.Arg("rs"), "R8")
	f.I("LEAQ", "(R8)(R8*2)", "R9")
	f.I("MOVQ", fn.Arg("ps"), "R13")
	f.I("MOVQ", fn.Arg("b"), "DI")
	f.I("MOVQ", fn.Arg("bs"), "R12")
	for _, r := range acc {
		if k.vec == "Z" {
			f.I("VPXORD", r, r, r)
		} else {
			f.I("VXORPS", r, r, r)
		}
	}
	f.I("MOVQ", fn.Arg("pf"), "R14")
	f.I("TESTQ", "DX", "DX")
	f.I("JEQ", lab+"_store")
	f.Label(lab + "_seg")
	f.I("MOVQ", fn.Arg("a"), "SI")
	f.I("ADDQ", "(BX)", "SI")
	for i := 1; i < len(bases); i++ {
		f.I("LEAQ", fmt.Sprintf("(%s)(R8*4)", bases[i-1]), bases[i])
	}
	f.I("MOVQ", fn.Arg("kc"), "CX")
	f.I("TESTQ", "CX", "CX")
	f.I("JEQ", lab+"_next")
	f.Label(lab + "_loop")
	for v := range k.vpr {
		f.I("VMOVUPS", off(v*k.width, "DI"), bv[v])
	}
	// Ask L2 for the row of B that is pf bytes on, as this one is read.
	for v := range max(1, k.vpr*k.width/64) {
		f.I("PREFETCHT1", fmt.Sprintf("%d(DI)(R14*1)", 64*v))
	}
	for i := range k.mr {
		bc := bcast[i%len(bcast)]
		f.I("VBROADCASTSS", fmt.Sprintf(rowAddr[i%4], bases[i/4]), bc)
		for v := range k.vpr {
			f.I("VFMADD231PS", bv[v], bc, acc[k.vpr*i+v])
		}
	}
	for _, base := range bases {
		f.I("ADDQ", "R13", base)
	}
	f.I("ADDQ", "R12", "DI")
	f.I("DECQ", "CX")
	f.I("JNE", lab+"_loop")
	f.Label(lab + "_next")
	f.I("ADDQ", "$8", "BX")
	f.I("DECQ", "DX")
	f.I("JNE", lab+"_seg")
	f.Label(lab + "_store")
	f.I("MOVQ", fn.Arg("c"), "DX")
	f.I("MOVQ", fn.Arg("ldc"), "R8")
	f.I("SHLQ", "$2", "R8")
	alpha, beta := bv[0], bcast[0]
	f.I("VBROADCASTSS", fn.Arg("alpha"), alpha)
	f.I("VBROADCASTSS", fn.Arg("beta"), beta)
	for _, r := range acc {
		f.I("VMULPS", alpha, r, r)
	}
	// rowStep moves DX (and the residual's R11) to the next row of C.
	rowStep := func(i int, res bool) {
		if i < k.mr-1 {
			f.I("ADDQ", "R8", "DX")
			if res {
				f.I("ADDQ", "R12", "R11")
			}
		}
	}
	if k.epilogue {
		k.writeEpilogue(f, fn, lab, acc, bv, bcast, alpha, beta, rowStep)
		return
	}
	// C is not read when beta is ±0.
	f.I("MOVL", fn.Arg("beta"), "AX")
	f.I("ANDL", "$0x7fffffff", "AX")
	f.I("JEQ", lab+"_nobeta")
	for i := range k.mr {
		for v := range k.vpr {
			f.I("VFMADD231PS", off(v*k.width, "DX"), beta, acc[k.vpr*i+v])
			f.I("VMOVUPS", acc[k.vpr*i+v], off(v*k.width, "DX"))
		}
		rowStep(i, false)
	}
	f.I("VZEROUPPER")
	f.I("RET")
	f.Label(lab + "_nobeta")
	for i := range k.mr {
		for v := range k.vpr {
			f.I("VMOVUPS", acc[k.vpr*i+v], off(v*k.width, "DX"))
		}
		rowStep(i, false)
	}
	f.I("VZEROUPPER")
	f.I("RET")
}

// prefetchTile asks for the lines of the tile's place in C, to be
// written (PREFETCHW), and of its residual (epilogue kernels), to be
// read, before the reduction starts, so that they have arrived when the
// tile is stored. Without it every store of a tile waited for its lines:
// a network's output buffers come back from a pool last touched layers
// before, maybe by the other core, and a residual was written layers
// before. Batch-1 calls take 1–4% less time with it (ResNet-50,
// GoogLeNet, VGG-16).
func (k micro) prefetchTile(f *asmgen.File, fn *asmgen.Fn) {
	if k.epilogue {
		f.I("MOVQ", fn.Arg("e"), "SI")
		f.I("MOVQ", "16(SI)", "R11")
		f.I("MOVQ", "24(SI)", "R12")
		f.I("SHLQ", "$2", "R12")
	}
	f.I("MOVQ", fn.Arg("c"), "DX")
	f.I("MOVQ", fn.Arg("ldc"), "R8")
	f.I("SHLQ", "$2", "R8")
	for i := range k.mr {
		for v := range max(1, k.vpr*k.width/64) {
			if k.epilogue {
				f.I("PREFETCHT0", off(64*v, "R11"))
			}
			// PREFETCHW 64v(DX), which Go's assembler does not know.
			f.I("BYTE", "$0x0f")
			f.I("BYTE", "$0x0d")
			if v == 0 {
				f.I("BYTE", "$0x0a")
			} else {
				f.I("BYTE", "$0x4a")
				f.I("BYTE", fmt.Sprintf("$0x%02x", 64*v))
			}
		}
		if i < k.mr-1 {
			if k.epilogue {
				f.I("ADDQ", "R12", "R11")
			}
			f.I("ADDQ", "R8", "DX")
		}
	}
}

// writeEpilogue stores the tile through the Epilogue: registers free
// after the loop are the B rows and the broadcasts, alpha's free again
// once every accumulator is scaled.
func (k micro) writeEpilogue(f *asmgen.File, fn *asmgen.Fn, lab string, acc, bv, bcast []string, alpha, beta string, rowStep func(int, bool)) {
	var free []string
	for _, r := range append(append([]string{}, bv...), bcast...) {
		if r != alpha && r != beta {
			free = append(free, r)
		}
	}
	scale, floor := free[:k.vpr], alpha
	// The Epilogue's fields: scale and shift (NR floats each), the
	// residual and its row stride in floats, the floor.
	f.I("MOVQ", fn.Arg("e"), "SI")
	f.I("MOVQ", "(SI)", "R9")
	f.I("MOVQ", "8(SI)", "R10")
	f.I("MOVQ", "16(SI)", "R11")
	f.I("MOVQ", "24(SI)", "R12")
	f.I("SHLQ", "$2", "R12")
	for v := range k.vpr {
		f.I("VMOVUPS", off(v*k.width, "R9"), scale[v])
	}
	f.I("VBROADCASTSS", "32(SI)", floor)
	// C is not read when beta is ±0.
	f.I("MOVL", fn.Arg("beta"), "AX")
	f.I("ANDL", "$0x7fffffff", "AX")
	f.I("JEQ", lab+"_nobeta")
	for _, withBeta := range []bool{true, false} {
		if !withBeta {
			f.Label(lab + "_nobeta")
		}
		for i := range k.mr {
			for v := range k.vpr {
				o := ""
				if v > 0 {
					o = fmt.Sprint(v * k.width)
				}
				a := acc[k.vpr*i+v]
				if withBeta {
					f.I("VFMADD231PS", off(v*k.width, "DX"), beta, a)
				}
				f.I("VFMADD213PS", o+"(R10)", scale[v], a)
				f.I("VADDPS", o+"(R11)", a, a)
				f.I("VMAXPS", a, floor, a)
				f.I("VMOVUPS", a, off(v*k.width, "DX"))
			}
			rowStep(i, true)
		}
		f.I("VZEROUPPER")
		f.I("RET")
	}
}

var micros = []micro{
	{name: "microAVX512", mr: 12, vec: "Z", nregs: 32, width: 64, vpr: 2,
		doc: []string{"Z0..Z23 hold the 12×32 tile (row i in Z(2i), Z(2i+1)); Z24, Z25 a row of B;", "Z26..Z31 broadcasts of A."}},
	{name: "microAVX512R14", mr: 14, vec: "Z", nregs: 32, width: 64, vpr: 2,
		doc: []string{"Z0..Z27 hold the 14×32 tile (row i in Z(2i), Z(2i+1)); Z28, Z29 a row of B;", "Z30, Z31 broadcasts of A: for rows of 14, 28 or 56 output pixels."}},
	{name: "microAVX512R7", mr: 7, vec: "Z", nregs: 32, width: 64, vpr: 2,
		doc: []string{"Z0..Z13 hold the 7×32 tile (row i in Z(2i), Z(2i+1)); Z14, Z15 a row of B;", "Z16..Z31 broadcasts of A: for rows of 7 output pixels."}},
	{name: "microAVX512R8", mr: 8, vec: "Z", nregs: 32, width: 64, vpr: 2,
		doc: []string{"Z0..Z15 hold the 8×32 tile (row i in Z(2i), Z(2i+1)); Z16, Z17 a row of B;", "Z18..Z31 broadcasts of A: for Winograd's products over 16 tiles (a batch of one 13×13 or 14×14 image)."}},
	{name: "microAVX512E", mr: 12, vec: "Z", nregs: 32, width: 64, vpr: 2, epilogue: true,
		doc: []string{"The same three with an epilogue (see Epilogue in kernel.go)."}},
	{name: "microAVX512R14E", mr: 14, vec: "Z", nregs: 32, width: 64, vpr: 2, epilogue: true},
	{name: "microAVX512R7E", mr: 7, vec: "Z", nregs: 32, width: 64, vpr: 2, epilogue: true},
	{name: "microAVX512R8E", mr: 8, vec: "Z", nregs: 32, width: 64, vpr: 2, epilogue: true},
	{name: "microAVX2", mr: 6, vec: "Y", nregs: 16, width: 32, vpr: 2,
		doc: []string{"Y0..Y11 hold the 6×16 tile (row i in Y(2i), Y(2i+1)); Y12, Y13 a row of B;", "Y14, Y15 broadcasts of A."}},
	{name: "microAVX512N", mr: 16, vec: "Z", nregs: 32, width: 64, vpr: 1,
		doc: []string{"Z0..Z15 hold the 16×16 tile (row i in Zi); Z16 a row of B; Z17..Z31", "broadcasts of A: for few output channels (LeNet has 6 and 16)."}},
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func main() {
	dir := flag.String("dir", ".", "the directory to write the files into")
	flag.Parse()
	kernels := asmgen.NewFile("gen_kernels.go")
	for i, k := range micros {
		if i > 0 {
			kernels.Blank()
		}
		k.write(kernels)
	}
	files := map[string]*asmgen.File{"kernel_amd64.s": kernels, "rowsaxpy_amd64.s": rowsAxpy()}
	if err := asmgen.Write(*dir, files); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// rowsAxpy writes rowsAxpyAVX512, the product of a few rows of A by a
// stored B (see rows.go): two rows of B at a time, 64 columns at a time,
// the C block staying in L1 while B streams past once.
func rowsAxpy() *asmgen.File {
	f := asmgen.NewFile("gen_kernels.go")
	fn := f.Func("rowsAxpyAVX512", "c *float32, ldc int, a *float32, lda int, b *float32, ldb int, rows, k, cols int",
		"C[r][0:cols] += Σ_{p<k} A[r][p]·B[p][0:cols] for r < rows; k even.",
		"Two rows of B at a time, 64 columns at a time, then 16, then the",
		"last few under a mask; the C block stays in L1 while B streams past",
		"once.")
	f.I("MOVQ", fn.Arg("c"), "DI")
	f.I("MOVQ", fn.Arg("ldc"), "R8")
	f.I("SHLQ", "$2", "R8")
	f.I("MOVQ", fn.Arg("a"), "SI")
	f.I("MOVQ", fn.Arg("lda"), "R9")
	f.I("SHLQ", "$2", "R9")
	f.I("MOVQ", fn.Arg("b"), "DX")
	f.I("MOVQ", fn.Arg("ldb"), "R10")
	f.I("SHLQ", "$2", "R10")
	f.I("MOVQ", fn.Arg("k"), "R12")
	f.Comment("K1 masks the last cols%16 columns.")
	f.I("MOVQ", fn.Arg("cols"), "CX")
	f.I("ANDQ", "$15", "CX")
	f.I("MOVL", "$1", "R15")
	f.I("SHLL", "CX", "R15")
	f.I("DECL", "R15")
	f.I("KMOVW", "R15", "K1")
	f.Blank()
	f.Label("pair")
	f.I("CMPQ", "R12", "$2")
	f.I("JLT", "done")
	f.Comment("BX is the first column of the block, in floats.")
	f.I("XORQ", "BX", "BX")
	// block emits the loop over blocks of nv vectors (masked: one vector
	// under K1, once) from BX, jumping to next when fewer than its width
	// of columns are left.
	block := func(lab, next string, nv int, masked bool) {
		f.Blank()
		f.Label(lab)
		f.I("MOVQ", fn.Arg("cols"), "AX")
		f.I("SUBQ", "BX", "AX")
		if masked {
			f.I("JEQ", next)
		} else {
			f.I("CMPQ", "AX", fmt.Sprintf("$%d", 16*nv))
			f.I("JLT", next)
		}
		f.I("MOVQ", "BX", "AX")
		f.I("SHLQ", "$2", "AX")
		f.Comment("R13, R14: rows p and p+1 of B at this block.")
		f.I("LEAQ", "(DX)(AX*1)", "R13")
		f.I("LEAQ", "(R13)(R10*1)", "R14")
		load := func(m, reg string) {
			if masked {
				f.I("VMOVUPS.Z", m, "K1", reg)
			} else {
				f.I("VMOVUPS", m, reg)
			}
		}
		for p, base := range []string{"R13", "R14"} {
			for v := range nv {
				load(off(64*v, base), fmt.Sprintf("Z%d", 4*p+v))
			}
		}
		if nv == 4 {
			f.Comment("Prefetch the same columns four rows down (two pairs ahead).")
			f.I("LEAQ", "(R14)(R10*2)", "R15")
			f.I("LEAQ", "(R15)(R10*1)", "R15")
			for i := range 2 {
				if i > 0 {
					f.I("ADDQ", "R10", "R15")
				}
				for v := range 4 {
					f.I("PREFETCHT0", off(64*v, "R15"))
				}
			}
		}
		f.Comment("R13: row 0 of C at this block; R14: row 0 of A at column p.")
		f.I("LEAQ", "(DI)(AX*1)", "R13")
		f.I("MOVQ", "SI", "R14")
		f.I("MOVQ", fn.Arg("rows"), "CX")
		f.Label(lab + "_row")
		f.I("VBROADCASTSS", "(R14)", "Z8")
		f.I("VBROADCASTSS", "4(R14)", "Z9")
		for v := range nv {
			load(off(64*v, "R13"), fmt.Sprintf("Z%d", 10+v))
		}
		for p := range 2 {
			for v := range nv {
				f.I("VFMADD231PS", fmt.Sprintf("Z%d", 4*p+v), fmt.Sprintf("Z%d", 8+p), fmt.Sprintf("Z%d", 10+v))
			}
		}
		for v := range nv {
			if masked {
				f.I("VMOVUPS", fmt.Sprintf("Z%d", 10+v), "K1", off(64*v, "R13"))
			} else {
				f.I("VMOVUPS", fmt.Sprintf("Z%d", 10+v), off(64*v, "R13"))
			}
		}
		f.I("ADDQ", "R8", "R13")
		f.I("ADDQ", "R9", "R14")
		f.I("DECQ", "CX")
		f.I("JNE", lab+"_row")
		if masked {
			f.I("JMP", next)
			return
		}
		f.I("ADDQ", fmt.Sprintf("$%d", 16*nv), "BX")
		f.I("JMP", lab)
	}
	block("block64", "block16", 4, false)
	block("block16", "tail", 1, false)
	block("tail", "nextpair", 1, true)
	f.Blank()
	f.Label("nextpair")
	f.I("LEAQ", "(DX)(R10*2)", "DX")
	f.I("ADDQ", "$8", "SI")
	f.I("SUBQ", "$2", "R12")
	f.I("JMP", "pair")
	f.Blank()
	f.Label("done")
	f.I("VZEROUPPER")
	f.I("RET")
	return f
}
