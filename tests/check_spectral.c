/* check_spectral.c — singular values (svd.c) and the spectral method
 * (fp_spectral.c) against values known in closed form or computed here by
 * independent means. Models are built in memory (tensors pointing at test
 * buffers), so no reader is involved. */
#include "check_suites.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fingerprint.h"
#include "svd.h"
#include "testutil.h"

static double REL(double a, double b)
{
	return fabs(a - b) / fmax(fabs(b), 1e-300);
}

static struct mp_svd_opts opts(uint32_t max_sv, uint64_t exact_limit)
{
	struct mp_svd_opts o = {max_sv, exact_limit, 0};
	return o;
}

/* Orthonormal columns: q is n x k row-major (k <= n), from a Gaussian matrix
 * by modified Gram-Schmidt applied twice. */
static double *random_orthonormal(size_t n, size_t k, uint64_t *rng)
{
	double *q = malloc(n * k * sizeof(double));
	ck_assert_ptr_nonnull(q);
	for (size_t i = 0; i < n * k; i++)
		q[i] = tu_rand_normal(rng);
	for (size_t c = 0; c < k; c++) {
		for (int pass = 0; pass < 2; pass++)
			for (size_t p = 0; p < c; p++) {
				double d = 0;
				for (size_t r = 0; r < n; r++)
					d += q[r * k + p] * q[r * k + c];
				for (size_t r = 0; r < n; r++)
					q[r * k + c] -= d * q[r * k + p];
			}
		double nrm = 0;
		for (size_t r = 0; r < n; r++)
			nrm += q[r * k + c] * q[r * k + c];
		nrm = sqrt(nrm);
		for (size_t r = 0; r < n; r++)
			q[r * k + c] /= nrm;
	}
	return q;
}

/* rows x cols matrix U diag(s) V^T with k = min(rows, cols) given s. */
static double *with_spectrum(size_t rows, size_t cols, const double *s,
			     uint64_t seed)
{
	uint64_t rng = seed;
	size_t k = rows < cols ? rows : cols;
	double *u = random_orthonormal(rows, k, &rng);
	double *v = random_orthonormal(cols, k, &rng);
	double *a = calloc(rows * cols, sizeof(double));
	ck_assert_ptr_nonnull(a);
	for (size_t r = 0; r < rows; r++)
		for (size_t i = 0; i < k; i++) {
			double us = u[r * k + i] * s[i];
			double *ar = a + r * cols;
			for (size_t c = 0; c < cols; c++)
				ar[c] += us * v[c * k + i];
		}
	free(u);
	free(v);
	return a;
}

static double *transpose(const double *a, size_t rows, size_t cols)
{
	double *t = malloc(rows * cols * sizeof(double));
	ck_assert_ptr_nonnull(t);
	for (size_t r = 0; r < rows; r++)
		for (size_t c = 0; c < cols; c++)
			t[c * rows + r] = a[r * cols + c];
	return t;
}

static void svd_ok(const double *a, size_t rows, size_t cols,
		   struct mp_svd_opts o, double *sv, struct mp_svd_result *res)
{
	struct mp_error err = {{0}};
	mp_status st = mp_svd_matrix(a, rows, cols, &o, sv, res, &err);
	ck_assert_msg(st == MP_OK, "svd failed: %s", err.msg);
	ck_assert(res->finite);
}

START_TEST(diagonal)
{
	double a[3 * 5] = {0};
	a[0 * 5 + 0] = 0.5;
	a[1 * 5 + 1] = -7;
	a[2 * 5 + 2] = 2;
	double sv[8];
	struct mp_svd_result res;
	svd_ok(a, 3, 5, opts(8, 1024), sv, &res);
	ck_assert_uint_eq(res.nsv, 3);
	ck_assert(res.exact);
	ck_assert_double_eq_tol(sv[0], 7, 1e-13);
	ck_assert_double_eq_tol(sv[1], 2, 1e-13);
	ck_assert_double_eq_tol(sv[2], 0.5, 1e-13);
	ck_assert_double_eq_tol(res.frob2, 49 + 4 + 0.25, 1e-12);
	/* the transpose (tall) gives the same values */
	double *t = transpose(a, 3, 5);
	svd_ok(t, 5, 3, opts(2, 1024), sv, &res);
	ck_assert_uint_eq(res.nsv, 2);
	ck_assert_double_eq_tol(sv[0], 7, 1e-13);
	ck_assert_double_eq_tol(sv[1], 2, 1e-13);
	free(t);
}
END_TEST

