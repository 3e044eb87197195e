/* check_cluster.c — average-linkage clustering against a hand-worked
 * example and against a naive O(n^3) implementation that averages the
 * original distances over the members of each pair of clusters. */
#include "check_suites.h"
#include "cluster.h"
#include "cluster_cut.h"
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Points on a line at 0, 1, 4, 10 (A, B, C, D).
 * 1. A,B merge at 1 -> cluster 4; d(AB,C) = (4+3)/2 = 3.5,
 *    d(AB,D) = (10+9)/2 = 9.5, d(C,D) = 6.
 * 2. AB,C merge at 3.5 -> cluster 5 (size 3);
 *    d(ABC,D) = (2*9.5 + 6)/3 = 25/3.
 * 3. D,ABC merge at 25/3 -> cluster 6, labels (3, 5).
 * Leaves depth first, a before b: 3 (D), then 5 = (2, 4): C, A, B. */
START_TEST(test_hand_example)
{
	double x[4] = {0, 1, 4, 10}, d[16];
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 4; j++)
			d[i * 4 + j] = fabs(x[i] - x[j]);
	struct mp_merge m[3];
	size_t order[4];
	struct mp_error err;
	ck_assert_int_eq(mp_cluster_average(d, 4, m, order, &err), MP_OK);
	ck_assert_uint_eq(m[0].a, 0);
	ck_assert_uint_eq(m[0].b, 1);
	ck_assert_double_eq_tol(m[0].height, 1, 1e-12);
	ck_assert_uint_eq(m[0].size, 2);
	ck_assert_uint_eq(m[1].a, 2);
	ck_assert_uint_eq(m[1].b, 4);
	ck_assert_double_eq_tol(m[1].height, 3.5, 1e-12);
	ck_assert_uint_eq(m[1].size, 3);
	ck_assert_uint_eq(m[2].a, 3);
	ck_assert_uint_eq(m[2].b, 5);
	ck_assert_double_eq_tol(m[2].height, 25.0 / 3, 1e-12);
	ck_assert_uint_eq(m[2].size, 4);
	size_t want[4] = {3, 2, 0, 1};
	for (int i = 0; i < 4; i++)
		ck_assert_uint_eq(order[i], want[i]);
}
END_TEST

/* Naive UPGMA: cluster membership lists, the average of original
 * distances over all member pairs, the closest pair merged each step.
 * Returns the merge heights in merge order (non-decreasing). */
static void naive(const double *d, size_t n, double *heights)
{
	size_t *cl = malloc(n * sizeof *cl); /* cluster id of each item */
	for (size_t i = 0; i < n; i++)
		cl[i] = i;
	for (size_t k = 0; k + 1 < n; k++) {
		double best = INFINITY;
		size_t ba = 0, bb = 0;
		for (size_t a = 0; a < n; a++)
			for (size_t b = a + 1; b < n; b++) {
				double s = 0;
				size_t c = 0, na = 0, nb = 0;
				for (size_t i = 0; i < n; i++) {
					na += cl[i] == a;
					nb += cl[i] == b;
				}
				if (!na || !nb)
					continue;
				for (size_t i = 0; i < n; i++)
					for (size_t j = 0; j < n; j++)
						if (cl[i] == a && cl[j] == b) {
							s += d[i * n + j];
							c++;
						}
				if (s / c < best) {
					best = s / c;
					ba = a;
					bb = b;
				}
			}
		heights[k] = best;
		for (size_t i = 0; i < n; i++)
			if (cl[i] == bb)
				cl[i] = ba;
	}
	free(cl);
}

START_TEST(test_against_naive)
{
	uint64_t seed = 7 + (uint64_t)_i;
	size_t n = 12 + (size_t)_i * 5;
	double *pts = malloc(n * 3 * sizeof *pts), *d = malloc(n * n * sizeof *d);
	for (size_t i = 0; i < n * 3; i++)
		pts[i] = tu_rand_normal(&seed);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			double s = 0;
			for (int k = 0; k < 3; k++)
				s += (pts[i * 3 + k] - pts[j * 3 + k]) *
				     (pts[i * 3 + k] - pts[j * 3 + k]);
			d[i * n + j] = sqrt(s);
		}
	double *h = malloc((n - 1) * sizeof *h);
	naive(d, n, h);
	struct mp_merge *m = malloc((n - 1) * sizeof *m);
	size_t *order = malloc(n * sizeof *order), *seen = calloc(n, sizeof *seen);
	struct mp_error err;
	ck_assert_int_eq(mp_cluster_average(d, n, m, order, &err), MP_OK);
	for (size_t k = 0; k + 1 < n; k++) {
		ck_assert_double_eq_tol(m[k].height, h[k], 1e-9);
		ck_assert(m[k].a < m[k].b && m[k].b < n + k);
	}
	ck_assert_uint_eq(m[n - 2].size, n);
	for (size_t i = 0; i < n; i++)
		seen[order[i]]++;
	for (size_t i = 0; i < n; i++)
		ck_assert_uint_eq(seen[i], 1); /* a permutation */
	free(pts);
	free(d);
	free(h);
	free(m);
	free(order);
	free(seen);
}
END_TEST

