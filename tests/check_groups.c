/* check_groups.c — family and type groups against statistics worked out
 * by hand on a 7-model matrix. */
#include "check_suites.h"
#include "groups.h"
#include "json.h"
#include "metric.h"
#include "report_text.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rows: 0 a F/Base, 1 b F/Lite, 2 c F/Full, 3 d G/Base, 4 e G/Lite,
 * 5 h H/Base (only model of H), 6 x (not in the model info). The info
 * also has z (G/Full), absent from the results. b-c is null. */
#define N 7
static const char *const ids[N] = {"a", "b", "c", "d", "e", "h", "x"};
static const double upper[N][N] = {
	/*        a     b     c     d     e     h     x */
	/* a */ {1, 0.9, 0.8, 0.5, 0.4, 0.35, 0.05},
	/* b */ {0, 1, NAN, 0.3, 0.2, 0.45, 0.06},
	/* c */ {0, 0, 1, 0.1, 0.6, 0.55, 0.07},
	/* d */ {0, 0, 0, 1, 0.6, 0.25, 0.08},
	/* e */ {0, 0, 0, 0, 1, 0.15, 0.09},
	/* h */ {0, 0, 0, 0, 0, 1, 0.95},
	/* x */ {0, 0, 0, 0, 0, 0, 1},
};

static struct mp_simmatrix *matrix(bool higher)
{
	struct mp_simmatrix *m = calloc(1, sizeof *m);
	m->method = strdup("tensors");
	m->metric = strdup(higher ? "l1" : "js");
	m->higher_is_more_alike = higher;
	m->n = N;
	m->ids = calloc(N, sizeof *m->ids);
	m->value = malloc(N * N * sizeof *m->value);
	m->reason = calloc(N * N, sizeof *m->reason);
	for (int i = 0; i < N; i++) {
		m->ids[i] = strdup(ids[i]);
		for (int j = i; j < N; j++) {
			m->value[i * N + j] = m->value[j * N + i] = upper[i][j];
			if (isnan(upper[i][j]))
				m->reason[i * N + j] = m->reason[j * N + i] =
					"no tensors in common";
		}
	}
	return m;
}

static struct mp_model_info_set *info(void)
{
	static const char *const rows[][3] = {
		{"z", "G", "Full"}, {"a", "F", "Base"}, {"b", "F", "Lite"},
		{"c", "F", "Full"}, {"d", "G", "Base"}, {"e", "G", "Lite"},
		{"h", "H", "Base"}};
	size_t n = sizeof rows / sizeof rows[0];
	struct mp_model_info_set *s = calloc(1, sizeof *s);
	s->n = n;
	s->v = calloc(n, sizeof *s->v);
	s->by_id = malloc(n * sizeof *s->by_id);
	for (size_t i = 0; i < n; i++) {
		s->v[i].id = strdup(rows[i][0]);
		s->v[i].name = malloc(16);
		strcpy(s->v[i].name, "name-");
		strcat(s->v[i].name, rows[i][0]);
		s->v[i].family = strdup(rows[i][1]);
		s->v[i].type = strdup(rows[i][2]);
	}
	/* ids sorted: a b c d e h z */
	size_t by[] = {1, 2, 3, 4, 5, 6, 0};
	memcpy(s->by_id, by, sizeof by);
	return s;
}

#define TOL 1e-12
static void check_stats(const struct mp_group_stats *g, const char *label,
			size_t n, size_t nnull, double min, double max,
			double mean, double var, double q25, double med,
			double q75)
{
	ck_assert_str_eq(g->label, label);
	ck_assert_uint_eq(g->n_pairs, n);
	ck_assert_uint_eq(g->n_null, nnull);
	ck_assert_double_eq_tol(g->min, min, TOL);
	ck_assert_double_eq_tol(g->max, max, TOL);
	ck_assert_double_eq_tol(g->mean, mean, TOL);
	ck_assert_double_eq_tol(g->variance, var, TOL);
	ck_assert_double_eq_tol(g->q25, q25, TOL);
	ck_assert_double_eq_tol(g->median, med, TOL);
	ck_assert_double_eq_tol(g->q75, q75, TOL);
}

/* Every pair of group g lies in it (same families / types) and the list is
 * ordered most alike first with nulls last. */