START_TEST(rank_one)
{
	double u[5] = {1, -2, 3, 0.5, 4}, v[7] = {2, 0, -1, 1, 3, -2, 0.25};
	double a[35], nu = 0, nv = 0;
	for (int i = 0; i < 5; i++) {
		nu += u[i] * u[i];
		for (int j = 0; j < 7; j++)
			a[i * 7 + j] = u[i] * v[j];
	}
	for (int j = 0; j < 7; j++)
		nv += v[j] * v[j];
	double sv[5];
	struct mp_svd_result res;
	svd_ok(a, 5, 7, opts(5, 1024), sv, &res);
	ck_assert_uint_eq(res.nsv, 5);
	ck_assert_double_eq_tol(sv[0], sqrt(nu) * sqrt(nv), 1e-12);
	for (int i = 1; i < 5; i++)
		ck_assert(sv[i] >= 0 && sv[i] < 1e-12 * sv[0]);
}
END_TEST

START_TEST(scaled_orthogonal)
{
	uint64_t rng = 7;
	double *q = random_orthonormal(6, 6, &rng);
	for (int i = 0; i < 36; i++)
		q[i] *= 3;
	double sv[6];
	struct mp_svd_result res;
	svd_ok(q, 6, 6, opts(6, 1024), sv, &res);
	ck_assert_uint_eq(res.nsv, 6);
	for (int i = 0; i < 6; i++)
		ck_assert_double_eq_tol(sv[i], 3, 1e-12);
	free(q);
}
END_TEST

START_TEST(two_by_two)
{
	double a[4] = {3, 0, 4, 5};
	double sv[2];
	struct mp_svd_result res;
	svd_ok(a, 2, 2, opts(256, 1024), sv, &res);
	ck_assert_uint_eq(res.nsv, 2);
	ck_assert_double_eq_tol(sv[0], sqrt(45), 1e-13);
	ck_assert_double_eq_tol(sv[1], sqrt(5), 1e-13);
}
END_TEST

/* 300 x 400 with sigma_i = 10 * 0.8^i: exact (Gram) route and, with
 * exact_limit below 300, the randomized one; both orientations. */
START_TEST(randomized_vs_known)
{
	size_t rows = 300, cols = 400;
	double s[300];
	for (int i = 0; i < 300; i++)
		s[i] = 10 * pow(0.8, i);
	double *a = with_spectrum(rows, cols, s, 11);
	double *t = transpose(a, rows, cols);
	double sv[64], svt[64], ex[64];
	struct mp_svd_result res;

	svd_ok(a, rows, cols, opts(64, 1024), ex, &res);
	ck_assert(res.exact);
	ck_assert_uint_eq(res.nsv, 64);
	for (int i = 0; i < 30; i++)
		ck_assert_msg(REL(ex[i], s[i]) < 1e-8, "exact sv %d: %g vs %g",
			      i, ex[i], s[i]);

	svd_ok(a, rows, cols, opts(30, 50), sv, &res);
	ck_assert(!res.exact);
	ck_assert_uint_eq(res.nsv, 30);
	for (int i = 0; i < 20; i++)
		ck_assert_msg(REL(sv[i], s[i]) < 1e-6, "rsvd sv %d: %g vs %g",
			      i, sv[i], s[i]);
	for (int i = 0; i < 30; i++)
		ck_assert(sv[i] <= s[i] * (1 + 1e-9)); /* Q^T A shrinks */
	double frob2 = 0;
	for (int i = 0; i < 300; i++)
		frob2 += s[i] * s[i];
	ck_assert(REL(res.frob2, frob2) < 1e-10);

	svd_ok(t, cols, rows, opts(30, 50), svt, &res);
	ck_assert(!res.exact);
	for (int i = 0; i < 30; i++)
		ck_assert(REL(svt[i], sv[i]) < 1e-10);

	/* another seed changes only the low-order digits */
	struct mp_svd_opts o = opts(30, 50);
	o.seed = 12345;
	svd_ok(a, rows, cols, o, svt, &res);
	for (int i = 0; i < 20; i++)
		ck_assert(REL(svt[i], s[i]) < 1e-6);
	free(a);
	free(t);
}
END_TEST

/* 200 x 6000 (1.2M values: two streamed blocks, beyond the dense route):
 * the Gram exact route and the randomized route, both orientations. */
START_TEST(streamed_blocks)
{
	size_t rows = 200, cols = 6000;
	double s[200];
	for (int i = 0; i < 200; i++)
		s[i] = 3 * pow(0.9, i);
	double *a = with_spectrum(rows, cols, s, 5);
	double *t = transpose(a, rows, cols);
	double sv[256];
	struct mp_svd_result res;
	for (int orient = 0; orient < 2; orient++) {
		const double *x = orient ? t : a;
		size_t r = orient ? cols : rows, c = orient ? rows : cols;
		svd_ok(x, r, c, opts(256, 1024), sv, &res);
		ck_assert(res.exact);
		ck_assert_uint_eq(res.nsv, 200);
		for (int i = 0; i < 60; i++)
			ck_assert_msg(REL(sv[i], s[i]) < 1e-9,
				      "gram sv %d: %.17g vs %.17g", i, sv[i],
				      s[i]);
		svd_ok(x, r, c, opts(20, 100), sv, &res);
		ck_assert(!res.exact);
		ck_assert_uint_eq(res.nsv, 20);
		for (int i = 0; i < 10; i++)
			ck_assert_msg(REL(sv[i], s[i]) < 1e-6,
				      "rsvd sv %d: %.17g vs %.17g", i, sv[i],
				      s[i]);
	}
	free(a);
	free(t);
}
END_TEST