START_TEST(test_small_and_bad)
{
	struct mp_error err;
	size_t order[2];
	struct mp_merge m[1];
	double one = 0;
	ck_assert_int_eq(mp_cluster_average(&one, 1, m, order, &err), MP_OK);
	ck_assert_uint_eq(order[0], 0);
	double two[4] = {0, 2.5, 2.5, 0};
	ck_assert_int_eq(mp_cluster_average(two, 2, m, order, &err), MP_OK);
	ck_assert_double_eq(m[0].height, 2.5);
	ck_assert_uint_eq(order[0], 0);
	ck_assert_uint_eq(order[1], 1);
	double bad[4] = {0, NAN, NAN, 0};
	ck_assert_int_eq(mp_cluster_average(bad, 2, m, order, &err), MP_EINVAL);
	double neg[4] = {0, -1, -1, 0};
	ck_assert_int_eq(mp_cluster_average(neg, 2, m, order, &err), MP_EINVAL);
}
END_TEST

/* 2,000 items: the nearest-neighbour chain keeps this to a fraction of a
 * second (a naive O(n^3) algorithm needs minutes). */
START_TEST(test_two_thousand)
{
	size_t n = 2000;
	uint64_t seed = 99;
	double *v = malloc(n * sizeof *v), *d = malloc(n * n * sizeof *d);
	for (size_t i = 0; i < n; i++)
		v[i] = tu_rand_uniform(&seed);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++)
			d[i * n + j] = fabs(v[i] - v[j]);
	struct mp_merge *m = malloc((n - 1) * sizeof *m);
	size_t *order = malloc(n * sizeof *order);
	struct mp_error err;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(mp_cluster_average(d, n, m, order, &err), MP_OK);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
	ck_assert_msg(s < 10, "clustering 2000 items took %.2f s", s);
	for (size_t k = 1; k + 1 < n; k++)
		ck_assert(m[k].height >= m[k - 1].height);
	/* the first merge joins the two closest values */
	double closest = INFINITY;
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			closest = fmin(closest, fabs(v[i] - v[j]));
	ck_assert_double_eq(m[0].height, closest);
	ck_assert_uint_eq(m[n - 2].size, n);
	free(v);
	free(d);
	free(m);
	free(order);
}
END_TEST

/* The cut. Points at 0, 1, 4, 10 (A, B, C, D) as a similarity
 * s = 10 - |x_i - x_j| with s(A,D) null. Least alike defined value: s(B,D)
 * = 1, so the null counts as 1. Merge scores are mean similarities:
 * A,B at 9; AB,C at (6 + 7)/2 = 6.5; ABC,D at (1 + 1 + 4)/3 = 2.
 * Leaves: D, C, A, B. Families f1 f2 f1 f2, types t1 t1 t2 "".
 * Cut 6.5: [D] and [C A B]: f1 x2, f2 x1, purity 2/3, B disagrees.
 * Cut 7:   [D], [C], [A B]: a tie f1/f2 goes to f1 by name, purity 1/2.
 * Default cut: the median of 9, 6.5, 2 = 6.5. */
static struct mp_simmatrix *line_matrix(bool similarity)
{
	double x[4] = {0, 1, 4, 10};
	struct mp_simmatrix *m =
		mp_simmatrix_new("tensors", similarity ? "cosine" : "l1", 4);
	ck_assert_ptr_nonnull(m);
	m->higher_is_more_alike = similarity;
	for (int i = 0; i < 4; i++) {
		char id[2] = {(char)('A' + i), 0};
		m->ids[i] = strdup(id);
	}
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 4; j++) {
			double d = fabs(x[i] - x[j]);
			m->value[i * 4 + j] = similarity ? 10 - d : d;
			m->reason[i * 4 + j] = NULL;
		}
	if (similarity)
		m->value[0 * 4 + 3] = m->value[3 * 4 + 0] = NAN;
	return m;
}

static const char *const fam[4] = {"f1", "f2", "f1", "f2"};
static const char *const typ[4] = {"t1", "t1", "t2", ""};

