/* check_identify.c — identify on models built here from random bases:
 * the parent and the relation of copies, fine-tunes, merges with known
 * coefficients, renamed tensors, int8 grids, pruning and unrelated
 * weights; the scores against values computed here by formula; the key
 * tensor selections; and the errors (duplicate ids, no floating tensor). */
#include "check_suites.h"
#include "identify.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NT 3
/* Smaller than the default sketch, so sketches hold every value and
 * sketch correlations equal whole-tensor ones. */
static const char *const names[NT] = {"enc.w1", "enc.w2", "enc.b"};
static const uint64_t shapes[NT][2] = {{16, 32}, {32, 24}, {24, 1}};
static const int ndims[NT] = {2, 2, 1};

static size_t numel(int t)
{
	return (size_t)(shapes[t][0] * shapes[t][1]);
}

struct vals {
	float *v[NT];
};

static void vals_random(struct vals *m, uint64_t seed)
{
	for (int t = 0; t < NT; t++) {
		m->v[t] = malloc(numel(t) * sizeof(float));
		for (size_t i = 0; i < numel(t); i++)
			m->v[t][i] = (float)(0.1 * tu_rand_normal(&seed));
	}
}

static void vals_free(struct vals *m)
{
	for (int t = 0; t < NT; t++)
		free(m->v[t]);
}

static char *dir;
static struct mp_arch_set *arch;

/* Write m as dir/file (prefix prepended to every name) and fingerprint
 * it; *path receives the file's path (caller frees). */
static struct mp_fingerprint *put(const char *file, const struct vals *m,
				  const char *prefix, char **path)
{
	struct tu_tensor tt[NT];
	char nm[NT][64];
	for (int t = 0; t < NT; t++) {
		snprintf(nm[t], sizeof nm[t], "%s%s", prefix, names[t]);
		tt[t] = (struct tu_tensor){nm[t], "F32", ndims[t],
					   {shapes[t][0], shapes[t][1]},
					   m->v[t], numel(t) * 4};
	}
	char *p = tu_path(dir, file);
	tu_write_safetensors(p, tt, NT, NULL);
	struct mp_model *mo;
	struct mp_fingerprint *fp;
	struct mp_error err;
	ck_assert_msg(mp_model_open(p, &mo, &err) == MP_OK, "%s", err.msg);
	ck_assert_msg(mp_fp_compute(mo, "tensors", NULL, 1, NULL, &fp, &err) ==
			  MP_OK,
		      "%s", err.msg);
	mp_model_free(mo);
	*path = p;
	return fp;
}

/* References P, Q, S (three unrelated random models) and their files. */
#define NR 3
static struct vals base[NR];
static struct mp_fingerprint *rfp[NR];
static char *rpath[NR];
static struct mp_ident_ref refs[NR];
static const char *const rnames[NR] = {"P", "Q", "S"};

static void setup(void)
{
	dir = tu_tmpdir();
	struct mp_error err;
	char *sig = tu_path(dir, "sig.json");
	/* one architecture with key-tensor weights, matched by enc.w1 */
	tu_write_str(sig,
		     "{\"format\": \"modelprint-architectures\", \"version\": 1,"
		     " \"prefixes\": [\"model.\"], \"architectures\": ["
		     "{\"name\": \"Enc\", \"family\": \"enc\","
		     " \"require\": [[\"enc.w1\", 16, 32], [\"enc.w2\", 32, "
		     "24]],"
		     " \"optional\": [\"enc.*\"],"
		     " \"weights\": {\"enc.w1\": 0.75, \"enc.w2\": 0.25}}]}");
	ck_assert_msg(mp_arch_load(sig, &arch, &err) == MP_OK, "%s", err.msg);
	free(sig);
	for (int i = 0; i < NR; i++) {
		char f[32];
		vals_random(&base[i], 100 + (uint64_t)i);
		snprintf(f, sizeof f, "%s.safetensors", rnames[i]);
		rfp[i] = put(f, &base[i], "", &rpath[i]);
		refs[i] = (struct mp_ident_ref){rnames[i], rnames[i], rpath[i],
						rfp[i]};
	}
}

