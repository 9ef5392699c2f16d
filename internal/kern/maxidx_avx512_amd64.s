//go:build amd64 && !noasm

#include "textflag.h"

// func maxIdxAVX512(ym []float32, ix []int32, x []float32, pix int32)
// K2 selects the lanes where x > ym (ordered) or x is NaN; they take x and pix.
TEXT ·maxIdxAVX512(SB), NOSPLIT, $0-76
	MOVQ         ym_base+0(FP), DI
	MOVQ         ix_base+24(FP), DX
	MOVQ         x_base+48(FP), SI
	MOVQ         x_len+56(FP), CX
	MOVL         pix+72(FP), AX
	VMOVD        AX, X2
	VPBROADCASTD X2, Z2

loop1:
	CMPQ      CX, $16
	JLT       tail
	VMOVUPS   (SI), Z0
	VCMPPS    $0x1e, (DI), Z0, K2
	VCMPPS    $3, Z0, Z0, K3
	KORW      K2, K3, K2
	VMOVUPS   Z0, K2, (DI)
	VMOVDQU32 Z2, K2, (DX)
	ADDQ      $64, SI
	ADDQ      $64, DI
	ADDQ      $64, DX
	SUBQ      $16, CX
	JMP       loop1

tail:
	TESTQ     CX, CX
	JEQ       done
	MOVL      $1, AX
	SHLL      CX, AX
	DECL      AX
	KMOVW     AX, K1
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (DI), K1, Z1
	VCMPPS    $0x1e, Z1, Z0, K2
	VCMPPS    $3, Z0, Z0, K3
	KORW      K2, K3, K2
	KANDW     K1, K2, K2
	VMOVUPS   Z0, K2, (DI)
	VMOVDQU32 Z2, K2, (DX)

done:
	VZEROUPPER
	RET
