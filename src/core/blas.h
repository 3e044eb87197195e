/* blas.h — the BLAS kernel: OpenBLAS 0.3.21 does not know some recent
 * x86-64 processors and falls back to its Prescott (SSE3) kernels, about 4x
 * slower than its AVX-512 ones on the same machine. */
#ifndef MP_BLAS_H
#define MP_BLAS_H

/* When GSL's BLAS is OpenBLAS with run-time kernel selection, the
 * OPENBLAS_CORETYPE environment variable is unset and OpenBLAS chose the
 * Prescott fallback on a processor with AVX-512 (F, BW, DQ, VL, CD) or
 * AVX2 and FMA, select OpenBLAS's SkylakeX or Haswell kernels instead.
 * Call it once, before any thread uses BLAS (main does). Returns the name
 * of the kernel in use ("" when unknown, e.g. with the reference
 * gslcblas). */
const char *mp_blas_tune(void);

#endif