static void teardown(void)
{
	for (int i = 0; i < NR; i++) {
		mp_fp_free(rfp[i]);
		free(rpath[i]);
		vals_free(&base[i]);
	}
	mp_arch_free(arch);
	tu_rmtree(dir);
	free(dir);
}

static struct mp_ident_result *run(const struct mp_fingerprint *u,
				   const char *upath,
				   const struct mp_ident_ref *r, size_t n)
{
	struct mp_ident_opts o = {.arch = arch, .unknown_path = upath};
	struct mp_ident_result *res;
	struct mp_error err;
	ck_assert_msg(mp_identify(u, r, n, &o, &res, &err) == MP_OK, "%s",
		      err.msg);
	return res;
}

/* Pearson of two float arrays by the textbook formula. */
static double pearson(const float *x, const float *y, size_t n)
{
	double mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0;
	for (size_t i = 0; i < n; i++) {
		mx += x[i];
		my += y[i];
	}
	mx /= (double)n;
	my /= (double)n;
	for (size_t i = 0; i < n; i++) {
		sxy += (x[i] - mx) * (y[i] - my);
		sxx += (x[i] - mx) * (x[i] - mx);
		syy += (y[i] - my) * (y[i] - my);
	}
	return sxy / sqrt(sxx * syy);
}

START_TEST(test_copy_and_scores)
{
	char *p;
	/* a copy of Q under another file name and a "model." prefix */
	struct mp_fingerprint *u = put("copy.safetensors", &base[1], "model.",
				       &p);
	struct mp_ident_result *r = run(u, p, refs, NR);
	ck_assert(r->arch->known);
	ck_assert_str_eq(r->arch->m[0].name, "Enc");
	ck_assert_int_eq(r->selection, MP_SEL_SEED);
	ck_assert_uint_eq(r->nkeys, 2);
	ck_assert_uint_eq(r->ncompatible, 3);
	ck_assert(r->match);
	ck_assert_int_eq(r->relation.kind, MP_ID_COPY);
	ck_assert_str_eq(refs[r->relation.parent].id, "Q");
	ck_assert_double_eq(r->scores[0].exact, 1);
	ck_assert_double_eq(r->scores[0].coverage, 1);
	/* P against the copy of Q: seed weights 0.75 / 0.25 of the Pearson
	 * of enc.w1 and enc.w2, by the formula */
	const struct mp_ident_score *sp = NULL;
	for (size_t i = 0; i < r->nscores; i++)
		if (!strcmp(refs[r->scores[i].ref].id, "P"))
			sp = &r->scores[i];
	ck_assert_ptr_nonnull(sp);
	double want = 0.75 * pearson(base[1].v[0], base[0].v[0], numel(0)) +
		      0.25 * pearson(base[1].v[1], base[0].v[1], numel(1));
	ck_assert_msg(fabs(sp->pearson - want) < 1e-6, "pearson %g want %g",
		      sp->pearson, want);
	ck_assert_double_eq(sp->exact, 0);
	double fin = 0.2 * sp->exact + 0.25 * sp->stats + 0.3 * sp->cosine +
		     0.25 * sp->pearson;
	ck_assert_msg(fabs(sp->final - fin) < 1e-12, "final %g", sp->final);
	ck_assert_int_eq(r->relation.kind, MP_ID_COPY);
	mp_ident_result_free(r);
	mp_fp_free(u);
	free(p);
}
END_TEST

