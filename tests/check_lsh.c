/* check_lsh.c — locality-sensitive codes (lsh.c): the Hamming estimate
 * against exact Pearson correlations of random vectors, determinism and
 * invariances of the codes, matching renamed tensors, and the blob form
 * (hostile blobs rejected). */
#include "check_suites.h"
#include "lsh.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define K 256

/* Exact Pearson correlation of x and y (n values), by formula. */
static double pearson(const float *x, const float *y, size_t n)
{
	double mx = 0, my = 0;
	for (size_t i = 0; i < n; i++) {
		mx += x[i];
		my += y[i];
	}
	mx /= n;
	my /= n;
	double sxy = 0, sxx = 0, syy = 0;
	for (size_t i = 0; i < n; i++) {
		sxy += (x[i] - mx) * (y[i] - my);
		sxx += (x[i] - mx) * (x[i] - mx);
		syy += (y[i] - my) * (y[i] - my);
	}
	return sxy / sqrt(sxx * syy);
}

/* n tensors "t<i>" of shape [i + 1, 4096] (distinct shapes) with random
 * sketches a, and b = rho a + sqrt(1 - rho^2) z (same shapes and names). */
struct pair {
	struct mp_fingerprint *a, *b;
	double exact; /* mean exact Pearson over the tensors */
};

static struct pair make_pair_k(size_t n, double rho, uint64_t seed, uint32_t k)
{
	char **names = malloc(n * sizeof *names);
	const char **cnames = malloc(n * sizeof *cnames);
	uint64_t *rows = malloc(n * sizeof *rows),
		 *cols = malloc(n * sizeof *cols);
	float **sa = malloc(n * sizeof *sa), **sb = malloc(n * sizeof *sb);
	ck_assert(names && cnames && rows && cols && sa && sb);
	struct pair p = {0};
	uint64_t s = seed;
	for (size_t i = 0; i < n; i++) {
		names[i] = malloc(16);
		snprintf(names[i], 16, "t%zu", i);
		cnames[i] = names[i];
		rows[i] = i + 1;
		cols[i] = 4096;
		sa[i] = malloc(k * sizeof **sa);
		sb[i] = malloc(k * sizeof **sb);
		for (size_t j = 0; j < k; j++) {
			double x = tu_rand_normal(&s), z = tu_rand_normal(&s);
			sa[i][j] = (float)(x + 3.0);
			sb[i][j] = (float)(rho * x + sqrt(1 - rho * rho) * z);
		}
		p.exact += pearson(sa[i], sb[i], k) / (double)n;
	}
	p.a = tu_sketch_fp(n, cnames, rows, cols, sa, k);
	p.b = tu_sketch_fp(n, cnames, rows, cols, sb, k);
	for (size_t i = 0; i < n; i++) {
		free(names[i]);
		free(sa[i]);
		free(sb[i]);
	}
	free(names);
	free(cnames);
	free(rows);
	free(cols);
	free(sa);
	free(sb);
	return p;
}

static struct pair make_pair(size_t n, double rho, uint64_t seed)
{
	return make_pair_k(n, rho, seed, K);
}

static struct mp_lsh_codes *codes_of(const struct mp_fingerprint *fp)
{
	struct mp_lsh_codes *c;
	struct mp_error err;
	ck_assert_msg(mp_lsh_codes(fp, &c, &err) == MP_OK, "%s", err.msg);
	return c;
}

START_TEST(test_estimate_table)
{
	ck_assert(mp_lsh_estimate(0, 0) == 1.0);
	ck_assert(mp_lsh_estimate(0, ~0ULL) == -1.0);
	ck_assert(mp_lsh_estimate(0, 0xffffffffULL) == 0.0);
	/* 16 bits differ: cos(pi / 4) */
	ck_assert(fabs(mp_lsh_estimate(0xffffULL << 8, 0) - sqrt(0.5)) < 1e-15);
}
END_TEST

/* The mean over 200 tensors of cos(pi h / 64) is within 0.04 of the mean
 * exact Pearson (the standard deviation of the mean angle is at most
 * 0.196 / sqrt(200) = 0.014 rad; the Jensen bias of the cosine is below
 * 0.01). */
START_TEST(test_estimate_against_exact)
{
	const double rhos[] = {0.0, 0.3, 0.6, 0.9, 0.99};
	for (size_t r = 0; r < sizeof rhos / sizeof *rhos; r++) {
		struct pair p = make_pair(200, rhos[r], 1000 + r);
		struct mp_lsh_codes *a = codes_of(p.a), *b = codes_of(p.b);
		ck_assert_uint_eq(a->n, 200);
		double est = mp_lsh_similarity(a, b);
		ck_assert_msg(fabs(est - p.exact) < 0.04,
			      "rho %g: estimate %g, exact %g", rhos[r], est,
			      p.exact);
		/* symmetric in expectation, and equal with itself */
		ck_assert(mp_lsh_similarity(a, a) == 1.0);
		mp_lsh_codes_free(a);
		mp_lsh_codes_free(b);
		mp_fp_free(p.a);
		mp_fp_free(p.b);
	}
}
END_TEST

