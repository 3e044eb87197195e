/* svd.h — the largest singular values of a matrix read in blocks, never held
 * whole unless it is small. The caller owns the source and the output array.
 *
 * Method (DESIGN.md §5). Let A be the stored row-major rows x cols matrix and
 * M the one of A, A^T whose row count m = min(rows, cols) is the smaller (the
 * singular values of A and A^T are equal); M is streamed as column blocks of
 * about MP_SVD_BLOCK values.
 *  - exact (m <= exact_limit): small matrices (m * n <= MP_SVD_DENSE_MAX and
 *    m * m * n <= MP_SVD_DENSE_FLOPS) are loaded and decomposed by
 *    gsl_linalg_SV_decomp; otherwise the Gram matrix G = M M^T is accumulated
 *    block by block (cblas_dsyrk) and sigma_i = sqrt(max(0, lambda_i(G))) by
 *    gsl_eigen_symm.
 *  - randomized (m > exact_limit), Halko, Martinsson & Tropp 2011: with
 *    k = min(max_sv, m) and l = min(k + 10, m), Y = M Omega (Omega n x l
 *    Gaussian, each entry a pure function of seed and its position), two
 *    power iterations Y = M (M^T Q) with Q = orth(Y) between them, and the
 *    singular values of Q^T M from the eigenvalues of the l x l matrix
 *    Q^T M M^T Q. M^T Q is formed one block at a time and never stored.
 * Both Gram routes resolve singular values down to about 1e-7 sigma1 (the
 * float32 randomized route about 1e-6 sigma1, its top values to a relative
 * 1e-5 or better); the smaller ones come out as roughly that level or 0 (the
 * spectral histogram starts at 1e-4 sigma1).
 *
 * Memory (doubles; B = MP_SVD_BLOCK, blocks hold max(B, m) values):
 * dense route 2*m*n + m*m + 2*m (at most a few times MP_SVD_DENSE_MAX);
 * Gram route m*m + max(B, m) + the eigen workspace (O(m)); randomized route
 * 2*m*l + 2*max(B, m) + l*(l+32), whatever n is (float32 route: the same
 * plus m*l floats, its blocks in floats). This is below the bound of a
 * few times max(rows, cols) * (max_sv + 10) set in the design. */
#ifndef MP_SVD_H
#define MP_SVD_H

#include "mp.h"

#define MP_SVD_MAX_SV 1024		/* largest max_sv accepted */
#define MP_SVD_BLOCK (1u << 20)		/* values per streamed block */
#define MP_SVD_DENSE_MAX (1u << 22)	/* values for the dense exact route */
#define MP_SVD_DENSE_FLOPS (1ull << 23) /* m*m*n for the dense exact route */
#define MP_SVD_OVERSAMPLE 10
#define MP_SVD_POWER_ITERS 2

/* A stored row-major rows x cols matrix. read decodes elements
 * [off, off + n) (row-major order) into out; n never exceeds MP_SVD_BLOCK.
 * read_f32, optional, does the same into floats, for matrices whose values
 * are float32 exactly (F32, F16, BF16): the randomized route then multiplies
 * in single precision (sgemm) and sums Y and Q^T M M^T Q in double. Either
 * may be called from the thread that called mp_svd_top only. */
struct mp_svd_src {
	uint64_t rows, cols;
	mp_status (*read)(void *ctx, uint64_t off, size_t n, double *out,
			  struct mp_error *err);
	mp_status (*read_f32)(void *ctx, uint64_t off, size_t n, float *out,
			      struct mp_error *err);
	void *ctx;
};

struct mp_svd_opts {
	uint32_t max_sv;      /* 1..MP_SVD_MAX_SV */
	uint64_t exact_limit; /* exact while min(rows, cols) <= exact_limit */
	uint64_t seed;	      /* randomized route only */
};

struct mp_svd_result {
	uint32_t
	    nsv; /* min(max_sv, rows, cols) values written (0 if !finite) */
	double frob2; /* sum of squares of every element */
	bool exact;   /* false when from the randomized route */
	bool finite;  /* false when a NaN or infinity was read; nothing else
		       * is meaningful then */
};

/* Largest singular values of src into sv[0 .. res->nsv), descending. rows and
 * cols must be >= 1. Errors: MP_EINVAL for bad options, MP_ENOMEM (message
 * names the size), or whatever read returns. */
mp_status mp_svd_top(const struct mp_svd_src *src,
		     const struct mp_svd_opts *opts, double *sv,
		     struct mp_svd_result *res, struct mp_error *err);

/* Convenience for an in-memory row-major rows x cols matrix a. */
mp_status mp_svd_matrix(const double *a, uint64_t rows, uint64_t cols,
			const struct mp_svd_opts *opts, double *sv,
			struct mp_svd_result *res, struct mp_error *err);

/* Like mp_svd_matrix on the exact route (dense or Gram, whatever the size)
 * with any keep >= 1: the min(keep, rows, cols) largest singular values. */
mp_status mp_svd_matrix_exact(const double *a, uint64_t rows, uint64_t cols,
			      uint32_t keep, double *sv,
			      struct mp_svd_result *res, struct mp_error *err);

#endif
