//go:build amd64 && !noasm

#include "textflag.h"

// func epilogueRowsAVX512(y, x []float32, ld, rows, cols int, scale, shift, res []float32, relu bool)
// rows rows of cols values, ld floats apart in y, x and res; scale and
// shift are the same for every row. Full vectors of 16, then a masked
// vector (K2, computed once) for the cols%16 left over.
TEXT ·epilogueRowsAVX512(SB), NOSPLIT, $0-145
	MOVQ    y_base+0(FP), DI
	MOVQ    x_base+24(FP), SI
	MOVQ    ld+48(FP), R15
	SHLQ    $2, R15
	MOVQ    rows+56(FP), DX
	MOVQ    scale_base+72(FP), R8
	MOVQ    scale_len+80(FP), R11
	MOVQ    shift_base+96(FP), R9
	MOVQ    shift_len+104(FP), R12
	MOVQ    res_base+120(FP), R10
	MOVQ    res_len+128(FP), R13
	MOVBQZX relu+144(FP), R14
	VPXORD  Z12, Z12, Z12
	MOVQ    cols+64(FP), CX
	ANDQ    $15, CX
	MOVL    $1, AX
	SHLL    CX, AX
	DECL    AX
	KMOVW   AX, K2

row:
	TESTQ DX, DX
	JEQ   done
	XORQ  BX, BX
	MOVQ  cols+64(FP), AX
	SHRQ  $4, AX

chunk:
	TESTQ   AX, AX
	JEQ     tail
	VMOVUPS (SI)(BX*1), Z0
	TESTQ   R11, R11
	JEQ     c1
	VMULPS  (R8)(BX*1), Z0, Z0

c1:
	TESTQ  R12, R12
	JEQ    c2
	VADDPS (R9)(BX*1), Z0, Z0

c2:
	TESTQ  R13, R13
	JEQ    c3
	VADDPS (R10)(BX*1), Z0, Z0

c3:
	TESTQ  R14, R14
	JEQ    c4
	VMAXPS Z0, Z12, Z0

c4:
	VMOVUPS Z0, (DI)(BX*1)
	ADDQ    $64, BX
	DECQ    AX
	JMP     chunk

tail:
	KORTESTW  K2, K2
	JEQ       next
	VMOVUPS.Z (SI)(BX*1), K2, Z0
	TESTQ     R11, R11
	JEQ       t1
	VMOVUPS.Z (R8)(BX*1), K2, Z1
	VMULPS    Z1, Z0, Z0

t1:
	TESTQ     R12, R12
	JEQ       t2
	VMOVUPS.Z (R9)(BX*1), K2, Z1
	VADDPS    Z1, Z0, Z0

t2:
	TESTQ     R13, R13
	JEQ       t3
	VMOVUPS.Z (R10)(BX*1), K2, Z1
	VADDPS    Z1, Z0, Z0

t3:
	TESTQ  R14, R14
	JEQ    t4
	VMAXPS Z0, Z12, Z0

t4:
	VMOVUPS Z0, K2, (DI)(BX*1)

next:
	ADDQ  R15, SI
	ADDQ  R15, DI
	ADDQ  R15, R10
	DECQ  DX
	JMP   row

done:
	VZEROUPPER
	RET
