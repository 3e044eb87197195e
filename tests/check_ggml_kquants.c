/* check_ggml_kquants.c — the k-quant dequantizers Q2_K..Q8_K: the type
 * table, hand-made blocks whose values are worked out by hand from the
 * block layouts of ggml-common.h, and every k-quant tensor of the
 * llama.cpp fixtures model-{q2_k,q3_k_m,q4_k_m,q5_k_m,q6_k}.gguf against
 * the SHA-256, sum and sum of squares that ggml's own dequantizers gave
 * (model-<type>.dequant.jsonl). The GGUF header is parsed by
 * tests/gguf_blocks.py, independently of modelprint. */
#include "check_suites.h"
#include "testutil.h"
#include "ggml_dequant.h"

#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct mp_ggml_type_info *ti(uint32_t id)
{
	const struct mp_ggml_type_info *t = mp_ggml_kquants_type(id);
	ck_assert_ptr_nonnull(t);
	return t;
}

START_TEST(test_table)
{
	/* ggml-common.h: QK_K = 256; sizeof block_q2_K .. block_q8_K */
	static const struct {
		uint32_t id;
		const char *name;
		unsigned bytes;
	} want[] = {{MP_GGML_Q2_K, "Q2_K", 84},	 {MP_GGML_Q3_K, "Q3_K", 110},
		    {MP_GGML_Q4_K, "Q4_K", 144}, {MP_GGML_Q5_K, "Q5_K", 176},
		    {MP_GGML_Q6_K, "Q6_K", 210}, {MP_GGML_Q8_K, "Q8_K", 292}};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		const struct mp_ggml_type_info *t = ti(want[i].id);
		ck_assert_uint_eq(t->id, want[i].id);
		ck_assert_str_eq(t->name, want[i].name);
		ck_assert_uint_eq(t->block, 256);
		ck_assert_uint_eq(t->bytes, want[i].bytes);
		ck_assert_ptr_nonnull(t->dequant);
	}
	ck_assert_ptr_null(mp_ggml_kquants_type(MP_GGML_Q4_0));
	ck_assert_ptr_null(mp_ggml_kquants_type(MP_GGML_IQ4_XS));
	ck_assert_ptr_null(mp_ggml_kquants_type(9));
	ck_assert_ptr_null(mp_ggml_kquants_type(16));
}
END_TEST

START_TEST(test_q2_k_hand)
{
	uint8_t b[84] = {0};
	float y[256];
	/* scales[k]: scale k (low nibble), min 15 - k (high nibble) */
	for (int k = 0; k < 16; k++)
		b[k] = (uint8_t)(k | (15 - k) << 4);
	b[16 + 0] = 0xE4;	  /* codes 0,1,2,3 at shifts 0,2,4,6 */
	b[16 + 16] = 0x1B;	  /* codes 3,2,1,0 */
	tu_put_half(b + 80, 0x3c00); /* d = 1 */
	tu_put_half(b + 82, 0x3800); /* dmin = 0.5 */
	ti(MP_GGML_Q2_K)->dequant(b, y, 1);
	/* value = d * scale * code - dmin * min; scale index = i / 16 */
	ck_assert_float_eq(y[0], 0 * 0 - 0.5f * 15); /* -7.5 */
	ck_assert_float_eq(y[1], -7.5f);
	ck_assert_float_eq(y[16], 1 * 3 - 0.5f * 14); /* -4 */
	ck_assert_float_eq(y[32], 2 * 1 - 0.5f * 13); /* -4.5 */
	ck_assert_float_eq(y[48], 3 * 2 - 0.5f * 12); /* 0 */
	ck_assert_float_eq(y[64], 4 * 2 - 0.5f * 11); /* 2.5 */
	ck_assert_float_eq(y[80], 5 * 1 - 0.5f * 10); /* 0 */
	ck_assert_float_eq(y[96], 6 * 3 - 0.5f * 9);  /* 13.5 */
	ck_assert_float_eq(y[112], 7 * 0 - 0.5f * 8); /* -4 */
	ck_assert_float_eq(y[128], -3.5f);	      /* scale 8, min 7 */
	ck_assert_float_eq(y[255], 0.0f);	      /* scale 15, min 0 */
}
END_TEST

