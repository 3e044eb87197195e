/* ggml_iquants.c — dequantization of the i-quants, TQ1_0, TQ2_0 and MXFP4
 * (ggml_dequant.h). Written from the block layouts of ggml-common.h; the
 * arithmetic is single-precision float in ggml's order (scale * code), so
 * the values equal ggml's to_float bit for bit.
 *
 * The grid i-quants (IQ1_S, IQ1_M, IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S)
 * store indices into ggml's codebooks (ggml_grids.h) with signs and scales;
 * ggml_iquants_grid.c decodes them. */
#include "ggml_dequant.h"
#include "ggml_iquants_grid.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#define QK_K 256u

/* Float with the IEEE-754 single-precision bit pattern `bits`. */
static float bits_to_float(uint32_t bits)
{
	float f;
	memcpy(&f, &bits, sizeof f);
	return f;
}

/* The 16 non-linear 4-bit levels of IQ4_NL and IQ4_XS. */
static const int8_t iq4nl_levels[16] = {
    -127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

/* MXFP4: the E2M1 values doubled (the scale below is halved to match). */
static const int8_t mxfp4_levels[16] = {0, 1,  2,  3,  4,  6,  8,  12,
					0, -1, -2, -3, -4, -6, -8, -12};

/* 16 bytes of nibbles -> 32 values: low nibbles first, then high. */
static void nibbles(const uint8_t *qs, const int8_t *levels, float d, float *y)
{
	for (unsigned j = 0; j < 16; j++) {
		y[j] = d * (float)levels[qs[j] & 0x0f];
		y[j + 16] = d * (float)levels[qs[j] >> 4];
	}
}

/* IQ4_NL: half d, 16 bytes of 4-bit indices into iq4nl_levels (18 bytes,
 * 32 values). */
static void dequant_iq4_nl(const uint8_t *src, float *dst, size_t nblocks)
{
	for (size_t i = 0; i < nblocks; i++, src += 18, dst += 32)
		nibbles(src + 2, iq4nl_levels, mp_ggml_half(src), dst);
}

/* IQ4_XS: half d, uint16 scales_h, 4 bytes scales_l, 128 bytes of
 * indices (136 bytes, 256 values); sub-block ib of 32 has the 6-bit scale
 * (low nibble of scales_l[ib/2] >> 4*(ib%2)) | (2 bits of scales_h) << 4,
 * offset by 32. */
static void dequant_iq4_xs(const uint8_t *src, float *dst, size_t nblocks)
{
	for (size_t i = 0; i < nblocks; i++, src += 136) {
		float d = mp_ggml_half(src);
		unsigned sh = (unsigned)src[2] | (unsigned)src[3] << 8;
		const uint8_t *sl = src + 4, *qs = src + 8;

		for (unsigned ib = 0; ib < 8; ib++, qs += 16, dst += 32) {
			int ls = (int)(((sl[ib / 2] >> 4 * (ib % 2)) & 0x0f) |
				       ((sh >> 2 * ib) & 3) << 4);
			nibbles(qs, iq4nl_levels, d * (float)(ls - 32), dst);
		}
	}
}

/* One trit from a base-3 packed byte: the top trit of q * 3^n (mod 256),
 * as ggml reads it: ((q * 3) >> 8) of the byte. */
static float trit(uint8_t q, unsigned n, float d)
{
	static const uint8_t pow3[6] = {1, 3, 9, 27, 81, 243};
	uint8_t v = (uint8_t)(q * pow3[n]);
	int t = (int)(((unsigned)v * 3u) >> 8);

	return (float)(t - 1) * d;
}

/* TQ1_0: 48 bytes qs (5 trits each), 4 bytes qh (4 trits each), half d
 * (54 bytes, 256 values). Order: qs[0..32) trit n at n*32+m, qs[32..48)
 * at 160+n*16+m, qh[j] trit n at 240+n*4+j. */
static void dequant_tq1_0(const uint8_t *src, float *dst, size_t nblocks)
{
	for (size_t i = 0; i < nblocks; i++, src += 54) {
		float d = mp_ggml_half(src + 52);

		for (unsigned n = 0; n < 5; n++)
			for (unsigned m = 0; m < 32; m++)
				*dst++ = trit(src[m], n, d);
		for (unsigned n = 0; n < 5; n++)
			for (unsigned m = 0; m < 16; m++)
				*dst++ = trit(src[32 + m], n, d);
		for (unsigned n = 0; n < 4; n++)
			for (unsigned j = 0; j < 4; j++)
				*dst++ = trit(src[48 + j], n, d);
	}
}

/* TQ2_0: 64 bytes of 2-bit codes c (value c - 1), half d (66 bytes, 256
 * values); each run of 32 bytes gives 4 runs of 32 values, bits 2l..2l+1
 * of byte m at 32*l + m. */
static void dequant_tq2_0(const uint8_t *src, float *dst, size_t nblocks)
{
	for (size_t i = 0; i < nblocks; i++, src += 66) {
		float d = mp_ggml_half(src + 64);

		for (unsigned j = 0; j < 64; j += 32)
			for (unsigned l = 0; l < 4; l++)
				for (unsigned m = 0; m < 32; m++) {
					int q = (src[j + m] >> (2 * l)) & 3;
					*dst++ = (float)(q - 1) * d;
				}
	}
}

/* Half of the E8M0 scale 2^(e-127), i.e. 2^(e-128), exactly (e < 2 give
 * float subnormals). */
static float e8m0_half(uint8_t e)
{
	uint32_t bits = e < 2 ? 0x00200000u << e : (uint32_t)(e - 1) << 23;

	return bits_to_float(bits);
}

/* MXFP4: byte e (E8M0 exponent), 16 bytes of E2M1 nibbles (17 bytes, 32
 * values). */
static void dequant_mxfp4(const uint8_t *src, float *dst, size_t nblocks)
{
	for (size_t i = 0; i < nblocks; i++, src += 17, dst += 32)
		nibbles(src + 1, mxfp4_levels, e8m0_half(src[0]), dst);
}

/* Spacing around each level of a 16-level table (ggml_dequant.h). */
static float level_gap(const int8_t *levels, unsigned code)
{
	int v = levels[code], below = 0, above = 0;
	for (unsigned k = 0; k < 16; k++) {
		int w = levels[k];
		if (w < v && (!below || v - w < below))
			below = v - w;
		if (w > v && (!above || w - v < above))
			above = w - v;
	}
	return below && above ? 0.5f * (float)(below + above)
			      : (float)(below + above);
}

static void nibble_steps(const uint8_t *qs, const int8_t *levels, float d,
			 float *y)
{
	for (unsigned j = 0; j < 16; j++) {
		y[j] = d * level_gap(levels, qs[j] & 0x0f);
		y[j + 16] = d * level_gap(levels, qs[j] >> 4);
	}
}

static void steps_iq4_nl(const uint8_t *src, float *y, size_t nblocks)
{
	for (size_t i = 0; i < nblocks; i++, src += 18, y += 32)
		nibble_steps(src + 2, iq4nl_levels, fabsf(mp_ggml_half(src)),
			     y);
}

static void steps_iq4_xs(const uint8_t *src, float *y, size_t nblocks)
{
	for (size_t i = 0; i < nblocks; i++, src += 136) {
		float d = mp_ggml_half(src);
		unsigned sh = (unsigned)src[2] | (unsigned)src[3] << 8;
		const uint8_t *sl = src + 4, *qs = src + 8;

		for (unsigned ib = 0; ib < 8; ib++, qs += 16, y += 32) {
			int ls = (int)(((sl[ib / 2] >> 4 * (ib % 2)) & 0x0f) |
				       ((sh >> 2 * ib) & 3) << 4);
			nibble_steps(qs, iq4nl_levels,
				     fabsf(d * (float)(ls - 32)), y);
		}
	}
}

/* Ternary types: the step is |d| everywhere. */
static void steps_ternary(const uint8_t *src, float *y, size_t nblocks,
			  unsigned bytes, unsigned d_at)
{
	for (size_t i = 0; i < nblocks; i++, src += bytes) {
		float d = fabsf(mp_ggml_half(src + d_at));
		for (unsigned j = 0; j < 256; j++)
			*y++ = d;
	}
}

static void steps_tq1_0(const uint8_t *src, float *y, size_t nblocks)
{
	steps_ternary(src, y, nblocks, 54, 52);
}

static void steps_tq2_0(const uint8_t *src, float *y, size_t nblocks)
{
	steps_ternary(src, y, nblocks, 66, 64);
}

static void steps_mxfp4(const uint8_t *src, float *y, size_t nblocks)
{
	for (size_t i = 0; i < nblocks; i++, src += 17, y += 32)
		nibble_steps(src + 1, mxfp4_levels, e8m0_half(src[0]), y);
}

static const struct mp_ggml_type_info types[] = {
    {MP_GGML_IQ4_NL, "IQ4_NL", 32, 18, dequant_iq4_nl, steps_iq4_nl, NULL, 0},
    {MP_GGML_IQ4_XS, "IQ4_XS", QK_K, 136, dequant_iq4_xs, steps_iq4_xs, NULL, 0},
    {MP_GGML_TQ1_0, "TQ1_0", QK_K, 54, dequant_tq1_0, steps_tq1_0, NULL, 0},
    {MP_GGML_TQ2_0, "TQ2_0", QK_K, 66, dequant_tq2_0, steps_tq2_0, NULL, 0},
    {MP_GGML_MXFP4, "MXFP4", 32, 17, dequant_mxfp4, steps_mxfp4, NULL, 0},
    /* lattice codebooks: steps widened by the codebook's density */
    {MP_GGML_IQ2_XXS, "IQ2_XXS", QK_K, 66, mp_ggml_dequant_iq2_xxs,
     mp_ggml_steps_iq2_xxs, NULL, 0},
    {MP_GGML_IQ2_XS, "IQ2_XS", QK_K, 74, mp_ggml_dequant_iq2_xs,
     mp_ggml_steps_iq2_xs, NULL, 0},
    {MP_GGML_IQ2_S, "IQ2_S", QK_K, 82, mp_ggml_dequant_iq2_s,
     mp_ggml_steps_iq2_s, NULL, 0},
    {MP_GGML_IQ3_XXS, "IQ3_XXS", QK_K, 98, mp_ggml_dequant_iq3_xxs,
     mp_ggml_steps_iq3_xxs, NULL, 0},
    {MP_GGML_IQ3_S, "IQ3_S", QK_K, 110, mp_ggml_dequant_iq3_s,
     mp_ggml_steps_iq3_s, NULL, 0},
    {MP_GGML_IQ1_S, "IQ1_S", QK_K, 50, mp_ggml_dequant_iq1_s,
     mp_ggml_steps_iq1_s, NULL, 0},
    {MP_GGML_IQ1_M, "IQ1_M", QK_K, 56, mp_ggml_dequant_iq1_m,
     mp_ggml_steps_iq1_m, NULL, 0},
    {0, NULL, 0, 0, NULL, NULL, NULL, 0}};

const struct mp_ggml_type_info *mp_ggml_iquants_type(uint32_t id)
{
	for (size_t i = 0; types[i].name; i++)
		if (types[i].id == id)
			return &types[i];
	return NULL;
}
