/* check_sweep.c — bilinear sweeps: TN similarity against the cosine of
 * explicitly built symmetrised (P, 2P, 2P) tensors, its invariances, logit
 * cosine and accuracy against a forward pass written here, and the
 * frequency distributions of synthesised models against their known
 * frequencies and amplitudes; sweep files in the research layout against
 * their manifest. */
#include "check_suites.h"
#include "sweep.h"
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void fill_random(struct mp_sweep *s, uint64_t seed)
{
	uint64_t st = seed;
	for (size_t i = 0; i < s->n; i++) {
		struct mp_sweep_model *m = &s->m[i];
		size_t w = 2 * s->P;
		for (size_t t = 0; t < m->d * w; t++) {
			m->L[t] = tu_rand_normal(&st);
			m->R[t] = tu_rand_normal(&st);
		}
		for (size_t t = 0; t < s->P * m->d; t++)
			m->D[t] = tu_rand_normal(&st);
	}
}

/* S[r][i][j] = (T[r][i][j] + T[r][j][i]) / 2 with T = sum_h D L R. */
static double *sym_tensor(const struct mp_sweep *s, size_t k)
{
	size_t P = s->P, w = 2 * P, d = s->m[k].d;
	const struct mp_sweep_model *m = &s->m[k];
	double *T = calloc(P * w * w, sizeof *T);
	for (size_t r = 0; r < P; r++)
		for (size_t i = 0; i < w; i++)
			for (size_t j = 0; j < w; j++) {
				double a = 0, b = 0;
				for (size_t h = 0; h < d; h++) {
					a += m->D[r * d + h] * m->L[h * w + i] *
					     m->R[h * w + j];
					b += m->D[r * d + h] * m->L[h * w + j] *
					     m->R[h * w + i];
				}
				T[(r * w + i) * w + j] = 0.5 * (a + b);
			}
	return T;
}

static double explicit_cos(const double *x, const double *y, size_t n)
{
	double xy = 0, xx = 0, yy = 0;
	for (size_t t = 0; t < n; t++) {
		xy += x[t] * y[t];
		xx += x[t] * x[t];
		yy += y[t] * y[t];
	}
	return xy / sqrt(xx * yy);
}

START_TEST(test_tn_explicit)
{
	const uint32_t d[] = {2, 5, 1, 3};
	struct mp_sweep *s = mp_sweep_new("t", 3, 4, d);
	ck_assert_ptr_nonnull(s);
	fill_random(s, 42);
	struct mp_sweep_result r;
	struct mp_error err;
	ck_assert_int_eq(mp_sweep_compute(s, 4, &r, &err), MP_OK);
	size_t P = 3, len = P * 6 * 6;
	double *S[4];
	for (size_t i = 0; i < 4; i++)
		S[i] = sym_tensor(s, i);
	for (size_t i = 0; i < 4; i++) {
		ck_assert(fabs(r.tn[i * 4 + i] - 1.0) <= 2e-16);
		for (size_t j = 0; j < 4; j++) {
			double want = explicit_cos(S[i], S[j], len);
			ck_assert_msg(fabs(r.tn[i * 4 + j] - want) < 1e-12,
				      "tn[%zu][%zu] = %.17g, explicit %.17g", i,
				      j, r.tn[i * 4 + j], want);
			ck_assert(r.tn[i * 4 + j] == r.tn[j * 4 + i]);
		}
	}
	for (size_t i = 0; i < 4; i++)
		free(S[i]);
	mp_sweep_result_done(&r);
	mp_sweep_free(s);
}
END_TEST

/* Model 1 is model 0 with its hidden units reversed, model 2 with L and R
 * swapped: both TN 1 with model 0. */
