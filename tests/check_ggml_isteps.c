/* check_ggml_isteps.c — the steps of the lattice i-quants (IQ2_XXS,
 * IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, IQ1_S, IQ1_M; ggml_iquants_grid.c) on
 * hand-built blocks: known codes and scales, the spacing worked out by
 * hand as |scale| * gap * factor, where
 *   gap: the mean distance from a level to its two neighbours among the
 *        levels and their negatives (IQ2 levels 8, 25, 43: 16.5, 17.5,
 *        and 18 at the end; IQ3_XXS 4 .. 44: 8, 52: 9, 62: 10; IQ3_S: 2;
 *        IQ1 -1, 0, 1: 1),
 *   factor: (levels per coordinate) / 2^(codebook bits per 8 values / 8)
 *        (IQ2: 6 / 2^((8 + 7) / 8) etc., written out below),
 * and the grid entries' fields taken from ggml's tables by hand (iq2xxs
 * entry 1 = 0x0002: value 0 at level 43, the others at 8). */
#include "check_suites.h"
#include "ggml_dequant.h"

#include <math.h>
#include <string.h>

static const struct mp_ggml_type_info *lattice(uint32_t id, unsigned bytes)
{
	const struct mp_ggml_type_info *t = mp_ggml_type(id);
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(t->bytes, bytes);
	ck_assert_uint_eq(t->block, 256);
	ck_assert_msg(t->steps != NULL, "%s has no steps", t->name);
	return t;
}

/* y[from..to) == want, to float precision. */
static void ck_steps(const float *y, unsigned from, unsigned to, double want)
{
	for (unsigned i = from; i < to; i++)
		ck_assert_msg(fabs(y[i] - want) <= 2e-7 * want,
			      "step %u: %.9g, want %.9g", i, (double)y[i],
			      want);
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v & 0xffff), put16(p + 2, v >> 16);
}

START_TEST(test_iq2_xxs_steps)
{
	const struct mp_ggml_type_info *t = lattice(MP_GGML_IQ2_XXS, 66);
	double f = 6 / pow(2, 15.0 / 8); /* 6^8 points, 2^15 codes */
	uint8_t b[2 * 66] = {0};
	float y[512];
	/* block 0: d = 1; sub-block 0: entries 1 (0x0002) and 2 (0x0005:
	 * values 0, 1 at level 25), then 0; every sign set (sign index 127,
	 * no effect on the spacing), ls = 3: db = 3.5 * 0.25 = 0.875. The
	 * rest: ls = 0, db = 0.125, entry 0 (all at level 8). Block 1: d = -2,
	 * db = -0.25: the spacing is positive. */
	put16(b, 0x3c00);
	b[2] = 1, b[3] = 2;
	put32(b + 6, 127u | 127u << 7 | 127u << 14 | 127u << 21 | 3u << 28);
	put16(b + 66, 0xc000);
	t->steps(b, y, 2);
	ck_steps(y, 0, 1, 0.875 * 18 * f);
	ck_steps(y, 1, 8, 0.875 * 16.5 * f);
	ck_steps(y, 8, 10, 0.875 * 17.5 * f);
	ck_steps(y, 10, 32, 0.875 * 16.5 * f);
	ck_steps(y, 32, 256, 0.125 * 16.5 * f);
	ck_steps(y, 256, 512, 0.25 * 16.5 * f);
}
END_TEST

START_TEST(test_iq2_xs_steps)
{
	const struct mp_ggml_type_info *t = lattice(MP_GGML_IQ2_XS, 74);
	double f = 6 / pow(2, 16.0 / 8); /* 2^9 entries, 2^7 signs: 1.5 */
	uint8_t b[74] = {0};
	float y[256];
	/* d = 1; group 0: entry 1 (sign index 127 above it), group 2: entry
	 * 2; scales byte 0x31: groups 0, 1 ls = 1 (db 0.375), groups 2, 3
	 * ls = 3 (0.875); the rest ls = 0 (0.125), entry 0. */
	put16(b, 0x3c00);
	put16(b + 2, 1u | 127u << 9);
	put16(b + 6, 2u);
	b[66] = 0x31;
	t->steps(b, y, 1);
	ck_steps(y, 0, 1, 10.125);     /* 0.375 * 18 * 1.5 */
	ck_steps(y, 1, 16, 9.28125);   /* 0.375 * 16.5 * 1.5 */
	ck_steps(y, 16, 18, 22.96875); /* 0.875 * 17.5 * 1.5 */
	ck_steps(y, 18, 32, 21.65625); /* 0.875 * 16.5 * 1.5 */
	ck_steps(y, 32, 256, 3.09375); /* 0.125 * 16.5 * 1.5 */
	ck_steps(y, 0, 1, 0.375 * 18 * f);
}
END_TEST

START_TEST(test_iq2_s_steps)
{
	const struct mp_ggml_type_info *t = lattice(MP_GGML_IQ2_S, 82);
	double f = 6 / pow(2, 18.0 / 8); /* 2^10 entries, 2^8 signs */
	uint8_t b[82] = {0};
	float y[256];
	/* d = 1; group 0: entry 1; group 1: low bits 0, qh[0] bits 2..3 = 1:
	 * entry 256 (0x1155: values 0..4 and 6 at level 25, 5 and 7 at 8);
	 * scales byte 0x21: groups 0, 1 db 0.375, groups 2, 3 db 0.625. */
	put16(b, 0x3c00);
	b[2] = 1;
	b[66] = 1u << 2;
	b[74] = 0x21;
	t->steps(b, y, 1);
	ck_steps(y, 0, 1, 0.375 * 18 * f);
	ck_steps(y, 1, 8, 0.375 * 16.5 * f);
	ck_steps(y, 8, 13, 0.375 * 17.5 * f);
	ck_steps(y, 13, 14, 0.375 * 16.5 * f);
	ck_steps(y, 14, 15, 0.375 * 17.5 * f);
	ck_steps(y, 15, 16, 0.375 * 16.5 * f);
	ck_steps(y, 16, 32, 0.625 * 16.5 * f);
	ck_steps(y, 32, 256, 0.125 * 16.5 * f);
}
END_TEST

