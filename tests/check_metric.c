/* check_metric.c — model-level metrics against values worked out by hand. */
#include "check_suites.h"
#include "metric.h"
#include "simmatrix.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A fingerprint of one method with tensors named names[i], shapes [numel],
 * sketches from vals (nsketch values each). */
static struct mp_fingerprint *fp_new(int n, const char *const *names,
				     const uint64_t *numel, const float *vals,
				     uint32_t nsketch, const char *const *sha)
{
	struct mp_fingerprint *fp = calloc(1, sizeof *fp);
	fp->method = strdup("tensors");
	fp->args = mp_json_object();
	mp_json_add_num(fp->args, "sketch_size", nsketch);
	fp->tensors = calloc((size_t)n, sizeof *fp->tensors);
	fp->ntensors = (size_t)n;
	for (int i = 0; i < n; i++) {
		struct mp_tensor_fp *t = &fp->tensors[i];
		t->name = strdup(names[i]);
		t->dtype = t->stored = MP_F32;
		t->ndim = 1;
		t->shape[0] = t->numel = numel[i];
		t->nsketch = nsketch;
		t->sketch = malloc(nsketch * sizeof(float));
		memcpy(t->sketch, vals + (size_t)i * nsketch, nsketch * sizeof(float));
		snprintf(t->sha256, sizeof t->sha256, "%s", sha ? sha[i] : "");
		t->has_stats = true;
		for (int k = 0; k < MP_TSTATS_NFIELDS; k++)
			*mp_tstats_field(&t->stats, k) = t->sketch[0];
	}
	return fp;
}

static double score(const char *method, const char *name,
		    const struct mp_fingerprint *a, const struct mp_fingerprint *b)
{
	struct mp_score s = mp_metric_find(method, name)->score(a, b);
	return s.defined ? s.value : NAN;
}

START_TEST(test_sketch_metrics)
{
	const char *names[] = {"x"};
	uint64_t numel[] = {3};
	float a[] = {1, 2, 3}, b[] = {2, 4, 6}, c[] = {3, 2, 1};
	struct mp_fingerprint *fa = fp_new(1, names, numel, a, 3, NULL);
	struct mp_fingerprint *fb = fp_new(1, names, numel, b, 3, NULL);
	struct mp_fingerprint *fc = fp_new(1, names, numel, c, 3, NULL);
	ck_assert_double_eq_tol(score("tensors", "cosine", fa, fb), 1.0, 1e-15);
	ck_assert_double_eq_tol(score("tensors", "pearson", fa, fb), 1.0, 1e-15);
	/* l1: 1 - (1+2+3)/(6+12) = 2/3 */
	ck_assert_double_eq_tol(score("tensors", "l1", fa, fb), 2.0 / 3, 1e-15);
	/* a.c = 3+4+3 = 10 over 14: cosine 5/7; Pearson of reversed = -1 */
	ck_assert_double_eq_tol(score("tensors", "cosine", fa, fc), 10.0 / 14, 1e-15);
	ck_assert_double_eq_tol(score("tensors", "pearson", fa, fc), -1.0, 1e-15);
	mp_fp_free(fa);
	mp_fp_free(fb);
	mp_fp_free(fc);
}
END_TEST

