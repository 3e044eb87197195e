/* nnls.h — non-negative least squares of a few unknowns on the normal
 * equations (merge coefficients: lineage.c over files, identify over
 * sketches). */
#ifndef MP_NNLS_H
#define MP_NNLS_H

/* Unknowns at most. */
#define MP_NNLS_MAX 4

/* Lawson-Hanson: c[0..k) >= 0 minimising c'Gc - 2b'c (G = R'R, b = R'u,
 * 1 <= k <= MP_NNLS_MAX). Singular values of a passive-set subproblem
 * below 1e-12 of the largest are dropped, so identical columns do not blow
 * up. When GSL cannot allocate, c holds the last feasible iterate. */
void mp_nnls(int k, const double G[][MP_NNLS_MAX], const double *b, double *c);

#endif
