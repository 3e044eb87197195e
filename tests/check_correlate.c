/* check_correlate.c — metric correlation against r worked out by hand. */
#include "check_suites.h"
#include "correlate.h"
#include "json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A matrix over n ids whose upper triangle, pairs (0,1) (0,2) .. (n-2,n-1)
 * in that order, is up[]; the diagonal is 1. */
static struct mp_simmatrix *mk(const char *metric, bool higher, size_t n,
			       const char *const *ids, const double *up)
{
	struct mp_simmatrix *m = calloc(1, sizeof *m);
	m->method = strdup("tensors");
	m->metric = strdup(metric);
	m->higher_is_more_alike = higher;
	m->n = n;
	m->ids = calloc(n, sizeof *m->ids);
	m->value = malloc(n * n * sizeof *m->value);
	m->reason = calloc(n * n, sizeof *m->reason);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		m->ids[i] = strdup(ids[i]);
		m->value[i * n + i] = 1;
		for (size_t j = i + 1; j < n; j++, k++)
			m->value[i * n + j] = m->value[j * n + i] = up[k];
	}
	return m;
}

/* Four models p q r s, pairs pq pr ps qr qs rs:
 *   A (similarity) x = 1 2 3 4 5 6, mean 3.5,
 *     dx = -2.5 -1.5 -0.5 0.5 1.5 2.5, sum dx^2 = 17.5
 *   B (similarity) y = 2 1 4 3 6 5, mean 3.5,
 *     dy = -1.5 -2.5 0.5 -0.5 2.5 1.5, sum dy^2 = 17.5
 *     sum dx dy = 3.75 + 3.75 - 0.25 - 0.25 + 3.75 + 3.75 = 14.5
 *     r(A, B) = 14.5 / 17.5 = 29/35
 *   C (divergence) z = 6 5 4 3 2 1 = 7 - x: negated it is x - 7, so
 *     r(A, C) = +1 and r(B, C) = 29/35.
 * A fifth model t is in every matrix but null in B against everyone: its
 * 4 pairs are excluded. C lists the models in reverse order. A sixth, u,
 * is only in A. */