START_TEST(test_q3_k_hand)
{
	uint8_t b[110];
	float y[256];
	memset(b, 0, sizeof b);
	memset(b, 0xff, 32); /* hmask: high bit set everywhere: no -4 */
	b[0] = 0xFE;	     /* ... except value 0 */
	b[16] = 0xFE;	     /* ... and value 16 */
	b[32 + 0] = 0xE4;    /* qs: codes 0,1,2,3 */
	b[32 + 63] = 0xC0;   /* code 3 at shift 6 */
	/* every 6-bit scale 33 (= 1 after -32): low nibble 1, high bits 2 */
	for (int j = 0; j < 8; j++)
		b[96 + j] = 0x11;
	for (int j = 8; j < 12; j++)
		b[96 + j] = 0xAA;
	b[96 + 0] = 0x1F;  /* scale 0: low nibble 15 ... */
	b[96 + 8] = 0xAB;  /* ... high bits 3: 63 - 32 = 31 */
	b[96 + 9] = 0xA8;  /* scale 1: high bits 0: 1 - 32 = -31 */
	b[96 + 7] = 0x01;  /* scale 15: low nibble 0 ... */
	b[96 + 11] = 0x2A; /* ... high bits 0: 0 - 32 = -32 */
	tu_put_half(b + 108, 0x3c00);
	ti(MP_GGML_Q3_K)->dequant(b, y, 1);
	ck_assert_float_eq(y[0], 31.0f * (0 - 4)); /* -124 */
	ck_assert_float_eq(y[1], 0.0f);
	ck_assert_float_eq(y[16], -31.0f * (0 - 4)); /* 124 */
	ck_assert_float_eq(y[32], 1.0f);
	ck_assert_float_eq(y[64], 2.0f);
	ck_assert_float_eq(y[96], 3.0f);
	ck_assert_float_eq(y[128], 0.0f);
	ck_assert_float_eq(y[255], -32.0f * 3); /* -96 */
}
END_TEST

/* The 12 scale bytes of Q4_K/Q5_K: scale 0 = 1, min 0 = 2, scale 4 =
 * 3 | 1 << 4 = 19, min 4 = 5 | 2 << 4 = 37, the rest 0. */
static void k4_scales(uint8_t *s)
{
	memset(s, 0, 12);
	s[0] = 0x41;
	s[4] = 0x82;
	s[8] = 0x53;
}

START_TEST(test_q4_k_hand)
{
	uint8_t b[144] = {0};
	float y[256];
	tu_put_half(b, 0x3c00);	 /* d = 1 */
	tu_put_half(b + 2, 0x3800); /* dmin = 0.5 */
	k4_scales(b + 4);
	b[16 + 0] = 0xA7;
	b[16 + 64] = 0x0F;
	ti(MP_GGML_Q4_K)->dequant(b, y, 1);
	ck_assert_float_eq(y[0], 1 * 7 - 0.5f * 2); /* 6 */
	ck_assert_float_eq(y[1], -1.0f);
	ck_assert_float_eq(y[32], 0.0f); /* sub-block 1: scale 0, min 0 */
	ck_assert_float_eq(y[128], 19 * 15 - 0.5f * 37); /* 266.5 */
	ck_assert_float_eq(y[129], -18.5f);
	ck_assert_float_eq(y[160], 0.0f);
}
END_TEST

/* The block of test_q4_k_hand as pairs: per sub-block the 16 codes'
 * values d * scale * q - dmin * min and how many of its 32 values have
 * each. */
START_TEST(test_q4_k_pairs)
{
	uint8_t b[144] = {0};
	float v[128];
	uint32_t c[128];
	const struct mp_ggml_type_info *g = ti(MP_GGML_Q4_K);
	tu_put_half(b, 0x3c00);
	tu_put_half(b + 2, 0x3800);
	k4_scales(b + 4);
	b[16 + 0] = 0xA7;
	b[16 + 64] = 0x0F;
	ck_assert_ptr_nonnull(g->pairs);
	ck_assert_uint_eq(g->npairs, 128);
	g->pairs(b, v, c, NULL, 1);
	for (int q = 0; q < 16; q++) {
		/* sub-block 0: scale 1, min 2; code 7 once, the rest 0 */
		ck_assert_float_eq(v[q], (float)q - 1.0f);
		ck_assert_uint_eq(c[q], q == 7 ? 1 : q == 0 ? 31 : 0);
		/* sub-block 1: scale 0, min 0; code 10 once */
		ck_assert_float_eq(v[16 + q], 0.0f);
		ck_assert_uint_eq(c[16 + q], q == 10 ? 1 : q == 0 ? 31 : 0);
		/* sub-block 4: scale 19, min 37; code 15 once */
		ck_assert_float_eq(v[64 + q], 19.0f * (float)q - 18.5f);
		ck_assert_uint_eq(c[64 + q], q == 15 ? 1 : q == 0 ? 31 : 0);
		/* sub-block 5 and the others: all 32 values code 0 */
		ck_assert_uint_eq(c[80 + q], q == 0 ? 32 : 0);
		ck_assert_uint_eq(c[112 + q], q == 0 ? 32 : 0);
	}
}
END_TEST