static void check_members(const struct mp_analysis *a,
			  const struct mp_group_stats *g)
{
	for (size_t k = 0; k < g->n_pairs + g->n_null; k++) {
		const struct mp_pair *p = &a->pairs[g->pairs[k]];
		ck_assert(p->defined == (k < g->n_pairs));
		if (k > 0 && k < g->n_pairs)
			ck_assert(!mp_analysis_more_alike(
				a, p->value, a->pairs[g->pairs[k - 1]].value));
		const char *fi = a->family[p->i], *fj = a->family[p->j];
		const char *ti = a->type[p->i], *tj = a->type[p->j];
		if (g->kind == MP_GROUP_INTRA) {
			ck_assert_str_eq(fi, g->key[0]);
			ck_assert_str_eq(fj, g->key[0]);
		} else if (g->kind == MP_GROUP_INTER) {
			ck_assert((!strcmp(fi, g->key[0]) && !strcmp(fj, g->key[1])) ||
				  (!strcmp(fi, g->key[1]) && !strcmp(fj, g->key[0])));
		} else {
			ck_assert_str_eq(fi, fj);
			ck_assert((!strcmp(ti, g->key[0]) && !strcmp(tj, g->key[1])) ||
				  (!strcmp(ti, g->key[1]) && !strcmp(tj, g->key[0])));
		}
	}
}