/* Rank 3 matrix, randomized with l > rank: the extra values are ~0. */
START_TEST(randomized_rank_deficient)
{
	size_t rows = 60, cols = 80;
	double s[60] = {5, 2, 1};
	double *a = with_spectrum(rows, cols, s, 3);
	double sv[10];
	struct mp_svd_result res;
	svd_ok(a, rows, cols, opts(10, 4), sv, &res);
	ck_assert(!res.exact);
	ck_assert(REL(sv[0], 5) < 1e-10 && REL(sv[1], 2) < 1e-10 &&
		  REL(sv[2], 1) < 1e-10);
	for (int i = 3; i < 10; i++)
		ck_assert(sv[i] < 1e-6);
	free(a);
}
END_TEST

START_TEST(non_finite)
{
	double a[6] = {1, 2, 3, NAN, 5, 6};
	double sv[2];
	struct mp_svd_result res;
	struct mp_svd_opts o = opts(2, 1024);
	ck_assert_int_eq(mp_svd_matrix(a, 2, 3, &o, sv, &res, NULL), MP_OK);
	ck_assert(!res.finite);
	ck_assert_uint_eq(res.nsv, 0);
	o.exact_limit = 0;
	a[3] = INFINITY;
	ck_assert_int_eq(mp_svd_matrix(a, 2, 3, &o, sv, &res, NULL), MP_OK);
	ck_assert(!res.finite);
	o.max_sv = 0;
	ck_assert_int_eq(mp_svd_matrix(a, 2, 3, &o, sv, &res, NULL), MP_EINVAL);
}
END_TEST

/* A float32 row-major matrix as an svd source with read_f32. */
struct fsrc {
	const float *a;
};

static mp_status fsrc_read(void *ctx, uint64_t off, size_t n, double *out,
			   struct mp_error *err)
{
	(void)err;
	const float *a = ((struct fsrc *)ctx)->a + off;
	for (size_t i = 0; i < n; i++)
		out[i] = a[i];
	return MP_OK;
}

static mp_status fsrc_read_f32(void *ctx, uint64_t off, size_t n, float *out,
			       struct mp_error *err)
{
	(void)err;
	memcpy(out, ((struct fsrc *)ctx)->a + off, n * sizeof(float));
	return MP_OK;
}

/* 1500 x 1200 float32 matrix X diag(d) Y with X, Y Gaussian and d_j =
 * 0.97^j, divided by 10 after the 256th (a decaying spectrum, not known in
 * closed form, with a gap after the values kept): the randomized
 * route in float32 (sgemm) keeps the top 256 singular values within a
 * relative 1e-3 of the exact ones (the double Gram route over the same
 * float values), both orientations, the same as the double randomized
 * route to 1e-4. */
START_TEST(randomized_f32_vs_exact)
{
	size_t rows = 1500, cols = 1200, r = 300;
	uint64_t rng = 77;
	double *x = malloc(rows * r * sizeof(double));
	double *y = malloc(r * cols * sizeof(double));
	float *a = malloc(rows * cols * sizeof(float));
	float *at = malloc(rows * cols * sizeof(float));
	double *ad = malloc(rows * cols * sizeof(double));
	ck_assert(x && y && a && at && ad);
	for (size_t i = 0; i < rows * r; i++)
		x[i] = tu_rand_normal(&rng) * pow(0.97, (double)(i % r)) *
		       (i % r < 256 ? 1 : 0.1);
	for (size_t i = 0; i < r * cols; i++)
		y[i] = tu_rand_normal(&rng);
	for (size_t i = 0; i < rows; i++)
		for (size_t j = 0; j < cols; j++) {
			double acc = 0;
			for (size_t q = 0; q < r; q++)
				acc += x[i * r + q] * y[q * cols + j];
			a[i * cols + j] = (float)acc;
			at[j * rows + i] = (float)acc;
			ad[i * cols + j] = a[i * cols + j];
		}
	double ex[256], sv[256], svd[256];
	struct mp_svd_result res;
	svd_ok(ad, rows, cols, opts(256, 1200), ex, &res);
	ck_assert(res.exact);
	svd_ok(ad, rows, cols, opts(256, 1024), svd, &res);
	ck_assert(!res.exact);
	for (int orient = 0; orient < 2; orient++) {
		struct fsrc ctx = {orient ? at : a};
		struct mp_svd_src src = {orient ? cols : rows,
					 orient ? rows : cols, fsrc_read,
					 fsrc_read_f32, &ctx};
		struct mp_svd_opts o = opts(256, 1024);
		struct mp_error err = {{0}};
		ck_assert_int_eq(mp_svd_top(&src, &o, sv, &res, &err), MP_OK);
		ck_assert(!res.exact && res.finite);
		ck_assert_uint_eq(res.nsv, 256);
		double worst = 0, worst_d = 0;
		for (int i = 0; i < 256; i++) {
			worst = fmax(worst, REL(sv[i], ex[i]));
			worst_d = fmax(worst_d, REL(sv[i], svd[i]));
		}
		ck_assert_msg(worst <= 1e-3, "orient %d: float32 rsvd vs exact %g",
			      orient, worst);
		ck_assert_msg(worst_d <= 1e-4, "orient %d: float32 vs double rsvd %g",
			      orient, worst_d);
	}
	free(x);
	free(y);
	free(a);
	free(at);
	free(ad);
}
END_TEST

