/* check_metric.c — model-level metrics against values worked out by hand. */
#include "check_suites.h"
#include "metric.h"
#include "simmatrix.h"
#include "testutil.h"

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
		ck_assert_int_eq(mp_tensor_fp_init(t, names[i], 1, &numel[i]),
				 MP_OK);
		t->dtype = t->stored = MP_F32;
		t->numel = numel[i];
		t->nsketch = nsketch;
		t->sketch = malloc(nsketch * sizeof(float));
		memcpy(t->sketch, vals + (size_t)i * nsketch, nsketch * sizeof(float));
		snprintf(t->sha256, sizeof t->sha256, "%s", sha ? sha[i] : "");
		t->stats = calloc(1, sizeof *t->stats);
		t->stats->n = numel[i];
		for (int k = 0; k < MP_TSTATS_NFIELDS; k++)
			*mp_tstats_field(t->stats, k) = t->sketch[0];
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
	/* Pearson of [1,0] vs [0,1] is -1; the constant [5,5] pair is left
	 * out (Pearson undefined), so the mean is -1 */
	double pear = -1.0;
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

/* The vector metrics of weight (and input_output), by hand. */
START_TEST(test_vector_metrics)
{
	double va[3] = {3, 1, 2}, vb[3] = {1, 4, 0}, vz[3] = {0, 0, 0},
	       vs[2] = {1, 2};
	struct mp_fingerprint a = {.vec = va, .nvec = 3},
			      b = {.vec = vb, .nvec = 3},
			      z = {.vec = vz, .nvec = 3},
			      s = {.vec = vs, .nvec = 2}, none = {0};
	/* sorted: a = (1, 2, 3), b = (0, 1, 4): sum |a-b| = 1+1+1 = 3,
	 * sum |a| + sum |b| = 6 + 5 = 11 -> 1 - 3/11 = 8/11 */
	ck_assert_double_eq_tol(score("weight", "l1", &a, &b), 8.0 / 11,
				1e-15);
	/* cosine of (1,2,3) and (0,1,4): 14 / sqrt(14 * 17) */
	ck_assert_double_eq_tol(score("weight", "cosine", &a, &b),
				14 / sqrt(14.0 * 17), 1e-15);
	ck_assert_double_eq_tol(score("weight", "l1", &a, &a), 1, 1e-15);
	ck_assert_double_eq_tol(score("weight", "cosine", &a, &a), 1, 1e-15);
	ck_assert_double_eq(score("weight", "exact", &a, &a), 1);
	ck_assert_double_eq(score("weight", "exact", &a, &b), 0);
	ck_assert_double_eq(score("weight", "exact", &a, &s), 0);
	/* l1 of a and zeros: 1 - 6/6 = 0; cosine undefined */
	ck_assert_double_eq_tol(score("weight", "l1", &a, &z), 0, 1e-15);
	struct mp_score r = mp_metric_find("weight", "cosine")->score(&a, &z);
	ck_assert(!r.defined);
	ck_assert_str_eq(r.reason, MP_REASON_VEC_ZERO);
	r = mp_metric_find("weight", "l1")->score(&z, &z);
	ck_assert(!r.defined);
	ck_assert_str_eq(r.reason, MP_REASON_VEC_ZERO);
	r = mp_metric_find("weight", "l1")->score(&a, &s);
	ck_assert(!r.defined);
	ck_assert_str_eq(r.reason, MP_REASON_VEC_LEN);
	r = mp_metric_find("weight", "cosine")->score(&a, &s);
	ck_assert_str_eq(r.reason, MP_REASON_VEC_LEN);
	for (int k = 0; k < 3; k++) {
		static const char *const names[] = {"l1", "cosine", "exact"};
		const struct mp_metric *m = mp_metric_find("weight", names[k]);
		ck_assert(m->higher_is_more_alike);
		r = m->score(&a, &none);
		ck_assert(!r.defined);
		ck_assert_str_eq(r.reason, MP_REASON_VEC_NONE);
	}
	/* every reason is one a matrix file may carry */
	size_t n;
	const char *const *rs = mp_metric_reasons(&n);
	int found = 0;
	for (size_t i = 0; i < n; i++)
		found += !strcmp(rs[i], MP_REASON_VEC_LEN);
	ck_assert_int_eq(found, 1);
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

/* One tensor of a hand-made fingerprint: shape, and its sketch (which is
 * the whole tensor when nsketch == numel). */
struct spec {
	const char *name;
	int ndim;
	uint64_t shape[2];
	uint32_t nsketch;
	const float *vals;
};

/* A tensors fingerprint from specs; stats fields all equal the first
 * finite sketch value, stats.n the number of finite values. */
static struct mp_fingerprint *fp_spec(int n, const struct spec *sp)
{
	struct mp_fingerprint *fp = calloc(1, sizeof *fp);
	fp->method = strdup("tensors");
	fp->args = mp_json_object();
	mp_json_add_num(fp->args, "sketch_size", 4096);
	fp->tensors = calloc((size_t)n, sizeof *fp->tensors);
	fp->ntensors = (size_t)n;
	for (int i = 0; i < n; i++) {
		struct mp_tensor_fp *t = &fp->tensors[i];
		ck_assert_int_eq(mp_tensor_fp_init(t, sp[i].name, sp[i].ndim,
						   sp[i].shape),
				 MP_OK);
		t->dtype = t->stored = MP_F32;
		t->numel = 1;
		for (int d = 0; d < t->ndim; d++)
			t->numel *= t->shape[d];
		t->nsketch = sp[i].nsketch;
		t->sketch = malloc(t->nsketch * sizeof(float));
		memcpy(t->sketch, sp[i].vals, t->nsketch * sizeof(float));
		t->stats = calloc(1, sizeof *t->stats);
		double first = NAN;
		for (uint32_t k = 0; k < t->nsketch; k++) {
			if (isfinite(t->sketch[k])) {
				if (t->stats->n++ == 0)
					first = t->sketch[k];
			} else
				t->stats->nonfinite++;
		}
		for (int k = 0; k < MP_TSTATS_NFIELDS; k++)
			*mp_tstats_field(t->stats, k) = first;
		snprintf(t->sha256, sizeof t->sha256, "%c", 'a' + i);
	}
	return fp;
}

static struct mp_score score_of(const char *name, const struct mp_fingerprint *a,
				const struct mp_fingerprint *b)
{
	return mp_metric_find("tensors", name)->score(a, b);
}

START_TEST(test_nonfinite_left_out)
{
	/* x: a = (1, -inf, 2, 3), b = (2, 5, 4, 7): position 1 is left out, so
	 * over (1,2,3) and (2,4,7): cosine 31 / sqrt(14 * 69); Pearson: means
	 * 2 and 13/3, centred (-1,0,1) and (-7/3,-1/3,8/3), 5 / sqrt(2 * 38/3);
	 * l1 1 - (1+2+4) / (6+13) = 12/19. */
	const float xa[] = {1, -INFINITY, 2, 3}, xb[] = {2, 5, 4, 7};
	const struct spec sa[] = {{"x", 1, {4}, 4, xa}};
	const struct spec sb[] = {{"x", 1, {4}, 4, xb}};
	struct mp_fingerprint *fa = fp_spec(1, sa), *fb = fp_spec(1, sb);
	struct mp_score c = score_of("cosine", fa, fb);
	ck_assert(c.defined);
	ck_assert_double_eq_tol(c.value, 31 / sqrt(14.0 * 69), 1e-15);
	ck_assert_uint_eq(c.nonfinite, 1);
	ck_assert_uint_eq(c.ntensors, 1);
	ck_assert_uint_eq(mp_metric_score_undefined(&c), 0);
	ck_assert_double_eq_tol(score("tensors", "pearson", fa, fb),
				5 / sqrt(2 * 38.0 / 3), 1e-15);
	ck_assert_double_eq_tol(score("tensors", "l1", fa, fb), 12.0 / 19,
				1e-15);
	mp_fp_free(fa);
	mp_fp_free(fb);

	/* A model holding a -inf scalar (as nanodet and faceboxes do) and
	 * tensors whose roots do not round back, compared with itself: every
	 * metric is exactly 1, the scalar is left out and counted. */
	const float inf1[] = {-INFINITY}, v[] = {0.1f, 0.7f, 1e-3f, 3.3f},
		    w[] = {1e30f, -2e30f, 3e29f};
	const struct spec ss[] = {{"s", 0, {0}, 1, inf1},
				  {"v", 2, {2, 2}, 4, v},
				  {"w", 1, {3}, 3, w}};
	struct mp_fingerprint *fs = fp_spec(3, ss);
	static const char *const all[] = {"cosine", "pearson", "l1", "stats",
					  "exact", "shape", "final"};
	for (int i = 0; i < 7; i++) {
		struct mp_score s = score_of(all[i], fs, fs);
		ck_assert_msg(s.defined && s.value == 1.0, "%s: %.17g (%s)",
			      all[i], s.value, s.reason ? s.reason : "");
	}
	c = score_of("cosine", fs, fs);
	ck_assert_uint_eq(c.ntensors, 3);
	ck_assert_uint_eq(c.nundef[MP_WHY_NO_FINITE], 1);
	ck_assert_uint_eq(c.nonfinite, 1);
	/* every tensor non-finite: undefined, with the reason */
	struct mp_fingerprint *fi = fp_spec(1, ss);
	c = score_of("cosine", fi, fi);
	ck_assert(!c.defined);
	ck_assert_str_eq(c.reason, "every tensor in common is all zero or not "
				   "finite");
	mp_fp_free(fi);
	mp_fp_free(fs);
}
END_TEST

START_TEST(test_degenerate_left_out)
{
	/* z: a all zero: cosine and Pearson undefined. c: a constant (3,3)
	 * vs (1,2): cosine 9 / sqrt(18 * 5) = 3/sqrt(10), Pearson undefined.
	 * x: (1,2) vs (2,1): cosine 4/5, Pearson -1. Weights are numel:
	 * z 10, c 6, x 4. cosine (6 * 3/sqrt(10) + 4 * 0.8) / 10; Pearson -1. */
	const float z[] = {0, 0}, c3[] = {3, 3}, one2[] = {1, 2}, two1[] = {2, 1};
	const struct spec sa[] = {{"z", 2, {5, 2}, 2, z},
				  {"c", 2, {3, 2}, 2, c3},
				  {"x", 2, {2, 2}, 2, one2}};
	const struct spec sb[] = {{"z", 2, {5, 2}, 2, one2},
				  {"c", 2, {3, 2}, 2, one2},
				  {"x", 2, {2, 2}, 2, two1}};
	struct mp_fingerprint *fa = fp_spec(3, sa), *fb = fp_spec(3, sb);
	struct mp_score c = score_of("cosine", fa, fb);
	ck_assert(c.defined);
	ck_assert_double_eq_tol(c.value, (6 * 3 / sqrt(10.0) + 4 * 0.8) / 10,
				1e-15);
	ck_assert_uint_eq(c.ntensors, 3);
	ck_assert_uint_eq(c.nundef[MP_WHY_ZERO], 1);
	struct mp_score p = score_of("pearson", fa, fb);
	ck_assert(p.defined);
	ck_assert_double_eq(p.value, -1.0);
	ck_assert_uint_eq(p.nundef[MP_WHY_CONSTANT], 2);
	mp_fp_free(fa);
	mp_fp_free(fb);

	/* only c: Pearson undefined, so final blends exact (hashes 'a' and
	 * 'a' are equal: 1), stats (fields 3 vs 1: 1/(1 + 16*2) = 1/33)
	 * and cosine 3/sqrt(10) with weights 0.2, 0.25, 0.3 over 0.75. */
	fa = fp_spec(1, sa + 1);
	fb = fp_spec(1, sb + 1);
	p = score_of("pearson", fa, fb);
	ck_assert(!p.defined);
	ck_assert_str_eq(p.reason,
			 "every tensor in common is constant or not finite");
	ck_assert_double_eq_tol(score("tensors", "final", fa, fb),
				(0.2 + 0.25 / 33 + 0.3 * 3 / sqrt(10.0)) / 0.75,
				1e-15);
	mp_fp_free(fa);
	mp_fp_free(fb);
	/* only z, all zero on one side: cosine undefined, not 0 */
	fa = fp_spec(1, sa);
	fb = fp_spec(1, sb);
	ck_assert(!score_of("cosine", fa, fb).defined);
	mp_fp_free(fa);
	mp_fp_free(fb);
	/* both all zero: cosine undefined, not 1; l1 undefined, not 1 */
	fa = fp_spec(1, sa);
	ck_assert(!score_of("cosine", fa, fa).defined);
	ck_assert(!score_of("l1", fa, fa).defined);
	/* a matrix written and read back keeps that reason */
	struct mp_fingerprint *fps[2] = {fa, fa};
	char *ids[2] = {"1", "2"};
	struct mp_simmatrix *m, **back;
	size_t nb;
	ck_assert(mp_simmatrix_compute(mp_metric_find("tensors", "cosine"), fps,
				       ids, 2, &m, NULL) == MP_OK);
	mp_json *j = mp_simmatrix_list_to_json(&m, 1);
	ck_assert(mp_simmatrix_list_from_json(j, "t", &back, &nb, NULL) == MP_OK);
	ck_assert_str_eq(back[0]->reason[1],
			 "every tensor in common is all zero or not finite");
	mp_simmatrix_free(back[0]);
	free(back);
	mp_json_free(j);
	mp_simmatrix_free(m);
	mp_fp_free(fa);
}
END_TEST

START_TEST(test_one_element_shapes_match)
{
	const uint64_t s1[] = {1}, s11[] = {1, 1}, s2[] = {2}, s12[] = {1, 2};
	ck_assert(mp_metric_shapes_match(0, s1, 1, 1, s1, 1));
	ck_assert(mp_metric_shapes_match(2, s11, 1, 1, s1, 1));
	ck_assert(mp_metric_shapes_match(1, s2, 2, 1, s2, 2));
	ck_assert(!mp_metric_shapes_match(1, s2, 2, 2, s12, 2));
	/* [] vs [1] and [1,1] vs [1]: matched, so shape counts them and
	 * cosine compares them (2 vs 4 and 2 vs 2: cosine 1) */
	const float two[] = {2}, four[] = {4};
	const struct spec sa[] = {{"s", 0, {0}, 1, two},
				  {"m", 2, {1, 1}, 1, two}};
	const struct spec sb[] = {{"s", 1, {1}, 1, four},
				  {"m", 1, {1}, 1, two}};
	struct mp_fingerprint *fa = fp_spec(2, sa), *fb = fp_spec(2, sb);
	ck_assert_double_eq(score("tensors", "shape", fa, fb), 1.0);
	ck_assert_double_eq(score("tensors", "cosine", fa, fb), 1.0);
	mp_fp_free(fa);
	mp_fp_free(fb);
}
END_TEST

/* The exact path over real files: a safetensors model with a -inf scalar,
 * an all-zero tensor, a constant tensor and a [1] tensor, against itself
 * and against a copy whose scalar is stored as [1]. */
START_TEST(test_exact_odd_tensors)
{
	char *dir = tu_tmpdir();
	char *pa = tu_path(dir, "a.safetensors"), *pb = tu_path(dir, "b.safetensors");
	const float inf1[] = {-INFINITY}, zero[] = {0, 0, 0}, k[] = {5, 5},
		    x[] = {1, -INFINITY, 2, 3}, y[] = {2, 5, 4, 7},
		    big[] = {3e38f, -1e38f};
	const double huge[] = {1e300, 2e300};
	struct tu_tensor ta[] = {
		{"s", "F32", 0, {0}, inf1, 4},	  {"z", "F32", 1, {3}, zero, 12},
		{"k", "F32", 1, {2}, k, 8},	  {"x", "F32", 1, {4}, x, 16},
		{"big", "F32", 1, {2}, big, 8},	  {"h", "F64", 1, {2}, huge, 16}};
	tu_write_safetensors(pa, ta, 6, NULL);
	struct tu_tensor tb[] = {
		{"s", "F32", 1, {1}, inf1, 4},	  {"z", "F32", 1, {3}, zero, 12},
		{"k", "F32", 1, {2}, k, 8},	  {"x", "F32", 1, {4}, y, 16},
		{"big", "F32", 1, {2}, big, 8},	  {"h", "F64", 1, {2}, huge, 16}};
	tu_write_safetensors(pb, tb, 6, NULL);
	struct mp_model *a, *b;
	struct mp_error err;
	ck_assert(mp_model_open(pa, &a, &err) == MP_OK);
	ck_assert(mp_model_open(pb, &b, &err) == MP_OK);
	struct mp_exact_pair *p;
	size_t np;
	struct mp_score c, r;
	ck_assert(mp_metric_exact(a, a, &p, &np, &c, &r, &err) == MP_OK);
	ck_assert_uint_eq(np, 6);
	ck_assert(c.defined && c.value == 1.0);
	ck_assert(r.defined && r.value == 1.0);
	/* s: no finite value; z: all zero; k: constant (cosine 1) */
	ck_assert_int_eq(p[0].r.cos_why, MP_WHY_NO_FINITE);
	ck_assert_int_eq(p[1].r.cos_why, MP_WHY_ZERO);
	ck_assert_int_eq(p[2].r.pear_why, MP_WHY_CONSTANT);
	ck_assert(p[2].r.cosine == 1.0);
	/* 1e300 squared overflows unless scaled: cosine 1 */
	ck_assert_int_eq(p[5].r.cos_why, MP_WHY_OK);
	ck_assert(p[5].r.cosine == 1.0 && p[5].r.pearson == 1.0);
	ck_assert_uint_eq(c.ntensors, 6);
	ck_assert_uint_eq(c.nundef[MP_WHY_NO_FINITE], 1);
	ck_assert_uint_eq(c.nundef[MP_WHY_ZERO], 1);
	ck_assert_uint_eq(r.nundef[MP_WHY_CONSTANT], 2);
	ck_assert_uint_eq(c.nonfinite, 2);
	free(p);
	/* against b: s ([] vs [1]) is matched; x as in test_nonfinite_left_out */
	ck_assert(mp_metric_exact(a, b, &p, &np, &c, &r, &err) == MP_OK);
	ck_assert_uint_eq(np, 6);
	ck_assert_str_eq(p[0].name, "s");
	ck_assert_double_eq_tol(p[3].r.cosine, 31 / sqrt(14.0 * 69), 1e-15);
	ck_assert_double_eq_tol(p[3].r.pearson, 5 / sqrt(2 * 38.0 / 3), 1e-15);
	ck_assert_uint_eq(p[3].r.skipped, 1);
	/* cosine over k (1), x, big (1), h (1): weights 2, 4, 2, 2 */
	ck_assert_double_eq_tol(c.value, (2 + 4 * 31 / sqrt(14.0 * 69) + 2 + 2) / 10,
				1e-15);
	free(p);
	mp_model_free(a);
	mp_model_free(b);
	tu_rmtree(dir);
	free(pa);
	free(pb);
	free(dir);
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
	tcase_add_test(tc, test_vector_metrics);
	tcase_add_test(tc, test_bad_matrix_files);
	tcase_add_test(tc, test_nonfinite_left_out);
	tcase_add_test(tc, test_degenerate_left_out);
	tcase_add_test(tc, test_one_element_shapes_match);
	tcase_add_test(tc, test_exact_odd_tensors);
	suite_add_tcase(s, tc);
	return s;
}