START_TEST(test_similarity_groups)
{
	struct mp_simmatrix *m = matrix(true);
	struct mp_model_info_set *s = info();
	struct mp_analysis *a;
	ck_assert_int_eq(mp_analysis_compute(m, s, &a, NULL), MP_OK);
	ck_assert_uint_eq(a->npairs, 21);
	ck_assert_uint_eq(a->n_null, 1);
	/* x is missing from the info, z from the results */
	ck_assert_uint_eq(a->n_missing_in_info, 1);
	ck_assert_str_eq(a->missing_in_info[0], "x");
	ck_assert_uint_eq(a->n_missing_in_results, 1);
	ck_assert_str_eq(a->missing_in_results[0], "z");
	ck_assert(!a->in_info[6] && a->in_info[0]);
	ck_assert_str_eq(a->name[6], "x");
	ck_assert_str_eq(a->family[6], "");
	ck_assert_str_eq(a->name[0], "name-a");
	/* rows by family, type, name; no family last: a c b d e h x */
	size_t order[N] = {0, 2, 1, 3, 4, 5, 6};
	for (int i = 0; i < N; i++)
		ck_assert_uint_eq(a->order[i], order[i]);
	ck_assert_uint_eq(a->n_families, 3);
	ck_assert_str_eq(a->families[2], "H");
	ck_assert_uint_eq(a->n_types, 3); /* Base Full Lite; "" dropped */

	/* intra F {0.9, 0.8} + null b-c: var (0.05^2 * 2) / 1 = 0.005,
	 * q25 = 0.8 + 0.25 * 0.1; G {0.6}: var 0; H has one model: no group */
	ck_assert_uint_eq(a->n_intra, 2);
	check_stats(&a->intra[0], "F", 2, 1, 0.8, 0.9, 0.85, 0.005, 0.825,
		    0.85, 0.875);
	check_stats(&a->intra[1], "G", 1, 0, 0.6, 0.6, 0.6, 0, 0.6, 0.6, 0.6);
	ck_assert_str_eq(a->intra[0].key[0], "F");
	ck_assert_ptr_eq(a->intra[0].key[0], a->intra[0].key[1]);
	/* inter, by mean: F vs H {.35 .45 .55}: var (.01+0+.01)/2;
	 * F vs G {.1 .. .6}: mean .35, var (2*(.0625+.0225+.0025))/5 = .035,
	 * q25 at h = 1.25: .2 + .25*.1; q75 at 3.75: .4 + .75*.1;
	 * G vs H {.15 .25}: var .005 */
	ck_assert_uint_eq(a->n_inter, 3);
	check_stats(&a->inter[0], "F vs H", 3, 0, 0.35, 0.55, 0.45, 0.01, 0.4,
		    0.45, 0.5);
	check_stats(&a->inter[1], "F vs G", 6, 0, 0.1, 0.6, 0.35, 0.035, 0.225,
		    0.35, 0.475);
	check_stats(&a->inter[2], "G vs H", 2, 0, 0.15, 0.25, 0.2, 0.005, 0.175,
		    0.2, 0.225);
	ck_assert_str_eq(a->inter[1].key[0], "F");
	ck_assert_str_eq(a->inter[1].key[1], "G");
	/* type pairs: Base-Full only in F {0.8}; Base-Lite across F and G
	 * {0.9, 0.6}: var (0.15^2 * 2) / 1; Full-Lite only the null b-c,
	 * an empty group, last */
	ck_assert_uint_eq(a->n_typepair, 3);
	check_stats(&a->typepair[0], "Base-Full", 1, 0, 0.8, 0.8, 0.8, 0, 0.8,
		    0.8, 0.8);
	check_stats(&a->typepair[1], "Base-Lite", 2, 0, 0.6, 0.9, 0.75, 0.045,
		    0.675, 0.75, 0.825);
	ck_assert_str_eq(a->typepair[2].label, "Full-Lite");
	ck_assert_uint_eq(a->typepair[2].n_pairs, 0);
	ck_assert_uint_eq(a->typepair[2].n_null, 1);
	ck_assert(isnan(a->typepair[2].mean));

	/* pairs: most alike first (h-x 0.95), the null last */
	ck_assert_uint_eq(a->pairs[0].i, 5);
	ck_assert_uint_eq(a->pairs[0].j, 6);
	ck_assert_int_eq(a->pairs[0].intra_or_inter, -1);
	ck_assert_uint_eq(a->pairs[1].i, 0);
	ck_assert_uint_eq(a->pairs[1].j, 1);
	ck_assert(a->pairs[1].same_family);
	ck_assert_int_eq(a->pairs[1].intra_or_inter, 0);
	ck_assert_int_eq(a->pairs[1].typepair, 1);
	ck_assert(!a->pairs[20].defined);
	ck_assert_str_eq(a->pairs[20].reason, "no tensors in common");
	ck_assert_int_eq(a->pairs[20].typepair, 2);
	for (size_t k = 1; k + 1 < a->npairs; k++)
		ck_assert(a->pairs[k].value <= a->pairs[k - 1].value);
	/* every pair whose families are both known is in exactly one
	 * intra or inter group: 21 - 6 pairs with x = 15 */
	size_t tot = 0;
	for (size_t i = 0; i < a->n_intra; i++) {
		check_members(a, &a->intra[i]);
		tot += a->intra[i].n_pairs + a->intra[i].n_null;
	}
	for (size_t i = 0; i < a->n_inter; i++) {
		check_members(a, &a->inter[i]);
		tot += a->inter[i].n_pairs + a->inter[i].n_null;
	}
	ck_assert_uint_eq(tot, 15);
	for (size_t i = 0; i < a->n_typepair; i++)
		check_members(a, &a->typepair[i]);
	ck_assert_uint_eq(a->pairs[a->intra[0].pairs[0]].j, 1); /* a-b */
	ck_assert_uint_eq(a->pairs[a->intra[0].pairs[2]].j, 2); /* b-c null */

	/* the JSON report */
	mp_json *j = mp_analysis_to_json(a);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(mp_json_str(mp_json_get(j, "metric")), "l1");
	ck_assert_str_eq(mp_json_str(mp_json_at(
				 mp_json_get(j, "missing_in_model_info"), 0)),
			 "x");
	ck_assert_str_eq(mp_json_str(mp_json_at(
				 mp_json_get(j, "missing_in_results"), 0)),
			 "z");
	mp_json *pc = mp_json_get(j, "pairs");
	ck_assert_double_eq(mp_json_num(mp_json_get(pc, "null")), 1);
	ck_assert_double_eq(mp_json_num(mp_json_get(pc, "total")), 21);
	mp_json *g = mp_json_at(mp_json_get(j, "interfamily"), 1);
	ck_assert_str_eq(mp_json_str(mp_json_get(g, "label")), "F vs G");
	ck_assert_double_eq_tol(mp_json_num(mp_json_get(g, "variance")), 0.035,
				TOL);
	mp_json *best = mp_json_get(g, "most_alike");
	ck_assert_str_eq(mp_json_str(mp_json_get(best, "a")), "c");
	ck_assert_str_eq(mp_json_str(mp_json_get(best, "b")), "e");
	g = mp_json_at(mp_json_get(j, "type_pairs"), 2);
	ck_assert(mp_json_is_null(mp_json_get(g, "mean")));
	ck_assert(mp_json_is_null(mp_json_get(g, "most_alike")));
	ck_assert_double_eq(mp_json_num(mp_json_get(g, "n_null")), 1);
	mp_json_free(j);
	mp_analysis_free(a);
	mp_analysis_free(NULL);
	mp_model_info_free(s);
	mp_simmatrix_free(m);
}
END_TEST

