/* check_tstats_runs.c — the pairs hooks' runs (ggml_dequant.h) and the
 * statistics fed as runs (mp_tstats_feed_runs): hooks against blocks whose
 * values are worked out by hand (ascending order, a negative step, the
 * affine form, a sub-block that rounds), and random Q4_0/Q4_1/Q4_K
 * tensors whose statistics fed as runs must equal those of the same
 * values dequantized and fed one by one: order statistics, extremes and
 * sparsity bit for bit, sums to 1e-12. */
#include "check_suites.h"
#include "testutil.h"
#include "ggml_dequant.h"
#include "tstats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Q4_K with d = -1 (fp16 0xbc00), dmin 0.5, sub-block 0 of scale 1 and
 * min 2: codes q give -q - 1, so the pairs run from code 15 (-16) up to
 * code 0 (-1): pair i is -16 + i = 1 * (i - 8) - 8. Sub-block 1 (scale 0,
 * min 0) is all zeros: a = 0, c = 0. */
START_TEST(test_q4_k_reversed)
{
	uint8_t b[144] = {0};
	float v[128];
	uint32_t c[128];
	struct mp_affine_run run[8];
	const struct mp_ggml_type_info *g = mp_ggml_type(MP_GGML_Q4_K);
	tu_put_half(b, 0xbc00);
	tu_put_half(b + 2, 0x3800);
	b[4] = 0x01; /* scale 0 = 1 */
	b[8] = 0x02; /* min 0 = 2 */
	b[16] = 0x03; /* value 0: code 3 (low nibble), value 32: code 0 */
	g->pairs(b, v, c, run, 1);
	for (int i = 0; i < 16; i++) {
		ck_assert_float_eq(v[i], (float)(i - 16));
		ck_assert_uint_eq(c[i], i == 12 ? 1 : i == 15 ? 31 : 0);
		ck_assert_float_eq(v[16 + i], 0.0f);
	}
	ck_assert(run[0].exact);
	ck_assert_double_eq(run[0].a, 1.0);
	ck_assert_double_eq(run[0].c, -8.0);
	ck_assert(run[1].exact);
	ck_assert_double_eq(run[1].a, 0.0);
	ck_assert_double_eq(run[1].c, 0.0);
	/* without runs: code order, the same values and counts */
	float w[128];
	uint32_t n[128];
	g->pairs(b, w, n, NULL, 1);
	for (int q = 0; q < 16; q++) {
		ck_assert_float_eq(w[q], v[15 - q]);
		ck_assert_uint_eq(n[q], c[15 - q]);
	}
}
END_TEST

/* Q4_1 with d = 1 and m = 2^-24 (the smallest fp16): code q is q + 2^-24,
 * which needs 25 bits or more from q = 1 on and rounds to q: the run is
 * not exact. With m = 2^-20 every q + m fits 24 bits: exact. */
START_TEST(test_q4_1_rounding)
{
	uint8_t b[20] = {0};
	float v[16];
	uint32_t c[16];
	struct mp_affine_run run;
	const struct mp_ggml_type_info *g = mp_ggml_type(MP_GGML_Q4_1);
	tu_put_half(b, 0x3c00);
	tu_put_half(b + 2, 0x0001);
	g->pairs(b, v, c, &run, 1);
	ck_assert(!run.exact);
	ck_assert_float_eq(v[0], 0x1p-24f);
	ck_assert_float_eq(v[1], 1.0f);
	ck_assert_float_eq(v[15], 15.0f);
	tu_put_half(b + 2, 0x0010); /* 16 * 2^-24 */
	g->pairs(b, v, c, &run, 1);
	ck_assert(run.exact);
	ck_assert_double_eq(run.a, 1.0);
	ck_assert_double_eq(run.c, 8 + 0x1p-20);
	for (int i = 0; i < 16; i++)
		ck_assert_double_eq((double)v[i], (i - 8) + run.c);
}
END_TEST

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* nb random blocks of type g: random bytes, then per block fp16 scales
 * of kind (0: positive near 2^-10, 1: either sign, 2: the second one
 * subnormal, about 2^-14 of the first, so that some sub-blocks round, 3:
 * one block in 16 with a zero d) at the offsets `at` (two halves; at[1] <
 * 0 for one). */
