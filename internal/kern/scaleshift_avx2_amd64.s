//go:build amd64 && !noasm

#include "textflag.h"

// func scaleShiftAVX2(y, x, a, b []float32)
// One row of C = len(a) channels at a time: full vectors of 8, then the
// C%8 left over one at a time.
TEXT ·scaleShiftAVX2(SB), NOSPLIT, $0-96
	MOVQ y_base+0(FP), DI
	MOVQ x_base+24(FP), SI
	MOVQ x_len+32(FP), DX
	MOVQ a_base+48(FP), R8
	MOVQ a_len+56(FP), R10
	MOVQ b_base+72(FP), R9
	MOVQ R10, R12
	ANDQ $7, R12
	MOVQ R10, R11
	SHRQ $3, R11
	MOVQ R10, R13
	SHLQ $2, R13

row:
	CMPQ DX, R10
	JLT  done
	XORQ BX, BX
	MOVQ R11, CX

vec:
	TESTQ CX, CX
	JEQ   rowtail
	VMOVUPS     (SI)(BX*1), Y0
	VMOVUPS     (R8)(BX*1), Y1
	VFMADD213PS (R9)(BX*1), Y1, Y0
	VMOVUPS     Y0, (DI)(BX*1)
	ADDQ        $32, BX
	DECQ        CX
	JMP         vec

rowtail:
	MOVQ R12, CX

scalar:
	TESTQ CX, CX
	JEQ   next
	VMOVSS      (SI)(BX*1), X0
	VMOVSS      (R8)(BX*1), X1
	VMOVSS      (R9)(BX*1), X2
	VFMADD213SS X2, X1, X0
	VMOVSS      X0, (DI)(BX*1)
	ADDQ        $4, BX
	DECQ        CX
	JMP         scalar

next:
	ADDQ R13, SI
	ADDQ R13, DI
	SUBQ R10, DX
	JMP  row

done:
	VZEROUPPER
	RET