START_TEST(test_divergence_ascending)
{
	struct mp_simmatrix *m = matrix(false);
	struct mp_model_info_set *s = info();
	struct mp_analysis *a;
	ck_assert_int_eq(mp_analysis_compute(m, s, &a, NULL), MP_OK);
	ck_assert(mp_analysis_more_alike(a, 0.1, 0.2));
	/* least divergent first: G (0.6) before F (0.85) */
	check_stats(&a->intra[0], "G", 1, 0, 0.6, 0.6, 0.6, 0, 0.6, 0.6, 0.6);
	check_stats(&a->intra[1], "F", 2, 1, 0.8, 0.9, 0.85, 0.005, 0.825,
		    0.85, 0.875);
	ck_assert_str_eq(a->inter[0].label, "G vs H");
	ck_assert_str_eq(a->inter[2].label, "F vs H");
	check_stats(&a->inter[1], "F vs G", 6, 0, 0.1, 0.6, 0.35, 0.035, 0.225,
		    0.35, 0.475);
	ck_assert_str_eq(a->typepair[0].label, "Base-Lite");
	ck_assert_str_eq(a->typepair[2].label, "Full-Lite");
	/* a-x 0.05 first, the null still last; F vs G starts with c-d 0.1 */
	ck_assert_uint_eq(a->pairs[0].i, 0);
	ck_assert_uint_eq(a->pairs[0].j, 6);
	ck_assert(!a->pairs[20].defined);
	for (size_t k = 1; k + 1 < a->npairs; k++)
		ck_assert(a->pairs[k].value >= a->pairs[k - 1].value);
	const struct mp_pair *p = &a->pairs[a->inter[1].pairs[0]];
	ck_assert_uint_eq(p->i, 2);
	ck_assert_uint_eq(p->j, 3);
	for (size_t i = 0; i < a->n_inter; i++)
		check_members(a, &a->inter[i]);
	mp_analysis_free(a);
	mp_model_info_free(s);
	mp_simmatrix_free(m);
}
END_TEST

START_TEST(test_no_info_and_tiny)
{
	/* no model info at all: every model missing, no groups */
	struct mp_simmatrix *m = matrix(true);
	struct mp_analysis *a;
	ck_assert_int_eq(mp_analysis_compute(m, NULL, &a, NULL), MP_OK);
	ck_assert_uint_eq(a->n_missing_in_info, N);
	ck_assert_uint_eq(a->n_intra + a->n_inter + a->n_typepair, 0);
	ck_assert_uint_eq(a->npairs, 21);
	mp_analysis_free(a);
	/* one model: no pairs */
	m->n = 1;
	ck_assert_int_eq(mp_analysis_compute(m, NULL, &a, NULL), MP_OK);
	ck_assert_uint_eq(a->npairs, 0);
	mp_analysis_free(a);
	m->n = N;
	mp_simmatrix_free(m);
}
END_TEST

static int cmp_dbl(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return (a > b) - (a < b);
}

/* Reference statistics of group g by enumerating every pair i < j of the
 * matrix and keeping those that belong to g. */
static void reference_check(const struct mp_analysis *a,
			    const struct mp_group_stats *g)
{
	const struct mp_simmatrix *m = a->m;
	double *v = malloc(a->npairs * sizeof *v);
	size_t nv = 0, nnull = 0;
	for (size_t i = 0; i < m->n; i++)
		for (size_t j = i + 1; j < m->n; j++) {
			const char *fi = a->family[i], *fj = a->family[j];
			const char *ti = a->type[i], *tj = a->type[j];
			bool in;
			if (g->kind == MP_GROUP_INTRA)
				in = !strcmp(fi, g->key[0]) && !strcmp(fj, g->key[0]);
			else if (g->kind == MP_GROUP_INTER)
				in = (!strcmp(fi, g->key[0]) && !strcmp(fj, g->key[1])) ||
				     (!strcmp(fi, g->key[1]) && !strcmp(fj, g->key[0]));
			else
				in = *fi && !strcmp(fi, fj) &&
				     ((!strcmp(ti, g->key[0]) && !strcmp(tj, g->key[1])) ||
				      (!strcmp(ti, g->key[1]) && !strcmp(tj, g->key[0])));
			if (!in)
				continue;
			double x = m->value[i * m->n + j];
			if (isnan(x))
				nnull++;
			else
				v[nv++] = x;
		}
	ck_assert_uint_eq(g->n_pairs, nv);
	ck_assert_uint_eq(g->n_null, nnull);
	if (nv) {
		qsort(v, nv, sizeof *v, cmp_dbl);
		double sum = 0, ss = 0;
		for (size_t k = 0; k < nv; k++)
			sum += v[k];
		double mean = sum / nv;
		for (size_t k = 0; k < nv; k++)
			ss += (v[k] - mean) * (v[k] - mean);
		ck_assert_double_eq_tol(g->mean, mean, 1e-12);
		ck_assert_double_eq_tol(g->variance, nv > 1 ? ss / (nv - 1) : 0,
					1e-12);
		ck_assert_double_eq(g->min, v[0]);
		ck_assert_double_eq(g->max, v[nv - 1]);
		double q[3] = {0.25, 0.5, 0.75}, got[3] = {g->q25, g->median, g->q75};
		for (int t = 0; t < 3; t++) {
			double h = (nv - 1) * q[t];
			size_t lo = (size_t)h;
			double want = lo + 1 < nv ? v[lo] + (h - lo) * (v[lo + 1] - v[lo])
						  : v[lo];
			ck_assert_double_eq_tol(got[t], want, 1e-12);
		}
	}
	free(v);
}