static void random_blocks(const struct mp_ggml_type_info *g, uint8_t *b,
			  size_t nb, int kind, const int at[2])
{
	for (size_t i = 0; i < nb * g->bytes; i++)
		b[i] = (uint8_t)next();
	for (size_t k = 0; k < nb; k++) {
		uint8_t *p = b + k * g->bytes;
		for (int h = 0; h < 2 && at[h] >= 0; h++) {
			uint16_t e = kind == 2 && h ? 0 : 0x1400;
			uint16_t x = (uint16_t)(e | (next() & 0x3ff));
			if (kind == 1 && (next() & 1))
				x |= 0x8000;
			if (kind == 3 && h == 0 && k % 16 == 3)
				x = 0;
			tu_put_half(p + at[h], x);
		}
	}
}

/* Statistics of nb blocks at b: as runs (in pieces of `piece` blocks),
 * or dequantized and fed as values. */
static void stats_of(const struct mp_ggml_type_info *g, const uint8_t *b,
		     size_t nb, bool runs, struct mp_tstats *o)
{
	size_t piece = 5, per = g->npairs / MP_TSTATS_RUN;
	float *v = malloc(piece * (g->npairs > g->block ? g->npairs : g->block) *
			  sizeof *v);
	uint32_t *c = malloc((piece * g->npairs + 1) * sizeof *c);
	struct mp_affine_run *r = malloc((piece * per + 1) * sizeof *r);
	ck_assert(v && c && r);
	struct mp_tstats_acc *a = mp_tstats_new(MP_F32, NULL, nb * g->block);
	ck_assert_ptr_nonnull(a);
	bool first = true;
	do {
		for (size_t i = 0; i < nb; i += piece) {
			size_t k = nb - i < piece ? nb - i : piece;
			if (runs) {
				g->pairs(b + i * g->bytes, v, c, first ? r : NULL,
					 k);
				mp_tstats_feed_runs(a, v, c, r, k * per);
			} else {
				g->dequant(b + i * g->bytes, v, k);
				mp_tstats_feed(a, (const uint8_t *)v,
					       k * g->block);
			}
		}
		first = false;
	} while (mp_tstats_next_pass(a));
	ck_assert_int_eq(mp_tstats_finish(a, o), MP_OK);
	mp_tstats_free(a);
	free(v);
	free(c);
	free(r);
}

static void assert_same(const struct mp_tstats *x, const struct mp_tstats *y)
{
	ck_assert_uint_eq(x->n, y->n);
	ck_assert_uint_eq(x->nonfinite, y->nonfinite);
	const char *exact[] = {"min", "max", "median", "q25", "q75", "iqr",
			       "mad", "linf_norm", "sparsity"};
	for (int i = 0; i < MP_TSTATS_NFIELDS; i++) {
		const char *name = mp_tstats_field_name(i);
		double p = *mp_tstats_field((struct mp_tstats *)x, i);
		double q = *mp_tstats_field((struct mp_tstats *)y, i);
		bool bits = false;
		for (size_t k = 0; k < sizeof exact / sizeof exact[0]; k++)
			bits |= !strcmp(name, exact[k]);
		if (bits)
			ck_assert_msg(p == q, "%s: %.17g vs %.17g", name, p, q);
		else
			ck_assert_msg(fabs(p - q) <= 1e-12 * fmax(1, fabs(q)),
				      "%s: %.17g vs %.17g", name, p, q);
	}
}

/* The statistics of nb blocks at b fed as runs, after asserting they are
 * those of the values fed one by one; frees b. */
static struct mp_tstats runs_as_values(const struct mp_ggml_type_info *g,
				       uint8_t *b, size_t nb)
{
	struct mp_tstats x, y;
	stats_of(g, b, nb, true, &x);
	stats_of(g, b, nb, false, &y);
	assert_same(&x, &y);
	free(b);
	return x;
}

