/* svd.c — largest singular values of a streamed matrix (see svd.h). */
#include "svd.h"

#include <gsl/gsl_cblas.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* M is the one of A, A^T with m = min(rows, cols) rows; a block holds the
 * columns [j0, j0 + nc) of M, stored as M_j (m x nc) when !tr and as
 * M_j^T (nc x m, i.e. rows of A) when tr. */
struct stream {
	const struct mp_svd_src *src;
	bool tr;
	size_t m, n, nc;
	double *blk;  /* [m * nc] (double route) */
	float *fblk;  /* [m * nc] (float32 route: src->read_f32) */
	double frob2;
	bool finite;
};

static pthread_once_t gsl_once = PTHREAD_ONCE_INIT;

static void gsl_quiet(void)
{
	gsl_set_error_handler_off();
}

static void *alloc_doubles(size_t a, size_t b, const char *what,
			   struct mp_error *err)
{
	uint64_t n, bytes;
	void *p = NULL;
	if (mp_mul_u64(a, b, &n) && mp_mul_u64(n, sizeof(double), &bytes) &&
	    bytes <= SIZE_MAX)
		p = malloc(bytes ? (size_t)bytes : 1);
	if (!p)
		mp_error_set(err, MP_ENOMEM,
			     "svd: cannot allocate %s (%zu x %zu doubles)",
			     what, a, b);
	return p;
}

/* Elements [off, off + n) into out: doubles, or floats with src->read_f32
 * when f32. */
static mp_status read_range(const struct mp_svd_src *src, uint64_t off,
			    uint64_t n, void *out, bool f32,
			    struct mp_error *err)
{
	size_t es = f32 ? sizeof(float) : sizeof(double);
	while (n > 0) {
		size_t take = n > MP_SVD_BLOCK ? MP_SVD_BLOCK : (size_t)n;
		mp_status st =
		    f32 ? src->read_f32(src->ctx, off, take, out, err)
			: src->read(src->ctx, off, take, out, err);
		if (st != MP_OK)
			return st;
		off += take;
		out = (char *)out + take * es;
		n -= take;
	}
	return MP_OK;
}

/* Read block j0 (nc columns of M) into s->fblk when the stream is float32
 * (s->fblk set), else s->blk; the first pass also sums squares (in double)
 * and checks finiteness. */
static mp_status read_block(struct stream *s, size_t j0, size_t nc, bool scan,
			    struct mp_error *err)
{
	mp_status st;
	bool f32 = s->fblk != NULL;
	size_t es = f32 ? sizeof(float) : sizeof(double);
	char *blk = f32 ? (char *)s->fblk : (char *)s->blk;
	if (s->tr) {
		st = read_range(s->src, (uint64_t)j0 * s->m,
				(uint64_t)nc * s->m, blk, f32, err);
		if (st != MP_OK)
			return st;
	} else {
		for (size_t r = 0; r < s->m; r++) {
			st = read_range(s->src, (uint64_t)r * s->n + j0, nc,
					blk + r * nc * es, f32, err);
			if (st != MP_OK)
				return st;
		}
	}
	if (scan) {
		double acc = 0;
		size_t len = s->m * nc;
		for (size_t i = 0; i < len; i++) {
			double v = f32 ? (double)s->fblk[i] : s->blk[i];
			acc += v * v;
		}
		if (!isfinite(acc)) {
			for (size_t i = 0; i < len; i++)
				if (!isfinite(f32 ? (double)s->fblk[i]
						  : s->blk[i]))
					s->finite = false;
		}
		s->frob2 += acc;
	}
	return MP_OK;
}

static size_t block_cols(size_t m, size_t n)
{
	size_t nc = MP_SVD_BLOCK / m;
	if (nc < 1)
		nc = 1;
	return nc > n ? n : nc;
}

static int cmp_desc(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x < y) - (x > y);
}