/* Sketches longer than MP_LSH_DIM: 1024 evenly spaced values of 3000
 * are projected; the estimate stays within 0.04 of the exact correlation
 * over all 3000 (the subsample adds about 0.3 / 32 at rho 0.8). */
START_TEST(test_estimate_long_sketch)
{
	struct pair p = make_pair_k(200, 0.8, 77, 3000);
	struct mp_lsh_codes *a = codes_of(p.a), *b = codes_of(p.b);
	double est = mp_lsh_similarity(a, b);
	ck_assert_msg(fabs(est - p.exact) < 0.04, "estimate %g, exact %g", est,
		      p.exact);
	mp_lsh_codes_free(a);
	mp_lsh_codes_free(b);
	mp_fp_free(p.a);
	mp_fp_free(p.b);
}
END_TEST

/* Same sketch, same codes: recomputed, in another tensor order, and after
 * a positive affine map of the values (the codes see the centred sketch
 * up to scale); a negated sketch flips every bit. */
START_TEST(test_same_codes)
{
	struct pair p = make_pair(5, 0.5, 7);
	struct mp_lsh_codes *a = codes_of(p.a), *a2 = codes_of(p.a);
	ck_assert_uint_eq(a->n, a2->n);
	ck_assert(memcmp(a->recs, a2->recs, a->n * sizeof *a->recs) == 0);
	for (size_t i = 0; i < p.b->ntensors; i++)
		for (uint32_t j = 0; j < K; j++)
			p.b->tensors[i].sketch[j] = -p.a->tensors[i].sketch[j];
	struct mp_lsh_codes *neg = codes_of(p.b);
	struct mp_tensor_fp tmp = p.a->tensors[0];
	p.a->tensors[0] = p.a->tensors[4];
	p.a->tensors[4] = tmp;
	struct mp_lsh_codes *swapped = codes_of(p.a);
	ck_assert(memcmp(a->recs, swapped->recs, a->n * sizeof *a->recs) == 0);
	for (size_t i = 0; i < p.a->ntensors; i++)
		for (uint32_t j = 0; j < K; j++)
			p.a->tensors[i].sketch[j] =
			    p.a->tensors[i].sketch[j] * 4.0f + 2.0f;
	struct mp_lsh_codes *scaled = codes_of(p.a);
	ck_assert(mp_lsh_similarity(a, scaled) == 1.0);
	ck_assert(mp_lsh_similarity(a, neg) == -1.0);
	mp_lsh_codes_free(a);
	mp_lsh_codes_free(a2);
	mp_lsh_codes_free(swapped);
	mp_lsh_codes_free(neg);
	mp_lsh_codes_free(scaled);
	mp_fp_free(p.a);
	mp_fp_free(p.b);
}
END_TEST

/* The reference holds the unknown's tensor "w" under the name "renamed",
 * beside an unrelated tensor of the same shape: it is still matched
 * (estimate 1). A tensor with no same-shape record counts 0, and tensors
 * that are not floating, have too short or constant sketches get no
 * record. */
START_TEST(test_renamed_tensor)
{
	float w[K], other[K], flat[K], x[K];
	uint64_t s = 99;
	for (int j = 0; j < K; j++) {
		w[j] = (float)tu_rand_normal(&s);
		other[j] = (float)tu_rand_normal(&s);
		x[j] = (float)tu_rand_normal(&s);
		flat[j] = 1.5f;
	}
	const char *un[] = {"w", "x"};
	uint64_t ur[] = {8, 9}, uc[] = {32, 32};
	float *us[] = {w, x};
	struct mp_fingerprint *u = tu_sketch_fp(2, un, ur, uc, us, K);
	const char *rn[] = {"other", "renamed", "flat"};
	uint64_t rr[] = {8, 8, 9}, rc[] = {32, 32, 16};
	float *rs[] = {other, w, flat};
	struct mp_fingerprint *r = tu_sketch_fp(3, rn, rr, rc, rs, K);
	struct mp_lsh_codes *cu = codes_of(u), *cr = codes_of(r);
	ck_assert_uint_eq(cr->n, 2);		     /* flat is constant */
	ck_assert(mp_lsh_similarity(cu, cr) == 0.5); /* (1 + 0) / 2 */
	mp_fp_free(r);
	/* the same with a short sketch and an integer tensor: no records */
	struct mp_fingerprint *shortfp = tu_sketch_fp(2, un, ur, uc, us, K);
	shortfp->tensors[0].nsketch = MP_LSH_MIN_SKETCH - 1;
	shortfp->tensors[1].dtype = MP_I32;
	struct mp_lsh_codes *cs = codes_of(shortfp);
	ck_assert_uint_eq(cs->n, 0);
	ck_assert(mp_lsh_similarity(cs, cu) == 0.0);
	ck_assert(mp_lsh_similarity(cu, cs) == 0.0);
	mp_lsh_codes_free(cs);
	mp_fp_free(shortfp);
	mp_lsh_codes_free(cu);
	mp_lsh_codes_free(cr);
	mp_fp_free(u);
}
END_TEST