/* Q4_0 (d 0.5: (code - 8) * d) and Q4_1 (d 0.5, m -1: code * d + m) as
 * pairs: one sub-block of 32 values a block; byte 0 holds codes 0 (low)
 * and 15 (high), the other bytes 8 and 8 (Q4_0) or 0 and 0 (Q4_1). */
START_TEST(test_q4_0_q4_1_pairs)
{
	uint8_t b[20];
	float v[16];
	uint32_t c[16];
	memset(b, 0x88, sizeof b);
	tu_put_half(b, 0x3800);
	b[2] = 0xF0;
	const struct mp_ggml_type_info *g = mp_ggml_type(MP_GGML_Q4_0);
	ck_assert_ptr_nonnull(g);
	ck_assert_ptr_nonnull(g->pairs);
	ck_assert_uint_eq(g->npairs, 16);
	g->pairs(b, v, c, NULL, 1);
	for (int q = 0; q < 16; q++) {
		ck_assert_float_eq(v[q], 0.5f * (float)(q - 8));
		ck_assert_uint_eq(c[q], q == 8 ? 30 : q == 0 || q == 15 ? 1 : 0);
	}
	memset(b, 0, sizeof b);
	tu_put_half(b, 0x3800);
	tu_put_half(b + 2, 0xbc00);
	b[4] = 0xF0;
	g = mp_ggml_type(MP_GGML_Q4_1);
	ck_assert_ptr_nonnull(g);
	ck_assert_ptr_nonnull(g->pairs);
	ck_assert_uint_eq(g->npairs, 16);
	g->pairs(b, v, c, NULL, 1);
	for (int q = 0; q < 16; q++) {
		ck_assert_float_eq(v[q], 0.5f * (float)q - 1.0f);
		ck_assert_uint_eq(c[q], q == 0 ? 31 : q == 15 ? 1 : 0);
	}
}
END_TEST

START_TEST(test_q5_k_hand)
{
	uint8_t b[176] = {0};
	float y[256];
	tu_put_half(b, 0x3c00);
	tu_put_half(b + 2, 0x3800);
	k4_scales(b + 4);
	b[16 + 0] = 0x13; /* qh[0]: fifth bit of values 0, 32, 128 */
	b[48 + 0] = 0xA7; /* qs */
	b[48 + 64] = 0x0F;
	ti(MP_GGML_Q5_K)->dequant(b, y, 1);
	ck_assert_float_eq(y[0], 1 * (7 + 16) - 0.5f * 2); /* 22 */
	ck_assert_float_eq(y[1], -1.0f);
	ck_assert_float_eq(y[32], 0.0f);
	ck_assert_float_eq(y[128], 19 * (15 + 16) - 0.5f * 37); /* 570.5 */
	ck_assert_float_eq(y[129], -18.5f);
}
END_TEST

START_TEST(test_q6_k_hand)
{
	uint8_t b[210] = {0};
	float y[512];
	/* block 0: d = 1, scales k + 1; block 1: d = 2^-24 (the smallest
	 * subnormal half), scales -1 */
	for (int k = 0; k < 16; k++) {
		b[192 + k] = (uint8_t)(k + 1);
	}
	b[0] = 0x5A;   /* ql[0] */
	b[128] = 0xE4; /* qh[0]: high bits 0,1,2,3 for values 0,32,64,96 */
	tu_put_half(b + 208, 0x3c00);
	uint8_t two[420];
	memcpy(two, b, 210);
	memset(two + 210, 0, 210);
	memset(two + 210 + 192, 0xff, 16);
	tu_put_half(two + 210 + 208, 0x0001);
	ti(MP_GGML_Q6_K)->dequant(two, y, 2);
	/* value = d * scale[i / 16] * (code - 32) */
	ck_assert_float_eq(y[0], 1.0f * (10 - 32));	 /* -22 */
	ck_assert_float_eq(y[32], 3.0f * (16 - 32));	 /* -48 */
	ck_assert_float_eq(y[64], 5.0f * (5 + 32 - 32)); /* 25 */
	ck_assert_float_eq(y[96], 7.0f * (48 - 32));	 /* 112 */
	ck_assert_float_eq(y[1], -32.0f);
	ck_assert_float_eq(y[255], 16.0f * -32);
	ck_assert_float_eq(y[256], 0x1p-24f * -1 * -32); /* 2^-19 */
	ck_assert_float_eq(y[511], 0x1p-19f);
}
END_TEST