START_TEST(test_runs_equal_values)
{
	static const struct {
		uint32_t id;
		int at[2];
	} types[] = {{MP_GGML_Q4_0, {0, -1}},
		     {MP_GGML_Q4_1, {0, 2}},
		     {MP_GGML_Q4_K, {0, 2}}};
	for (size_t t = 0; t < 3; t++)
		for (int kind = 0; kind < 4; kind++) {
			const struct mp_ggml_type_info *g =
			    mp_ggml_type(types[t].id);
			/* more than 4096 values: the histogram passes */
			size_t nb = (g->block == 256 ? 40 : 300) + kind;
			uint8_t *b = malloc(nb * g->bytes);
			ck_assert_ptr_nonnull(b);
			random_blocks(g, b, nb, kind, types[t].at);
			struct mp_tstats x = runs_as_values(g, b, nb);
			ck_assert_uint_eq(x.n, nb * g->block);
		}
}
END_TEST

/* A first sub-block far from all the others (Q4_1: m = 1024 there, 0
 * elsewhere; d about 2^-10): the central sums must not come from sums
 * about that first sub-block, which would lose the shape's digits. */
START_TEST(test_runs_far_first)
{
	const struct mp_ggml_type_info *g = mp_ggml_type(MP_GGML_Q4_1);
	size_t nb = 400;
	uint8_t *b = malloc(nb * g->bytes);
	ck_assert_ptr_nonnull(b);
	random_blocks(g, b, nb, 0, (const int[2]){0, 2});
	for (size_t i = 0; i < nb; i++)
		tu_put_half(b + i * g->bytes + 2, i ? 0 : 0x6400);
	runs_as_values(g, b, nb);
}
END_TEST

/* Runs and values in one accumulator, either first: the same as all
 * values (some of the runs round, kind 2). */
START_TEST(test_runs_mixed_with_values)
{
	const struct mp_ggml_type_info *g = mp_ggml_type(MP_GGML_Q4_K);
	size_t nb = 24;
	uint8_t *b = malloc(nb * g->bytes);
	float v[256], w[128];
	uint32_t c[128];
	struct mp_affine_run r[8];
	ck_assert_ptr_nonnull(b);
	random_blocks(g, b, nb, 2, (const int[2]){0, 2});
	struct mp_tstats all, mixed[2];
	stats_of(g, b, nb, false, &all);
	for (int order = 0; order < 2; order++) {
		struct mp_tstats_acc *a =
		    mp_tstats_new(MP_F32, NULL, nb * g->block);
		do {
			for (size_t i = 0; i < nb; i++) {
				const uint8_t *p = b + i * g->bytes;
				if ((i % 2 == 0) == (order == 0)) {
					g->pairs(p, w, c, r, 1);
					mp_tstats_feed_runs(a, w, c, r, 8);
				} else {
					g->dequant(p, v, 1);
					mp_tstats_feed(a, (const uint8_t *)v,
						       256);
				}
			}
		} while (mp_tstats_next_pass(a));
		ck_assert_int_eq(mp_tstats_finish(a, &mixed[order]), MP_OK);
		mp_tstats_free(a);
		assert_same(&mixed[order], &all);
	}
	free(b);
}
END_TEST

/* Non-finite scales: an infinite d makes NaN and infinities, counted
 * apart and left out of everything else, as for the values. */
START_TEST(test_runs_nonfinite)
{
	const struct mp_ggml_type_info *g = mp_ggml_type(MP_GGML_Q4_0);
	size_t nb = 200;
	uint8_t *b = malloc(nb * g->bytes);
	ck_assert_ptr_nonnull(b);
	random_blocks(g, b, nb, 0, (const int[2]){0, -1});
	tu_put_half(b + 7 * g->bytes, 0x7c00);  /* +inf: code 8 gives NaN */
	tu_put_half(b + 90 * g->bytes, 0x7e00); /* NaN */
	ck_assert_uint_eq(runs_as_values(g, b, nb).nonfinite, 64);
}
END_TEST

Suite *suite_tstats_runs(void)
{
	Suite *s = suite_create("tstats_runs");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_q4_k_reversed);
	tcase_add_test(tc, test_q4_1_rounding);
	tcase_add_test(tc, test_runs_equal_values);
	tcase_add_test(tc, test_runs_mixed_with_values);
	tcase_add_test(tc, test_runs_far_first);
	tcase_add_test(tc, test_runs_nonfinite);
	suite_add_tcase(s, tc);
	return s;
}