START_TEST(test_tn_invariance)
{
	const uint32_t d[] = {6, 6, 6};
	struct mp_sweep *s = mp_sweep_new("t", 5, 3, d);
	ck_assert_ptr_nonnull(s);
	fill_random(s, 7);
	size_t w = 10, P = 5;
	struct mp_sweep_model *a = &s->m[0], *b = &s->m[1], *c = &s->m[2];
	for (size_t h = 0; h < 6; h++) {
		size_t g = 5 - h;
		memcpy(b->L + g * w, a->L + h * w, w * sizeof(double));
		memcpy(b->R + g * w, a->R + h * w, w * sizeof(double));
		for (size_t r = 0; r < P; r++)
			b->D[r * 6 + g] = a->D[r * 6 + h];
	}
	memcpy(c->L, a->R, 6 * w * sizeof(double));
	memcpy(c->R, a->L, 6 * w * sizeof(double));
	memcpy(c->D, a->D, P * 6 * sizeof(double));
	struct mp_sweep_result r;
	struct mp_error err;
	ck_assert_int_eq(mp_sweep_compute(s, 4, &r, &err), MP_OK);
	ck_assert(fabs(r.tn[0 * 3 + 1] - 1) < 1e-12);
	ck_assert(fabs(r.tn[0 * 3 + 2] - 1) < 1e-12);
	/* the same function: logit cosine 1, JS 0 for the permutation */
	ck_assert(fabs(r.logit[0 * 3 + 1] - 1) < 1e-12);
	ck_assert(fabs(r.js[0 * 3 + 1]) < 1e-9);
	mp_sweep_result_done(&r);
	mp_sweep_free(s);
}
END_TEST

/* Forward pass of model k on input (a, b): out[P]. */
static void forward(const struct mp_sweep *s, size_t k, size_t a, size_t b,
		    double *out)
{
	size_t P = s->P, w = 2 * P, d = s->m[k].d;
	const struct mp_sweep_model *m = &s->m[k];
	double x[2 * 64] = {0};
	x[a] = 1;
	x[P + b] = 1;
	for (size_t c = 0; c < P; c++)
		out[c] = 0;
	for (size_t h = 0; h < d; h++) {
		double l = 0, r = 0;
		for (size_t t = 0; t < w; t++) {
			l += m->L[h * w + t] * x[t];
			r += m->R[h * w + t] * x[t];
		}
		for (size_t c = 0; c < P; c++)
			out[c] += m->D[c * d + h] * l * r;
	}
}

START_TEST(test_logit_accuracy_forward)
{
	const uint32_t d[] = {3, 8, 4};
	size_t P = 5;
	struct mp_sweep *s = mp_sweep_new("t", (uint32_t)P, 3, d);
	ck_assert_ptr_nonnull(s);
	fill_random(s, 99);
	struct mp_sweep_result r;
	struct mp_error err;
	ck_assert_int_eq(mp_sweep_compute(s, 4, &r, &err), MP_OK);
	for (size_t i = 0; i < 3; i++) {
		size_t right = 0;
		for (size_t a = 0; a < P; a++)
			for (size_t b = 0; b < P; b++) {
				double o[64];
				forward(s, i, a, b, o);
				size_t best = 0;
				for (size_t c = 1; c < P; c++)
					if (o[c] > o[best])
						best = c;
				right += best == (a + b) % P;
			}
		ck_assert(fabs(r.acc[i] - (double)right / 25.0) < 1e-15);
		for (size_t j = 0; j < 3; j++) {
			double sum = 0;
			for (size_t a = 0; a < P; a++)
				for (size_t b = 0; b < P; b++) {
					double u[64], v[64], uv = 0, uu = 0,
							     vv = 0;
					forward(s, i, a, b, u);
					forward(s, j, a, b, v);
					for (size_t c = 0; c < P; c++) {
						uv += u[c] * v[c];
						uu += u[c] * u[c];
						vv += v[c] * v[c];
					}
					double den = sqrt(uu) * sqrt(vv);
					sum += uv / (den > 1e-8 ? den : 1e-8);
				}
			ck_assert_msg(fabs(r.logit[i * 3 + j] - sum / 25.0) <
					      1e-12,
				      "logit[%zu][%zu] %.17g want %.17g", i, j,
				      r.logit[i * 3 + j], sum / 25.0);
		}
	}
	mp_sweep_result_done(&r);
	mp_sweep_free(s);
}
END_TEST

/* Synthesised models of P = 7 with the frequencies 1..3 in seed order and
 * amplitudes 1, 1/2, 1/3: each group of four units puts |eigenvalue|
 * amp*P/4 on four eigenvectors whose first block has norm 1/sqrt(2) and
 * |rfft| sqrt(P/2)/sqrt(2) at its frequency only, so the distribution of
 * the top 4k eigenvectors is amp_g / sum(amp) at the g-th frequency. */
