/* check_ggml_iquants.c — the i-quant, ternary and MXFP4 dequantizers of
 * ggml_iquants.c. IQ4_NL and IQ4_XS are checked against the oracle of
 * ggml's own dequantizers (fixtures gguf/model-iq4_*.dequant.jsonl: the
 * SHA-256 of the float32 values, bit for bit, and their sum and sum of
 * squares); the fixture blocks are found by a small GGUF v3 header walk
 * written here. TQ1_0, TQ2_0 and MXFP4 have no fixtures: hand-made blocks
 * whose values are worked out by hand from the block layouts. */
#include "check_suites.h"
#include "ggml_dequant.h"
#include "ggml_grids.h"

#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a minimal GGUF walk (v2/v3, little-endian) over a whole file ---- */

struct gg {
	const uint8_t *b;
	size_t n, pos;
};

static uint64_t rd(struct gg *g, unsigned width)
{
	ck_assert_msg(g->pos + width <= g->n, "GGUF truncated at %zu", g->pos);
	uint64_t v = 0;
	for (unsigned i = 0; i < width; i++)
		v |= (uint64_t)g->b[g->pos + i] << (8 * i);
	g->pos += width;
	return v;
}

static void skip(struct gg *g, uint64_t len)
{
	ck_assert_msg(len <= g->n - g->pos, "GGUF truncated at %zu", g->pos);
	g->pos += (size_t)len;
}

/* Width of a scalar metadata type (0: string, array). */
static unsigned scalar_width(uint32_t t)
{
	static const unsigned w[13] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
	ck_assert_uint_lt(t, 13);
	return w[t];
}

/* Skip one value of type t; *u32 gets it when it is a 4-byte scalar. */
static void skip_value(struct gg *g, uint32_t t, uint64_t *val)
{
	if (t == 8) {
		skip(g, rd(g, 8));
	} else if (t == 9) {
		uint32_t et = (uint32_t)rd(g, 4);
		uint64_t cnt = rd(g, 8);
		for (uint64_t i = 0; i < cnt; i++)
			skip_value(g, et, NULL);
	} else {
		uint64_t v = rd(g, scalar_width(t));
		if (val)
			*val = v;
	}
}

struct gg_tensor {
	char name[96];
	uint32_t type;
	uint64_t count, offset;
};

/* Tensor infos of the GGUF at b[0..n) into t[0..max); *data = start of the
 * data section. Returns the tensor count. */
static size_t gg_walk(const uint8_t *b, size_t n, struct gg_tensor *t,
		      size_t max, size_t *data)
{
	struct gg g = {b, n, 0};
	ck_assert(n >= 4 && memcmp(b, "GGUF", 4) == 0);
	g.pos = 4;
	uint32_t version = (uint32_t)rd(&g, 4);
	ck_assert(version == 2 || version == 3);
	uint64_t nt = rd(&g, 8), nkv = rd(&g, 8), align = 32;
	ck_assert_uint_le(nt, max);
	for (uint64_t i = 0; i < nkv; i++) {
		uint64_t klen = rd(&g, 8);
		const char *key = (const char *)b + g.pos;
		skip(&g, klen);
		uint32_t vt = (uint32_t)rd(&g, 4);
		uint64_t v = 0;
		skip_value(&g, vt, &v);
		if (klen == 17 && memcmp(key, "general.alignment", 17) == 0)
			align = v;
	}
	for (uint64_t i = 0; i < nt; i++) {
		uint64_t len = rd(&g, 8);
		ck_assert_uint_lt(len, sizeof t[i].name);
		ck_assert_uint_le(len, n - g.pos);
		memcpy(t[i].name, b + g.pos, (size_t)len);
		t[i].name[len] = '\0';
		g.pos += (size_t)len;
		uint32_t nd = (uint32_t)rd(&g, 4);
		t[i].count = 1;
		for (uint32_t d = 0; d < nd; d++)
			t[i].count *= rd(&g, 8);
		t[i].type = (uint32_t)rd(&g, 4);
		t[i].offset = rd(&g, 8);
	}
	ck_assert_uint_gt(align, 0);
	*data = (size_t)((g.pos + align - 1) / align * align);
	return (size_t)nt;
}