/* Eigenvalues of the symmetric k x k matrix g (lower triangle used,
 * destroyed) to sv[0..keep) as sqrt(max(0, lambda)), descending. */
static mp_status gram_sv(double *g, size_t k, size_t keep, double *sv,
			 struct mp_error *err)
{
	double *ev = alloc_doubles(k, 1, "eigenvalues", err);
	if (!ev)
		return MP_ENOMEM;
	gsl_eigen_symm_workspace *w = gsl_eigen_symm_alloc(k);
	if (!w) {
		free(ev);
		return mp_error_set(err, MP_ENOMEM,
				    "svd: cannot allocate eigen workspace "
				    "(%zu)",
				    k);
	}
	gsl_matrix_view gv = gsl_matrix_view_array(g, k, k);
	gsl_vector_view ew = gsl_vector_view_array(ev, k);
	int rc = gsl_eigen_symm(&gv.matrix, &ew.vector, w);
	gsl_eigen_symm_free(w);
	if (rc != GSL_SUCCESS) {
		free(ev);
		return mp_error_set(err, MP_ERANGE,
				    "svd: eigenvalues of a %zu x %zu Gram "
				    "matrix: %s",
				    k, k, gsl_strerror(rc));
	}
	qsort(ev, k, sizeof(double), cmp_desc);
	for (size_t i = 0; i < keep; i++)
		sv[i] = ev[i] > 0 ? sqrt(ev[i]) : 0.0;
	free(ev);
	return MP_OK;
}

/* Whole matrix as the tall n x m matrix M^T, then Golub-Reinsch SVD. */
static mp_status dense_exact(struct stream *s, size_t keep, double *sv,
			     struct mp_error *err)
{
	size_t m = s->m, n = s->n;
	mp_status st = MP_ENOMEM;
	double *a = alloc_doubles(m, n, "matrix", err);
	double *x = s->tr ? a : alloc_doubles(m, n, "matrix", err);
	double *v = alloc_doubles(m, m, "matrix", err);
	double *sw = alloc_doubles(m, 2, "vectors", err);
	if (!a || !x || !v || !sw)
		goto out;
	st = read_range(s->src, 0, (uint64_t)m * n, a, false, err);
	if (st != MP_OK)
		goto out;
	double acc = 0;
	for (size_t i = 0; i < m * n; i++)
		acc += a[i] * a[i];
	s->frob2 = acc;
	if (!isfinite(acc)) {
		for (size_t i = 0; i < m * n; i++)
			if (!isfinite(a[i]))
				s->finite = false;
		if (!s->finite)
			goto out;
	}
	if (!s->tr)
		for (size_t r = 0; r < m; r++)
			for (size_t c = 0; c < n; c++)
				x[c * m + r] = a[r * n + c];
	gsl_matrix_view xv = gsl_matrix_view_array(x, n, m);
	gsl_matrix_view vv = gsl_matrix_view_array(v, m, m);
	gsl_vector_view sv_ = gsl_vector_view_array(sw, m);
	gsl_vector_view wv = gsl_vector_view_array(sw + m, m);
	int rc = gsl_linalg_SV_decomp(&xv.matrix, &vv.matrix, &sv_.vector,
				      &wv.vector);
	if (rc != GSL_SUCCESS) {
		st = mp_error_set(err, MP_ERANGE, "svd: %zu x %zu SVD: %s", n,
				  m, gsl_strerror(rc));
		goto out;
	}
	qsort(sw, m, sizeof(double), cmp_desc);
	for (size_t i = 0; i < keep; i++)
		sv[i] = sw[i] > 0 ? sw[i] : 0.0;
out:
	if (x != a)
		free(x);
	free(a);
	free(v);
	free(sw);
	return st;
}

