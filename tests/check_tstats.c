/* check_tstats.c — exact tensor statistics against hand-computed values and
 * an independent reference that sorts a copy of the data. */
#include "check_suites.h"
#include "testutil.h"

#include "tstats.h"
#include "tstats_int.h" /* mp_tstats_new_limit, TINY_MAX */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- reference: sort, numpy formulas, straightforward two-pass sums ---- */

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* numpy.percentile(..., method="linear") of sorted s[0..n) */
static double ref_pct(const double *s, size_t n, double p)
{
	double pos = p * (double)(n - 1);
	size_t lo = (size_t)floor(pos), hi = (size_t)ceil(pos);
	double t = pos - floor(pos), d = s[hi] - s[lo];
	return t >= 0.5 ? s[hi] - d * (1 - t) : s[lo] + d * t;
}

static double ref_median(const double *s, size_t n)
{
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static void ref_stats(const double *x, size_t nall, struct mp_tstats *o)
{
	double *s = malloc((nall ? nall : 1) * sizeof *s);
	ck_assert_ptr_nonnull(s);
	size_t n = 0;
	memset(o, 0, sizeof *o);
	for (size_t i = 0; i < nall; i++) {
		if (isfinite(x[i]))
			s[n++] = x[i];
		else
			o->nonfinite++;
	}
	o->n = n;
	qsort(s, n, sizeof *s, cmp_d);
	/* the sum around the median keeps the mean accurate when the values
	 * cluster far from 0 */
	long double sum = 0, l1 = 0, sq = 0, c = n ? s[n / 2] : 0;
	size_t sparse = 0;
	for (size_t i = 0; i < n; i++) {
		sum += s[i] - c;
		l1 += fabs(s[i]);
		sq += (long double)s[i] * s[i];
		sparse += fabs(s[i]) < 1e-6;
	}
	o->mean = (double)(c + sum / n);
	long double m2 = 0, m3 = 0, m4 = 0;
	for (size_t i = 0; i < n; i++) {
		long double d = (long double)s[i] - o->mean;
		m2 += d * d;
		m3 += d * d * d;
		m4 += d * d * d * d;
	}
	m2 /= n;
	m3 /= n;
	m4 /= n;
	o->std = sqrt((double)m2);
	o->skew = m2 == 0 ? NAN : (double)(m3 / powl(m2, 1.5L));
	o->kurtosis = m2 == 0 ? NAN : (double)(m4 / (m2 * m2) - 3);
	o->min = s[0];
	o->max = s[n - 1];
	o->median = ref_median(s, n);
	o->q25 = ref_pct(s, n, 0.25);
	o->q75 = ref_pct(s, n, 0.75);
	o->iqr = o->q75 - o->q25;
	o->l1_norm = (double)l1;
	o->l2_norm = sqrt((double)sq);
	o->linf_norm = fmax(fabs(s[0]), fabs(s[n - 1]));
	o->sparsity = (double)sparse / (double)n;
	double *d = malloc(n * sizeof *d);
	ck_assert_ptr_nonnull(d);
	for (size_t i = 0; i < n; i++)
		d[i] = fabs(s[i] - o->median);
	qsort(d, n, sizeof *d, cmp_d);
	o->mad = ref_median(d, n);
	for (size_t i = 0; i < n; i++)
		d[i] = fabs(s[i]);
	qsort(d, n, sizeof *d, cmp_d);
	size_t k = n / 10 ? n / 10 : 1;
	long double top = 0;
	for (size_t i = 0; i < k; i++)
		top += (long double)d[n - 1 - i] * d[n - 1 - i];
	o->energy_concentration = sq > 0 ? (double)(top / sq) : 0;
	free(d);
	free(s);
}

static bool same_or_nan(double a, double b)
{
	return (isnan(a) && isnan(b)) || a == b;
}

/* |a - b| <= tol * max(|b|, scale); NaN only matches NaN. */
static bool close_to(double a, double b, double tol, double scale)
{
	if (isnan(a) || isnan(b))
		return isnan(a) && isnan(b);
	return fabs(a - b) <= tol * fmax(scale, fabs(b));
}

/* Order statistics exactly; sums to tol relative (the mean relative to the
 * spread, as it may be near 0); skew and kurtosis, sums with cancellation,
 * to shape_tol relative above 1, absolute below. */
static void expect_stats_shape(const struct mp_tstats *g,
			       const struct mp_tstats *e, double tol,
			       double shape_tol)
{
	ck_assert_uint_eq(g->n, e->n);
	ck_assert_uint_eq(g->nonfinite, e->nonfinite);
	const double *ord[][2] = {
	    {&g->min, &e->min},       {&g->max, &e->max},
	    {&g->median, &e->median}, {&g->q25, &e->q25},
	    {&g->q75, &e->q75},       {&g->iqr, &e->iqr},
	    {&g->mad, &e->mad},       {&g->linf_norm, &e->linf_norm},
	    {&g->sparsity, &e->sparsity}};
	for (size_t i = 0; i < sizeof ord / sizeof *ord; i++)
		ck_assert_msg(same_or_nan(*ord[i][0], *ord[i][1]),
			      "order statistic %zu: got %.17g want %.17g", i,
			      *ord[i][0], *ord[i][1]);
	ck_assert_msg(close_to(g->mean, e->mean, tol, e->std),
		      "mean: got %.17g want %.17g", g->mean, e->mean);
	const double *num[][2] = {
	    {&g->std, &e->std},
	    {&g->l1_norm, &e->l1_norm},
	    {&g->l2_norm, &e->l2_norm},
	    {&g->energy_concentration, &e->energy_concentration}};
	for (size_t i = 0; i < sizeof num / sizeof *num; i++)
		ck_assert_msg(close_to(*num[i][0], *num[i][1], tol, 0),
			      "statistic %zu: got %.17g want %.17g", i,
			      *num[i][0], *num[i][1]);
	ck_assert_msg(close_to(g->skew, e->skew, shape_tol, 1),
		      "skew %.17g %.17g", g->skew, e->skew);
	ck_assert_msg(close_to(g->kurtosis, e->kurtosis, shape_tol, 1),
		      "kurtosis %.17g %.17g", g->kurtosis, e->kurtosis);
}

static void expect_stats(const struct mp_tstats *g, const struct mp_tstats *e,
			 double tol)
{
	expect_stats_shape(g, e, tol, 100 * tol);
}

/* Statistics through the streaming interface, fed in the given block sizes
 * (the last one repeated), taking the tiny path when n <= tiny_max;
 * returns the number of passes. */
static int run_limit(enum mp_dtype dt, const struct mp_quant *q,
		     const void *data, uint64_t n, uint64_t tiny_max,
		     const uint64_t *blocks, int nblocks, struct mp_tstats *out)
{
	struct mp_tstats_acc *a = mp_tstats_new_limit(dt, q, n, tiny_max);
	ck_assert_ptr_nonnull(a);
	unsigned w = mp_dtype_size(dt);
	int passes = 0;
	do {
		passes++;
		uint64_t done = 0;
		for (int b = 0; done < n; b = b + 1 < nblocks ? b + 1 : b) {
			uint64_t m = blocks[b] < n - done ? blocks[b] : n - done;
			mp_tstats_feed(a, (const uint8_t *)data + done * w, m);
			done += m;
		}
	} while (mp_tstats_next_pass(a));
	ck_assert_int_eq(mp_tstats_finish(a, out), MP_OK);
	mp_tstats_free(a);
	return passes;
}

static int run_acc(enum mp_dtype dt, const struct mp_quant *q,
		   const void *data, uint64_t n, const uint64_t *blocks,
		   int nblocks, struct mp_tstats *out)
{
	return run_limit(dt, q, data, n, TINY_MAX, blocks, nblocks, out);
}

static void check_doubles(const double *x, size_t n)
{
	struct mp_tstats g, e;
	ck_assert_int_eq(mp_tstats_of_doubles(x, n, &g), MP_OK);
	ref_stats(x, n, &e);
	expect_stats(&g, &e, 1e-12);
}

/* ---- hand-computed cases ---- */

START_TEST(test_one_to_four)
{
	/* x = 1 2 3 4: mean 2.5; deviations -1.5 -.5 .5 1.5; m2 = 5/4,
	 * std = sqrt(1.25); m3 = 0 so skew 0; m4 = (2*5.0625 + 2*.0625)/4 =
	 * 2.5625, kurtosis = 2.5625/1.5625 - 3 = -1.36. Positions: q25 at
	 * .75 -> 1 + .75 = 1.75, median (2+3)/2 = 2.5, q75 at 2.25 -> 3.25.
	 * |x - 2.5| = 1.5 .5 .5 1.5 -> mad (.5 + 1.5)/2 = 1. l1 = 10,
	 * l2 = sqrt(30); k = max(1, 4//10) = 1 -> energy 16/30. */
	const double x[] = {3, 1, 4, 2};
	struct mp_tstats s;
	ck_assert_int_eq(mp_tstats_of_doubles(x, 4, &s), MP_OK);
	ck_assert_uint_eq(s.n, 4);
	ck_assert_double_eq(s.mean, 2.5);
	ck_assert_double_eq_tol(s.std, sqrt(1.25), 1e-15);
	ck_assert_double_eq(s.min, 1);
	ck_assert_double_eq(s.max, 4);
	ck_assert_double_eq(s.median, 2.5);
	ck_assert_double_eq(s.q25, 1.75);
	ck_assert_double_eq(s.q75, 3.25);
	ck_assert_double_eq(s.iqr, 1.5);
	ck_assert_double_eq(s.mad, 1.0);
	ck_assert_double_eq_tol(s.skew, 0, 1e-15);
	ck_assert_double_eq_tol(s.kurtosis, -1.36, 1e-14);
	ck_assert_double_eq(s.l1_norm, 10);
	ck_assert_double_eq_tol(s.l2_norm, sqrt(30), 1e-15);
	ck_assert_double_eq(s.linf_norm, 4);
	ck_assert_double_eq(s.sparsity, 0);
	ck_assert_double_eq_tol(s.energy_concentration, 16.0 / 30, 1e-15);
	ck_assert_uint_eq(s.nonfinite, 0);
	check_doubles(x, 4);
}
END_TEST

START_TEST(test_small_n)
{
	/* n = 1: everything is the value, spread 0, shape undefined (NaN as
	 * scipy), energy 1. */
	const double one[] = {3.5};
	struct mp_tstats s;
	ck_assert_int_eq(mp_tstats_of_doubles(one, 1, &s), MP_OK);
	ck_assert_double_eq(s.mean, 3.5);
	ck_assert_double_eq(s.std, 0);
	ck_assert_double_eq(s.median, 3.5);
	ck_assert_double_eq(s.q25, 3.5);
	ck_assert_double_eq(s.q75, 3.5);
	ck_assert_double_eq(s.mad, 0);
	ck_assert(isnan(s.skew) && isnan(s.kurtosis));
	ck_assert_double_eq(s.energy_concentration, 1);
	/* n = 2, x = -1 3: mean 1, std 2; q25 at .25 -> -1 + 4/4 = 0; q75 at
	 * .75 -> 3 - 4/4 = 2; |x - 1| = 2 2 -> mad 2; m3 = 0 -> skew 0;
	 * m4 = 16 = m2^2 -> kurtosis -2; energy 9/10. */
	const double two[] = {3, -1};
	ck_assert_int_eq(mp_tstats_of_doubles(two, 2, &s), MP_OK);
	ck_assert_double_eq(s.mean, 1);
	ck_assert_double_eq(s.std, 2);
	ck_assert_double_eq(s.median, 1);
	ck_assert_double_eq(s.q25, 0);
	ck_assert_double_eq(s.q75, 2);
	ck_assert_double_eq(s.mad, 2);
	ck_assert_double_eq(s.skew, 0);
	ck_assert_double_eq(s.kurtosis, -2);
	ck_assert_double_eq_tol(s.energy_concentration, 0.9, 1e-15);
	check_doubles(two, 2);
}
END_TEST

START_TEST(test_constant_and_empty)
{
	const double x[] = {2, 2, 2, 2, 2};
	struct mp_tstats s;
	ck_assert_int_eq(mp_tstats_of_doubles(x, 5, &s), MP_OK);
	ck_assert_double_eq(s.mean, 2);
	ck_assert_double_eq(s.std, 0);
	ck_assert_double_eq(s.median, 2);
	ck_assert_double_eq(s.iqr, 0);
	ck_assert_double_eq(s.mad, 0);
	ck_assert(isnan(s.skew) && isnan(s.kurtosis));
	/* k = 1 of 5 equal squares */
	ck_assert_double_eq_tol(s.energy_concentration, 0.2, 1e-15);
	/* all zeros: energy 0 by definition, sparsity 1 */
	const double z[] = {0, 0, 0};
	ck_assert_int_eq(mp_tstats_of_doubles(z, 3, &s), MP_OK);
	ck_assert_double_eq(s.energy_concentration, 0);
	ck_assert_double_eq(s.sparsity, 1);
	ck_assert_int_eq(mp_tstats_of_doubles(NULL, 0, &s), MP_OK);
	ck_assert_uint_eq(s.n, 0);
	for (int i = 0; i < MP_TSTATS_NFIELDS; i++)
		ck_assert(isnan(*mp_tstats_field(&s, i)));
	/* empty 16-bit tensor */
	struct mp_tstats_acc *a = mp_tstats_new(MP_BF16, NULL, 0);
	ck_assert_ptr_nonnull(a);
	ck_assert(!mp_tstats_next_pass(a));
	ck_assert_int_eq(mp_tstats_finish(a, &s), MP_OK);
	mp_tstats_free(a);
	ck_assert_uint_eq(s.n, 0);
	ck_assert(isnan(s.mean) && isnan(s.median));
}
END_TEST

START_TEST(test_nonfinite)
{
	/* finite values 1 2 3: mean 2, median 2, three excluded */
	const double x[] = {1, NAN, 2, INFINITY, -INFINITY, 3};
	struct mp_tstats s;
	ck_assert_int_eq(mp_tstats_of_doubles(x, 6, &s), MP_OK);
	ck_assert_uint_eq(s.n, 3);
	ck_assert_uint_eq(s.nonfinite, 3);
	ck_assert_double_eq(s.mean, 2);
	ck_assert_double_eq(s.median, 2);
	ck_assert_double_eq(s.max, 3);
	ck_assert_double_eq(s.linf_norm, 3);
	check_doubles(x, 6);
	/* the same through F32 and F16 storage */
	const float f[] = {1, NAN, 2, INFINITY, -INFINITY, 3};
	uint64_t blk[] = {4};
	ck_assert_int_eq(run_acc(MP_F32, NULL, f, 6, blk, 1, &s) > 0, 1);
	ck_assert_uint_eq(s.n, 3);
	ck_assert_uint_eq(s.nonfinite, 3);
	ck_assert_double_eq(s.median, 2);
	const uint16_t h[] = {0x3c00, 0x7e00, 0x4000, 0x7c00, 0xfc00, 0x4200};
	run_acc(MP_F16, NULL, h, 6, blk, 1, &s);
	ck_assert_uint_eq(s.n, 3);
	ck_assert_uint_eq(s.nonfinite, 3);
	ck_assert_double_eq(s.mean, 2);
	ck_assert_double_eq(s.median, 2);
}
END_TEST

START_TEST(test_negative_zero)
{
	/* sorted: -1 -0 0 -0 1 (zeros equal): median 0, q25 0, q75 0, three
	 * sparse values of five, mad = median(1 0 0 0 1) = 0 */
	const double x[] = {-0.0, 0.0, -0.0, 1.0, -1.0};
	struct mp_tstats s;
	ck_assert_int_eq(mp_tstats_of_doubles(x, 5, &s), MP_OK);
	ck_assert_double_eq(s.median, 0);
	ck_assert_double_eq(s.q25, 0);
	ck_assert_double_eq(s.q75, 0);
	ck_assert_double_eq(s.mad, 0);
	ck_assert_double_eq(s.sparsity, 0.6);
	ck_assert_double_eq(s.min, -1);
	check_doubles(x, 5);
	const uint16_t bf[] = {0x8000, 0x0000, 0x8000, 0x3f80, 0xbf80};
	uint64_t blk[] = {5};
	run_acc(MP_BF16, NULL, bf, 5, blk, 1, &s);
	ck_assert_double_eq(s.median, 0);
	ck_assert_double_eq(s.sparsity, 0.6);
	ck_assert_double_eq(s.mad, 0);
}
END_TEST

START_TEST(test_energy_k)
{
	/* 1..10: k = 10//10 = 1 -> 100/385; 1..9: k = max(1, 0) -> 81/285;
	 * 1..20: k = 2 -> (400 + 361)/2870 */
	double x[20];
	for (int i = 0; i < 20; i++)
		x[i] = i + 1;
	struct mp_tstats s;
	ck_assert_int_eq(mp_tstats_of_doubles(x, 10, &s), MP_OK);
	ck_assert_double_eq_tol(s.energy_concentration, 100.0 / 385, 1e-15);
	ck_assert_int_eq(mp_tstats_of_doubles(x, 9, &s), MP_OK);
	ck_assert_double_eq_tol(s.energy_concentration, 81.0 / 285, 1e-15);
	ck_assert_int_eq(mp_tstats_of_doubles(x, 20, &s), MP_OK);
	ck_assert_double_eq_tol(s.energy_concentration, 761.0 / 2870, 1e-15);
	/* ties at the threshold: |x| = 5 5 5 5 ... with k = 2 of 20 */
	for (int i = 0; i < 20; i++)
		x[i] = i % 2 ? 5 : -5;
	ck_assert_int_eq(mp_tstats_of_doubles(x, 20, &s), MP_OK);
	ck_assert_double_eq_tol(s.energy_concentration, 0.1, 1e-15);
	/* the same through F32 */
	float f[20];
	for (int i = 0; i < 20; i++)
		f[i] = (float)(i + 1);
	uint64_t blk[] = {3, 7};
	run_acc(MP_F32, NULL, f, 9, blk, 2, &s);
	ck_assert_double_eq_tol(s.energy_concentration, 81.0 / 285, 1e-15);
	run_acc(MP_F32, NULL, f, 20, blk, 2, &s);
	ck_assert_double_eq_tol(s.energy_concentration, 761.0 / 2870, 1e-15);
}
END_TEST

/* ---- wide types against the sort reference ---- */

START_TEST(test_f32_random)
{
	size_t n = 1000000;
	float *f = malloc(n * sizeof *f);
	double *x = malloc(n * sizeof *x);
	ck_assert(f && x);
	uint64_t st = 42;
	for (size_t i = 0; i < n; i++) {
		f[i] = (float)(0.02 * tu_rand_normal(&st) + 0.001);
		x[i] = f[i];
	}
	struct mp_tstats g, e;
	uint64_t blk[] = {1000, 12345, 1 << 20};
	int passes = run_acc(MP_F32, NULL, f, n, blk, 3, &g);
	ref_stats(x, n, &e);
	expect_stats(&g, &e, 1e-12);
	/* the mad is gathered in pass 1 while the median is resolved */
	ck_assert_msg(passes == 2, "F32 took %d passes", passes);
	/* uniform values and odd n */
	for (size_t i = 0; i < n; i++) {
		f[i] = (float)(tu_rand_uniform(&st) * 4 - 1);
		x[i] = f[i];
	}
	uint64_t blk2[] = {777};
	run_acc(MP_F32, NULL, f, n - 1, blk2, 1, &g);
	ref_stats(x, n - 1, &e);
	expect_stats(&g, &e, 1e-12);
	free(f);
	free(x);
}
END_TEST

/* F32 values against the sort reference; want_passes 0 for any number. */
static void check_f32(const float *f, size_t n, int want_passes)
{
	double *x = malloc((n ? n : 1) * sizeof *x);
	ck_assert_ptr_nonnull(x);
	for (size_t i = 0; i < n; i++)
		x[i] = f[i];
	struct mp_tstats g, e;
	uint64_t blk[] = {1000, 4093}, finite = 0;
	int passes = run_acc(MP_F32, NULL, f, n, blk, 2, &g);
	for (size_t i = 0; i < n; i++)
		finite += isfinite(x[i]) != 0;
	if (finite) {
		ref_stats(x, n, &e);
		expect_stats(&g, &e, 1e-12);
	} else {
		ck_assert_uint_eq(g.n, 0);
		ck_assert_uint_eq(g.nonfinite, n);
	}
	if (want_passes)
		ck_assert_msg(passes == want_passes, "n %zu: %d passes", n,
			      passes);
	free(x);
}

START_TEST(test_f32_mad_paths)
{
	size_t n = 1200000, nbig = CAND_MAX + 100000;
	float *f = malloc(nbig * sizeof *f);
	ck_assert_ptr_nonnull(f);
	uint64_t st = 11;
	/* 1 + k ulp: every value in the median's top-16 bucket, more than
	 * the gathering limit of the mad candidates -> the mad is narrowed in
	 * passes of its own, over 64-bit keys of d: 16 bits, then collected */
	for (size_t i = 0; i < nbig; i++)
		f[i] = 1.0f + (float)(tu_rand_u64(&st) % 3000) * 0x1p-23f;
	check_f32(f, nbig, 4);
	/* 1.2M candidates (the largest tensors of a 7B model have about as
	 * many): still gathered, two passes */
	check_f32(f, n, 2);
	/* the same spread below the gathering limit: two passes */
	check_f32(f, 900000, 2);
	/* symmetric around 0 with the median exactly 0 and a bucket (of
	 * zeros) holding most values; the mad is 0 */
	for (size_t i = 0; i < n; i++)
		f[i] = i % 4 ? 0.0f : (float)tu_rand_normal(&st);
	check_f32(f, n, 2);
	/* mad from a few distinct values far from the median's bucket */
	for (size_t i = 0; i < n; i++)
		f[i] = (float)(tu_rand_u64(&st) % 5) - 2.0f;
	check_f32(f, n, 0);
	/* denormals, +-0, NaN and Inf interleaved with normal values */
	for (size_t i = 0; i < n; i++) {
		uint64_t r = tu_rand_u64(&st);
		float v = r % 7 == 0   ? 0x1p-140f * (float)(r % 1000)
			  : r % 7 == 1 ? -0.0f
			  : r % 7 == 2 ? 0.0f
			  : r % 97 == 3 ? NAN
			  : r % 97 == 4 ? -INFINITY
					: (float)tu_rand_normal(&st) * 1e-3f;
		f[i] = r % 2 && v == v ? -v : v;
	}
	check_f32(f, n, 0);
	/* a NaN or an Inf in a few chunks only: the passes read the other
	 * chunks straight from their bytes, these through the staged
	 * decoding */
	for (size_t i = 0; i < n; i++) {
		uint64_t r = tu_rand_u64(&st);
		f[i] = r % 20011 == 0  ? NAN
		       : r % 20011 == 1 ? INFINITY
					 : (float)tu_rand_normal(&st) + 0.25f;
	}
	check_f32(f, n, 2);
	/* tiny tensors, all zeros, only non-finite values: one pass */
	const float small[] = {2.5f, -1.0f, 0.0f, 0.0f, 0.0f};
	check_f32(small, 1, 1);
	check_f32(small, 2, 1);
	check_f32(small + 2, 3, 1);
	const float nf[] = {NAN, INFINITY};
	check_f32(nf, 2, 1);
	free(f);
}
END_TEST

START_TEST(test_f64_and_ints)
{
	size_t n = 300001;
	double *x = malloc(n * sizeof *x);
	int32_t *i32 = malloc(n * sizeof *i32);
	int64_t *i64 = malloc(n * sizeof *i64);
	ck_assert(x && i32 && i64);
	uint64_t st = 7;
	for (size_t i = 0; i < n; i++)
		x[i] = tu_rand_normal(&st) * 3 - 1;
	check_doubles(x, n);
	struct mp_tstats g, e;
	for (size_t i = 0; i < n; i++) {
		i32[i] = (int32_t)(tu_rand_u64(&st) % 2001) - 1000;
		i64[i] = (int64_t)(tu_rand_u64(&st) >> 20) - (1LL << 43);
	}
	uint64_t blk[] = {4099};
	for (size_t i = 0; i < n; i++)
		x[i] = i32[i];
	run_acc(MP_I32, NULL, i32, n, blk, 1, &g);
	ref_stats(x, n, &e);
	expect_stats(&g, &e, 1e-12);
	for (size_t i = 0; i < n; i++)
		x[i] = (double)i64[i];
	run_acc(MP_I64, NULL, i64, n, blk, 1, &g);
	ref_stats(x, n, &e);
	expect_stats(&g, &e, 1e-12);
	free(x);
	free(i32);
	free(i64);
}
END_TEST

START_TEST(test_duplicates)
{
	/* 1.5M F32 values, 1.2M of them equal: the median bucket exceeds the
	 * collect limit, so its low bits are counted instead. */
	size_t n = 1500000;
	float *f = malloc(n * sizeof *f);
	double *x = malloc(n * sizeof *x);
	ck_assert(f && x);
	uint64_t st = 3;
	for (size_t i = 0; i < n; i++) {
		f[i] = i % 5 ? 0.5f : (float)tu_rand_normal(&st);
		x[i] = f[i];
	}
	struct mp_tstats g, e;
	uint64_t blk[] = {65536};
	run_acc(MP_F32, NULL, f, n, blk, 1, &g);
	ref_stats(x, n, &e);
	expect_stats(&g, &e, 1e-12);
	/* F64 values sharing their top 48 bits: narrowing through every
	 * 16-bit level of the double keys, and many exact duplicates */
	for (size_t i = 0; i < n; i++)
		x[i] = i % 3 ? 1.0 + (double)(tu_rand_u64(&st) % 5000) * 0x1p-52
			     : 1.0 + 0x1p-40;
	/* values spread over 1e-12 around 1: the double mean itself is off
	 * by ~1e-4 of the spread, so the moments are ill-conditioned in any
	 * double computation (scipy's too); the spread is checked loosely,
	 * the order statistics exactly */
	ck_assert_int_eq(mp_tstats_of_doubles(x, n, &g), MP_OK);
	ref_stats(x, n, &e);
	expect_stats_shape(&g, &e, 1e-12, 1e-2);
	free(f);
	free(x);
}
END_TEST

/* ---- histogram path ---- */

static void check_codes(enum mp_dtype dt, const struct mp_quant *q,
			size_t n, uint64_t seed)
{
	unsigned w = mp_dtype_size(dt);
	uint8_t *b = malloc(n * w);
	double *x = malloc(n * sizeof *x);
	ck_assert(b && x);
	uint64_t st = seed;
	for (size_t i = 0; i < n * w; i++)
		b[i] = (uint8_t)tu_rand_u64(&st);
	if (w == 2) /* concentrate most values in a few codes */
		for (size_t i = 0; i < n; i += 3)
			b[2 * i + 1] = 0x3c;
	mp_dtype_to_double(dt, b, n, x);
	if (q && q->kind == MP_QUANT_AFFINE)
		for (size_t i = 0; i < n; i++)
			x[i] = (double)(float)(x[i] * q->scale + q->min);
	struct mp_tstats g, e;
	uint64_t blk[] = {1000, 12345, 100000};
	ck_assert_int_eq(run_acc(dt, q, b, n, blk, 3, &g), 1);
	ref_stats(x, n, &e);
	expect_stats(&g, &e, 1e-12);
	free(b);
	free(x);
}

START_TEST(test_histogram_types)
{
	check_codes(MP_F16, NULL, 400000, 1);
	check_codes(MP_BF16, NULL, 400000, 2);
	check_codes(MP_F8_E4M3, NULL, 100000, 3);
	check_codes(MP_F8_E5M2, NULL, 100000, 4);
	check_codes(MP_I8, NULL, 100001, 5);
	check_codes(MP_U8, NULL, 1001, 6);
	check_codes(MP_I16, NULL, 3000, 7);
	struct mp_quant q = {MP_QUANT_AFFINE, 0.0123, -1.37};
	check_codes(MP_U8, &q, 200000, 8);
	struct mp_quant q16 = {MP_QUANT_AFFINE, 1.5e-5, -0.3};
	check_codes(MP_U16, &q16, 200000, 9);
}
END_TEST

START_TEST(test_affine_by_hand)
{
	/* codes 0 1 2 3 with scale .5 and min -1 -> -1 -.5 0 .5: median
	 * -.25, q25 -.625, q75 .125, one sparse value, mad .5 */
	const uint8_t c[] = {2, 0, 3, 1};
	struct mp_quant q = {MP_QUANT_AFFINE, 0.5, -1};
	struct mp_tstats s;
	uint64_t blk[] = {4};
	run_acc(MP_U8, &q, c, 4, blk, 1, &s);
	ck_assert_double_eq(s.mean, -0.25);
	ck_assert_double_eq(s.median, -0.25);
	ck_assert_double_eq(s.q25, -0.625);
	ck_assert_double_eq(s.q75, 0.125);
	ck_assert_double_eq(s.mad, 0.5);
	ck_assert_double_eq(s.sparsity, 0.25);
	ck_assert_double_eq(s.linf_norm, 1);
}
END_TEST

/* ---- the tiny path against the passes over histograms ---- */

/* Bit patterns of every field, n and nonfinite equal. */
static void expect_same_bits(const struct mp_tstats *g,
			     const struct mp_tstats *e, const char *what)
{
	ck_assert_msg(g->n == e->n && g->nonfinite == e->nonfinite,
		      "%s: n %llu/%llu nonfinite %llu/%llu", what,
		      (unsigned long long)g->n, (unsigned long long)e->n,
		      (unsigned long long)g->nonfinite,
		      (unsigned long long)e->nonfinite);
	struct mp_tstats a = *g, b = *e;
	for (int i = 0; i < MP_TSTATS_NFIELDS; i++)
		ck_assert_msg(!memcmp(mp_tstats_field(&a, i),
				      mp_tstats_field(&b, i), sizeof(double)),
			      "%s: %s tiny %.17g, passes %.17g", what,
			      mp_tstats_field_name(i), *mp_tstats_field(&a, i),
			      *mp_tstats_field(&b, i));
}

/* Value number i of a tensor of kind `kind`: 0 normal, 1 three tied
 * values, 2 denormals, +-0, NaN and Inf among small normals, 3 constant,
 * 4 huge values of both signs. */
static double tiny_value(int kind, uint64_t *st, double huge)
{
	uint64_t r = tu_rand_u64(st);
	switch (kind) {
	case 0:
		return tu_rand_normal(st) * 0.05 + 0.01;
	case 1:
		return (double)(r % 3) - 1;
	case 2: {
		double v = r % 7 == 0	? 0x1p-140 * (double)(r % 1000)
			   : r % 7 == 1 ? -0.0
			   : r % 7 == 2 ? 0.0
			   : r % 13 == 3 ? NAN
			   : r % 13 == 4 ? -INFINITY
			   : r % 13 == 5 ? INFINITY
					 : tu_rand_normal(st) * 1e-3;
		return r % 2 && v == v ? -v : v;
	}
	case 3:
		return 0.3;
	default:
		return (r % 2 ? huge : -huge) * (0.5 + tu_rand_uniform(st));
	}
}

/* The same bytes through the tiny path and through the passes, fed in
 * whole and in odd blocks: the same bits; the tiny path also against the
 * sort reference when the values are finite or wide. */
static void check_tiny(enum mp_dtype dt, const struct mp_quant *q,
		       const void *b, const double *x, size_t n)
{
	struct mp_tstats t, w, e;
	uint64_t whole[] = {n ? n : 1}, odd[] = {1000, 4093, 3};
	char what[64];
	snprintf(what, sizeof what, "%s n %zu", mp_dtype_name(dt), n);
	ck_assert_int_eq(run_limit(dt, q, b, n, n, whole, 1, &t), 1);
	run_limit(dt, q, b, n, 0, whole, 1, &w);
	expect_same_bits(&t, &w, what);
	ck_assert_int_eq(run_limit(dt, q, b, n, n, odd, 3, &t), 1);
	run_limit(dt, q, b, n, 0, odd, 3, &w);
	expect_same_bits(&t, &w, what);
	if (x && t.n && isfinite(t.l2_norm)) {
		ref_stats(x, n, &e);
		expect_stats(&t, &e, 1e-12);
	}
}

START_TEST(test_tiny_path)
{
	const size_t ns[] = {1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 19, 20, 21,
			     100, 1023, 1024, 1025, 4095, 4096};
	size_t max = 4096;
	float *f = malloc(max * sizeof *f);
	double *x = malloc(max * sizeof *x), *xf = malloc(max * sizeof *xf);
	int32_t *i32 = malloc(max * sizeof *i32);
	int64_t *i64 = malloc(max * sizeof *i64);
	uint16_t *h = malloc(max * sizeof *h);
	ck_assert(f && x && xf && i32 && i64 && h);
	uint64_t st = 99;
	struct mp_quant qf = {MP_QUANT_AFFINE, 0.25, -3};
	struct mp_quant q16 = {MP_QUANT_AFFINE, 1.5e-5, -0.3};
	for (int kind = 0; kind < 5; kind++)
		for (size_t c = 0; c < sizeof ns / sizeof *ns; c++) {
			size_t n = ns[c];
			for (size_t i = 0; i < n; i++) {
				f[i] = (float)tiny_value(kind, &st, 3e38);
				xf[i] = f[i];
				x[i] = tiny_value(kind, &st, 1e308);
				i32[i] = kind == 1 ? (int32_t)(x[i] * 7)
					 : (int32_t)(tu_rand_u64(&st) % 2001) - 1000;
				i64[i] = (int64_t)(tu_rand_u64(&st) >> 1) -
					 (kind == 4 ? INT64_MAX / 2 : 0);
				uint64_t r = tu_rand_u64(&st);
				h[i] = kind == 1   ? (uint16_t)(0x3c00 + r % 3)
				       : kind == 3 ? 0x8000
						   : (uint16_t)r;
			}
			check_tiny(MP_F32, NULL, f, xf, n);
			check_tiny(MP_F64, NULL, x, x, n);
			check_tiny(MP_I32, NULL, i32, NULL, n);
			check_tiny(MP_I64, NULL, i64, NULL, n);
			check_tiny(MP_F32, &qf, f, NULL, n);
			check_tiny(MP_F16, NULL, h, NULL, n);
			check_tiny(MP_BF16, NULL, h, NULL, n);
			check_tiny(MP_U16, &q16, h, NULL, n);
			check_tiny(MP_I16, NULL, h, NULL, n);
		}
	/* no values at all, and only non-finite ones */
	const float nf[] = {NAN, INFINITY, -INFINITY};
	check_tiny(MP_F32, NULL, nf, NULL, 0);
	check_tiny(MP_F32, NULL, nf, NULL, 3);
	free(f);
	free(x);
	free(xf);
	free(i32);
	free(i64);
	free(h);
}
END_TEST

/* A tiny tensor fed more values than it declared: an error, not an
 * overflow of its buffers. */
START_TEST(test_tiny_overfed)
{
	const float f[] = {1, 2, 3, 4, 5};
	const uint16_t h[] = {1, 2, 3, 4, 5};
	struct mp_tstats s;
	struct mp_tstats_acc *a = mp_tstats_new(MP_F32, NULL, 3);
	ck_assert_ptr_nonnull(a);
	mp_tstats_feed(a, (const uint8_t *)f, 5);
	ck_assert(!mp_tstats_next_pass(a));
	ck_assert_int_eq(mp_tstats_finish(a, &s), MP_EIO);
	mp_tstats_free(a);
	a = mp_tstats_new(MP_F16, NULL, 3);
	ck_assert_ptr_nonnull(a);
	mp_tstats_feed(a, (const uint8_t *)h, 5);
	ck_assert(!mp_tstats_next_pass(a));
	ck_assert_int_eq(mp_tstats_finish(a, &s), MP_EIO);
	mp_tstats_free(a);
}
END_TEST

START_TEST(test_field_names)
{
	const char *want[] = {"mean",	   "std",	  "min",
			      "max",	   "median",	  "q25",
			      "q75",	   "iqr",	  "mad",
			      "skew",	   "kurtosis",	  "l1_norm",
			      "l2_norm",   "linf_norm",	  "sparsity",
			      "energy_concentration"};
	struct mp_tstats s;
	double *ptr[] = {&s.mean,     &s.std,	    &s.min,	 &s.max,
			 &s.median,   &s.q25,	    &s.q75,	 &s.iqr,
			 &s.mad,      &s.skew,	    &s.kurtosis, &s.l1_norm,
			 &s.l2_norm,  &s.linf_norm, &s.sparsity,
			 &s.energy_concentration};
	for (int i = 0; i < MP_TSTATS_NFIELDS; i++) {
		ck_assert_str_eq(mp_tstats_field_name(i), want[i]);
		ck_assert_ptr_eq(mp_tstats_field(&s, i), ptr[i]);
	}
	ck_assert_ptr_null(mp_tstats_field_name(MP_TSTATS_NFIELDS));
	ck_assert_ptr_null(mp_tstats_field(&s, -1));
}
END_TEST

/* (value, count) pairs, worked out by hand: -0.5 x1000, 1 x3000, 2 x2000,
 * NaN x5 and an infinity counted 0 times, fed in every pass in pieces
 * (n = 6000 > TINY_MAX: the histogram passes). Sorted, ranks 0-999 are
 * -0.5, 1000-3999 1 and 4000-5999 2; |x - 1| is 0 x3000, 1 x2000,
 * 1.5 x1000; the top 600 |x| are 2. */
START_TEST(test_pairs_by_hand)
{
	/* two runs of 16 (not exact), the rest of each counted 0 times */
	float v[32] = {1.0f, NAN, 2.0f, -0.5f};
	uint32_t c[32] = {1000, 5, 2000, 1000};
	v[16] = INFINITY;
	v[17] = 1.0f;
	c[17] = 2000;
	const struct mp_affine_run run[2] = {{0, 0, false}, {0, 0, false}};
	struct mp_tstats_acc *a = mp_tstats_new(MP_F32, NULL, 6005);
	ck_assert_ptr_nonnull(a);
	do {
		mp_tstats_feed_runs(a, v, c, run, 1);
		mp_tstats_feed_runs(a, v + 16, c + 16, run + 1, 1);
	} while (mp_tstats_next_pass(a));
	struct mp_tstats o;
	ck_assert_int_eq(mp_tstats_finish(a, &o), MP_OK);
	mp_tstats_free(a);
	ck_assert_uint_eq(o.n, 6000);
	ck_assert_uint_eq(o.nonfinite, 5);
	ck_assert_double_eq(o.mean, 6500.0 / 6000.0);
	ck_assert_double_eq(o.min, -0.5);
	ck_assert_double_eq(o.max, 2.0);
	ck_assert_double_eq(o.median, 1.0);
	ck_assert_double_eq(o.q25, 1.0); /* ranks 1499, 1500 */
	ck_assert_double_eq(o.q75, 2.0); /* ranks 4499, 4500 */
	ck_assert_double_eq(o.iqr, 1.0);
	ck_assert_double_eq(o.mad, 0.5); /* ranks 2999 (0), 3000 (1) */
	ck_assert_double_eq(o.l1_norm, 3000 + 4000 + 500);
	ck_assert_double_eq(o.l2_norm, sqrt(3000 + 8000 + 250.0));
	ck_assert_double_eq(o.sparsity, 0);
	ck_assert_double_eq_tol(o.energy_concentration, 2400.0 / 11250, 1e-15);
	double m = 6500.0 / 6000.0, d[3] = {-0.5 - m, 1 - m, 2 - m};
	double w[3] = {1000, 3000, 2000}, c2 = 0;
	for (int k = 0; k < 3; k++)
		c2 += w[k] * d[k] * d[k];
	ck_assert_double_eq_tol(o.std, sqrt(c2 / 6000), 1e-15);
}
END_TEST

Suite *suite_tstats(void)
{
	Suite *s = suite_create("tstats");
	TCase *tc = tcase_create("exact");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_one_to_four);
	tcase_add_test(tc, test_small_n);
	tcase_add_test(tc, test_constant_and_empty);
	tcase_add_test(tc, test_nonfinite);
	tcase_add_test(tc, test_negative_zero);
	tcase_add_test(tc, test_energy_k);
	tcase_add_test(tc, test_f32_random);
	tcase_add_test(tc, test_f32_mad_paths);
	tcase_add_test(tc, test_f64_and_ints);
	tcase_add_test(tc, test_duplicates);
	tcase_add_test(tc, test_histogram_types);
	tcase_add_test(tc, test_affine_by_hand);
	tcase_add_test(tc, test_field_names);
	tcase_add_test(tc, test_tiny_path);
	tcase_add_test(tc, test_tiny_overfed);
	tcase_add_test(tc, test_pairs_by_hand);
	suite_add_tcase(s, tc);
	return s;
}