static uint8_t *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	long len = ftell(f);
	ck_assert_int_ge(len, 0);
	rewind(f);
	uint8_t *b = malloc((size_t)len + 1);
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(fread(b, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	*n = (size_t)len;
	b[len] = '\0';
	return b;
}

static void fixture(char *buf, size_t cap, const char *name)
{
	const char *d = getenv("MP_FIXTURES");
	snprintf(buf, cap, "%s/gguf/%s", d && *d ? d : MP_SRCDIR_FIXTURES,
		 name);
}

/* The JSON string of "key":"..." / number of "key":... in one oracle line. */
static void json_str(const char *line, const char *key, char *out, size_t cap)
{
	char pat[64];
	snprintf(pat, sizeof pat, "\"%s\":\"", key);
	const char *p = strstr(line, pat);
	ck_assert_msg(p != NULL, "no %s in %s", key, line);
	p += strlen(pat);
	const char *e = strchr(p, '"');
	ck_assert(e != NULL && (size_t)(e - p) < cap);
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
}

static double json_num(const char *line, const char *key)
{
	char pat[64];
	snprintf(pat, sizeof pat, "\"%s\":", key);
	const char *p = strstr(line, pat);
	ck_assert_msg(p != NULL, "no %s in %s", key, line);
	return strtod(p + strlen(pat), NULL);
}

/* Every tensor of fixture `model` whose oracle type is `type` dequantizes
 * to the oracle's SHA-256, sum and sum of squares; returns how many. */
static int check_oracle(const char *model, const char *type, uint32_t id)
{
	char path[1024], jpath[1024];
	fixture(path, sizeof path, model);
	snprintf(jpath, sizeof jpath, "%.*s.dequant.jsonl",
		 (int)(strlen(path) - 5), path);
	size_t n, jn, data;
	uint8_t *file = slurp(path, &n);
	char *oracle = (char *)slurp(jpath, &jn);
	struct gg_tensor t[64];
	size_t nt = gg_walk(file, n, t, 64, &data);
	const struct mp_ggml_type_info *ti = mp_ggml_iquants_type(id);
	ck_assert_ptr_nonnull(ti);
	int checked = 0;

	for (char *line = strtok(oracle, "\n"); line;
	     line = strtok(NULL, "\n")) {
		char name[96], otype[16], sha[65];
		json_str(line, "type", otype, sizeof otype);
		if (strcmp(otype, type) != 0)
			continue;
		json_str(line, "name", name, sizeof name);
		json_str(line, "sha256_f32", sha, sizeof sha);
		size_t k = 0;
		while (k < nt && strcmp(t[k].name, name) != 0)
			k++;
		ck_assert_msg(k < nt, "%s: no tensor %s", model, name);
		ck_assert_uint_eq(t[k].type, id);
		ck_assert_uint_eq(t[k].count, (uint64_t)json_num(line, "n"));
		ck_assert_uint_eq(t[k].count % ti->block, 0);
		size_t nb = (size_t)(t[k].count / ti->block);
		ck_assert_uint_le(t[k].offset + nb * ti->bytes, n - data);
		float *v = malloc((size_t)t[k].count * sizeof *v);
		ck_assert_ptr_nonnull(v);
		ti->dequant(file + data + t[k].offset, v, nb);

		unsigned char md[32];
		unsigned int mdlen = 0;
		ck_assert(EVP_Digest(v, (size_t)t[k].count * sizeof *v, md,
				     &mdlen, EVP_sha256(), NULL));
		char hex[65];
		for (unsigned i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
		ck_assert_msg(strcmp(hex, sha) == 0,
			      "%s %s: sha256 %s, want %s", model, name, hex,
			      sha);
		double s = 0, s2 = 0;
		for (size_t i = 0; i < (size_t)t[k].count; i++) {
			s += v[i];
			s2 += (double)v[i] * v[i];
		}
		double ws = json_num(line, "sum"),
		       ws2 = json_num(line, "sumsq");
		ck_assert_double_eq_tol(s, ws, 1e-9 * (1 + fabs(ws)));
		ck_assert_double_eq_tol(s2, ws2, 1e-9 * (1 + ws2));
		free(v);
		checked++;
	}
	free(file);
	free(oracle);
	return checked;
}

START_TEST(test_iq4_nl_oracle)
{
	/* every matrix of the --pure quantization is IQ4_NL: 7 per layer
	 * times 2, token_embd and output */
	ck_assert_int_eq(
	    check_oracle("model-iq4_nl.gguf", "iq4_nl", MP_GGML_IQ4_NL), 16);
}
END_TEST

START_TEST(test_iq4_xs_oracle)
{
	ck_assert_int_eq(
	    check_oracle("model-iq4_xs.gguf", "iq4_xs", MP_GGML_IQ4_XS), 16);
}
END_TEST

/* ---- hand-made blocks ---- */

static const struct mp_ggml_type_info *type_of(uint32_t id, const char *name,
					       unsigned block, unsigned bytes)
{
	const struct mp_ggml_type_info *ti = mp_ggml_iquants_type(id);
	ck_assert_ptr_nonnull(ti);
	ck_assert_uint_eq(ti->id, id);
	ck_assert_str_eq(ti->name, name);
	ck_assert_uint_eq(ti->block, block);
	ck_assert_uint_eq(ti->bytes, bytes);
	return ti;
}

/* Bit-exact float equality (so -0 and +0 differ, as they do in a hash). */
#define ck_float_bits(a, b)                                                    \
	do {                                                                   \
		float a_ = (a), b_ = (b);                                      \
		ck_assert_msg(memcmp(&a_, &b_, sizeof a_) == 0,                \
			      "%s = %.9g, want %.9g", #a, (double)a_,          \
			      (double)b_);                                     \
	} while (0)

START_TEST(test_iq4_nl_block)
{
	const struct mp_ggml_type_info *ti =
	    type_of(MP_GGML_IQ4_NL, "IQ4_NL", 32, 18);
	uint8_t b[2 * 18] = {0};
	float y[64];
	/* block 0: d = 1.0 (half 0x3c00); byte 0 = 0xf0: y0 = level 0 = -127,
	 * y16 = level 15 = 113; byte 5 = 0x78: y5 = level 8 = 1, y21 =
	 * level 7 = -10; the rest index level 0 */
	b[0] = 0x00, b[1] = 0x3c, b[2] = 0xf0, b[7] = 0x78;
	/* block 1: d = the smallest half subnormal 2^-24 (0x0001), byte 0 =
	 * 0x08: y32 = level 8 = 1 -> 2^-24 */
	b[18] = 0x01, b[20] = 0x08;
	ti->dequant(b, y, 2);
	ck_float_bits(y[0], -127.0f);
	ck_float_bits(y[16], 113.0f);
	ck_float_bits(y[5], 1.0f);
	ck_float_bits(y[21], -10.0f);
	ck_float_bits(y[1], -127.0f);
	ck_float_bits(y[32], ldexpf(1.0f, -24));
	ck_float_bits(y[48], -127.0f * ldexpf(1.0f, -24));

	/* the half scale converts exactly: the largest subnormal 0x03ff =
	 * 1023 * 2^-24, the negative normal 0xc500 = -5, infinity 0x7c00
	 * (-127 * inf = -inf), NaN 0x7e00 */
	const uint16_t h[4] = {0x03ff, 0xc500, 0x7c00, 0x7e00};
	for (unsigned k = 0; k < 4; k++) {
		memset(b, 0, sizeof b);
		b[0] = (uint8_t)(h[k] & 0xff), b[1] = (uint8_t)(h[k] >> 8);
		b[2] = 0x08; /* y0 = level 8 = 1: the scale itself */
		ti->dequant(b, y, 1);
		if (k == 0)
			ck_float_bits(y[0], 1023.0f * ldexpf(1.0f, -24));
		else if (k == 1)
			ck_float_bits(y[0], -5.0f);
		else if (k == 2)
			ck_assert(isinf(y[1]) && y[1] < 0);
		else
			ck_assert(isnan(y[0]) && isnan(y[1]));
	}
}
END_TEST

START_TEST(test_iq4_xs_block)
{
	const struct mp_ggml_type_info *ti =
	    type_of(MP_GGML_IQ4_XS, "IQ4_XS", 256, 136);
	uint8_t b[136] = {0};
	float y[256];
	/* d = 0.5 (0x3800). Sub-block 1: ls = 0x25 = 37 (low nibble 5 from
	 * scales_l[0] >> 4, high bits 2 from scales_h >> 2), so dl = 0.5 * 5 =
	 * 2.5. Sub-blocks 0, 2..7: ls = 0, dl = 0.5 * -32 = -16. Sub-block 7:
	 * scales_l[3] high nibble 0xf and scales_h bits 14..15 = 3: ls = 63,
	 * dl = 0.5 * 31 = 15.5. */
	b[0] = 0x00, b[1] = 0x38;
	b[2] = 0x08, b[3] = 0xc0; /* scales_h = 0xc008 */
	b[4] = 0x50, b[7] = 0xf0; /* scales_l */
	b[8 + 16] = 0x8f;	  /* sub-block 1, byte 0 */
	b[8 + 112 + 3] = 0x9e;	  /* sub-block 7, byte 3 */
	ti->dequant(b, y, 1);
	ck_float_bits(y[0], 2032.0f); /* -16 * -127 */
	ck_float_bits(y[31], 2032.0f);
	ck_float_bits(y[32], 282.5f); /* 2.5 * 113 */
	ck_float_bits(y[48], 2.5f);   /* 2.5 * 1 */
	ck_float_bits(y[33], -317.5f);
	ck_float_bits(y[64], 2032.0f);
	ck_float_bits(y[224 + 3], 1379.5f); /* 15.5 * 89 (level 14) */
	ck_float_bits(y[224 + 19], 201.5f); /* 15.5 * 13 (level 9) */
	ck_float_bits(y[255], -1968.5f);    /* 15.5 * -127 */
}
END_TEST

START_TEST(test_tq1_0_block)
{
	const struct mp_ggml_type_info *ti =
	    type_of(MP_GGML_TQ1_0, "TQ1_0", 256, 54);
	uint8_t b[54] = {0};
	float y[256];
	/* The byte 188 holds the trits 2,0,1,2,1: 178 = 2*81 + 0*27 + 1*9 +
	 * 2*3 + 1, stored as ceil(178 * 256 / 243) = 188; trit n is the top
	 * base-3 digit of 188 * 3^n mod 256. Values are (trit - 1) * d; a 0
	 * byte is five 0 trits, -d each. d = half 0x3555 = 1365/4096. */
	const float d = 1365.0f / 4096.0f;
	b[0] = 188;	 /* qs[0]: y 0, 32, 64, 96, 128 */
	b[32 + 5] = 188; /* qs[37]: y 165, 181, 197, 213, 229 */
	b[48 + 1] = 188; /* qh[1]: y 241, 245, 249, 253 (four trits) */
	b[52] = 0x55, b[53] = 0x35;
	ti->dequant(b, y, 1);
	const unsigned at[3][5] = {{0, 32, 64, 96, 128},
				   {165, 181, 197, 213, 229},
				   {241, 245, 249, 253, 0}};
	const float want[5] = {d, -d, 0.0f, d, 0.0f};
	for (unsigned r = 0; r < 3; r++)
		for (unsigned n = 0; n < (r == 2 ? 4u : 5u); n++)
			ck_float_bits(y[at[r][n]], want[n]);
	ck_float_bits(y[1], -d);
	ck_float_bits(y[160], -d);
	ck_float_bits(y[240], -d);
	ck_float_bits(y[255], -d);
	double s = 0;
	for (unsigned i = 0; i < 256; i++)
		s += y[i];
	/* 14 non-zero-byte positions: 3 rows give d, -d, 0, d, (0): +d
	 * each, the others 256 - 14 = 242 give -d */
	ck_assert_double_eq_tol(s, (3.0 - 242.0) * d, 1e-9);
}
END_TEST

START_TEST(test_tq2_0_block)
{
	const struct mp_ggml_type_info *ti =
	    type_of(MP_GGML_TQ2_0, "TQ2_0", 256, 66);
	uint8_t b[2 * 66] = {0};
	float y[512];
	/* block 0, d = 0.5 (0x3800): byte 0 = 0x1b = codes 3,2,1,0 in bits
	 * 0-1, 2-3, 4-5, 6-7 -> y 0, 32, 64, 96 = 1, 0.5, 0, -0.5; byte 33
	 * (second run of 32) = 0xff -> y 129, 161, 193, 225 = 1 */
	b[0] = 0x1b, b[33] = 0xff, b[64] = 0x00, b[65] = 0x38;
	/* block 1, d = -2 (0xc000): byte 31 = 0x02 -> y 256+31 = 1 * -2,
	 * y 256+63 = -1 * -2 */
	b[66 + 31] = 0x02, b[66 + 64] = 0x00, b[66 + 65] = 0xc0;
	ti->dequant(b, y, 2);
	ck_float_bits(y[0], 1.0f);
	ck_float_bits(y[32], 0.5f);
	ck_float_bits(y[64], 0.0f);
	ck_float_bits(y[96], -0.5f);
	ck_float_bits(y[1], -0.5f);
	ck_float_bits(y[129], 1.0f);
	ck_float_bits(y[161], 1.0f);
	ck_float_bits(y[193], 1.0f);
	ck_float_bits(y[225], 1.0f);
	ck_float_bits(y[128], -0.5f);
	ck_float_bits(y[256 + 31], -2.0f);
	ck_float_bits(y[256 + 63], 2.0f);
	ck_float_bits(y[511], 2.0f);
}
END_TEST

START_TEST(test_mxfp4_block)
{
	const struct mp_ggml_type_info *ti =
	    type_of(MP_GGML_MXFP4, "MXFP4", 32, 17);
	uint8_t b[3 * 17] = {0};
	float y[96];
	/* block 0: e = 127 (scale 1): the E2M1 values; byte 0 = 0xd3: y0 =
	 * code 3 = 1.5, y16 = code 0xd = -3; byte 1 = 0x97: y1 = code 7 = 6,
	 * y17 = code 9 = -0.5 */
	b[0] = 127, b[1] = 0xd3, b[2] = 0x97;
	/* block 1: e = 130 (scale 8): byte 0 = 0xf7: 6 * 8, -6 * 8 */
	b[17] = 130, b[18] = 0xf7;
	/* block 2: e = 0 (scale 2^-127): byte 0 = 0x21: 0.5 * 2^-127 =
	 * 2^-128 (a float subnormal), y16 = code 2 = 1 -> 2^-127 */
	b[34] = 0, b[35] = 0x21;
	ti->dequant(b, y, 3);
	ck_float_bits(y[0], 1.5f);
	ck_float_bits(y[16], -3.0f);
	ck_float_bits(y[1], 6.0f);
	ck_float_bits(y[17], -0.5f);
	ck_float_bits(y[2], 0.0f);
	ck_float_bits(y[32], 48.0f);
	ck_float_bits(y[48], -48.0f);
	ck_float_bits(y[64], ldexpf(1.0f, -128));
	ck_float_bits(y[80], ldexpf(1.0f, -127));
	ck_float_bits(y[65], 0.0f);
}
END_TEST

START_TEST(test_unknown_ids_absent)
{
	/* ids no ggml_*.c answers for stay NULL (the reader refuses them):
	 * Q4_K (another family's), the removed Q4_0_4_4 (31) and
	 * IQ4_NL_4_4 (36), and ids past the last type */
	const uint32_t absent[] = {MP_GGML_Q4_K, 31, 36, 40, 99, 0xffffffffu};
	for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++)
		ck_assert_ptr_null(mp_ggml_iquants_type(absent[i]));
	ck_assert_ptr_null(mp_ggml_type(31));
	ck_assert_ptr_null(mp_ggml_type(99));
}
END_TEST

/* ---- the grid codebooks (ggml_grids.c) ---- */

/* Grid entries as ggml-common.h prints them (little-endian: byte j is
 * value j), found there by their text, with their indices. */
struct spot {
	unsigned i;
	uint64_t e;
};

/* Entry i of a compact grid expanded to ggml's bytes, straight from the
 * encoding of ggml_grids.h: field j (width w bits) indexes lv. */
static uint64_t ggml_entry(const uint16_t *grid, unsigned i, unsigned w,
			   const uint8_t *lv)
{
	unsigned nf = w == 4 ? 4 : 8;
	uint64_t e = 0;
	for (unsigned j = 0; j < nf; j++)
		e |= (uint64_t)lv[(grid[i] >> (w * j)) & ((1u << w) - 1)]
		     << (8 * j);
	return e;
}

/* One grid: its count, every field inside the alphabet (nlv levels), the
 * entries strictly ascending (so none repeats), the spot entries, and the
 * SHA-256 of the table in ggml's layout (n entries of 8 or 4 bytes,
 * little-endian) against `sha`, computed by a python script from the
 * transcribed source. */
static void check_grid(const char *name, const uint16_t *grid, size_t n,
		       size_t want_n, unsigned w, const uint8_t *lv,
		       unsigned nlv, const struct spot *sp, size_t nsp,
		       const char *sha)
{
	ck_assert_msg(n == want_n, "%s: %zu entries", name, n);
	unsigned nf = w == 4 ? 4 : 8, width = nf;
	uint8_t *bytes = malloc(n * width);
	ck_assert_ptr_nonnull(bytes);
	for (size_t i = 0; i < n; i++) {
		for (unsigned j = 0; j < nf; j++)
			ck_assert_msg(
			    ((grid[i] >> (w * j)) & ((1u << w) - 1)) < nlv,
			    "%s[%zu] field %u out of the alphabet", name, i, j);
		if (i)
			ck_assert_msg(grid[i] > grid[i - 1],
				      "%s[%zu] not above its predecessor", name,
				      i);
		uint64_t e = ggml_entry(grid, (unsigned)i, w, lv);
		for (unsigned j = 0; j < width; j++)
			bytes[i * width + j] = (uint8_t)(e >> (8 * j));
	}
	for (size_t k = 0; k < nsp; k++)
		ck_assert_msg(
		    ggml_entry(grid, sp[k].i, w, lv) == sp[k].e,
		    "%s[%u] = %#llx, ggml-common.h has %#llx", name, sp[k].i,
		    (unsigned long long)ggml_entry(grid, sp[k].i, w, lv),
		    (unsigned long long)sp[k].e);
	unsigned char md[32];
	unsigned int mdlen = 0;
	ck_assert(EVP_Digest(bytes, n * width, md, &mdlen, EVP_sha256(), NULL));
	char hex[65];
	for (unsigned i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	ck_assert_msg(strcmp(hex, sha) == 0, "%s: sha256 %s, want %s", name,
		      hex, sha);
	free(bytes);
}

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

START_TEST(test_grid_tables)
{
	/* the levels: ggml's grid bytes */
	ck_assert_uint_eq(NELEM(mp_ggml_iq2_levels), 3);
	ck_assert(mp_ggml_iq2_levels[0] == 0x08 &&
		  mp_ggml_iq2_levels[1] == 0x19 &&
		  mp_ggml_iq2_levels[2] == 0x2b);
	for (unsigned k = 0; k < 8; k++) {
		ck_assert_uint_eq(mp_ggml_iq3xxs_levels[k],
				  k < 7 ? 4 + 8 * k : 62);
		ck_assert_uint_eq(mp_ggml_iq3s_levels[k], 1 + 2 * k);
	}
	ck_assert(mp_ggml_iq1_levels[0] == -1 && mp_ggml_iq1_levels[1] == 0 &&
		  mp_ggml_iq1_levels[2] == 1);
	/* IQ1 bytes as ggml stores them (int8 as uint8: -1 = 0xff) */
	const uint8_t iq1_bytes[3] = {0xff, 0x00, 0x01};

	/* ksigns_iq2xs: i plus bit 7 when i has an odd number of bits */
	ck_assert_uint_eq(NELEM(mp_ggml_ksigns_iq2xs), 128);
	for (unsigned i = 0; i < 128; i++) {
		unsigned par = (unsigned)__builtin_popcount(i) & 1;
		ck_assert_uint_eq(mp_ggml_ksigns_iq2xs[i], i | par << 7);
	}

	static const struct spot s2xxs[] = {
	    {0, 0x0808080808080808ULL},	  {1, 0x080808080808082bULL},
	    {85, 0x0819081919192b2bULL},  {86, 0x081908192b080808ULL},
	    {254, 0x2b2b2b0819190808ULL}, {255, 0x2b2b2b1908081908ULL}};
	static const struct spot s2xs[] = {{263, 0x19080808082b1908ULL},
					   {264, 0x1908080819080808ULL},
					   {510, 0x2b2b2b2b2b190819ULL},
					   {511, 0x2b2b2b2b2b2b2b2bULL}};
	static const struct spot s2s[] = {{518, 0x190808191919082bULL},
					  {519, 0x1908081919191919ULL},
					  {520, 0x1908081919192b08ULL},
					  {1022, 0x2b2b2b2b2b082b08ULL},
					  {1023, 0x2b2b2b2b2b2b2b2bULL}};
	static const struct spot s3xxs[] = {
	    {0, 0x04040404},   {1, 0x04040414},	  {135, 0x142c3e24},
	    {136, 0x143e040c}, {254, 0x3e2c1424}, {255, 0x3e341c04}};
	static const struct spot s3s[] = {{0, 0x01010101},   {1, 0x01010103},
					  {263, 0x050b0303}, {264, 0x050b0505},
					  {510, 0x0f0d0703}, {511, 0x0f0f0101}};
	static const struct spot s1s[] = {
	    {0, 0xffffffffffffffffULL},	   {1, 0xffffffffffffff01ULL},
	    {682, 0x00ffff01ff000001ULL},  {683, 0x00ffff01ff010000ULL},
	    {1029, 0x0000000000000000ULL}, {1031, 0x00000000000001ffULL},
	    {1032, 0x0000000000000100ULL}, {2046, 0x01010101010101ffULL},
	    {2047, 0x0101010101010101ULL}};
	check_grid(
	    "iq2xxs_grid", mp_ggml_iq2xxs_grid, NELEM(mp_ggml_iq2xxs_grid), 256,
	    2, mp_ggml_iq2_levels, 3, s2xxs, NELEM(s2xxs),
	    "05826b5d3e472a3a78f196be62ac78acf81df0f909626e12ab9fa2a5d490dd54");
	check_grid(
	    "iq2xs_grid", mp_ggml_iq2xs_grid, NELEM(mp_ggml_iq2xs_grid), 512, 2,
	    mp_ggml_iq2_levels, 3, s2xs, NELEM(s2xs),
	    "06e47aaca60b4dc1d9b5a3f34540437058a6b142b4d7a59d5ded769b4d1bf1de");
	check_grid(
	    "iq2s_grid", mp_ggml_iq2s_grid, NELEM(mp_ggml_iq2s_grid), 1024, 2,
	    mp_ggml_iq2_levels, 3, s2s, NELEM(s2s),
	    "e1aa1473412b0552c2174c30ef22ab4073f6a181b85a17056e8249bd2932fd88");
	check_grid(
	    "iq3xxs_grid", mp_ggml_iq3xxs_grid, NELEM(mp_ggml_iq3xxs_grid), 256,
	    4, mp_ggml_iq3xxs_levels, 8, s3xxs, NELEM(s3xxs),
	    "46e35f5a997efdee6c99ce57854c8a0d4f0ff8ca57e5e8a60c0793ea580acf5d");
	check_grid(
	    "iq3s_grid", mp_ggml_iq3s_grid, NELEM(mp_ggml_iq3s_grid), 512, 4,
	    mp_ggml_iq3s_levels, 8, s3s, NELEM(s3s),
	    "bd1af4945a1717c65610b0284e4628b9a1ba3b306fae3a06f6e5f597356e349f");
	check_grid(
	    "iq1s_grid", mp_ggml_iq1s_grid, NELEM(mp_ggml_iq1s_grid), 2048, 2,
	    iq1_bytes, 3, s1s, NELEM(s1s),
	    "07540ffc1aeaf6ad4d97e96b0fcc765aae39671d4ae4a27bbd0e796fde167c6a");
}
END_TEST

/* ---- hand-made blocks of the grid types ----
 * Expected values come from the ggml-common.h grid literals (byte j of
 * an entry is value j), the scales and signs chosen here. */

/* Byte j of a grid literal, unsigned (IQ2, IQ3) or signed (IQ1). */
static float gb(uint64_t e, unsigned j)
{
	return (float)((e >> (8 * j)) & 0xff);
}

static float gs(uint64_t e, unsigned j)
{
	return (float)(int8_t)((e >> (8 * j)) & 0xff);
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v & 0xffff), put16(p + 2, v >> 16);
}

/* y[0..n) == scale * value j of e, negated where bit j of neg is set. */
static void ck_group(const float *y, unsigned n, float scale, uint64_t e,
		     unsigned neg)
{
	for (unsigned j = 0; j < n; j++) {
		float want = scale * gb(e, j);
		ck_float_bits(y[j], (neg >> j) & 1 ? -want : want);
	}
}

static void ck_all(const float *y, unsigned from, unsigned to, float v)
{
	for (unsigned i = from; i < to; i++)
		ck_float_bits(y[i], v);
}

START_TEST(test_iq2_xxs_block)
{
	const struct mp_ggml_type_info *ti =
	    type_of(MP_GGML_IQ2_XXS, "IQ2_XXS", 256, 66);
	uint8_t b[2 * 66] = {0};
	float y[512];
	/* block 0: d = 2 (half 0x4000). Sub-block 0: grid indices 85, 86,
	 * 255, 1; sign indices 1 (ksigns 0x81: values 0 and 7 negative),
	 * 127 (0xff: all), 3 (0x03: values 0, 1), 0; ls = 15 (the largest):
	 * db = 2 * 15.5 * 0.25 = 7.75. Sub-block 7: grid 0 (all 0x08), sign
	 * index 0x55 in group 3 (even: values 0, 2, 4, 6), ls = 15. The rest
	 * is zero: ls = 0, db = 2 * 0.5 * 0.25 = 0.25, values 0.25 * 8 = 2. */
	b[0] = 0x00, b[1] = 0x40;
	b[2] = 85, b[3] = 86, b[4] = 255, b[5] = 1;
	put32(b + 6, 1u | 127u << 7 | 3u << 14 | 0u << 21 | 15u << 28);
	put32(b + 2 + 56 + 4, 0x55u << 21 | 15u << 28);
	/* block 1: d = -0.5 (0xb800), all zero: -0.5 * 0.5 * 0.25 * 8 */
	b[66] = 0x00, b[67] = 0xb8;
	ti->dequant(b, y, 2);
	ck_float_bits(y[0], -333.25f); /* 7.75 * 0x2b, negated */
	ck_float_bits(y[1], 333.25f);
	ck_float_bits(y[7], -62.0f); /* 7.75 * 0x08, negated */
	ck_group(y, 8, 7.75f, 0x0819081919192b2bULL, 0x81);
	ck_group(y + 8, 8, 7.75f, 0x081908192b080808ULL, 0xff);
	ck_group(y + 16, 8, 7.75f, 0x2b2b2b1908081908ULL, 0x03);
	ck_float_bits(y[17], -193.75f); /* 7.75 * 0x19, negated */
	ck_group(y + 24, 8, 7.75f, 0x080808080808082bULL, 0);
	ck_all(y, 32, 224, 2.0f);
	ck_all(y, 224, 248, 62.0f);
	ck_group(y + 248, 8, 7.75f, 0x0808080808080808ULL, 0x55);
	ck_float_bits(y[248], -62.0f);
	ck_float_bits(y[249], 62.0f);
	ck_all(y, 256, 512, -0.5f);
}
END_TEST

START_TEST(test_iq2_xs_block)
{
	const struct mp_ggml_type_info *ti =
	    type_of(MP_GGML_IQ2_XS, "IQ2_XS", 256, 74);
	uint8_t b[74] = {0};
	float y[256];
	/* d = 1. Sub-block 3: scales[3] = 0xf0: first 16 values ls = 0 (db
	 * 0.125), last 16 ls = 15 (db 3.875). qs[12] = index 263 (9 bits),
	 * sign index 5 (values 0, 2); qs[13] = 264; qs[14] = 511 with sign
	 * index 127 (all); qs[15] = 510. Elsewhere db = 0.125, value 1. */
	b[0] = 0x00, b[1] = 0x3c;
	put16(b + 2 + 2 * 12, 263 | 5 << 9);
	put16(b + 2 + 2 * 13, 264);
	put16(b + 2 + 2 * 14, 511 | 127 << 9);
	put16(b + 2 + 2 * 15, 510);
	b[66 + 3] = 0xf0;
	ti->dequant(b, y, 1);
	ck_float_bits(y[96], -1.0f);   /* 0.125 * 0x08, negated */
	ck_float_bits(y[97], 3.125f);  /* 0.125 * 0x19 */
	ck_float_bits(y[98], -5.375f); /* 0.125 * 0x2b, negated */
	ck_group(y + 96, 8, 0.125f, 0x19080808082b1908ULL, 0x05);
	ck_group(y + 104, 8, 0.125f, 0x1908080819080808ULL, 0);
	ck_group(y + 112, 8, 3.875f, 0x2b2b2b2b2b2b2b2bULL, 0xff);
	ck_float_bits(y[112], -166.625f);
	ck_group(y + 120, 8, 3.875f, 0x2b2b2b2b2b190819ULL, 0);
	ck_float_bits(y[120], 96.875f);
	ck_all(y, 0, 96, 1.0f);
	ck_all(y, 128, 256, 1.0f);
}
END_TEST

START_TEST(test_iq2_s_block)
{
	const struct mp_ggml_type_info *ti =
	    type_of(MP_GGML_IQ2_S, "IQ2_S", 256, 82);
	uint8_t b[82] = {0};
	float y[256];
	/* d = 0.25 (0x3400). Sub-block 5: scales[5] = 0x0f (db 0.25 * 15.5
	 * * 0.25 = 0.96875 for the first 16, 0.25 * 0.5 * 0.25 = 0.03125 for
	 * the last 16); indices 1023, 519, 1022, 520: low bytes qs[20..23],
	 * bits 8-9 in qh[5] = 3 | 2 << 2 | 3 << 4 | 2 << 6; sign bytes 0x80
	 * (value 7), 0x01 (value 0), 0xff, 0. Elsewhere 0.03125 * 8. */
	b[0] = 0x00, b[1] = 0x34;
	b[2 + 20] = 0xff, b[2 + 21] = 0x07, b[2 + 22] = 0xfe, b[2 + 23] = 0x08;
	b[34 + 20] = 0x80, b[34 + 21] = 0x01, b[34 + 22] = 0xff;
	b[66 + 5] = 3 | 2 << 2 | 3 << 4 | 2 << 6;
	b[74 + 5] = 0x0f;
	ti->dequant(b, y, 1);
	ck_float_bits(y[160], 41.65625f); /* 0.96875 * 0x2b */
	ck_float_bits(y[167], -41.65625f);
	ck_group(y + 160, 8, 0.96875f, 0x2b2b2b2b2b2b2b2bULL, 0x80);
	ck_group(y + 168, 8, 0.96875f, 0x1908081919191919ULL, 0x01);
	ck_float_bits(y[168], -24.21875f);
	ck_group(y + 176, 8, 0.03125f, 0x2b2b2b2b2b082b08ULL, 0xff);
	ck_float_bits(y[177], -1.34375f);
	ck_group(y + 184, 8, 0.03125f, 0x1908081919192b08ULL, 0);
	ck_all(y, 0, 160, 0.25f);
	ck_all(y, 192, 256, 0.25f);
}
END_TEST

START_TEST(test_iq3_xxs_block)
{
	const struct mp_ggml_type_info *ti =
	    type_of(MP_GGML_IQ3_XXS, "IQ3_XXS", 256, 98);
	uint8_t b[98] = {0};
	float y[256];
	/* d = 1. Sub-block 2 (values 64..95): grid pairs (135, 136), (254,
	 * 255), (0, 1), (0, 0); sign indices 1 (0x81: value 0 of the first
	 * entry, value 3 of the second), 127 (all), 0, 0x40 (0xc0: values 2,
	 * 3 of the second entry); ls = 15: db = 15.5 * 0.5 = 7.75. Elsewhere
	 * db = 0.5 * 0.5 = 0.25, value 0.25 * 4 = 1. */
	b[0] = 0x00, b[1] = 0x3c;
	uint8_t *q = b + 2 + 16;
	q[0] = 135, q[1] = 136, q[2] = 254, q[3] = 255, q[5] = 1;
	put32(b + 66 + 8, 1u | 127u << 7 | 0x40u << 21 | 15u << 28);
	ti->dequant(b, y, 1);
	ck_float_bits(y[64], -279.0f); /* 7.75 * 0x24, negated */
	ck_float_bits(y[65], 480.5f);  /* 7.75 * 0x3e */
	ck_group(y + 64, 4, 7.75f, 0x142c3e24, 0x1);
	ck_group(y + 68, 4, 7.75f, 0x143e040c, 0x8);
	ck_float_bits(y[71], -155.0f);
	ck_group(y + 72, 4, 7.75f, 0x3e2c1424, 0xf);
	ck_group(y + 76, 4, 7.75f, 0x3e341c04, 0xf);
	ck_group(y + 80, 4, 7.75f, 0x04040404, 0);
	ck_group(y + 84, 4, 7.75f, 0x04040414, 0);
	ck_float_bits(y[84], 155.0f);
	ck_group(y + 88, 4, 7.75f, 0x04040404, 0);
	ck_group(y + 92, 4, 7.75f, 0x04040404, 0xc);
	ck_float_bits(y[95], -31.0f);
	ck_all(y, 0, 64, 1.0f);
	ck_all(y, 96, 256, 1.0f);
}
END_TEST

START_TEST(test_iq3_s_block)
{
	const struct mp_ggml_type_info *ti =
	    type_of(MP_GGML_IQ3_S, "IQ3_S", 256, 110);
	uint8_t b[110] = {0};
	float y[256];
	/* d = 0.5. scales[0] = 0xf0: sub-block 0 db = 0.5 * (1 + 0) = 0.5,
	 * sub-block 1 db = 0.5 * (1 + 2 * 15) = 15.5. Sub-block 1 (values
	 * 32..63): indices 263, 264, 510, 511 (bit 8 from qh[1] bits 0..3),
	 * sign bytes 0x11 (value 0 of both entries) and 0x80 (value 3 of the
	 * second). Sub-block 7, last entry: index 263 through qh[7] bit 7,
	 * db 0.5. Elsewhere index 0 (all 1): 0.5. */
	b[0] = 0x00, b[1] = 0x38;
	uint8_t *qs = b + 2;
	qs[8] = 0x07, qs[9] = 0x08, qs[10] = 0xfe, qs[11] = 0xff;
	qs[63] = 0x07;
	b[66 + 1] = 0x0f, b[66 + 7] = 0x80;
	b[74 + 4] = 0x11, b[74 + 5] = 0x80;
	b[106] = 0xf0;
	ti->dequant(b, y, 1);
	ck_float_bits(y[32], -46.5f); /* 15.5 * 3, negated */
	ck_float_bits(y[34], 170.5f); /* 15.5 * 11 */
	ck_group(y + 32, 4, 15.5f, 0x050b0303, 0x1);
	ck_group(y + 36, 4, 15.5f, 0x050b0505, 0x1);
	ck_group(y + 40, 4, 15.5f, 0x0f0d0703, 0);
	ck_group(y + 44, 4, 15.5f, 0x0f0f0101, 0x8);
	ck_float_bits(y[47], -232.5f);
	ck_all(y, 48, 64, 15.5f);
	ck_all(y, 0, 32, 0.5f);
	ck_all(y, 64, 252, 0.5f);
	ck_group(y + 252, 4, 0.5f, 0x050b0303, 0);
	ck_float_bits(y[254], 5.5f);
}
END_TEST

/* y[0..8) == dl * (signed value j of e + delta). */
static void ck_iq1(const float *y, float dl, uint64_t e, float delta)
{
	for (unsigned j = 0; j < 8; j++)
		ck_float_bits(y[j], dl * (gs(e, j) + delta));
}

START_TEST(test_iq1_s_block)
{
	const struct mp_ggml_type_info *ti =
	    type_of(MP_GGML_IQ1_S, "IQ1_S", 256, 50);
	uint8_t b[50] = {0};
	float y[256];
	/* d = 1. Sub-block 0: indices 682, 1031, 2047, 0 (bits 8..10 in qh
	 * bits 3l..3l+2), scale 7 (bits 12..14: dl = 2 * 7 + 1 = 15), bit 15
	 * set: delta -1/8. Elsewhere index 0 (all -1), dl 1, delta +1/8:
	 * -0.875. */
	b[0] = 0x00, b[1] = 0x3c;
	b[2] = 0xaa, b[3] = 0x07, b[4] = 0xff;
	put16(b + 34, 2 | 4 << 3 | 7 << 6 | 0 << 9 | 7 << 12 | 0x8000);
	ti->dequant(b, y, 1);
	ck_float_bits(y[0], 13.125f);  /* 15 * (1 - 0.125) */
	ck_float_bits(y[1], -1.875f);  /* 15 * (0 - 0.125) */
	ck_float_bits(y[3], -16.875f); /* 15 * (-1 - 0.125) */
	ck_iq1(y, 15.0f, 0x00ffff01ff000001ULL, -0.125f);
	ck_iq1(y + 8, 15.0f, 0x00000000000001ffULL, -0.125f);
	ck_iq1(y + 16, 15.0f, 0x0101010101010101ULL, -0.125f);
	ck_all(y, 16, 24, 13.125f);
	ck_all(y, 24, 32, -16.875f);
	ck_all(y, 32, 256, -0.875f);
}
END_TEST

START_TEST(test_iq1_m_block)
{
	const struct mp_ggml_type_info *ti =
	    type_of(MP_GGML_IQ1_M, "IQ1_M", 256, 56);
	uint8_t b[56] = {0};
	float y[256];
	/* The half d = 0x3a1b = 1563/2048 sits in the top nibbles of the
	 * four scale words, lowest first: 0xb, 0x1, 0xa, 0x3. sc[0] bits
	 * 6..8 = 7 and 9..11 = 2: sub-block 1 has dl = 15 d for its first 16
	 * values, 5 d for the last 16; sc[3] bits 9..11 = 5: the last 16
	 * values of sub-block 7 have dl = 11 d. Sub-block 1's groups:
	 * indices 2047, 682, 1031, 0 (qs[4..7], bits 8..10 in the qh
	 * nibbles), delta sign bits (nibble bit 3) set, clear, set, set.
	 * Elsewhere dl = d, index 0, delta +1/8: -0.875 d. */
	const float d = 1563.0f / 2048.0f;
	b[4] = 0xff, b[5] = 0xaa, b[6] = 0x07;
	b[32 + 2] = 0x0f | 0x2 << 4;
	b[32 + 3] = 0x0c | 0x8 << 4;
	put16(b + 48, 0xb000 | 7 << 6 | 2 << 9);
	put16(b + 50, 0x1000);
	put16(b + 52, 0xa000);
	put16(b + 54, 0x3000 | 5 << 9);
	ti->dequant(b, y, 1);
	ck_iq1(y + 32, 15.0f * d, 0x0101010101010101ULL, -0.125f);
	ck_iq1(y + 40, 15.0f * d, 0x00ffff01ff000001ULL, 0.125f);
	ck_iq1(y + 48, 5.0f * d, 0x00000000000001ffULL, -0.125f);
	ck_iq1(y + 56, 5.0f * d, 0xffffffffffffffffULL, -0.125f);
	ck_float_bits(y[32], 15.0f * d * 0.875f);
	ck_float_bits(y[56], 5.0f * d * -1.125f);
	ck_all(y, 0, 32, d * -0.875f);
	ck_all(y, 64, 240, d * -0.875f);
	ck_all(y, 240, 256, 11.0f * d * -0.875f);
}
END_TEST

Suite *suite_ggml_iquants(void)
{
	Suite *s = suite_create("ggml_iquants");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_iq4_nl_oracle);
	tcase_add_test(tc, test_iq4_xs_oracle);
	tcase_add_test(tc, test_iq4_nl_block);
	tcase_add_test(tc, test_iq4_xs_block);
	tcase_add_test(tc, test_tq1_0_block);
	tcase_add_test(tc, test_tq2_0_block);
	tcase_add_test(tc, test_mxfp4_block);
	tcase_add_test(tc, test_unknown_ids_absent);
	tcase_add_test(tc, test_grid_tables);
	tcase_add_test(tc, test_iq2_xxs_block);
	tcase_add_test(tc, test_iq2_xs_block);
	tcase_add_test(tc, test_iq2_s_block);
	tcase_add_test(tc, test_iq3_xxs_block);
	tcase_add_test(tc, test_iq3_s_block);
	tcase_add_test(tc, test_iq1_s_block);
	tcase_add_test(tc, test_iq1_m_block);
	suite_add_tcase(s, tc);
	return s;
}