/* 80 models with random families (some unknown), types and scores (ties,
 * negatives, 5% null), in both directions, against reference_check. */
START_TEST(test_random_against_reference)
{
	enum { R = 80 };
	static const char *fams[] = {"A", "B", "C", "D", "E", ""};
	static const char *types[] = {"Base", "Lite", "Full", "Heavy", ""};
	uint64_t seed = 12345 + (uint64_t)_i;
	struct mp_simmatrix *m = calloc(1, sizeof *m);
	m->method = strdup("tensors");
	m->metric = strdup("l1");
	m->higher_is_more_alike = _i == 0;
	m->n = R;
	m->ids = calloc(R, sizeof *m->ids);
	m->value = malloc(R * R * sizeof *m->value);
	m->reason = calloc(R * R, sizeof *m->reason);
	struct mp_model_info_set *s = calloc(1, sizeof *s);
	s->n = R - 5; /* the last five models have no info */
	s->v = calloc(R, sizeof *s->v);
	s->by_id = malloc(R * sizeof *s->by_id);
	char id[16];
	for (size_t i = 0; i < R; i++) {
		snprintf(id, sizeof id, "m%03zu", i);
		m->ids[i] = strdup(id);
		s->v[i].id = strdup(id);
		s->v[i].name = strdup(id);
		s->v[i].family = strdup(fams[tu_rand_u64(&seed) % 6]);
		s->v[i].type = strdup(types[tu_rand_u64(&seed) % 5]);
		s->by_id[i] = i; /* ids already sorted */
		for (size_t j = i; j < R; j++) {
			double x = (double)(tu_rand_u64(&seed) % 201) / 100 - 1;
			if (tu_rand_u64(&seed) % 20 == 0 && i != j)
				x = NAN;
			m->value[i * R + j] = m->value[j * R + i] = x;
		}
	}
	struct mp_analysis *a;
	ck_assert_int_eq(mp_analysis_compute(m, s, &a, NULL), MP_OK);
	ck_assert_uint_eq(a->n_missing_in_info, 5);
	for (size_t i = 0; i < a->n_intra; i++)
		reference_check(a, &a->intra[i]);
	for (size_t i = 0; i < a->n_inter; i++)
		reference_check(a, &a->inter[i]);
	for (size_t i = 0; i < a->n_typepair; i++)
		reference_check(a, &a->typepair[i]);
	ck_assert_uint_eq(a->n_inter, a->n_families * (a->n_families - 1) / 2);
	/* every pair once, most alike first, nulls last */
	char *seen = calloc(R * R, 1);
	for (size_t k = 0; k < a->npairs; k++) {
		const struct mp_pair *p = &a->pairs[k];
		ck_assert(p->i < p->j && !seen[p->i * R + p->j]);
		seen[p->i * R + p->j] = 1;
		if (k && p->defined)
			ck_assert(!mp_analysis_more_alike(a, p->value,
							  a->pairs[k - 1].value));
		if (k && a->pairs[k - 1].defined == false)
			ck_assert(!p->defined);
	}
	for (size_t k = 1; k < a->n_inter; k++)
		if (a->inter[k].n_pairs)
			ck_assert(!mp_analysis_more_alike(a, a->inter[k].mean,
							  a->inter[k - 1].mean));
	free(seen);
	mp_analysis_free(a);
	s->n = R;
	mp_model_info_free(s);
	mp_simmatrix_free(m);
}
END_TEST