START_TEST(test_cut_similarity)
{
	struct mp_simmatrix *m = line_matrix(true);
	struct mp_cluster_tree *t;
	struct mp_cluster_cut *c;
	struct mp_error err;
	ck_assert_int_eq(mp_cluster_tree_build(m, &t, &err), MP_OK);
	ck_assert_double_eq_tol(t->score[0], 9, 1e-12);
	ck_assert_double_eq_tol(t->score[1], 6.5, 1e-12);
	ck_assert_double_eq_tol(t->score[2], 2, 1e-12);
	ck_assert_double_eq_tol(mp_cluster_default_cut(t), 6.5, 1e-12);

	ck_assert_int_eq(mp_cluster_cut_make(t, 6.5, fam, typ, &c, &err), MP_OK);
	ck_assert_uint_eq(c->n, 2);
	ck_assert_uint_eq(c->v[0].size, 1);
	ck_assert_uint_eq(c->v[0].member[0], 3);
	ck_assert(isnan(c->v[0].score));
	ck_assert_str_eq(c->v[0].majority, "f2");
	ck_assert_double_eq(c->v[0].purity, 1);
	ck_assert_uint_eq(c->v[0].n_types, 0);
	const struct mp_cluster *k = &c->v[1];
	ck_assert_uint_eq(k->size, 3);
	ck_assert_uint_eq(k->member[0], 2);
	ck_assert_uint_eq(k->member[1], 0);
	ck_assert_uint_eq(k->member[2], 1);
	ck_assert_double_eq_tol(k->score, 6.5, 1e-12);
	ck_assert_uint_eq(k->n_families, 2);
	ck_assert_str_eq(k->families[0].name, "f1");
	ck_assert_uint_eq(k->families[0].count, 2);
	ck_assert_str_eq(k->families[1].name, "f2");
	ck_assert_uint_eq(k->families[1].count, 1);
	ck_assert_uint_eq(k->n_types, 2);
	ck_assert_str_eq(k->types[0].name, "t1");
	ck_assert_uint_eq(k->types[0].count, 2);
	ck_assert_double_eq_tol(k->purity, 2.0 / 3, 1e-12);
	ck_assert_uint_eq(k->n_disagree, 1);
	ck_assert(c->disagrees[1]);
	ck_assert(!c->disagrees[0] && !c->disagrees[2] && !c->disagrees[3]);
	ck_assert_uint_eq(c->cluster_of[0], 1);
	ck_assert_uint_eq(c->cluster_of[3], 0);
	mp_json *j = mp_cluster_cut_to_json(c, m->ids);
	ck_assert_ptr_nonnull(j);
	ck_assert_uint_eq(mp_json_size(j), 2);
	mp_json *j1 = mp_json_at(j, 1);
	ck_assert_str_eq(mp_json_str(mp_json_at(mp_json_get(j1, "disagreeing"), 0)),
			 "B");
	ck_assert_double_eq_tol(mp_json_num(mp_json_get(j1, "purity")), 2.0 / 3,
				1e-12);
	mp_json_free(j);
	mp_cluster_cut_free(c);

	ck_assert_int_eq(mp_cluster_cut_make(t, 7, fam, typ, &c, &err), MP_OK);
	ck_assert_uint_eq(c->n, 3);
	ck_assert_uint_eq(c->v[2].size, 2);
	ck_assert_str_eq(c->v[2].majority, "f1");
	ck_assert_double_eq_tol(c->v[2].purity, 0.5, 1e-12);
	ck_assert(c->disagrees[1]);
	mp_cluster_cut_free(c);
	ck_assert_int_eq(mp_cluster_cut_make(t, NAN, fam, typ, &c, &err),
			 MP_EINVAL);
	mp_cluster_tree_free(t);
	mp_simmatrix_free(m);
}
END_TEST

/* The same points as a divergence |x_i - x_j|: heights 1, 3.5, 25/3 (the
 * hand example above), lower = more alike; the cut 3.5 keeps A, B, C
 * together, 3.4 does not. */
START_TEST(test_cut_divergence)
{
	struct mp_simmatrix *m = line_matrix(false);
	struct mp_cluster_tree *t;
	struct mp_cluster_cut *c;
	struct mp_error err;
	ck_assert_int_eq(mp_cluster_tree_build(m, &t, &err), MP_OK);
	ck_assert_double_eq_tol(t->score[2], 25.0 / 3, 1e-12);
	ck_assert_double_eq_tol(mp_cluster_default_cut(t), 3.5, 1e-12);
	ck_assert_int_eq(mp_cluster_cut_make(t, 3.5, fam, typ, &c, &err), MP_OK);
	ck_assert_uint_eq(c->n, 2);
	ck_assert_uint_eq(c->v[1].size, 3);
	mp_cluster_cut_free(c);
	ck_assert_int_eq(mp_cluster_cut_make(t, 3.4, fam, typ, &c, &err), MP_OK);
	ck_assert_uint_eq(c->n, 3);
	mp_cluster_cut_free(c);
	ck_assert_int_eq(mp_cluster_cut_make(t, 100, fam, typ, &c, &err), MP_OK);
	ck_assert_uint_eq(c->n, 1);
	ck_assert_double_eq_tol(c->v[0].purity, 0.5, 1e-12);
	mp_cluster_cut_free(c);
	mp_cluster_tree_free(t);
	mp_simmatrix_free(m);
}
END_TEST

Suite *suite_cluster(void)
{
	Suite *s = suite_create("cluster");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_hand_example);
	tcase_add_loop_test(tc, test_against_naive, 0, 4);
	tcase_add_test(tc, test_small_and_bad);
	tcase_add_test(tc, test_cut_similarity);
	tcase_add_test(tc, test_cut_divergence);
	tcase_add_test(tc, test_two_thousand);
	suite_add_tcase(s, tc);
	return s;
}