static mp_status gram_exact(struct stream *s, size_t keep, double *sv,
			    struct mp_error *err)
{
	size_t m = s->m;
	mp_status st = MP_ENOMEM;
	double *g = alloc_doubles(m, m, "Gram matrix", err);
	if (!g)
		return st;
	memset(g, 0, m * m * sizeof(double));
	for (size_t j0 = 0; j0 < s->n; j0 += s->nc) {
		size_t nc = s->n - j0 < s->nc ? s->n - j0 : s->nc;
		st = read_block(s, j0, nc, true, err);
		if (st != MP_OK)
			goto out;
		if (!s->finite)
			goto out;
		if (s->tr)
			cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans,
				    (int)m, (int)nc, 1.0, s->blk, (int)m, 1.0,
				    g, (int)m);
		else
			cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans,
				    (int)m, (int)nc, 1.0, s->blk, (int)nc, 1.0,
				    g, (int)m);
	}
	st = gram_sv(g, m, keep, sv, err);
out:
	free(g);
	return st;
}

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Row j of Omega (l standard normals): a function of (seed, j) only. */
static void omega_row(uint64_t seed, uint64_t j, size_t l, double *out)
{
	uint64_t st =
	    seed ^ (j * 0xd1b54a32d192ed03ull + 0x8cb92ba72f3d8dd7ull);
	splitmix(&st);
	for (size_t i = 0; i < l; i += 2) {
		double u1 = ((splitmix(&st) >> 11) + 1) * 0x1.0p-53; /* (0,1] */
		double u2 = (splitmix(&st) >> 11) * 0x1.0p-53;
		double r = sqrt(-2.0 * log(u1));
		out[i] = r * cos(2.0 * M_PI * u2);
		if (i + 1 < l)
			out[i + 1] = r * sin(2.0 * M_PI * u2);
	}
}

/* y (m x l) += M_j b, b nc x l. */
static void mul_m(const struct stream *s, size_t nc, size_t l, const double *b,
		  double *y)
{
	if (s->tr)
		cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)s->m,
			    (int)l, (int)nc, 1.0, s->blk, (int)s->m, b, (int)l,
			    1.0, y, (int)l);
	else
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans,
			    (int)s->m, (int)l, (int)nc, 1.0, s->blk, (int)nc, b,
			    (int)l, 1.0, y, (int)l);
}

/* z (nc x l) = M_j^T q, q m x l. */
static void mul_mt(const struct stream *s, size_t nc, size_t l, const double *q,
		   double *z)
{
	if (s->tr)
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nc,
			    (int)l, (int)s->m, 1.0, s->blk, (int)s->m, q,
			    (int)l, 0.0, z, (int)l);
	else
		cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)nc,
			    (int)l, (int)s->m, 1.0, s->blk, (int)nc, q, (int)l,
			    0.0, z, (int)l);
}

#define ORTH_PANEL 32 /* rows of t projected together (BLAS 3) */

/* Orthonormalise the columns of y (m x l) in place by block classical
 * Gram-Schmidt applied twice (panels of ORTH_PANEL columns against the
 * earlier ones by dgemm, then column by column inside the panel), using t
 * (l x m) as the transposed copy and c (at least l * ORTH_PANEL doubles)
 * as workspace. Columns that vanish to rounding level (rank deficiency)
 * become zero. */