START_TEST(test_synth_frequencies)
{
	const uint32_t d[] = {4, 8, 12, 5, 6, 7};
	uint32_t P = 7, freq[8];
	double amp[8];
	size_t nf = mp_sweep_synth_freqs(P, 3, freq);
	ck_assert_uint_eq(nf, 3);
	for (size_t k = 0; k < nf; k++)
		amp[k] = 1.0 / (double)(k + 1);
	struct mp_sweep *s = mp_sweep_new("syn", P, 6, d);
	ck_assert_ptr_nonnull(s);
	struct mp_error err;
	for (size_t i = 0; i < 6; i++)
		ck_assert_int_eq(
			mp_sweep_synth_model(s, i, freq, amp, nf, 0, 3, &err),
			MP_OK);
	size_t nk = P / 2 + 1;
	double *dist = malloc(P * nk * sizeof *dist);
	/* d = 12, all 12 eigenvectors: 1 : 1/2 : 1/3 */
	ck_assert_int_eq(mp_sweep_freq_dist(s, 2, 12, dist, &err), MP_OK);
	for (size_t r = 0; r < P; r++) {
		double want[4] = {0};
		for (size_t g = 0; g < 3; g++)
			want[freq[g]] = amp[g] / (1 + 0.5 + 1.0 / 3);
		for (size_t k = 0; k < nk; k++)
			ck_assert_msg(fabs(dist[r * nk + k] - want[k]) < 1e-9,
				      "class %zu freq %zu: %.12g want %.12g", r,
				      k, dist[r * nk + k], want[k]);
	}
	/* d = 8, top 4: all mass at the first frequency */
	ck_assert_int_eq(mp_sweep_freq_dist(s, 1, 4, dist, &err), MP_OK);
	for (size_t r = 0; r < P; r++)
		ck_assert(fabs(dist[r * nk + freq[0]] - 1) < 1e-9);
	free(dist);
	struct mp_sweep_result res;
	ck_assert_int_eq(mp_sweep_compute(s, 4, &res, &err), MP_OK);
	for (size_t i = 0; i < 6; i++) {
		ck_assert_msg(res.acc[i] == 1.0, "d=%u accuracy %g", d[i],
			      res.acc[i]);
		/* same first frequency: JS near 0 */
		ck_assert(fabs(res.js[i]) < 1e-9);
	}
	/* d = 4 and d = 5..7 compute the same function */
	ck_assert(fabs(res.logit[0 * 6 + 3] - 1) < 1e-12);
	mp_sweep_result_done(&res);
	mp_sweep_free(s);
}
END_TEST

/* Deltas at two different frequencies: ln 2 per class, summed over P. */
START_TEST(test_js_other_frequency)
{
	const uint32_t d[] = {4, 4};
	uint32_t P = 7, fa[1] = {1}, fb[1] = {3};
	double amp[1] = {1};
	struct mp_sweep *s = mp_sweep_new("syn", P, 2, d);
	struct mp_error err;
	ck_assert_int_eq(mp_sweep_synth_model(s, 0, fa, amp, 1, 0, 0, &err),
			 MP_OK);
	ck_assert_int_eq(mp_sweep_synth_model(s, 1, fb, amp, 1, 0, 0, &err),
			 MP_OK);
	struct mp_sweep_result res;
	ck_assert_int_eq(mp_sweep_compute(s, 4, &res, &err), MP_OK);
	ck_assert(fabs(res.js[1] - 7 * log(2.0)) < 1e-9);
	ck_assert(res.acc[0] == 1.0 && res.acc[1] == 1.0);
	mp_sweep_result_done(&res);
	mp_sweep_free(s);
	/* p = (1/2, 1/2, 0), q = (1, 0, 0): m = (3/4, 1/4, 0) */
	double p[3] = {0.5, 0.5, 0}, q[3] = {1, 0, 0};
	double want = 0.5 * (0.5 * log(0.5 / 0.75) + 0.5 * log(2.0)) +
		      0.5 * log(1 / 0.75);
	ck_assert(fabs(mp_sweep_js(p, q, 3) - want) < 1e-15);
}
END_TEST

START_TEST(test_synth_small_widths)
{
	/* P even: frequency 1 comes first (coprime), partial widths work */
	uint32_t freq[8];
	size_t nf = mp_sweep_synth_freqs(8, 5, freq);
	ck_assert_uint_eq(nf, 3);
	ck_assert_uint_eq(freq[0] % 2, 1);
	ck_assert_uint_eq(mp_sweep_synth_freqs(2, 1, freq), 1);
	ck_assert_uint_eq(freq[0], 1);
}
END_TEST

/* --- sweep files (tests/sweep/make_sweep_pickle.py) --------------------- */