START_TEST(test_finetune_and_unrelated)
{
	struct vals v;
	uint64_t seed = 7;
	for (int t = 0; t < NT; t++) {
		v.v[t] = malloc(numel(t) * sizeof(float));
		for (size_t i = 0; i < numel(t); i++)
			v.v[t][i] = base[2].v[t][i] +
				    (float)(0.01 * tu_rand_normal(&seed));
	}
	char *p;
	struct mp_fingerprint *u = put("ft.safetensors", &v, "", &p);
	struct mp_ident_result *r = run(u, p, refs, NR);
	ck_assert(r->match);
	ck_assert_int_eq(r->relation.kind, MP_ID_FINETUNE);
	ck_assert_str_eq(refs[r->relation.parent].id, "S");
	ck_assert_str_eq(r->relation.confidence, "very high");
	mp_ident_result_free(r);
	mp_fp_free(u);
	free(p);
	vals_free(&v);
	/* fresh random weights: no parent */
	vals_random(&v, 999);
	u = put("rand.safetensors", &v, "", &p);
	r = run(u, p, refs, NR);
	ck_assert(!r->match);
	ck_assert_int_eq(r->relation.kind, MP_ID_UNRELATED);
	ck_assert_uint_eq(r->relation.parent, (size_t)-1);
	mp_ident_result_free(r);
	mp_fp_free(u);
	free(p);
	vals_free(&v);
}
END_TEST

/* u = 0.25 P + 0.75 Q (exact in binary); coefficients from the files and
 * from the sketches alone. */
START_TEST(test_merge)
{
	struct vals v;
	for (int t = 0; t < NT; t++) {
		v.v[t] = malloc(numel(t) * sizeof(float));
		for (size_t i = 0; i < numel(t); i++)
			v.v[t][i] = 0.25f * base[0].v[t][i] +
				    0.75f * base[1].v[t][i];
	}
	char *p;
	struct mp_fingerprint *u = put("m.safetensors", &v, "", &p);
	for (int files = 1; files >= 0; files--) {
		struct mp_ident_result *r = run(u, files ? p : NULL, refs, NR);
		ck_assert(r->match);
		ck_assert_int_eq(r->relation.kind, MP_ID_MERGE);
		ck_assert_int_eq(r->relation.nparents, 2);
		ck_assert_str_eq(refs[r->relation.parents[0]].id, "Q");
		ck_assert_str_eq(refs[r->relation.parents[1]].id, "P");
		ck_assert_msg(fabs(r->relation.coef[0] - 0.75) < 1e-4 &&
				  fabs(r->relation.coef[1] - 0.25) < 1e-4,
			      "coefficients %g %g", r->relation.coef[0],
			      r->relation.coef[1]);
		ck_assert(r->relation.linear);
		ck_assert(r->relation.from_files == (files == 1));
		mp_ident_result_free(r);
	}
	mp_fp_free(u);
	free(p);
	vals_free(&v);
}
END_TEST

/* Every tensor renamed: found by content, the mapping reported. */
START_TEST(test_renamed)
{
	struct tu_tensor tt[NT];
	const char *nn[NT] = {"x.first", "x.second", "x.third"};
	for (int t = 0; t < NT; t++)
		tt[t] = (struct tu_tensor){nn[t], "F32", ndims[t],
					   {shapes[t][0], shapes[t][1]},
					   base[0].v[t], numel(t) * 4};
	char *p = tu_path(dir, "renamed.safetensors");
	tu_write_safetensors(p, tt, NT, NULL);
	struct mp_model *mo;
	struct mp_fingerprint *u;
	struct mp_error err;
	ck_assert(mp_model_open(p, &mo, &err) == MP_OK);
	ck_assert(mp_fp_compute(mo, "tensors", NULL, 1, NULL, &u, &err) ==
		  MP_OK);
	mp_model_free(mo);
	struct mp_ident_result *r = run(u, p, refs, NR);
	ck_assert(r->match);
	ck_assert_int_eq(r->relation.kind, MP_ID_RENAMED);
	ck_assert_str_eq(refs[r->relation.parent].id, "P");
	ck_assert_uint_eq(r->relation.nrenames, 3);
	for (size_t i = 0; i < 3; i++) {
		const char *f = r->relation.renames[i].from;
		const char *to = r->relation.renames[i].to;
		int k = f[2] == 'f' ? 0 : f[3] == 'e' ? 1 : 2;
		ck_assert_str_eq(to, names[k]);
	}
	mp_ident_result_free(r);
	mp_fp_free(u);
	free(p);
}
END_TEST