static void orthonormalise(double *y, double *t, size_t m, size_t l, double *c)
{
	for (size_t r = 0; r < m; r++)
		for (size_t i = 0; i < l; i++)
			t[i * m + r] = y[r * l + i];
	double before[ORTH_PANEL];
	for (size_t b0 = 0; b0 < l; b0 += ORTH_PANEL) {
		size_t nb = l - b0 < ORTH_PANEL ? l - b0 : ORTH_PANEL;
		double *tb = t + b0 * m;
		for (size_t i = 0; i < nb; i++)
			before[i] = cblas_dnrm2((int)m, tb + i * m, 1);
		for (int pass = 0; pass < 2 && b0 > 0; pass++) {
			/* c (b0 x nb) = T_prev Tb^T; Tb -= c^T T_prev */
			cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans,
				    (int)b0, (int)nb, (int)m, 1.0, t, (int)m,
				    tb, (int)m, 0.0, c, (int)nb);
			cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans,
				    (int)nb, (int)m, (int)b0, -1.0, c, (int)nb,
				    t, (int)m, 1.0, tb, (int)m);
		}
		for (size_t i = 0; i < nb; i++) {
			double *ti = tb + i * m;
			for (int pass = 0; pass < 2 && i > 0; pass++) {
				cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)i,
					    (int)m, 1.0, tb, (int)m, ti, 1, 0.0,
					    c, 1);
				cblas_dgemv(CblasRowMajor, CblasTrans, (int)i,
					    (int)m, -1.0, tb, (int)m, c, 1, 1.0,
					    ti, 1);
			}
			double nrm = cblas_dnrm2((int)m, ti, 1);
			if (nrm > 1e-13 * before[i] && nrm > 0)
				cblas_dscal((int)m, 1.0 / nrm, ti, 1);
			else
				memset(ti, 0, m * sizeof(double));
		}
	}
	for (size_t r = 0; r < m; r++)
		for (size_t i = 0; i < l; i++)
			y[r * l + i] = t[i * m + r];
}

#define F32_SUM_BLOCKS 8 /* blocks summed in float before y */

/* y (m x l, double) += M_j b (b nc x l, float), for the block of columns
 * from j0: sgemm sums F32_SUM_BLOCKS blocks in yf, then yf is added to y. */
static void mul_m_f32(const struct stream *s, size_t j0, size_t nc, size_t l,
		      const float *b, float *yf, double *y)
{
	size_t k = j0 / s->nc;
	float beta = k % F32_SUM_BLOCKS == 0 ? 0.0f : 1.0f;
	if (s->tr)
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)s->m,
			    (int)l, (int)nc, 1.0f, s->fblk, (int)s->m, b,
			    (int)l, beta, yf, (int)l);
	else
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans,
			    (int)s->m, (int)l, (int)nc, 1.0f, s->fblk, (int)nc,
			    b, (int)l, beta, yf, (int)l);
	if (k % F32_SUM_BLOCKS == F32_SUM_BLOCKS - 1 || j0 + nc >= s->n)
		for (size_t i = 0; i < s->m * l; i++)
			y[i] += yf[i];
}

/* z (nc x l) = M_j^T q, q m x l, in float. */
static void mul_mt_f32(const struct stream *s, size_t nc, size_t l,
		       const float *q, float *z)
{
	if (s->tr)
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nc,
			    (int)l, (int)s->m, 1.0f, s->fblk, (int)s->m, q,
			    (int)l, 0.0f, z, (int)l);
	else
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)nc,
			    (int)l, (int)s->m, 1.0f, s->fblk, (int)nc, q,
			    (int)l, 0.0f, z, (int)l);
}

/* Buffers of the randomized route: y, t m x l; z nc x l; h l x (l + 32);
 * for the float32 route also zf (nc x l) and qf (m x l) floats, and yf
 * (m x l floats) borrowing t while the products run. */
struct rbufs {
	double *y, *t, *z, *h;
	float *zf, *qf, *yf;
};

/* z = M_j^T q (q: y as floats when f32, else t), nc x l, in b->z (double)
 * and, when f32, b->zf. */
static void prod_mt(const struct stream *s, size_t nc, size_t l,
		    struct rbufs *b, const double *q)
{
	if (!s->fblk) {
		mul_mt(s, nc, l, q, b->z);
		return;
	}
	mul_mt_f32(s, nc, l, b->qf, b->zf);
}

/* The randomized route (svd.h). With float32 blocks (s->fblk) the products
 * run in single precision (sgemm): the sketch Y and the projected Gram
 * matrix are summed in double over the blocks, Q is orthonormalised in
 * double (F32_SUM_BLOCKS blocks summed in float at a time). */