START_TEST(test_q8_k_hand)
{
	uint8_t b[2 * 292];
	float y[512];
	memset(b, 0x5a, sizeof b); /* bsums: garbage, unused */
	for (int blk = 0; blk < 2; blk++) {
		uint8_t *p = b + 292 * blk;
		/* d = 0.25 (0x3e800000), then -3.0 (0xc0400000), LE */
		uint32_t bits = blk ? 0xc0400000u : 0x3e800000u;
		for (int k = 0; k < 4; k++)
			p[k] = (uint8_t)(bits >> (8 * k));
		for (int j = 0; j < 256; j++)
			p[4 + j] = (uint8_t)(j - 128);
	}
	ti(MP_GGML_Q8_K)->dequant(b, y, 2);
	ck_assert_float_eq(y[0], -32.0f);
	ck_assert_float_eq(y[128], 0.0f);
	ck_assert_float_eq(y[255], 31.75f);
	ck_assert_float_eq(y[256], 384.0f);
	ck_assert_float_eq(y[511], -381.0f);
}
END_TEST

static void hexsha(const float *v, size_t n, char hex[65])
{
	unsigned char md[32];
	unsigned len = 0;
	/* float32 LE: the host is little-endian on every target we build */
	ck_assert(EVP_Digest(v, n * sizeof *v, md, &len, EVP_sha256(), NULL));
	for (unsigned i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

static void check_file(const char *stem, uint32_t id, int *count)
{
	const char *d = getenv("MP_FIXTURES");
	const char *fix = d && *d ? d : MP_SRCDIR_FIXTURES;
	char gguf[1024], cmd[4096];
	snprintf(gguf, sizeof gguf, "%s/gguf/model-%s.gguf", fix, stem);
	snprintf(cmd, sizeof cmd,
		 "python3 '%s/../gguf_blocks.py' '%s' "
		 "'%s/gguf/model-%s.dequant.jsonl' %u",
		 MP_SRCDIR_TORCH, gguf, fix, stem, id);
	FILE *p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	FILE *g = fopen(gguf, "rb");
	ck_assert_msg(g != NULL, "%s", gguf);
	const struct mp_ggml_type_info *t = ti(id);
	char name[256], sha[65], hex[65];
	unsigned tid;
	unsigned long long n, off;
	double sum, sumsq;
	while (fscanf(p, "%255s %u %llu %llu %64s %lf %lf", name, &tid, &n,
		      &off, sha, &sum, &sumsq) == 7) {
		ck_assert_uint_eq(tid, id);
		ck_assert_uint_eq(n % t->block, 0);
		size_t nb = (size_t)(n / t->block);
		uint8_t *raw = malloc(nb * t->bytes);
		float *v = malloc((size_t)n * sizeof *v);
		ck_assert(raw && v);
		ck_assert_int_eq(fseeko(g, (off_t)off, SEEK_SET), 0);
		ck_assert_uint_eq(fread(raw, t->bytes, nb, g), nb);
		t->dequant(raw, v, nb);
		hexsha(v, (size_t)n, hex);
		ck_assert_msg(strcmp(hex, sha) == 0, "%s %s: sha %s, ggml %s",
			      stem, name, hex, sha);
		double s = 0, s2 = 0;
		for (size_t i = 0; i < n; i++) {
			s += v[i];
			s2 += (double)v[i] * v[i];
		}
		ck_assert_double_eq_tol(s, sum, 1e-9 * (1 + fabs(sum)));
		ck_assert_double_eq_tol(s2, sumsq, 1e-9 * sumsq);
		free(raw);
		free(v);
		(*count)++;
	}
	fclose(g);
	ck_assert_int_eq(pclose(p), 0);
}

START_TEST(test_fixtures)
{
	static const struct {
		const char *stem;
		uint32_t id;
	} f[] = {{"q2_k", MP_GGML_Q2_K},
		 {"q3_k_m", MP_GGML_Q3_K},
		 {"q4_k_m", MP_GGML_Q4_K},
		 {"q5_k_m", MP_GGML_Q5_K},
		 {"q6_k", MP_GGML_Q6_K}};
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
		int count = 0;
		check_file(f[i].stem, f[i].id, &count);
		/* --pure: all 16 matrices (2 layers x 7, embedding, output) */
		ck_assert_int_eq(count, 16);
	}
}
END_TEST

Suite *suite_ggml_kquants(void)
{
	Suite *s = suite_create("ggml_kquants");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_table);
	tcase_add_test(tc, test_q2_k_hand);
	tcase_add_test(tc, test_q3_k_hand);
	tcase_add_test(tc, test_q4_k_hand);
	tcase_add_test(tc, test_q4_k_pairs);
	tcase_add_test(tc, test_q4_0_q4_1_pairs);
	tcase_add_test(tc, test_q5_k_hand);
	tcase_add_test(tc, test_q6_k_hand);
	tcase_add_test(tc, test_q8_k_hand);
	tcase_add_test(tc, test_fixtures);
	suite_add_tcase(s, tc);
	return s;
}
