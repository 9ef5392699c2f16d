//go:build amd64 && !noasm

#include "textflag.h"

// func rowsAxpyAVX512(c *float32, ldc int, a *float32, lda int, b *float32, ldb int, rows, k, cols int)
// C[r][0:cols] += Σ_{p<k} A[r][p]·B[p][0:cols] for r < rows; cols a
// multiple of 64, k even. Two rows of B at a time, 64 columns at a
// time; the C block stays in L1 while B streams past once.
TEXT ·rowsAxpyAVX512(SB), NOSPLIT, $0-72
	MOVQ c+0(FP), DI
	MOVQ ldc+8(FP), R8
	SHLQ $2, R8
	MOVQ a+16(FP), SI
	MOVQ lda+24(FP), R9
	SHLQ $2, R9
	MOVQ b+32(FP), DX
	MOVQ ldb+40(FP), R10
	SHLQ $2, R10
	MOVQ k+56(FP), R12

pair:
	CMPQ R12, $2
	JLT  done
	XORQ BX, BX // byte offset of the 64-column block

block:
	CMPQ BX, cols+64(FP)
	JGE  nextpair // compared in floats below
	MOVQ BX, AX
	SHLQ $2, AX // bytes
	LEAQ (DX)(AX*1), R13     // B row p at this block
	LEAQ (R13)(R10*1), R14   // B row p+1
	VMOVUPS (R13), Z0
	VMOVUPS 64(R13), Z1
	VMOVUPS 128(R13), Z2
	VMOVUPS 192(R13), Z3
	VMOVUPS (R14), Z4
	VMOVUPS 64(R14), Z5
	VMOVUPS 128(R14), Z6
	VMOVUPS 192(R14), Z7
	// prefetch the same columns four rows down (two pairs ahead)
	LEAQ (R14)(R10*2), R15
	LEAQ (R15)(R10*1), R15
	PREFETCHT0 (R15)
	PREFETCHT0 64(R15)
	PREFETCHT0 128(R15)
	PREFETCHT0 192(R15)
	ADDQ R10, R15
	PREFETCHT0 (R15)
	PREFETCHT0 64(R15)
	PREFETCHT0 128(R15)
	PREFETCHT0 192(R15)
	LEAQ (DI)(AX*1), R13     // C row 0 at this block
	MOVQ SI, R14             // A row 0 at column p
	MOVQ rows+48(FP), CX

row:
	VBROADCASTSS (R14), Z8
	VBROADCASTSS 4(R14), Z9
	VMOVUPS     (R13), Z10
	VMOVUPS     64(R13), Z11
	VMOVUPS     128(R13), Z12
	VMOVUPS     192(R13), Z13
	VFMADD231PS Z0, Z8, Z10
	VFMADD231PS Z1, Z8, Z11
	VFMADD231PS Z2, Z8, Z12
	VFMADD231PS Z3, Z8, Z13
	VFMADD231PS Z4, Z9, Z10
	VFMADD231PS Z5, Z9, Z11
	VFMADD231PS Z6, Z9, Z12
	VFMADD231PS Z7, Z9, Z13
	VMOVUPS     Z10, (R13)
	VMOVUPS     Z11, 64(R13)
	VMOVUPS     Z12, 128(R13)
	VMOVUPS     Z13, 192(R13)
	ADDQ        R8, R13
	ADDQ        R9, R14
	DECQ        CX
	JNE         row
	ADDQ        $64, BX
	JMP         block

nextpair:
	LEAQ (DX)(R10*2), DX
	ADDQ $8, SI
	SUBQ $2, R12
	JMP  pair

done:
	VZEROUPPER
	RET