static mp_status randomized(struct stream *s, size_t keep, uint64_t seed,
			    double *sv, struct mp_error *err)
{
	size_t m = s->m, l = keep + MP_SVD_OVERSAMPLE;
	if (l > m)
		l = m;
	bool f32 = s->fblk != NULL;
	mp_status st = MP_ENOMEM;
	struct rbufs b = {0};
	b.y = alloc_doubles(m, l, "range basis", err);
	b.t = alloc_doubles(m, l, "range basis", err);
	b.z = alloc_doubles(s->nc, l, "block product", err);
	b.h = alloc_doubles(l, l + ORTH_PANEL, "projected Gram matrix", err);
	if (f32) {
		b.zf = (float *)alloc_doubles(s->nc, l, "block product", err);
		b.qf = (float *)alloc_doubles(m, l, "range basis", err);
		b.yf = (float *)b.t;
	}
	if (!b.y || !b.t || !b.z || !b.h || (f32 && (!b.zf || !b.qf)))
		goto out;

	memset(b.y, 0, m * l * sizeof(double));
	for (size_t j0 = 0; j0 < s->n; j0 += s->nc) {
		size_t nc = s->n - j0 < s->nc ? s->n - j0 : s->nc;
		st = read_block(s, j0, nc, true, err);
		if (st != MP_OK || !s->finite)
			goto out;
		for (size_t jj = 0; jj < nc; jj++)
			omega_row(seed, j0 + jj, l, b.z + jj * l);
		if (f32) {
			for (size_t i = 0; i < nc * l; i++)
				b.zf[i] = (float)b.z[i];
			mul_m_f32(s, j0, nc, l, b.zf, b.yf, b.y);
		} else {
			mul_m(s, nc, l, b.z, b.y);
		}
	}
	orthonormalise(b.y, b.t, m, l, b.h);
	for (int it = 0; it <= MP_SVD_POWER_ITERS; it++) {
		bool last = it == MP_SVD_POWER_ITERS;
		/* Q is t (double route) or qf (float32); y accumulates
		 * M M^T Q, or h Q^T M M^T Q. */
		if (f32)
			for (size_t i = 0; i < m * l; i++)
				b.qf[i] = (float)b.y[i];
		if (last)
			memset(b.h, 0, l * l * sizeof(double));
		else if (!f32)
			memcpy(b.t, b.y, m * l * sizeof(double));
		const double *q = last ? b.y : b.t;
		if (!last)
			memset(b.y, 0, m * l * sizeof(double));
		for (size_t j0 = 0; j0 < s->n; j0 += s->nc) {
			size_t nc = s->n - j0 < s->nc ? s->n - j0 : s->nc;
			st = read_block(s, j0, nc, false, err);
			if (st != MP_OK)
				goto out;
			prod_mt(s, nc, l, &b, q);
			if (!last) {
				if (f32)
					mul_m_f32(s, j0, nc, l, b.zf, b.yf, b.y);
				else
					mul_m(s, nc, l, b.z, b.y);
				continue;
			}
			if (f32)
				for (size_t i = 0; i < nc * l; i++)
					b.z[i] = b.zf[i];
			cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans,
				    (int)l, (int)nc, 1.0, b.z, (int)l, 1.0, b.h,
				    (int)l);
		}
		if (!last)
			orthonormalise(b.y, b.t, m, l, b.h);
	}
	st = gram_sv(b.h, l, keep, sv, err);
out:
	free(b.y);
	free(b.t);
	free(b.z);
	free(b.h);
	free(b.zf);
	free(b.qf);
	return st;
}

/* mp_svd_top with any number of values (max_sv >= 1 unchecked above). */
static mp_status svd_run(const struct mp_svd_src *src,
			 const struct mp_svd_opts *opts, double *sv,
			 struct mp_svd_result *res, struct mp_error *err);