START_TEST(test_weighting_and_exact)
{
	/* x (numel 4): [1,0] vs [0,1] cosine 0; y (numel 2): equal, cosine 1.
	 * element-weighted: (4*0 + 2*1)/6 = 1/3. exact: y's hashes match: 1/2.
	 * shape: z exists only in b: 2 matched over 3 names. */
	const char *na[] = {"x", "y"}, *nb[] = {"x", "y", "z"};
	uint64_t ea[] = {4, 2}, eb[] = {4, 2, 9};
	float va[] = {1, 0, 5, 5}, vb[] = {0, 1, 5, 5, 7, 7};
	const char *ha[] = {"aa", "bb"}, *hb[] = {"cc", "bb", "dd"};
	struct mp_fingerprint *fa = fp_new(2, na, ea, va, 2, ha);
	struct mp_fingerprint *fb = fp_new(3, nb, eb, vb, 2, hb);
	ck_assert_double_eq_tol(score("tensors", "cosine", fa, fb), 1.0 / 3, 1e-15);
	ck_assert_double_eq_tol(score("tensors", "exact", fa, fb), 0.5, 1e-15);
	ck_assert_double_eq_tol(score("tensors", "shape", fa, fb), 2.0 / 3, 1e-15);
	/* stats: every field of x is 1 vs 0 -> 1/(1+16); y equal -> 1 */
	ck_assert_double_eq_tol(score("tensors", "stats", fa, fb),
				(1.0 / 17 + 1.0) / 2, 1e-15);
	/* Pearson of [1,0] vs [0,1] is -1; of the constant [5,5] pair 1 */
	double pear = (4 * -1.0 + 2 * 1.0) / 6;
	ck_assert_double_eq_tol(score("tensors", "final", fa, fb),
				0.2 * 0.5 + 0.25 * (1.0 / 17 + 1.0) / 2 +
					0.3 / 3 + 0.25 * pear,
				1e-15);
	mp_fp_free(fa);
	mp_fp_free(fb);
}
END_TEST

START_TEST(test_undefined_pairs)
{
	const char *na[] = {"x"}, *nb[] = {"y"};
	uint64_t e[] = {2};
	float v[] = {1, 2};
	struct mp_fingerprint *fa = fp_new(1, na, e, v, 2, NULL);
	struct mp_fingerprint *fb = fp_new(1, nb, e, v, 2, NULL);
	struct mp_score s = mp_metric_find("tensors", "cosine")->score(fa, fb);
	ck_assert(!s.defined);
	ck_assert_str_eq(s.reason, "no tensors in common");
	s = mp_metric_find("spectral", "js")->score(fa, fb);
	ck_assert(!s.defined);
	/* a different sketch size makes sketches incomparable */
	struct mp_fingerprint *fc = fp_new(1, na, e, v, 1, NULL);
	s = mp_metric_find("tensors", "cosine")->score(fa, fc);
	ck_assert(!s.defined);
	/* a matrix keeps the undefined pair as NaN with its reason */
	struct mp_fingerprint *fps[2] = {fa, fb};
	char *ids[2] = {"1", "2"};
	struct mp_simmatrix *m;
	ck_assert(mp_simmatrix_compute(mp_metric_find("tensors", "cosine"), fps,
				       ids, 2, &m, NULL) == MP_OK);
	ck_assert(isnan(m->value[1]) && isnan(m->value[2]));
	ck_assert_double_eq(m->value[0], 1.0);
	ck_assert_str_eq(m->reason[1], "no tensors in common");
	mp_json *j = mp_simmatrix_list_to_json(&m, 1);
	char *txt = mp_json_print(j, false);
	ck_assert_ptr_nonnull(strstr(txt, "\"values\":[[1,null],[null,1]]"));
	ck_assert_ptr_nonnull(strstr(txt, "\"reason\":\"no tensors in common\""));
	struct mp_simmatrix **back;
	size_t nb2;
	ck_assert(mp_simmatrix_list_from_json(j, "t", &back, &nb2, NULL) == MP_OK);
	ck_assert_uint_eq(nb2, 1);
	ck_assert(isnan(back[0]->value[1]));
	ck_assert_str_eq(back[0]->reason[1], "no tensors in common");
	mp_simmatrix_free(back[0]);
	free(back);
	free(txt);
	mp_json_free(j);
	mp_simmatrix_free(m);
	mp_fp_free(fa);
	mp_fp_free(fb);
	mp_fp_free(fc);
}
END_TEST