/* ---- the method on in-memory models ---- */

#define MAXT 8

struct tmodel {
	struct mp_model m;
	struct mp_tensor t[MAXT];
	struct mp_seg segv[MAXT][2]; /* the segments of split tensors */
	char names[MAXT][32];
};

/* Add a tensor over data (stored dtype dt); split into two segments when
 * split is set, to exercise reads across segments. */
static struct mp_tensor *add(struct tmodel *tm, const char *name,
			     enum mp_dtype dt, int ndim, const uint64_t *shape,
			     const void *data, bool output_last, bool split)
{
	struct mp_tensor *t = &tm->t[tm->m.ntensors];
	memset(t, 0, sizeof(*t));
	snprintf(tm->names[tm->m.ntensors], 32, "%s", name);
	t->name = tm->names[tm->m.ntensors];
	tm->m.ntensors++;
	t->stored = t->logical = dt;
	t->ndim = ndim;
	t->numel = 1;
	for (int i = 0; i < ndim; i++) {
		t->shape[i] = shape[i];
		t->numel *= shape[i];
	}
	t->nbytes = t->numel * mp_dtype_size(dt);
	t->output_last = output_last;
	if (split && t->nbytes > 1) {
		t->nseg = 2;
		t->segs = tm->segv[t - tm->t];
		t->segs[0].data = data;
		t->segs[0].len = t->nbytes / 2 + 1;
		t->segs[1].data = (const uint8_t *)data + t->segs[0].len;
		t->segs[1].len = t->nbytes - t->segs[0].len;
	} else {
		t->nseg = 1;
		t->seg1.data = data;
		t->seg1.len = t->nbytes;
	}
	return t;
}

static void tmodel_init(struct tmodel *tm)
{
	memset(tm, 0, sizeof(*tm));
	tm->m.path = (char *)"mem.model";
	tm->m.format = "test";
	tm->m.tensors = tm->t;
}

static void fp_clear(struct mp_fingerprint *fp)
{
	for (size_t i = 0; i < fp->ntensors; i++) {
		free(fp->tensors[i].name);
		free(fp->tensors[i].spec);
	}
	free(fp->tensors);
	memset(fp, 0, sizeof(*fp));
}

static mp_status run(const struct tmodel *tm, const char *args_json,
		     int threads, struct mp_fingerprint *fp,
		     struct mp_error *err)
{
	mp_json *args = NULL;
	memset(fp, 0, sizeof(*fp));
	if (args_json)
		ck_assert_int_eq(mp_json_parse(args_json, strlen(args_json),
					       "args", &args, NULL),
				 MP_OK);
	mp_status st =
	    mp_method_spectral.compute(&tm->m, args, threads, NULL, fp, err);
	mp_json_free(args);
	return st;
}

static void run_ok(const struct tmodel *tm, const char *args_json, int threads,
		   struct mp_fingerprint *fp)
{
	struct mp_error err = {{0}};
	mp_status st = run(tm, args_json, threads, fp, &err);
	ck_assert_msg(st == MP_OK, "compute: %s", err.msg);
}

/* Independent bin computation (the brief's formula). */
static int bin_of(double r)
{
	if (r <= 1e-4)
		return 0;
	int b = (int)floor(64 * log10(r / 1e-4) / 4);
	return b < 0 ? 0 : b > 63 ? 63 : b;
}