static struct mp_sweep *open_sweep(const char *name)
{
	char *p = tu_path(MP_SRCDIR_SWEEP, name);
	struct mp_sweep *s = NULL;
	struct mp_error err;
	mp_status st = mp_sweep_open(p, NULL, NULL, &s, &err);
	ck_assert_msg(st == MP_OK, "%s: %s", p, err.msg);
	free(p);
	return s;
}

static bool same_weights(const struct mp_sweep *a, const struct mp_sweep *b)
{
	if (a->P != b->P || a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct mp_sweep_model *x = &a->m[i], *y = &b->m[i];
		size_t dw = (size_t)x->d * 2 * a->P, pd = (size_t)a->P * x->d;
		if (x->d != y->d || memcmp(x->L, y->L, dw * sizeof *x->L) ||
		    memcmp(x->R, y->R, dw * sizeof *x->R) ||
		    memcmp(x->D, y->D, pd * sizeof *x->D))
			return false;
	}
	return true;
}

/* torch.save (models_state keyed by d; legacy format: keyed by "d"),
 * pickle.dump (a list with dims) and pickle.dump without dims hold the
 * manifest's weights; the stored val_acc is the accuracy torch computed
 * in the fixture script. */
START_TEST(test_sweep_file_layouts)
{
	struct mp_sweep *man = open_sweep("manifest.json");
	const char *files[] = {"sweep_zip.pt", "sweep_legacy.pt",
			       "sweep_plain.pkl", "sweep_nodims.pkl"};
	ck_assert_uint_eq(man->P, 7);
	ck_assert_uint_eq(man->n, 5);
	for (size_t f = 0; f < 4; f++) {
		struct mp_sweep *s = open_sweep(files[f]);
		ck_assert_msg(same_weights(man, s), "%s", files[f]);
		for (size_t i = 0; i < s->n; i++) {
			struct mp_error err;
			double acc;
			ck_assert_uint_eq(s->m[i].d, i + 2);
			ck_assert_int_eq(s->m[i].has_val_acc, f < 3);
			ck_assert_int_eq(mp_sweep_accuracy(s, i, &acc, &err),
					 MP_OK);
			if (f < 3)
				ck_assert(fabs(acc - s->m[i].val_acc) < 1e-12);
		}
		mp_sweep_free(s);
	}
	mp_sweep_free(man);
}
END_TEST

static void sweep_bad(const char *dir, const char *name, const void *b,
		      size_t len, mp_status want, const char *phrase)
{
	char *p = tu_path(dir, name);
	if (b)
		tu_write(p, b, len);
	struct mp_sweep *s = NULL;
	struct mp_error err;
	ck_assert_int_eq(mp_sweep_open(p, NULL, NULL, &s, &err), want);
	ck_assert_ptr_null(s);
	ck_assert_msg(strstr(err.msg, phrase) && strstr(err.msg, name), "%s",
		      err.msg);
	free(p);
}

START_TEST(test_sweep_file_bad)
{
	/* pickle.dumps(d, protocol=2) of the dicts in the comments */
	static const uint8_t p1[] = /* {'P': 1, 'models': [{}]} */
	    "\x80\x02\x7d\x71\x00\x28\x58\x01\x00\x00\x00\x50\x71\x01\x4b"
	    "\x01\x58\x06\x00\x00\x00\x6d\x6f\x64\x65\x6c\x73\x71\x02\x5d"
	    "\x71\x03\x7d\x71\x04\x61\x75\x2e";
	static const uint8_t xk[] = /* {'P': 7, 'models_state': {'x': {}}} */
	    "\x80\x02\x7d\x71\x00\x28\x58\x01\x00\x00\x00\x50\x71\x01\x4b"
	    "\x07\x58\x0c\x00\x00\x00\x6d\x6f\x64\x65\x6c\x73\x5f\x73\x74"
	    "\x61\x74\x65\x71\x02\x7d\x71\x03\x58\x01\x00\x00\x00\x78\x71"
	    "\x04\x7d\x71\x05\x73\x75\x2e";
	static const uint8_t va[] = /* {'P': 7, 'models': [{}], 'val_acc': 3} */
	    "\x80\x02\x7d\x71\x00\x28\x58\x01\x00\x00\x00\x50\x71\x01\x4b"
	    "\x07\x58\x06\x00\x00\x00\x6d\x6f\x64\x65\x6c\x73\x71\x02\x5d"
	    "\x71\x03\x7d\x71\x04\x61\x58\x07\x00\x00\x00\x76\x61\x6c\x5f"
	    "\x61\x63\x63\x71\x05\x4b\x03\x75\x2e";
	char *t = tu_tmpdir();
	sweep_bad(MP_SRCDIR_SWEEP, "evil.pkl", NULL, 0, MP_EPERM,
		  "refused global 'posix.system'");
	sweep_bad(MP_SRCDIR_SWEEP, "nomodels.pkl", NULL, 0, MP_EFORMAT,
		  "no \"models_state\" or \"models\" entry");
	sweep_bad(MP_SRCDIR_SWEEP, "wrongp.pkl", NULL, 0, MP_EFORMAT,
		  "'models.0.bi_linear.weight' has shape (4, 14), expected "
		  "(4, 10)");
	sweep_bad(MP_SRCDIR_SWEEP, "dupd.pkl", NULL, 0, MP_EFORMAT,
		  "two models have d = 3");
	sweep_bad(t, "p1.pkl", p1, sizeof p1 - 1, MP_EFORMAT,
		  "\"P\" is missing or not a whole number from 2 to 1024");
	sweep_bad(t, "xk.pkl", xk, sizeof xk - 1, MP_EFORMAT,
		  "\"models_state\" is a dict whose key 0 is not a width");
	sweep_bad(t, "va.pkl", va, sizeof va - 1, MP_EFORMAT,
		  "\"val_acc\" is neither a list nor a dict");
	tu_rmtree(t);
	free(t);
}
END_TEST

