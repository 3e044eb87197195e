/* check_tstats.c — exact statistics against hand values and against an
 * independent reference that sorts a copy of the data. */
#include "check_suites.h"
#include "testutil.h"
#include "tstats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_hand_values)
{
	/* [1,2,3,4]: mean 2.5, std sqrt(1.25), median 2.5, q25 1.75 (pos
	 * 0.75), q75 3.25, mad median(|x-2.5|) = median(1.5,.5,.5,1.5) = 1,
	 * skew 0, kurtosis m4/m2^2-3 = 2.5625/1.5625-3 = -1.36, l1 10,
	 * l2 sqrt(30), energy max(1, 4//10)=1 largest: 16/30. */
	double x[] = {1, 2, 3, 4};
	struct mp_tstats s;
	ck_assert_int_eq(mp_tstats_of_doubles(x, 4, &s), MP_OK);
	ck_assert_double_eq(s.mean, 2.5);
	ck_assert_double_eq_tol(s.std, sqrt(1.25), 1e-15);
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
	ck_assert_double_eq_tol(s.energy_concentration, 16.0 / 30, 1e-15);
	ck_assert_double_eq(s.sparsity, 0);
	/* constant data: skew and kurtosis undefined (NaN, as scipy) */
	double c[] = {2, 2, 2};
	ck_assert_int_eq(mp_tstats_of_doubles(c, 3, &s), MP_OK);
	ck_assert(isnan(s.skew) && isnan(s.kurtosis));
	ck_assert_double_eq(s.std, 0);
	/* non-finite values are counted and left out */
	double d[] = {NAN, 1, INFINITY, 0, -INFINITY};
	ck_assert_int_eq(mp_tstats_of_doubles(d, 5, &s), MP_OK);
	ck_assert_uint_eq(s.n, 2);
	ck_assert_uint_eq(s.nonfinite, 3);
	ck_assert_double_eq(s.mean, 0.5);
	ck_assert_double_eq(s.sparsity, 0.5);
	ck_assert_int_eq(mp_tstats_of_doubles(d, 0, &s), MP_OK);
	ck_assert(isnan(s.mean));
}
END_TEST

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* numpy percentile (linear) over sorted s */
static double pct(const double *s, size_t n, double p)
{
	double pos = p * (double)(n - 1);
	size_t lo = (size_t)floor(pos), hi = (size_t)ceil(pos);
	double t = pos - (double)lo, d = s[hi] - s[lo];
	return t >= 0.5 ? s[hi] - d * (1 - t) : s[lo] + d * t;
}

/* Compare order statistics, mad and energy with a sort of x. */
static void check_against_sort(const double *x, size_t n,
			       const struct mp_tstats *s)
{
	double *v = malloc(n * sizeof *v), *d = malloc(n * sizeof *d);
	memcpy(v, x, n * sizeof *v);
	qsort(v, n, sizeof *v, cmpd);
	double med = (v[(n - 1) / 2] + v[n / 2]) / 2;
	ck_assert_double_eq(s->median, med);
	ck_assert_double_eq(s->q25, pct(v, n, 0.25));
	ck_assert_double_eq(s->q75, pct(v, n, 0.75));
	ck_assert_double_eq(s->min, v[0]);
	ck_assert_double_eq(s->max, v[n - 1]);
	for (size_t i = 0; i < n; i++)
		d[i] = fabs(v[i] - med);
	qsort(d, n, sizeof *d, cmpd);
	ck_assert_double_eq(s->mad, (d[(n - 1) / 2] + d[n / 2]) / 2);
	for (size_t i = 0; i < n; i++)
		d[i] = fabs(v[i]);
	qsort(d, n, sizeof *d, cmpd);
	size_t k = n / 10 ? n / 10 : 1;
	double top = 0, all = 0;
	for (size_t i = 0; i < n; i++) {
		all += d[i] * d[i];
		if (i >= n - k)
			top += d[i] * d[i];
	}
	ck_assert_double_eq_tol(s->energy_concentration, top / all, 1e-11);
	double mean = 0;
	for (size_t i = 0; i < n; i++)
		mean += x[i];
	mean /= (double)n;
	double m2 = 0, m3 = 0;
	for (size_t i = 0; i < n; i++) {
		m2 += (x[i] - mean) * (x[i] - mean);
		m3 += pow(x[i] - mean, 3);
	}
	m2 /= (double)n;
	m3 /= (double)n;
	ck_assert_double_eq_tol(s->mean, mean, 1e-12 * (fabs(mean) + 1));
	ck_assert_double_eq_tol(s->std, sqrt(m2), 1e-10 * sqrt(m2));
	ck_assert_double_eq_tol(s->skew, m3 / pow(m2, 1.5), 1e-9);
	free(v);
	free(d);
}

