//go:build amd64 && !noasm

#include "textflag.h"

// func maxIdxAVX2(ym []float32, ix []int32, x []float32, pix int32)
// Y3 is all ones in the lanes where x > ym (ordered) or x is NaN; they
// take x and pix by blending.
TEXT ·maxIdxAVX2(SB), NOSPLIT, $0-76
	MOVQ         ym_base+0(FP), DI
	MOVQ         ix_base+24(FP), DX
	MOVQ         x_base+48(FP), SI
	MOVQ         x_len+56(FP), CX
	MOVL         pix+72(FP), AX
	VMOVD        AX, X2
	VPBROADCASTD X2, Y2

loop1:
	CMPQ      CX, $8
	JLT       tail
	VMOVUPS   (SI), Y0
	VMOVUPS   (DI), Y1
	VCMPPS    $0x1e, Y1, Y0, Y3
	VCMPPS    $3, Y0, Y0, Y4
	VORPS     Y4, Y3, Y3
	VBLENDVPS Y3, Y0, Y1, Y1
	VMOVUPS   Y1, (DI)
	VMOVUPS   (DX), Y5
	VBLENDVPS Y3, Y2, Y5, Y5
	VMOVUPS   Y5, (DX)
	ADDQ      $32, SI
	ADDQ      $32, DI
	ADDQ      $32, DX
	SUBQ      $8, CX
	JMP       loop1

tail:
	TESTQ     CX, CX
	JEQ       done
	VMOVSS    (SI), X0
	VMOVSS    (DI), X1
	VCMPPS    $0x1e, X1, X0, X3
	VCMPPS    $3, X0, X0, X4
	VORPS     X4, X3, X3
	VBLENDVPS X3, X0, X1, X1
	VMOVSS    X1, (DI)
	VMOVSS    (DX), X5
	VBLENDVPS X3, X2, X5, X5
	VMOVSS    X5, (DX)
	ADDQ      $4, SI
	ADDQ      $4, DI
	ADDQ      $4, DX
	DECQ      CX
	JMP       tail

done:
	VZEROUPPER
	RET