static void put_le(unsigned char *b, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		b[i] = (unsigned char)(v >> (8 * i));
}

START_TEST(test_blob)
{
	struct pair p = make_pair(3, 0.5, 5);
	struct mp_lsh_codes *a = codes_of(p.a), *back;
	unsigned char *blob;
	size_t len;
	struct mp_error err;
	ck_assert_int_eq(mp_lsh_encode(a, &blob, &len, &err), MP_OK);
	ck_assert_uint_eq(len, 24 + 3 * 24);
	/* the layout, by hand */
	unsigned char want[24] = {1, 0, 0, 0, 3};
	put_le(want + 8, MP_SKETCH_DEFAULT, 8);
	ck_assert(memcmp(blob, want, 24) == 0);
	unsigned char rec[8];
	put_le(rec, a->recs[1].code, 8);
	ck_assert(memcmp(blob + 24 + 24 + 16, rec, 8) == 0);
	ck_assert_int_eq(mp_lsh_decode(blob, len, "X", &back, &err), MP_OK);
	ck_assert_uint_eq(back->n, 3);
	ck_assert(memcmp(back->recs, a->recs, 3 * sizeof *a->recs) == 0);
	mp_lsh_codes_free(back);
	/* hostile: every shorter length, a longer one, another version,
	 * padding, a count that lies, records out of order */
	for (size_t n = 0; n < len; n++) {
		ck_assert_int_eq(mp_lsh_decode(blob, n, "X", &back, &err),
				 MP_EFORMAT);
		ck_assert_ptr_null(back);
		ck_assert_msg(!strncmp(err.msg, "X: ", 3), "%s", err.msg);
	}
	unsigned char *bad = malloc(len + 24);
	memcpy(bad, blob, len);
	memset(bad + len, 0, 24);
	ck_assert_int_eq(mp_lsh_decode(bad, len + 24, "X", &back, &err),
			 MP_EFORMAT);
	ck_assert_ptr_nonnull(strstr(err.msg, "declare 3 records"));
	bad[0] = 2;
	ck_assert_int_eq(mp_lsh_decode(bad, len, "X", &back, &err), MP_EFORMAT);
	ck_assert_ptr_nonnull(strstr(err.msg, "version 2"));
	bad[0] = 1;
	bad[2] = 1;
	ck_assert_int_eq(mp_lsh_decode(bad, len, "X", &back, &err), MP_EFORMAT);
	bad[2] = 0;
	put_le(bad + 4, 0xffffffffULL, 4);
	ck_assert_int_eq(mp_lsh_decode(bad, len, "X", &back, &err), MP_EFORMAT);
	put_le(bad + 4, 3, 4);
	memcpy(bad + 24, blob + 48, 24); /* records 1, 1, 2 then 0 */
	memcpy(bad + 48, blob + 24, 24);
	ck_assert_int_eq(mp_lsh_decode(bad, len, "X", &back, &err), MP_EFORMAT);
	ck_assert_ptr_nonnull(strstr(err.msg, "not sorted"));
	/* random bytes never crash */
	uint64_t s = 3;
	for (int t = 0; t < 2000; t++) {
		size_t n = tu_rand_u64(&s) % (len + 24);
		for (size_t i = 0; i < n; i++)
			bad[i] = (unsigned char)tu_rand_u64(&s);
		if (t % 2)
			memcpy(bad, blob, n < 8 ? n : 8);
		if (mp_lsh_decode(bad, n, "X", &back, &err) == MP_OK)
			mp_lsh_codes_free(back);
	}
	free(bad);
	free(blob);
	mp_lsh_codes_free(a);
	mp_fp_free(p.a);
	mp_fp_free(p.b);
}
END_TEST

Suite *suite_lsh(void)
{
	Suite *s = suite_create("lsh");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_estimate_table);
	tcase_add_test(tc, test_estimate_against_exact);
	tcase_add_test(tc, test_estimate_long_sketch);
	tcase_add_test(tc, test_same_codes);
	tcase_add_test(tc, test_renamed_tensor);
	tcase_add_test(tc, test_blob);
	suite_add_tcase(s, tc);
	return s;
}