/* Feed stored bytes in uneven blocks, every pass. */
static void run(enum mp_dtype dt, const struct mp_quant *q, const uint8_t *b,
		size_t n, struct mp_tstats *out)
{
	struct mp_tstats_acc *a = mp_tstats_new(dt, q, n);
	ck_assert_ptr_nonnull(a);
	unsigned w = mp_dtype_size(dt);
	do {
		size_t off = 0, step[] = {1000, 12345, 77777};
		for (int k = 0; off < n; k++) {
			size_t m = k < 3 ? step[k] : 262144;
			if (m > n - off)
				m = n - off;
			mp_tstats_feed(a, b + off * w, m);
			off += m;
		}
	} while (mp_tstats_next_pass(a));
	ck_assert_int_eq(mp_tstats_finish(a, out), MP_OK);
	mp_tstats_free(a);
}

START_TEST(test_f32_radix_against_sort)
{
	size_t n = 1000003;
	float *f = malloc(n * sizeof *f);
	double *x = malloc(n * sizeof *x);
	uint64_t st = 5;
	for (size_t i = 0; i < n; i++) {
		/* many duplicates (rounded values) and some exact zeros */
		f[i] = (float)(round(tu_rand_normal(&st) * 300) / 1000);
		if (i % 997 == 0)
			f[i] = 0;
		x[i] = f[i];
	}
	struct mp_tstats s;
	run(MP_F32, NULL, (const uint8_t *)f, n, &s);
	ck_assert_uint_eq(s.n, n);
	check_against_sort(x, n, &s);
	free(f);
	free(x);
}
END_TEST

START_TEST(test_small_types_against_sort)
{
	size_t n = 300001;
	uint16_t *h = malloc(n * sizeof *h);
	double *x = malloc(n * sizeof *x);
	uint64_t st = 9;
	enum mp_dtype types[] = {MP_BF16, MP_F16};
	for (int t = 0; t < 2; t++) {
		for (size_t i = 0; i < n; i++) {
			do {
				h[i] = (uint16_t)tu_rand_u64(&st);
				x[i] = mp_dtype_decode16(types[t], h[i]);
			} while (!isfinite(x[i]) || fabs(x[i]) > 1e4);
		}
		struct mp_tstats s;
		run(types[t], NULL, (const uint8_t *)h, n, &s);
		check_against_sort(x, n, &s);
	}
	/* quantized uint8: values (float)(q*0.1+0.3) */
	uint8_t *q = malloc(n);
	for (size_t i = 0; i < n; i++) {
		q[i] = (uint8_t)tu_rand_u64(&st);
		x[i] = (double)(float)(q[i] * 0.1 + 0.3);
	}
	struct mp_quant qt = {MP_QUANT_AFFINE, 0.1, 0.3};
	struct mp_tstats s;
	run(MP_U8, &qt, q, n, &s);
	check_against_sort(x, n, &s);
	free(q);
	free(h);
	free(x);
}
END_TEST

Suite *suite_tstats(void)
{
	Suite *s = suite_create("tstats");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_hand_values);
	tcase_add_test(tc, test_f32_radix_against_sort);
	tcase_add_test(tc, test_small_types_against_sort);
	suite_add_tcase(s, tc);
	return s;
}
