#!/usr/bin/env python3
"""Writes kernel_amd64.s, the assembly micro-kernels of package gemm.

    python3 gen_kernels.py   (or: go generate ./internal/gemm)

Both kernels compute, for an MR×NR tile,
    C[r][j] = alpha · Σ_s Σ_p A_s(r, p) · B[s·kc+p][j] + beta · C[r][j]
with A_s(r, p) at byte offset off[s] + r·rs + p·ps from a and B rows bs bytes
apart (see Kernel in kernel.go). The accumulators stay in registers for the
whole reduction; rows of A are addressed from a few base registers at
multiples of rs (1, 2, 3·rs via scaled index), and every base steps by ps.
"""

ADDR = ['(%s)', '(%s)(R8*1)', '(%s)(R8*2)', '(%s)(R9*1)']


def kernel(out, name, mr, vec, nregs, width, vpr=2, prefetch=False, epilogue=False):
    """One kernel: mr rows, vpr vectors of `width` bytes per row (NR = vpr·width/4).

    With prefetch, every step of k also asks L2 for the same row of the
    next panel of B (vpr·width bytes on), for a B read in place from a
    row-major matrix, where each row of a panel is on another page.

    With epilogue, the kernel takes one more argument, e *Epilogue (see
    kernel.go), and stores max(acc·scale + shift + res, floor) instead of
    acc: a convolution's batch norm, residual and ReLU, applied while the
    tile is in registers."""
    w = out.append
    acc = [f'{vec}{i}' for i in range(vpr * mr)]
    bv = [f'{vec}{vpr * mr + v}' for v in range(vpr)]
    bcast = [f'{vec}{i}' for i in range(vpr * mr + vpr, nregs)]
    bases = ['SI', 'R10', 'R11', 'AX'][:(mr + 3) // 4]
    lab = name.lower()
    if epilogue:
        w(f'// func {name}(a *float32, off *int, nseg, kc, rs, ps int, b *float32, bs int, c *float32, ldc int, alpha, beta float32, e *Epilogue)')
        w(f'TEXT ·{name}(SB), NOSPLIT, $0-96')
    else:
        w(f'// func {name}(a *float32, off *int, nseg, kc, rs, ps int, b *float32, bs int, c *float32, ldc int, alpha, beta float32)')
        w(f'TEXT ·{name}(SB), NOSPLIT, $0-88')
    w('\tMOVQ off+8(FP), BX')
    w('\tMOVQ nseg+16(FP), DX')
    w('\tMOVQ rs+32(FP), R8')
    w('\tLEAQ (R8)(R8*2), R9')
    w('\tMOVQ ps+40(FP), R13')
    w('\tMOVQ b+48(FP), DI')
    w('\tMOVQ bs+56(FP), R12')
    for r in acc:
        w(f'\tVPXORD {r}, {r}, {r}' if vec == 'Z' else f'\tVXORPS {r}, {r}, {r}')
    w('\tTESTQ DX, DX')
    w(f'\tJEQ {lab}_store')
    w(f'{lab}_seg:')
    w('\tMOVQ a+0(FP), SI')
    w('\tADDQ (BX), SI')
    for prev, base in zip(bases, bases[1:]):
        w(f'\tLEAQ ({prev})(R8*4), {base}')
    w('\tMOVQ kc+24(FP), CX')
    w('\tTESTQ CX, CX')
    w(f'\tJEQ {lab}_next')
    w(f'{lab}_loop:')
    for v in range(vpr):
        w(f'\tVMOVUPS {v * width}(DI), {bv[v]}' if v else f'\tVMOVUPS (DI), {bv[v]}')
    if prefetch:
        for v in range(vpr * width // 64):
            w(f'\tPREFETCHT1 {vpr * width + 64 * v}(DI)')
    for i in range(mr):
        bc = bcast[i % len(bcast)]
        w(f'\tVBROADCASTSS {ADDR[i % 4] % bases[i // 4]}, {bc}')
        for v in range(vpr):
            w(f'\tVFMADD231PS {bv[v]}, {bc}, {acc[vpr * i + v]}')
    for base in bases:
        w(f'\tADDQ R13, {base}')
    w('\tADDQ R12, DI')
    w('\tDECQ CX')
    w(f'\tJNE {lab}_loop')
    w(f'{lab}_next:')
    w('\tADDQ $8, BX')
    w('\tDECQ DX')
    w(f'\tJNE {lab}_seg')
    w(f'{lab}_store:')
    w('\tMOVQ c+64(FP), DX')
    w('\tMOVQ ldc+72(FP), R8')
    w('\tSHLQ $2, R8')
    alpha, beta = bv[0], bcast[0]
    w(f'\tVBROADCASTSS alpha+80(FP), {alpha}')
    w(f'\tVBROADCASTSS beta+84(FP), {beta}')
    for r in acc:
        w(f'\tVMULPS {alpha}, {r}, {r}')
    if epilogue:
        # Registers free after the loop: the B rows and the broadcasts;
        # alpha's is free again once every accumulator is scaled.
        free = [r for r in bv + bcast if r not in (alpha, beta)]
        scale, floor = free[:vpr], alpha
        w('\tMOVQ e+88(FP), SI')
        w('\tMOVQ (SI), R9')    # scale, NR floats
        w('\tMOVQ 8(SI), R10')  # shift, NR floats
        w('\tMOVQ 16(SI), R11')  # residual, rows ldres floats apart
        w('\tMOVQ 24(SI), R12')
        w('\tSHLQ $2, R12')
        for v in range(vpr):
            w(f'\tVMOVUPS {v * width}(R9), {scale[v]}' if v else f'\tVMOVUPS (R9), {scale[v]}')
        w(f'\tVBROADCASTSS 32(SI), {floor}')
        w('\tMOVL beta+84(FP), AX')
        w('\tANDL $0x7fffffff, AX')
        w(f'\tJEQ {lab}_nobeta')
        for withBeta in (True, False):
            if not withBeta:
                w(f'{lab}_nobeta:')
            for i in range(mr):
                for v in range(vpr):
                    off = f'{v * width}(DX)' if v else '(DX)'
                    o = f'{v * width}' if v else ''
                    a = acc[vpr * i + v]
                    if withBeta:
                        w(f'\tVFMADD231PS {off}, {beta}, {a}')
                    w(f'\tVFMADD213PS {o}(R10), {scale[v]}, {a}')
                    w(f'\tVADDPS {o}(R11), {a}, {a}')
                    w(f'\tVMAXPS {a}, {floor}, {a}')
                    w(f'\tVMOVUPS {a}, {off}')
                if i < mr - 1:
                    w('\tADDQ R8, DX')
                    w('\tADDQ R12, R11')
            w('\tVZEROUPPER')
            w('\tRET')
        return
    w('\tMOVL beta+84(FP), AX')
    w('\tANDL $0x7fffffff, AX')  # beta == ±0: C is not read
    w(f'\tJEQ {lab}_nobeta')
    for i in range(mr):
        for v in range(vpr):
            off = f'{v * width}(DX)' if v else '(DX)'
            w(f'\tVFMADD231PS {off}, {beta}, {acc[vpr * i + v]}')
            w(f'\tVMOVUPS {acc[vpr * i + v]}, {off}')
        if i < mr - 1:
            w('\tADDQ R8, DX')
    w('\tVZEROUPPER')
    w('\tRET')
    w(f'{lab}_nobeta:')
    for i in range(mr):
        for v in range(vpr):
            off = f'{v * width}(DX)' if v else '(DX)'
            w(f'\tVMOVUPS {acc[vpr * i + v]}, {off}')
        if i < mr - 1:
            w('\tADDQ R8, DX')
    w('\tVZEROUPPER')
    w('\tRET')


out = ['// Code generated by gen_kernels.py; DO NOT EDIT.', '', '//go:build amd64 && !noasm', '',
       '#include "textflag.h"', '']
out.append('// Z0..Z23 hold the 12×32 tile (row i in Z(2i), Z(2i+1)); Z24, Z25 a row of B;')
out.append('// Z26..Z31 broadcasts of A.')
kernel(out, 'microAVX512', 12, 'Z', 32, 64)
out.append('')
out.append('// Z0..Z27 hold the 14×32 tile (row i in Z(2i), Z(2i+1)); Z28, Z29 a row of B;')
out.append('// Z30, Z31 broadcasts of A: for rows of 14, 28 or 56 output pixels.')
kernel(out, 'microAVX512R14', 14, 'Z', 32, 64)
out.append('')
out.append('// Z0..Z13 hold the 7×32 tile (row i in Z(2i), Z(2i+1)); Z14, Z15 a row of B;')
out.append('// Z16..Z31 broadcasts of A: for rows of 7 output pixels.')
kernel(out, 'microAVX512R7', 7, 'Z', 32, 64)
out.append('')
out.append('// The same three with an epilogue (see Epilogue in kernel.go).')
kernel(out, 'microAVX512E', 12, 'Z', 32, 64, epilogue=True)
out.append('')
kernel(out, 'microAVX512R14E', 14, 'Z', 32, 64, epilogue=True)
out.append('')
kernel(out, 'microAVX512R7E', 7, 'Z', 32, 64, epilogue=True)
out.append('')
out.append('// microAVX512 with a prefetch of the next panel of B: for a B read in place.')
kernel(out, 'microAVX512PF', 12, 'Z', 32, 64, prefetch=True)
out.append('')
out.append('// Y0..Y11 hold the 6×16 tile (row i in Y(2i), Y(2i+1)); Y12, Y13 a row of B;')
out.append('// Y14, Y15 broadcasts of A.')
kernel(out, 'microAVX2', 6, 'Y', 16, 32)
out.append('')
out.append('// Z0..Z15 hold the 16×16 tile (row i in Zi); Z16 a row of B; Z17..Z31')
out.append('// broadcasts of A: for few output channels (LeNet has 6 and 16).')
kernel(out, 'microAVX512N', 16, 'Z', 32, 64, vpr=1)
with open('kernel_amd64.s', 'w') as f:
    f.write('\n'.join(out) + '\n')