START_TEST(test_iq3_xxs_steps)
{
	const struct mp_ggml_type_info *t = lattice(MP_GGML_IQ3_XXS, 98);
	/* 16 signed levels a coordinate; 2 * 8 bits of entries + 7 of signs */
	double f = 16 / pow(2, 23.0 / 8);
	uint8_t b[98] = {0};
	float y[256];
	/* d = 1; values 0..3 entry 5 (0x0017: levels 62, 12, 4, 4), values
	 * 4..7 entry 51 (0x0635: 44, 28, 52, 4); ls = 2 for sub-block 0: db
	 * = 2.5 * 0.5 = 1.25; the rest ls = 0: db 0.25, entry 0 (level 4). */
	put16(b, 0x3c00);
	b[2] = 5, b[3] = 51;
	put32(b + 66, 2u << 28 | 0x55u);
	t->steps(b, y, 1);
	ck_steps(y, 0, 1, 1.25 * 10 * f);
	ck_steps(y, 1, 6, 1.25 * 8 * f);
	ck_steps(y, 6, 7, 1.25 * 9 * f);
	ck_steps(y, 7, 32, 1.25 * 8 * f);
	ck_steps(y, 32, 256, 0.25 * 8 * f);
}
END_TEST

START_TEST(test_iq3_s_steps)
{
	const struct mp_ggml_type_info *t = lattice(MP_GGML_IQ3_S, 110);
	double f = pow(2, 0.75); /* 16 / 2^((9 + 9 + 8) / 8) */
	uint8_t b[110] = {0};
	float y[256];
	/* d = -0.5 (0xb800); scale nibbles 2, 0, 1, 7: db = -0.5 * 5, -0.5,
	 * -1.5, -7.5, the rest -0.5; levels 1, 3, .., 15 all 2 apart (1 and
	 * -1 too); an entry with index bit 8 set changes nothing. */
	put16(b, 0xb800);
	b[2] = 37, b[66] = 0x01;
	b[106] = 0x02, b[107] = 0x71;
	t->steps(b, y, 1);
	ck_steps(y, 0, 32, 2.5 * 2 * f);
	ck_steps(y, 32, 64, 0.5 * 2 * f);
	ck_steps(y, 64, 96, 1.5 * 2 * f);
	ck_steps(y, 96, 128, 7.5 * 2 * f);
	ck_steps(y, 128, 256, 0.5 * 2 * f);
}
END_TEST

START_TEST(test_iq1_s_steps)
{
	const struct mp_ggml_type_info *t = lattice(MP_GGML_IQ1_S, 50);
	/* 3 levels a coordinate; 11 bits of entry and 1/4 bit of delta sign
	 * (one per 32 values) per 8 */
	double f = 3 / pow(2, 11.25 / 8);
	uint8_t b[50] = {0};
	float y[256];
	/* d = 0.5; sub-block 0: s = 2 (dl 2.5), entry 261 (qh bits 0..2 =
	 * 1); sub-block 1: s = 7 (dl 7.5) with the delta negative: the levels
	 * -1, 0, 1 shift alike, 1 apart; the rest s = 0: dl 0.5. */
	put16(b, 0x3800);
	b[2] = 5;
	put16(b + 34, 2u << 12 | 1u);
	put16(b + 36, 0x8000u | 7u << 12);
	t->steps(b, y, 1);
	ck_steps(y, 0, 32, 2.5 * f);
	ck_steps(y, 32, 64, 7.5 * f);
	ck_steps(y, 64, 256, 0.5 * f);
}
END_TEST

START_TEST(test_iq1_m_steps)
{
	const struct mp_ggml_type_info *t = lattice(MP_GGML_IQ1_M, 56);
	double f = 3 / pow(2, 12.0 / 8); /* 11 bits + a delta sign per 8 */
	uint8_t b[56] = {0};
	float y[256];
	/* d = 1 (half 0x3c00 in the top nibbles: 0, 0, 0xc, 0x3); sc[0]:
	 * sub-block 0 halves s = 1, 2 (dl 3, 5), sub-block 1 halves s = 7, 0
	 * (15, 1); the rest s = 0 (dl 1). Delta signs set in qh: no effect. */
	put16(b + 48, 1u | 2u << 3 | 7u << 6);
	put16(b + 52, 0xc000);
	put16(b + 54, 0x3000);
	memset(b + 32, 0x88, 16);
	t->steps(b, y, 1);
	ck_steps(y, 0, 16, 3 * f);
	ck_steps(y, 16, 32, 5 * f);
	ck_steps(y, 32, 48, 15 * f);
	ck_steps(y, 48, 256, 1 * f);
}
END_TEST

Suite *suite_ggml_isteps(void)
{
	Suite *s = suite_create("ggml_isteps");
	TCase *tc = tcase_create("steps");
	tcase_add_test(tc, test_iq2_xxs_steps);
	tcase_add_test(tc, test_iq2_xs_steps);
	tcase_add_test(tc, test_iq2_s_steps);
	tcase_add_test(tc, test_iq3_xxs_steps);
	tcase_add_test(tc, test_iq3_s_steps);
	tcase_add_test(tc, test_iq1_s_steps);
	tcase_add_test(tc, test_iq1_m_steps);
	suite_add_tcase(s, tc);
	return s;
}