mp_status mp_svd_top(const struct mp_svd_src *src,
		     const struct mp_svd_opts *opts, double *sv,
		     struct mp_svd_result *res, struct mp_error *err)
{
	memset(res, 0, sizeof(*res));
	if (opts->max_sv < 1 || opts->max_sv > MP_SVD_MAX_SV)
		return mp_error_set(err, MP_EINVAL,
				    "svd: max_sv %u outside 1..%u",
				    opts->max_sv, MP_SVD_MAX_SV);
	return svd_run(src, opts, sv, res, err);
}

static mp_status svd_run(const struct mp_svd_src *src,
			 const struct mp_svd_opts *opts, double *sv,
			 struct mp_svd_result *res, struct mp_error *err)
{
	memset(res, 0, sizeof(*res));
	uint64_t numel;
	if (src->rows < 1 || src->cols < 1 ||
	    !mp_mul_u64(src->rows, src->cols, &numel) || numel > SIZE_MAX ||
	    src->rows > INT32_MAX || src->cols > INT32_MAX)
		return mp_error_set(err, MP_ERANGE,
				    "svd: unsupported matrix size %llu x %llu",
				    (unsigned long long)src->rows,
				    (unsigned long long)src->cols);
	if (opts->max_sv < 1)
		return mp_error_set(err, MP_EINVAL, "svd: max_sv is 0");
	pthread_once(&gsl_once, gsl_quiet);

	struct stream s = {.src = src, .finite = true};
	s.tr = src->rows > src->cols;
	s.m = (size_t)(s.tr ? src->cols : src->rows);
	s.n = (size_t)(s.tr ? src->rows : src->cols);
	s.nc = block_cols(s.m, s.n);
	size_t keep = opts->max_sv < s.m ? opts->max_sv : s.m;
	res->exact = s.m <= opts->exact_limit;

	mp_status st;
	uint64_t mmn;
	if (res->exact && numel <= MP_SVD_DENSE_MAX &&
	    mp_mul_u64(numel, s.m, &mmn) && mmn <= MP_SVD_DENSE_FLOPS) {
		st = dense_exact(&s, keep, sv, err);
	} else {
		bool f32 = !res->exact && src->read_f32;
		void *blk = f32 ? (void *)(s.fblk = malloc(
				      s.m * s.nc * sizeof(float)))
				: (void *)(s.blk = alloc_doubles(s.m, s.nc,
								 "block", err));
		if (!blk)
			return mp_error_set(err, MP_ENOMEM,
					    "svd: cannot allocate a block "
					    "(%zu x %zu values)",
					    s.m, s.nc);
		if (res->exact)
			st = gram_exact(&s, keep, sv, err);
		else
			st = randomized(&s, keep, opts->seed, sv, err);
		free(blk);
	}
	if (st != MP_OK)
		return st;
	res->frob2 = s.frob2;
	res->finite = s.finite;
	res->nsv = s.finite ? (uint32_t)keep : 0;
	return MP_OK;
}

struct dense_ctx {
	const double *a;
};

static mp_status dense_read(void *ctx, uint64_t off, size_t n, double *out,
			    struct mp_error *err)
{
	(void)err;
	memcpy(out, ((struct dense_ctx *)ctx)->a + off, n * sizeof(double));
	return MP_OK;
}

mp_status mp_svd_matrix(const double *a, uint64_t rows, uint64_t cols,
			const struct mp_svd_opts *opts, double *sv,
			struct mp_svd_result *res, struct mp_error *err)
{
	struct dense_ctx ctx = {a};
	struct mp_svd_src src = {rows, cols, dense_read, NULL, &ctx};
	return mp_svd_top(&src, opts, sv, res, err);
}

mp_status mp_svd_matrix_exact(const double *a, uint64_t rows, uint64_t cols,
			      uint32_t keep, double *sv,
			      struct mp_svd_result *res, struct mp_error *err)
{
	struct dense_ctx ctx = {a};
	struct mp_svd_src src = {rows, cols, dense_read, NULL, &ctx};
	struct mp_svd_opts o = {keep, UINT64_MAX, 0};
	return svd_run(&src, &o, sv, res, err);
}
