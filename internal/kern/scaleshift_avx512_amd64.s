//go:build amd64 && !noasm

#include "textflag.h"

// func scaleShiftAVX512(y, x, a, b []float32)
// One row of C = len(a) channels at a time: full vectors of 16, then a
// masked vector (K1, computed once) for the C%16 left over.
TEXT ·scaleShiftAVX512(SB), NOSPLIT, $0-96
	MOVQ y_base+0(FP), DI
	MOVQ x_base+24(FP), SI
	MOVQ x_len+32(FP), DX
	MOVQ a_base+48(FP), R8
	MOVQ a_len+56(FP), R10
	MOVQ b_base+72(FP), R9
	MOVQ R10, CX
	ANDQ $15, CX
	MOVQ CX, R12
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K1
	MOVQ R10, R11
	SHRQ $4, R11
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
	VMOVUPS     (SI)(BX*1), Z0
	VMOVUPS     (R8)(BX*1), Z1
	VFMADD213PS (R9)(BX*1), Z1, Z0
	VMOVUPS     Z0, (DI)(BX*1)
	ADDQ        $64, BX
	DECQ        CX
	JMP         vec

rowtail:
	TESTQ R12, R12
	JEQ   next
	VMOVUPS.Z   (SI)(BX*1), K1, Z0
	VMOVUPS.Z   (R8)(BX*1), K1, Z1
	VMOVUPS.Z   (R9)(BX*1), K1, Z2
	VFMADD213PS Z2, Z1, Z0
	VMOVUPS     Z0, K1, (DI)(BX*1)

next:
	ADDQ R13, SI
	ADDQ R13, DI
	SUBQ R10, DX
	JMP  row

done:
	VZEROUPPER
	RET