START_TEST(test_spectral_histograms)
{
	struct mp_fingerprint a = {0}, b = {0};
	a.has_hist = b.has_hist = true;
	a.hist[0] = a.hist[1] = 0.5;
	b.hist[0] = 1.0;
	/* m = (0.75, 0.25): JS = 0.5 (0.5 ln(0.5/0.75) + 0.5 ln(0.5/0.25))
	 *                      + 0.5 (1 ln(1/0.75)) */
	double js = 0.5 * (0.5 * log(0.5 / 0.75) + 0.5 * log(2.0)) +
		    0.5 * log(1 / 0.75);
	ck_assert_double_eq_tol(score("spectral", "js", &a, &b), js, 1e-15);
	ck_assert_double_eq_tol(score("spectral", "js", &a, &a), 0, 1e-15);
	/* l1: 1 - (0.5+0.5)/2 = 0.5; cosine 0.5/sqrt(0.5) */
	ck_assert_double_eq_tol(score("spectral", "l1", &a, &b), 0.5, 1e-15);
	ck_assert_double_eq_tol(score("spectral", "cosine", &a, &b),
				0.5 / sqrt(0.5), 1e-15);
	ck_assert(!mp_metric_find("spectral", "js")->higher_is_more_alike);
}
END_TEST

START_TEST(test_bad_matrix_files)
{
#define M2(vals) "{\"matrices\":{\"tensors\":{\"l1\":{\"models\":[\"1\",\"2\"]," \
		 "\"values\":" vals "}}}}"
	static const char *const bad[][2] = {
		{M2("[[1,0]]"), "must be square"},
		{M2("[[1,0],[0]]"), "row 1 does not have 2 values"},
		{"{\"matrices\":{\"tensors\":{\"l1\":{\"models\":[\"1\",\"1\"],"
		 "\"values\":[[1,0],[0,1]]}}}}",
		 "model id '1' appears twice"},
		{M2("[[1,\"x\"],[0,1]]"), "neither a number nor null"},
		{"{\"matrix\":{}}", "no \"matrices\" object"},
		/* asymmetric, a null on one side only, out of range, nested */
		{M2("[[1,0.5],[0.6,1]]"), "value [0][1] differs from [1][0]"},
		{M2("[[1,null],[0.6,1]]"), "must be symmetric"},
		{M2("[[1,1e999],[1e999,1]]"), "value [0][1] is out of range"},
		{M2("[[1,[0.5]],[[0.5],1]]"), "value [0][1] is neither"},
		/* names from the file escaped (found by fuzz_results) */
		{"{\"matrices\":{\"t\\u001b\":{\"l\\u00071\":{\"models\":[\"1\"],"
		 "\"values\":[[1],[1]]}}}}",
		 "t\\x1b/l\\x071: 1 models but 2 rows"},
		{"{\"matrices\":{\"t\\u001b\":{\"l1\":{\"models\":[\"1\",\"2\"],"
		 "\"values\":[[1,0.5],[0.6,1]]}}}}",
		 "t\\x1b/l1: value [0][1] differs"},
		{"{\"matrices\":{\"t\":{\"l1\":{\"models\":[\"\\u001b\",\"\\u001b\"],"
		 "\"values\":[[1,0],[0,1]]}}}}",
		 "model id '\\x1b' appears twice"},
	};
#undef M2
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		mp_json *j;
		ck_assert(mp_json_parse(bad[i][0], strlen(bad[i][0]), "f.json", &j,
					NULL) == MP_OK);
		struct mp_simmatrix **ms;
		size_t n;
		struct mp_error err;
		ck_assert_int_eq(mp_simmatrix_list_from_json(j, "f.json", &ms, &n, &err),
				 MP_EFORMAT);
		ck_assert_msg(strstr(err.msg, "f.json") && strstr(err.msg, bad[i][1]),
			      "case %zu: %s", i, err.msg);
		mp_json_free(j);
	}
}
END_TEST

Suite *suite_metric(void)
{
	Suite *s = suite_create("metric");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_sketch_metrics);
	tcase_add_test(tc, test_weighting_and_exact);
	tcase_add_test(tc, test_undefined_pairs);
	tcase_add_test(tc, test_spectral_histograms);
	tcase_add_test(tc, test_bad_matrix_files);
	suite_add_tcase(s, tc);
	return s;
}