/* int8 symmetric per tensor and 50 % magnitude pruning, decided on the
 * sketches alone (no files). */
START_TEST(test_grid_and_prune_sketches)
{
	struct vals q, z;
	for (int t = 0; t < NT; t++) {
		size_t n = numel(t);
		double mx = 0;
		for (size_t i = 0; i < n; i++)
			mx = fmax(mx, fabs(base[0].v[t][i]));
		double step = mx / 127;
		q.v[t] = malloc(n * sizeof(float));
		z.v[t] = malloc(n * sizeof(float));
		float *a = malloc(n * sizeof(float));
		for (size_t i = 0; i < n; i++) {
			q.v[t][i] = (float)(round(base[0].v[t][i] / step) *
					    step);
			a[i] = fabsf(base[0].v[t][i]);
		}
		/* the median |w| by a selection sort of a copy */
		for (size_t i = 0; i <= n / 2; i++)
			for (size_t j = i + 1; j < n; j++)
				if (a[j] < a[i]) {
					float s = a[i];
					a[i] = a[j];
					a[j] = s;
				}
		for (size_t i = 0; i < n; i++)
			z.v[t][i] = fabsf(base[0].v[t][i]) < a[n / 2]
					? 0
					: base[0].v[t][i];
		free(a);
	}
	char *p1, *p2;
	struct mp_fingerprint *uq = put("q.safetensors", &q, "", &p1);
	struct mp_fingerprint *uz = put("z.safetensors", &z, "", &p2);
	struct mp_ident_result *r = run(uq, NULL, refs, NR);
	ck_assert(r->match);
	ck_assert_int_eq(r->relation.kind, MP_ID_QUANT);
	ck_assert(!r->relation.from_files);
	ck_assert_str_eq(refs[r->relation.parent].id, "P");
	mp_ident_result_free(r);
	r = run(uz, NULL, refs, NR);
	ck_assert(r->match);
	ck_assert_int_eq(r->relation.kind, MP_ID_PRUNE);
	ck_assert_str_eq(refs[r->relation.parent].id, "P");
	ck_assert_msg(strstr(r->relation.evidence, "50.0 %") != NULL, "%s",
		      r->relation.evidence);
	mp_ident_result_free(r);
	mp_fp_free(uq);
	mp_fp_free(uz);
	free(p1);
	free(p2);
	vals_free(&q);
	vals_free(&z);
}
END_TEST

/* Without the architecture's weights and with three compatible
 * references, the tensors are chosen dynamically; with one, equally. */
START_TEST(test_selection)
{
	struct mp_arch_set *none;
	struct mp_error err;
	char *sig = tu_path(dir, "none.json");
	tu_write_str(sig, "{\"format\": \"modelprint-architectures\", "
			  "\"version\": 1, \"prefixes\": [], "
			  "\"architectures\": [{\"name\": \"Other\", "
			  "\"family\": \"o\", \"require\": [\"other.w\"]}]}");
	ck_assert_msg(mp_arch_load(sig, &none, &err) == MP_OK, "%s", err.msg);
	free(sig);
	struct mp_ident_opts o = {.arch = none};
	struct mp_ident_result *r;
	ck_assert(mp_identify(rfp[0], refs + 1, 2, &o, &r, &err) == MP_OK);
	ck_assert_int_eq(r->selection, MP_SEL_EQUAL);
	ck_assert_uint_eq(r->nkeys, NT);
	ck_assert_double_eq_tol(r->keys[0].weight, 1.0 / NT, 1e-15);
	mp_ident_result_free(r);
	ck_assert(mp_identify(rfp[0], refs, NR, &o, &r, &err) == MP_OK);
	ck_assert_int_eq(r->selection, MP_SEL_DYNAMIC);
	ck_assert(r->nkeys >= 1 && r->nkeys <= NT);
	ck_assert_int_eq(r->relation.kind, MP_ID_COPY);
	mp_ident_result_free(r);
	mp_arch_free(none);
}
END_TEST