START_TEST(test_hand_example)
{
	const char *ida[] = {"p", "q", "r", "s", "t", "u"};
	double a[15] = {1, 2, 3, 0.3, 0.1, 4, 5, 0.2, 0.1, 6, 0.5, 0.1,
			0.7, 0.1, 0.1};
	const char *idb[] = {"p", "q", "r", "s", "t"};
	double b[10] = {2, 1, 4, NAN, 3, 6, NAN, 5, NAN, NAN};
	const char *idc[] = {"t", "s", "r", "q", "p"};
	/* reversed order: (t,s) (t,r) (t,q) (t,p) (s,r) (s,q) (s,p) (r,q)
	 * (r,p) (q,p), and z: pq 6, pr 5, ps 4, qr 3, qs 2, rs 1 */
	double cz[10] = {0.4, 0.4, 0.4, 0.4, 1, 2, 4, 3, 5, 6};
	struct mp_simmatrix *ma = mk("A", true, 6, ida, a);
	struct mp_simmatrix *mb = mk("B", true, 5, idb, b);
	struct mp_simmatrix *mc = mk("C", false, 5, idc, cz);
	const struct mp_simmatrix *ms[3] = {ma, mb, mc};
	struct mp_correlation *c;
	ck_assert_int_eq(mp_correlate(ms, 3, &c, NULL), MP_OK);
	ck_assert_uint_eq(c->n, 5);
	ck_assert_uint_eq(c->npairs, 6);
	ck_assert_uint_eq(c->n_excluded, 4);
	ck_assert_uint_eq(c->row[2][0], 4); /* p is row 4 of C */
	double r_ab = 29.0 / 35;
	ck_assert_double_eq_tol(c->r[0 * 3 + 1], r_ab, 1e-12);
	ck_assert_double_eq_tol(c->r[1 * 3 + 0], r_ab, 1e-12);
	ck_assert_double_eq_tol(c->r[0 * 3 + 2], 1, 1e-12);
	ck_assert_double_eq_tol(c->r[1 * 3 + 2], r_ab, 1e-12);
	ck_assert_double_eq_tol(c->r[2 * 3 + 2], 1, 1e-12);
	/* summaries of the raw values: mean 3.5, population std
	 * sqrt(17.5 / 6), range 1..6 for all three */
	for (int i = 0; i < 3; i++) {
		ck_assert_double_eq_tol(c->summary[i].mean, 3.5, 1e-12);
		ck_assert_double_eq_tol(c->summary[i].std, sqrt(17.5 / 6), 1e-12);
		ck_assert_double_eq(c->summary[i].min, 1);
		ck_assert_double_eq(c->summary[i].max, 6);
	}
	mp_json *j = mp_correlation_to_json(c);
	ck_assert_double_eq(mp_json_num(mp_json_get(j, "pairs_excluded")), 4);
	ck_assert_double_eq_tol(
		mp_json_num(mp_json_at(mp_json_at(mp_json_get(j, "r"), 2), 1)),
		r_ab, 1e-12);
	mp_json *m2 = mp_json_at(mp_json_get(j, "metrics"), 2);
	ck_assert_str_eq(mp_json_str(mp_json_get(m2, "metric")), "C");
	ck_assert(!mp_json_true(mp_json_get(m2, "higher_is_more_alike")));
	mp_json_free(j);
	mp_correlation_free(c);
	mp_correlation_free(NULL);

	/* a constant metric has no r */
	double k1[10] = {2, 2, 2, 2, 2, 2, 2, 2, 2, 2};
	struct mp_simmatrix *mk1 = mk("K", true, 5, idb, k1);
	const struct mp_simmatrix *ms2[2] = {ma, mk1};
	ck_assert_int_eq(mp_correlate(ms2, 2, &c, NULL), MP_OK);
	ck_assert(isnan(c->r[1]));
	ck_assert_double_eq(c->summary[1].std, 0);
	mp_correlation_free(c);
	mp_simmatrix_free(mk1);
	mp_simmatrix_free(ma);
	mp_simmatrix_free(mb);
	mp_simmatrix_free(mc);
}
END_TEST

START_TEST(test_errors)
{
	const char *i1[] = {"a", "b", "c"}, *i2[] = {"x", "y", "c"};
	double v[3] = {0.1, 0.2, 0.3}, nul[3] = {NAN, NAN, 0.5};
	struct mp_simmatrix *m1 = mk("l1", true, 3, i1, v);
	struct mp_simmatrix *m2 = mk("js", false, 3, i2, v);
	struct mp_simmatrix *m3 = mk("cosine", true, 3, i1, nul);
	struct mp_correlation *c = (void *)1;
	struct mp_error err;
	const struct mp_simmatrix *one[1] = {m1};
	ck_assert_int_eq(mp_correlate(one, 1, &c, &err), MP_EINVAL);
	ck_assert_ptr_null(c);
	const struct mp_simmatrix *dis[2] = {m1, m2};
	ck_assert_int_eq(mp_correlate(dis, 2, &c, &err), MP_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "l1, js"));
	ck_assert_ptr_nonnull(strstr(err.msg, "two models in common"));
	const struct mp_simmatrix *nn[2] = {m1, m3};
	ck_assert_int_eq(mp_correlate(nn, 2, &c, &err), MP_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "two pairs"));
	mp_simmatrix_free(m1);
	mp_simmatrix_free(m2);
	mp_simmatrix_free(m3);
}
END_TEST

Suite *suite_correlate(void)
{
	Suite *s = suite_create("correlate");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_hand_example);
	tcase_add_test(tc, test_errors);
	suite_add_tcase(s, tc);
	return s;
}