START_TEST(method_listing_and_histogram)
{
	static const float diag[9] = {2, 0, 0, 0, -1, 0, 0, 0, 0.5f};
	static const double two[8] = {0, 4, 0, 0, 0, 0, 0, 0.001};
	static const float bias[4] = {1, 2, 3, 4};
	static const int32_t ints[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
	static const float row[5] = {1, 2, 3, 4, 5};
	struct tmodel tm;
	tmodel_init(&tm);
	add(&tm, "d", MP_F32, 2, (uint64_t[]){3, 3}, diag, false, true);
	add(&tm, "b", MP_F32, 1, (uint64_t[]){4}, bias, false, false);
	add(&tm, "two", MP_F64, 2, (uint64_t[]){2, 4}, two, false, false);
	add(&tm, "i", MP_I32, 2, (uint64_t[]){3, 3}, ints, false, false);
	add(&tm, "r", MP_F32, 2, (uint64_t[]){1, 5}, row, false, false);
	struct mp_fingerprint fp;
	run_ok(&tm, NULL, 1, &fp);
	ck_assert_uint_eq(fp.ntensors, 5);

	const struct mp_tensor_fp *d = &fp.tensors[0];
	ck_assert_str_eq(d->name, "d");
	ck_assert_int_eq(d->dtype, MP_F32);
	ck_assert_int_eq(d->ndim, 2);
	ck_assert_uint_eq(d->numel, 9);
	ck_assert_uint_eq(d->spec->rows, 3);
	ck_assert_uint_eq(d->spec->cols, 3);
	ck_assert_uint_eq(NSV(*d), 3);
	ck_assert(d->spec->sv_exact);
	ck_assert_double_eq_tol(d->spec->sv[0], 2, 1e-14);
	ck_assert_double_eq_tol(d->spec->sv[1], 1, 1e-14);
	ck_assert_double_eq_tol(d->spec->sv[2], 0.5, 1e-14);
	ck_assert_double_eq_tol(d->spec->sigma1, 2, 1e-14);
	ck_assert_double_eq_tol(d->spec->stable_rank, 5.25 / 4, 1e-13);
	double p[3] = {2 / 3.5, 1 / 3.5, 0.5 / 3.5}, h = 0;
	for (int i = 0; i < 3; i++)
		h -= p[i] * log(p[i]);
	ck_assert_double_eq_tol(d->spec->effective_rank, exp(h), 1e-13);

	for (int i = 1; i < 5; i += 2)
		ck_assert_uint_eq(NSV(fp.tensors[i]), 0);
	ck_assert_uint_eq(NSV(fp.tensors[4]), 0);
	ck_assert_str_eq(fp.tensors[3].name, "i");
	ck_assert_int_eq(fp.tensors[3].dtype, MP_I32);
	ck_assert_uint_eq(fp.tensors[4].shape[1], 5);

	const struct mp_tensor_fp *two_fp = &fp.tensors[2];
	ck_assert_uint_eq(NSV(*two_fp), 2);
	ck_assert_double_eq_tol(two_fp->spec->sv[0], 4, 1e-14);
	ck_assert_double_eq_tol(two_fp->spec->sv[1], 0.001, 1e-15);

	/* d adds 9/3 at r = 1, 0.5, 0.25; two adds 8/2 at r = 1, 2.5e-4 */
	double want[64] = {0};
	want[bin_of(1)] += 3;
	want[bin_of(0.5)] += 3;
	want[bin_of(0.25)] += 3;
	want[bin_of(1)] += 4;
	want[bin_of(0.001 / 4)] += 4;
	ck_assert_int_eq(bin_of(1), 63);
	ck_assert_int_eq(bin_of(0.5), 59);
	ck_assert_int_eq(bin_of(0.25), 54);
	ck_assert(fp.has_hist);
	double sum = 0;
	for (int b = 0; b < 64; b++) {
		ck_assert_msg(fabs(fp.hist[b] - want[b] / 17) < 1e-15,
			      "bin %d: %g vs %g", b, fp.hist[b], want[b] / 17);
		sum += fp.hist[b];
	}
	ck_assert_double_eq_tol(sum, 1, 1e-15);
	fp_clear(&fp);

	/* max_sv 1: stable rank still uses the whole Frobenius norm */
	run_ok(&tm, "{\"max_sv\": 1}", 1, &fp);
	ck_assert_uint_eq(NSV(fp.tensors[0]), 1);
	ck_assert_double_eq_tol(fp.tensors[0].spec->stable_rank, 5.25 / 4, 1e-13);
	ck_assert_double_eq_tol(fp.tensors[0].spec->effective_rank, 1, 1e-15);
	ck_assert_double_eq_tol(fp.hist[63], 1, 1e-15);
	fp_clear(&fp);
}
END_TEST

START_TEST(output_last)
{
	/* TF.js kernel [in=3, out=2] stored input-first: as a matrix it is
	 * 2 x 3 (rows = last dim); sv of [[1,0,0],[0,0,2]] are 2, 1. */
	static const float k[6] = {1, 0, 0, 0, 0, 2};
	static const float conv[3 * 2 * 4 * 5] = {0};
	struct tmodel tm;
	tmodel_init(&tm);
	add(&tm, "k", MP_F32, 2, (uint64_t[]){3, 2}, k, true, false);
	add(&tm, "conv", MP_F32, 4, (uint64_t[]){3, 2, 4, 5}, conv, true,
	    false);
	add(&tm, "dw", MP_F32, 4, (uint64_t[]){3, 2, 20, 1}, conv, true, false);
	struct mp_fingerprint fp;
	run_ok(&tm, NULL, 2, &fp);
	ck_assert_uint_eq(fp.tensors[0].spec->rows, 2);
	ck_assert_uint_eq(fp.tensors[0].spec->cols, 3);
	ck_assert_uint_eq(NSV(fp.tensors[0]), 2);
	ck_assert_double_eq_tol(fp.tensors[0].spec->sv[0], 2, 1e-14);
	ck_assert_double_eq_tol(fp.tensors[0].spec->sv[1], 1, 1e-14);
	ck_assert_uint_eq(fp.tensors[1].spec->rows, 5);
	ck_assert_uint_eq(fp.tensors[1].spec->cols, 24);
	/* all zero: values 0, ranks 0, no histogram weight */
	ck_assert_uint_eq(NSV(fp.tensors[1]), 5);
	ck_assert_double_eq(fp.tensors[1].spec->sigma1, 0);
	ck_assert_double_eq(fp.tensors[1].spec->stable_rank, 0);
	ck_assert_uint_eq(NSV(fp.tensors[2]), 0); /* output axis of size 1 */
	ck_assert_double_eq_tol(fp.hist[63], 0.5, 1e-15);
	ck_assert_double_eq_tol(fp.hist[bin_of(0.5)], 0.5, 1e-15);
	fp_clear(&fp);

	/* output_axis overrides the format: a [kh=2, kw=2, in=2, out=2] kernel
	 * of 1..16 stored output-first (a safetensors copy in TF.js order)
	 * read with output_axis "last" gives rows (1,3,..,15), (2,4,..,16):
	 * Gram [[680, 744], [744, 816]], sv^2 = 748 +- sqrt(68^2 + 744^2) */
	{
		float w[16];
		for (int i = 0; i < 16; i++)
			w[i] = (float)(i + 1);
		struct tmodel t4;
		tmodel_init(&t4);
		add(&t4, "k", MP_F32, 4, (uint64_t[]){2, 2, 2, 2}, w, false,
		    false);
		double q = sqrt(68.0 * 68 + 744.0 * 744);
		double last[2] = {sqrt(748 + q), sqrt(748 - q)};
		/* output-first rows (1..8), (9..16): Gram [[204, 492], [492,
		 * 1292]], sv^2 = 748 +- sqrt(544^2 + 492^2) */
		double q1 = sqrt(544.0 * 544 + 492.0 * 492);
		double first[2] = {sqrt(748 + q1), sqrt(748 - q1)};
		const char *args[3] = {"{\"output_axis\": \"last\"}", NULL,
				       "{\"output_axis\": \"first\"}"};
		const double *want[3] = {last, first, first};
		for (int a = 0; a < 3; a++) {
			run_ok(&t4, args[a], 1, &fp);
			ck_assert_uint_eq(fp.tensors[0].spec->rows, 2);
			ck_assert_uint_eq(fp.tensors[0].spec->cols, 8);
			ck_assert_uint_eq(NSV(fp.tensors[0]), 2);
			for (int v = 0; v < 2; v++)
				ck_assert_double_eq_tol(fp.tensors[0].spec->sv[v],
							want[a][v],
							1e-12 * want[a][0]);
			fp_clear(&fp);
		}
		/* stored output-last (TF.js): "first" reads it output-first */
		t4.t[0].output_last = true;
		run_ok(&t4, NULL, 1, &fp);
		ck_assert_double_eq_tol(fp.tensors[0].spec->sv[1], last[1],
					1e-12 * last[0]);
		fp_clear(&fp);
		run_ok(&t4, args[2], 1, &fp);
		ck_assert_double_eq_tol(fp.tensors[0].spec->sv[1], first[1],
					1e-12 * first[0]);
		fp_clear(&fp);
	}

	/* the same bytes read output-first: 3 x 2, rows = first dim */
	tm.t[0].output_last = false;
	run_ok(&tm, NULL, 1, &fp);
	ck_assert_uint_eq(fp.tensors[0].spec->rows, 3);
	ck_assert_uint_eq(fp.tensors[0].spec->cols, 2);
	/* [[1,0],[0,0],[0,2]] has the same singular values */
	ck_assert_double_eq_tol(fp.tensors[0].spec->sv[0], 2, 1e-14);
	ck_assert_double_eq_tol(fp.tensors[0].spec->sv[1], 1, 1e-14);
	fp_clear(&fp);
}
END_TEST

struct rand_model {
	struct tmodel tm;
	float *data[5];
};

static void rand_model(struct rand_model *rm, bool permute, bool rename)
{
	/* the last is large enough for a threaded BLAS to split its work */
	static const uint64_t shapes[5][2] = {
	    {40, 30}, {64, 200}, {300, 20}, {5, 7}, {256, 4096}};
	tmodel_init(&rm->tm);
	uint64_t rng = 99;
	for (int k = 0; k < 5; k++) {
		size_t r = shapes[k][0], c = shapes[k][1];
		float *x = malloc(r * c * sizeof(float));
		ck_assert_ptr_nonnull(x);
		for (size_t i = 0; i < r * c; i++)
			x[i] = (float)tu_rand_normal(&rng);
		if (permute) { /* reverse the rows (hidden units) */
			float *y = malloc(r * c * sizeof(float));
			ck_assert_ptr_nonnull(y);
			for (size_t i = 0; i < r; i++)
				memcpy(y + i * c, x + (r - 1 - i) * c,
				       c * sizeof(float));
			free(x);
			x = y;
		}
		rm->data[k] = x;
		char name[16];
		snprintf(name, sizeof(name), rename ? "renamed.%d" : "w%d", k);
		add(&rm->tm, name, MP_F32, 2, shapes[k], x, false, k == 1);
	}
}

static void rand_model_free(struct rand_model *rm)
{
	for (int k = 0; k < 5; k++)
		free(rm->data[k]);
}

START_TEST(threads_identical)
{
	struct rand_model rm;
	rand_model(&rm, false, false);
	const char *cfgs[2] = {NULL, "{\"exact_limit\": 10, \"max_sv\": 12, "
				     "\"seed\": 3}"};
	for (int c = 0; c < 2; c++) {
		struct mp_fingerprint a, b;
		run_ok(&rm.tm, cfgs[c], 1, &a);
		run_ok(&rm.tm, cfgs[c], 2, &b);
		ck_assert_uint_eq(a.ntensors, b.ntensors);
		for (size_t i = 0; i < a.ntensors; i++) {
			ck_assert_uint_eq(NSV(a.tensors[i]), NSV(b.tensors[i]));
			ck_assert(NSV(a.tensors[i]) > 0);
			ck_assert_int_eq(a.tensors[i].spec->sv_exact,
					 c == 0 || i == 3);
			ck_assert_msg(
			    memcmp(a.tensors[i].spec->sv, b.tensors[i].spec->sv,
				   NSV(a.tensors[i]) * sizeof(double)) == 0,
			    "config %d tensor %zu: sv differ (%.17g "
			    "vs %.17g)",
			    c, i, a.tensors[i].spec->sv[0], b.tensors[i].spec->sv[0]);
			ck_assert(a.tensors[i].spec->stable_rank ==
				  b.tensors[i].spec->stable_rank);
		}
		ck_assert(memcmp(a.hist, b.hist, sizeof(a.hist)) == 0);
		fp_clear(&a);
		fp_clear(&b);
	}
	rand_model_free(&rm);
}
END_TEST

START_TEST(permutation_and_rename)
{
	struct rand_model x, y;
	rand_model(&x, false, false);
	rand_model(&y, true, true);
	struct mp_fingerprint a, b;
	run_ok(&x.tm, NULL, 1, &a);
	run_ok(&y.tm, NULL, 2, &b);
	for (size_t i = 0; i < a.ntensors; i++) {
		ck_assert_str_ne(a.tensors[i].name, b.tensors[i].name);
		ck_assert_uint_eq(NSV(a.tensors[i]), NSV(b.tensors[i]));
		for (uint32_t k = 0; k < NSV(a.tensors[i]); k++)
			ck_assert_msg(
			    fabs(a.tensors[i].spec->sv[k] - b.tensors[i].spec->sv[k]) <
				1e-12 * a.tensors[i].spec->sigma1,
			    "tensor %zu sv %u", i, k);
		ck_assert(REL(a.tensors[i].spec->effective_rank,
			      b.tensors[i].spec->effective_rank) < 1e-12);
	}
	for (int k = 0; k < 64; k++)
		ck_assert(fabs(a.hist[k] - b.hist[k]) < 1e-12);
	/* sanity: the model has a spread histogram, not one spike */
	int nonzero = 0;
	for (int k = 0; k < 64; k++)
		nonzero += a.hist[k] > 0;
	ck_assert_int_ge(nonzero, 5);
	fp_clear(&a);
	fp_clear(&b);
	rand_model_free(&x);
	rand_model_free(&y);
}
END_TEST

START_TEST(arguments)
{
	struct tmodel tm;
	tmodel_init(&tm);
	static const float k[4] = {1, 2, 3, 4};
	add(&tm, "k", MP_F32, 2, (uint64_t[]){2, 2}, k, false, false);
	const char *bad[] = {"{\"max_sv\": 0}",
			     "{\"max_sv\": 1025}",
			     "{\"max_sv\": 2.5}",
			     "{\"max_sv\": \"3\"}",
			     "{\"exact_limit\": -1}",
			     "{\"seed\": true}",
			     "{\"output_axis\": \"middle\"}",
			     "{\"output_axis\": 1}"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct mp_fingerprint fp;
		struct mp_error err = {{0}};
		ck_assert_int_eq(run(&tm, bad[i], 1, &fp, &err), MP_EINVAL);
		ck_assert_ptr_nonnull(strstr(err.msg, "spectral"));
		fp_clear(&fp);
		/* the same check before any work (configs, --arg) */
		mp_json *a;
		ck_assert_int_eq(
		    mp_json_parse(bad[i], strlen(bad[i]), "args", &a, NULL),
		    MP_OK);
		ck_assert_int_eq(
		    mp_method_check_args(&mp_method_spectral, a, &err),
		    MP_EINVAL);
		mp_json_free(a);
	}
	const char *const *names = mp_method_spectral.arg_names;
	ck_assert_str_eq(names[0], "max_sv");
	ck_assert_str_eq(names[1], "exact_limit");
	ck_assert_str_eq(names[2], "seed");
	ck_assert_str_eq(names[3], "output_axis");
	ck_assert_ptr_null(names[4]);
	ck_assert_str_eq(mp_method_spectral.name, "spectral");

	/* no qualifying tensor: no histogram */
	struct tmodel none;
	tmodel_init(&none);
	add(&none, "b", MP_F32, 1, (uint64_t[]){4}, k, false, false);
	struct mp_fingerprint fp;
	run_ok(&none, NULL, 0, &fp);
	ck_assert(!fp.has_hist);
	ck_assert_uint_eq(NSV(fp.tensors[0]), 0);
	fp_clear(&fp);
}
END_TEST

static uint64_t prog_last, prog_total;
static int prog_calls;

static void on_prog(void *ctx, uint64_t done, uint64_t total)
{
	(void)ctx;
	prog_calls++;
	if (done > prog_last)
		prog_last = done;
	prog_total = total;
}

START_TEST(progress_and_nonfinite)
{
	static const float good[4] = {1, 0, 0, 1};
	static const float bad[4] = {1, INFINITY, 0, 1};
	struct tmodel tm;
	tmodel_init(&tm);
	add(&tm, "good", MP_F32, 2, (uint64_t[]){2, 2}, good, false, false);
	add(&tm, "bad", MP_F32, 2, (uint64_t[]){2, 2}, bad, false, false);
	struct mp_progress prog = {on_prog, NULL};
	struct mp_fingerprint fp;
	struct mp_error err = {{0}};
	memset(&fp, 0, sizeof(fp));
	ck_assert_int_eq(
	    mp_method_spectral.compute(&tm.m, NULL, 2, &prog, &fp, &err),
	    MP_OK);
	ck_assert_int_eq(prog_calls, 2);
	ck_assert_uint_eq(prog_last, 32);
	ck_assert_uint_eq(prog_total, 32);
	ck_assert_uint_eq(NSV(fp.tensors[0]), 2);
	ck_assert_uint_eq(NSV(fp.tensors[1]), 0);
	ck_assert_double_eq_tol(fp.hist[63], 1, 1e-15);
	fp_clear(&fp);
}
END_TEST

Suite *suite_spectral(void)
{
	Suite *s = suite_create("spectral");
	TCase *tc = tcase_create("svd");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, diagonal);
	tcase_add_test(tc, rank_one);
	tcase_add_test(tc, scaled_orthogonal);
	tcase_add_test(tc, two_by_two);
	tcase_add_test(tc, randomized_vs_known);
	tcase_add_test(tc, streamed_blocks);
	tcase_add_test(tc, randomized_rank_deficient);
	tcase_add_test(tc, non_finite);
	tcase_add_test(tc, randomized_f32_vs_exact);
	suite_add_tcase(s, tc);
	tc = tcase_create("method");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, method_listing_and_histogram);
	tcase_add_test(tc, output_last);
	tcase_add_test(tc, threads_identical);
	tcase_add_test(tc, permutation_and_rename);
	tcase_add_test(tc, arguments);
	tcase_add_test(tc, progress_and_nonfinite);
	suite_add_tcase(s, tc);
	return s;
}