START_TEST(test_errors)
{
	struct mp_ident_ref twice[2] = {refs[0], refs[1]};
	twice[1].id = "P";
	struct mp_ident_opts o = {.arch = arch};
	struct mp_ident_result *r = NULL;
	struct mp_error err;
	ck_assert_int_eq(mp_identify(rfp[2], twice, 2, &o, &r, &err),
			 MP_EINVAL);
	ck_assert_ptr_null(r);
	ck_assert_msg(strstr(err.msg, "'P'") != NULL, "%s", err.msg);
	/* an unknown of integer tensors only */
	int32_t iv[4] = {1, 2, 3, 4};
	struct tu_tensor t = {"ids", "I32", 1, {4}, iv, sizeof iv};
	char *p = tu_path(dir, "ints.safetensors");
	tu_write_safetensors(p, &t, 1, NULL);
	struct mp_model *mo;
	struct mp_fingerprint *u;
	ck_assert(mp_model_open(p, &mo, &err) == MP_OK);
	ck_assert(mp_fp_compute(mo, "tensors", NULL, 1, NULL, &u, &err) ==
		  MP_OK);
	mp_model_free(mo);
	o.unknown_path = p;
	ck_assert_int_eq(mp_identify(u, refs, NR, &o, &r, &err), MP_EFORMAT);
	ck_assert_msg(strstr(err.msg, "no floating tensor") != NULL, "%s",
		      err.msg);
	mp_fp_free(u);
	free(p);
	/* no reference at all: a verdict, "no match" */
	o.unknown_path = NULL;
	ck_assert(mp_identify(rfp[0], NULL, 0, &o, &r, &err) == MP_OK);
	ck_assert(!r->match);
	ck_assert_int_eq(r->relation.kind, MP_ID_NONE);
	mp_ident_result_free(r);
	/* a reference whose file is gone: a warning, sketches used */
	struct mp_ident_ref gone = refs[0];
	gone.path = "/nonexistent/P.safetensors";
	char *up;
	struct vals v;
	for (int k = 0; k < NT; k++) {
		v.v[k] = malloc(numel(k) * sizeof(float));
		for (size_t i = 0; i < numel(k); i++)
			v.v[k][i] = 0.5f * base[0].v[k][i];
	}
	u = put("half.safetensors", &v, "", &up);
	o.unknown_path = up;
	ck_assert(mp_identify(u, &gone, 1, &o, &r, &err) == MP_OK);
	ck_assert(r->nwarnings >= 1);
	ck_assert_msg(strstr(r->warnings[0], "/nonexistent/P.safetensors"),
		      "%s", r->warnings[0]);
	ck_assert(r->match);
	mp_ident_result_free(r);
	o.exact = true;
	ck_assert_int_eq(mp_identify(u, &gone, 1, &o, &r, &err), MP_ENOENT);
	mp_fp_free(u);
	free(up);
	vals_free(&v);
}
END_TEST

Suite *suite_identify(void)
{
	Suite *s = suite_create("identify");
	TCase *tc = tcase_create("identify");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_copy_and_scores);
	tcase_add_test(tc, test_finetune_and_unrelated);
	tcase_add_test(tc, test_merge);
	tcase_add_test(tc, test_renamed);
	tcase_add_test(tc, test_grid_and_prune_sketches);
	tcase_add_test(tc, test_selection);
	tcase_add_test(tc, test_errors);
	suite_add_tcase(s, tc);
	return s;
}