/* The three matrices and the accuracies of a sweep of mixed widths (with
 * noise, so that no eigenvalue is repeated) are the same, bit for bit, on
 * 1, 2, 3 and 7 threads, and on as many as the machine has. */
START_TEST(test_threads_same_results)
{
	const uint32_t d[] = {3, 12, 1, 7, 11, 5, 2, 9, 4};
	size_t n = sizeof d / sizeof *d;
	uint32_t P = 11, freq[8];
	double amp[8];
	size_t nf = mp_sweep_synth_freqs(P, 5, freq);
	for (size_t k = 0; k < nf; k++)
		amp[k] = 1.0 / (double)(k + 1);
	struct mp_sweep *s = mp_sweep_new("thr", P, n, d);
	ck_assert_ptr_nonnull(s);
	struct mp_error err;
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(mp_sweep_synth_model(s, i, freq, amp, nf, 0.05,
						      100 + i, &err),
				 MP_OK);
	struct mp_sweep_result one, res;
	ck_assert_int_eq(mp_sweep_compute_threads(s, 4, 1, &one, &err), MP_OK);
	const size_t counts[] = {2, 3, 7, 0};
	for (size_t c = 0; c < 5; c++) {
		if (c < 4)
			ck_assert_int_eq(mp_sweep_compute_threads(
						 s, 4, counts[c], &res, &err),
					 MP_OK);
		else
			ck_assert_int_eq(mp_sweep_compute(s, 4, &res, &err),
					 MP_OK);
		ck_assert(memcmp(one.tn, res.tn, n * n * sizeof *res.tn) == 0);
		ck_assert(memcmp(one.logit, res.logit,
				 n * n * sizeof *res.logit) == 0);
		ck_assert(memcmp(one.js, res.js, n * n * sizeof *res.js) == 0);
		ck_assert(memcmp(one.acc, res.acc, n * sizeof *res.acc) == 0);
		mp_sweep_result_done(&res);
	}
	/* and they are the values: a model against itself gives TN 1,
	 * logit cosine 1, JS 0 */
	for (size_t i = 0; i < n; i++) {
		ck_assert(fabs(one.tn[i * n + i] - 1) < 1e-12);
		ck_assert(fabs(one.js[i * n + i]) < 1e-12);
		ck_assert(fabs(one.logit[i * n + i] - 1) < 1e-12);
	}
	mp_sweep_result_done(&one);
	mp_sweep_free(s);
}
END_TEST

Suite *suite_sweep(void)
{
	Suite *s = suite_create("sweep");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_tn_explicit);
	tcase_add_test(tc, test_tn_invariance);
	tcase_add_test(tc, test_logit_accuracy_forward);
	tcase_add_test(tc, test_synth_frequencies);
	tcase_add_test(tc, test_js_other_frequency);
	tcase_add_test(tc, test_synth_small_widths);
	tcase_add_test(tc, test_sweep_file_layouts);
	tcase_add_test(tc, test_sweep_file_bad);
	tcase_add_test(tc, test_threads_same_results);
	suite_add_tcase(s, tc);
	return s;
}