/* The pair reports write every score as printf's %.4f would, ties and
 * negative zero included; the summary has the hand-computed rows. */
START_TEST(test_text_reports)
{
	enum { R = 40 };
	static const double special[] = {0.12345, 0.00005, -0.00005, 1.00005,
					 -0.5, 0.99995, 2.5e-5, -1e-9, 0.0625,
					 123.45675, -0.33335};
	uint64_t seed = 99;
	struct mp_simmatrix *m = calloc(1, sizeof *m);
	m->method = strdup("tensors");
	m->metric = strdup("l1");
	m->higher_is_more_alike = true;
	m->n = R;
	m->ids = calloc(R, sizeof *m->ids);
	m->value = malloc(R * R * sizeof *m->value);
	m->reason = calloc(R * R, sizeof *m->reason);
	struct mp_model_info_set *s = calloc(1, sizeof *s);
	s->n = R;
	s->v = calloc(R, sizeof *s->v);
	s->by_id = malloc(R * sizeof *s->by_id);
	size_t k = 0;
	for (size_t i = 0; i < R; i++) {
		char id[16];
		snprintf(id, sizeof id, "m%03zu", i);
		m->ids[i] = strdup(id);
		s->v[i] = (struct mp_model_info){strdup(id), strdup(id),
						 strdup("F"), strdup("T")};
		s->by_id[i] = i;
		for (size_t j = i; j < R; j++, k++) {
			double x = k < sizeof special / sizeof special[0]
					   ? special[k]
					   : tu_rand_uniform(&seed) * 2 - 1;
			m->value[i * R + j] = m->value[j * R + i] = x;
		}
	}
	struct mp_analysis *a;
	ck_assert_int_eq(mp_analysis_compute(m, s, &a, NULL), MP_OK);
	char *dir = tu_tmpdir();
	ck_assert_int_eq(mp_report_text_write(a, dir, NULL), MP_OK);
	char *path = tu_path(dir, MP_REPORT_INTRA);
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	char line[256], want[64];
	size_t n = 0;
	const struct mp_group_stats *g = &a->intra[0];
	while (fgets(line, sizeof line, f)) {
		if (!strstr(line, " <-> "))
			continue;
		ck_assert_uint_lt(n, g->n_pairs);
		const struct mp_pair *p = &a->pairs[g->pairs[n++]];
		snprintf(want, sizeof want,
			 "m%03zu (F/T) <-> m%03zu (F/T): " MP_SCORE_FMT "\n",
			 p->i, p->j, p->value);
		ck_assert_str_eq(line, want);
	}
	ck_assert_uint_eq(n, R * (R - 1) / 2);
	fclose(f);
	free(path);
	tu_rmtree(dir);
	free(dir);
	char *sum = mp_report_summary(a, 0);
	ck_assert_ptr_nonnull(strstr(sum, "\nINTRAFAMILY SIMILARITY (sorted by mean "
					  "similarity, most similar first):\n"));
	ck_assert_ptr_nonnull(strstr(sum, "(no groups)")); /* no interfamily */
	free(sum);
	mp_analysis_free(a);
	mp_model_info_free(s);
	mp_simmatrix_free(m);

	/* the hand-computed matrix: rows of the three tables */
	m = matrix(true);
	s = info();
	ck_assert_int_eq(mp_analysis_compute(m, s, &a, NULL), MP_OK);
	sum = mp_report_summary(a, 0);
	/* 6 significant digits in columns of 12 */
	ck_assert_ptr_nonnull(strstr(sum, "\nF vs G                       "
					  "0.1          0.6          0.35         "
					  "0.035        6          0\n"));
	ck_assert_ptr_nonnull(strstr(sum, "\nFull-Lite                              "
					  "-            -            -            - "
					  "           0          1\n"));
	ck_assert_ptr_nonnull(strstr(sum, "in the results but not in the model "
					  "info (1): x\n"));
	free(sum);
	mp_analysis_free(a);
	mp_model_info_free(s);
	mp_simmatrix_free(m);
}
END_TEST

Suite *suite_groups(void)
{
	Suite *s = suite_create("groups");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_similarity_groups);
	tcase_add_test(tc, test_divergence_ascending);
	tcase_add_test(tc, test_no_info_and_tiny);
	tcase_add_loop_test(tc, test_random_against_reference, 0, 2);
	tcase_add_test(tc, test_text_reports);
	suite_add_tcase(s, tc);
	return s;
}
