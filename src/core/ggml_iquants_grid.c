/* ggml_iquants_grid.c — dequantization of the grid i-quants IQ2_XXS,
 * IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, IQ1_S and IQ1_M (ggml_iquants_grid.h).
 * Written from the block layouts of ggml-common.h; every block holds 256
 * values in 8 sub-blocks of 32, each value a grid level times a scale,
 * with a sign (IQ2, IQ3) or plus a shift of +-1/8 (IQ1). The arithmetic is
 * single-precision float in ggml's order, so the values equal ggml's
 * to_float bit for bit:
 *   IQ2_*, IQ3_*:  (scale * level) * (+1 or -1)
 *   IQ1_*:         scale * (level + delta)
 * with the scales computed as ggml does (below, per type). Multi-byte
 * fields are little-endian. Their steps (the spacing of each value, for
 * the lineage measurement) are at the end of the file. */
#include "ggml_iquants_grid.h"

#include "ggml_dequant.h"
#include "ggml_grids.h"

#include <math.h>

#define IQ1_DELTA 0.125f

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static unsigned le16(const uint8_t *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

/* 8 values of IQ2 grid entry `idx`, bit j of `signs` negating value j. */
static void iq2_put(const uint16_t *grid, unsigned idx, unsigned signs,
		    float db, float *y)
{
	unsigned code = grid[idx];

	for (unsigned j = 0; j < 8; j++) {
		float v = db * (float)mp_ggml_iq2_levels[(code >> 2 * j) & 3];
		y[j] = v * ((signs >> j) & 1 ? -1.0f : 1.0f);
	}
}

/* 4 values of IQ3 grid entry `idx` (levels `lv`), bit j of signs
 * negating value j. */
static void iq3_put(const uint16_t *grid, const uint8_t *lv, unsigned idx,
		    unsigned signs, float db, float *y)
{
	unsigned code = grid[idx];

	for (unsigned j = 0; j < 4; j++) {
		float v = db * (float)lv[(code >> 4 * j) & 0x0f];
		y[j] = v * ((signs >> j) & 1 ? -1.0f : 1.0f);
	}
}

/* 8 values of IQ1 grid entry `idx`: dl * (level + delta). */
static void iq1_put(unsigned idx, float dl, float delta, float *y)
{
	unsigned code = mp_ggml_iq1s_grid[idx];

	for (unsigned j = 0; j < 8; j++)
		y[j] = dl *
		       ((float)mp_ggml_iq1_levels[(code >> 2 * j) & 3] + delta);
}

/* The IQ2 sub-block scale of a 4-bit ls: (d * (0.5 + ls)) * 0.25. */
static float iq2_scale(float d, unsigned ls)
{
	return d * (0.5f + (float)ls) * 0.25f;
}

/* IQ2_XXS: half d, then per sub-block 8 bytes: 4 grid indices (bytes),
 * then a uint32 with four 7-bit sign indices (ksigns) in bits 0..27 and
 * the 4-bit scale in bits 28..31. */
void mp_ggml_dequant_iq2_xxs(const uint8_t *src, float *dst, size_t nblocks)
{
	for (size_t i = 0; i < nblocks; i++, src += 66) {
		float d = mp_ggml_half(src);

		for (unsigned ib = 0; ib < 8; ib++) {
			const uint8_t *q = src + 2 + 8 * ib;
			uint32_t aux = le32(q + 4);
			float db = iq2_scale(d, aux >> 28);

			for (unsigned l = 0; l < 4; l++, dst += 8)
				iq2_put(
				    mp_ggml_iq2xxs_grid, q[l],
				    mp_ggml_ksigns_iq2xs[(aux >> 7 * l) & 127],
				    db, dst);
		}
	}
}

/* IQ2_XS: half d, 32 uint16 (9-bit grid index, 7-bit sign index), 8
 * bytes of scales (low nibble: first 16 values of the sub-block, high
 * nibble: the last 16). */
void mp_ggml_dequant_iq2_xs(const uint8_t *src, float *dst, size_t nblocks)
{
	for (size_t i = 0; i < nblocks; i++, src += 74) {
		float d = mp_ggml_half(src);
		const uint8_t *qs = src + 2, *sc = src + 66;

		for (unsigned ib = 0; ib < 8; ib++) {
			float db[2] = {iq2_scale(d, sc[ib] & 0x0f),
				       iq2_scale(d, sc[ib] >> 4)};

			for (unsigned l = 0; l < 4; l++, dst += 8) {
				unsigned q = le16(qs + 2 * (4 * ib + l));
				iq2_put(mp_ggml_iq2xs_grid, q & 511,
					mp_ggml_ksigns_iq2xs[q >> 9], db[l / 2],
					dst);
			}
		}
	}
}

/* IQ2_S: half d, 32 bytes of grid index low bits, 32 bytes of signs (one
 * byte per 8 values), 8 bytes qh (bits 2l..2l+1 of qh[ib]: index bits 8..9
 * of group l), 8 bytes of scales as IQ2_XS. */
void mp_ggml_dequant_iq2_s(const uint8_t *src, float *dst, size_t nblocks)
{
	for (size_t i = 0; i < nblocks; i++, src += 82) {
		float d = mp_ggml_half(src);
		const uint8_t *qs = src + 2, *signs = src + 34, *qh = src + 66,
			      *sc = src + 74;

		for (unsigned ib = 0; ib < 8; ib++) {
			float db[2] = {iq2_scale(d, sc[ib] & 0x0f),
				       iq2_scale(d, sc[ib] >> 4)};

			for (unsigned l = 0; l < 4; l++, dst += 8) {
				unsigned g = 4 * ib + l;
				unsigned hi = (qh[ib] >> 2 * l) & 3;
				unsigned idx = qs[g] | hi << 8;
				iq2_put(mp_ggml_iq2s_grid, idx, signs[g],
					db[l / 2], dst);
			}
		}
	}
}

/* IQ3_XXS: half d, 64 bytes of grid indices (two per 8 values), then 8
 * uint32 as IQ2_XXS's (four 7-bit sign indices, 4-bit scale); the scale is
 * (d * (0.5 + ls)) * 0.5. */
void mp_ggml_dequant_iq3_xxs(const uint8_t *src, float *dst, size_t nblocks)
{
	for (size_t i = 0; i < nblocks; i++, src += 98) {
		float d = mp_ggml_half(src);
		const uint8_t *qs = src + 2;

		for (unsigned ib = 0; ib < 8; ib++) {
			uint32_t aux = le32(src + 66 + 4 * ib);
			float db = d * (0.5f + (float)(aux >> 28)) * 0.5f;

			for (unsigned l = 0; l < 4; l++, dst += 8) {
				unsigned s =
				    mp_ggml_ksigns_iq2xs[(aux >> 7 * l) & 127];
				const uint8_t *q = qs + 8 * ib + 2 * l;
				iq3_put(mp_ggml_iq3xxs_grid,
					mp_ggml_iq3xxs_levels, q[0], s, db,
					dst);
				iq3_put(mp_ggml_iq3xxs_grid,
					mp_ggml_iq3xxs_levels, q[1], s >> 4, db,
					dst + 4);
			}
		}
	}
}

/* IQ3_S: half d, 64 bytes of grid index low bits, 8 bytes qh (bit k%8 of
 * qh[k/8]: index bit 8 of index k), 32 bytes of signs (one byte per 8
 * values), 4 bytes of scales (a nibble per sub-block, low first); the
 * scale is d * (1 + 2 * nibble), the factor an integer. */
void mp_ggml_dequant_iq3_s(const uint8_t *src, float *dst, size_t nblocks)
{
	for (size_t i = 0; i < nblocks; i++, src += 110) {
		float d = mp_ggml_half(src);
		const uint8_t *qs = src + 2, *qh = src + 66, *signs = src + 74,
			      *sc = src + 106;

		for (unsigned ib = 0; ib < 8; ib++) {
			unsigned nib = (sc[ib / 2] >> 4 * (ib % 2)) & 0x0f;
			float db = d * (float)(1 + 2 * nib);

			for (unsigned l = 0; l < 4; l++, dst += 8) {
				unsigned k = 8 * ib + 2 * l;
				unsigned s = signs[4 * ib + l];
				unsigned h0 = (qh[ib] >> (2 * l)) & 1;
				unsigned h1 = (qh[ib] >> (2 * l + 1)) & 1;
				unsigned i0 = qs[k] | h0 << 8;
				unsigned i1 = qs[k + 1] | h1 << 8;
				iq3_put(mp_ggml_iq3s_grid, mp_ggml_iq3s_levels,
					i0, s, db, dst);
				iq3_put(mp_ggml_iq3s_grid, mp_ggml_iq3s_levels,
					i1, s >> 4, db, dst + 4);
			}
		}
	}
}

/* IQ1_S: half d, 32 bytes of grid index low bits, 8 uint16 qh: bits
 * 3l..3l+2 index bits 8..10 of group l, bits 12..14 the 3-bit scale (dl =
 * d * (2 * s + 1)), bit 15 the delta's sign. */
void mp_ggml_dequant_iq1_s(const uint8_t *src, float *dst, size_t nblocks)
{
	for (size_t i = 0; i < nblocks; i++, src += 50) {
		float d = mp_ggml_half(src);
		const uint8_t *qs = src + 2;

		for (unsigned ib = 0; ib < 8; ib++) {
			unsigned qh = le16(src + 34 + 2 * ib);
			float dl = d * (float)(2 * ((qh >> 12) & 7) + 1);
			float delta = qh & 0x8000 ? -IQ1_DELTA : IQ1_DELTA;

			for (unsigned l = 0; l < 4; l++, dst += 8) {
				unsigned hi = (qh >> 3 * l) & 7;
				iq1_put(qs[4 * ib + l] | hi << 8, dl, delta,
					dst);
			}
		}
	}
}

/* IQ1_M's four uint16 scales into sc; returns the half d their top
 * nibbles hold. */
static float iq1m_scales(const uint8_t *src, unsigned sc[4])
{
	for (unsigned k = 0; k < 4; k++)
		sc[k] = le16(src + 48 + 2 * k);
	unsigned dh = sc[0] >> 12 | (sc[1] >> 8 & 0x00f0) |
		      (sc[2] >> 4 & 0x0f00) | (sc[3] & 0xf000);
	uint8_t hb[2] = {(uint8_t)(dh & 0xff), (uint8_t)(dh >> 8)};
	return mp_ggml_half(hb);
}

/* IQ1_M: 32 bytes of grid index low bits, 16 bytes qh (a nibble per
 * group of 8, low first: bits 0..2 index bits 8..10, bit 3 the delta's
 * sign), 4 uint16 scales: the half d is the top nibbles of the four
 * (sc[0] >> 12 lowest), and bits 6*(ib%2)+3*h of sc[ib/2] give the 3-bit
 * scale of half h of sub-block ib (dl = d * (2 * s + 1)). */
void mp_ggml_dequant_iq1_m(const uint8_t *src, float *dst, size_t nblocks)
{
	for (size_t i = 0; i < nblocks; i++, src += 56) {
		const uint8_t *qs = src, *qh = src + 32;
		unsigned sc[4];
		float d = iq1m_scales(src, sc);

		for (unsigned ib = 0; ib < 8; ib++) {
			for (unsigned l = 0; l < 4; l++, dst += 8) {
				unsigned h = l / 2;
				unsigned s =
				    (sc[ib / 2] >> (6 * (ib % 2) + 3 * h)) & 7;
				float dl = d * (float)(2 * s + 1);
				unsigned nib =
				    (qh[2 * ib + l / 2] >> 4 * (l % 2)) & 0x0f;
				float delta = nib & 8 ? -IQ1_DELTA : IQ1_DELTA;
				iq1_put(qs[4 * ib + l] | (nib & 7) << 8, dl,
					delta, dst);
			}
		}
	}
}

/* ---- steps (ggml_dequant.h's mp_ggml_steps_fn) of the lattice types ----
 *
 * A coordinate of a grid entry takes one of a few levels (with a sign:
 * +-8, +-25, +-43 for IQ2; +-4 .. +-62 for IQ3_XXS; +-1 .. +-15 for IQ3_S;
 * -1, 0, 1 plus the delta for IQ1). Were every combination of levels
 * (and signs) representable, the spacing at a value would be the mean of
 * the gaps to its two neighbouring levels times the scale, as for IQ4_NL.
 * The codebook keeps only 2^c of the 2^p combinations over 8 values (p and
 * c in bits below: grid entries, sign patterns, delta signs), so the cell
 * of values rounded to one code point covers 2^(p-c) cells of that
 * product grid; the side of a cube of that volume is the product spacing
 * times 2^((p-c)/8). That widened spacing is the step: a nearest-point
 * quantizer leaves G * side^2 per coordinate in mean square, G the cube's
 * 1/12 or a little less for rounder cells (the outer cells, larger, a
 * little more), so about step / sqrt(12) in root mean square; not every
 * value is within half a step, as cells are not cubes. Measured with the
 * brute-force nearest-point quantizer of tests/gguf_iquant.py on the
 * fixture parent's attention matrices: 0.9 to 1.06 times that, 91 % to
 * 95 % of values within half a step. */

/* The step factor 2^((p - c) / 8): p bits of the full product grid over 8
 * values, c bits the block offers for them. */
static float density(double p_bits, double c_bits)
{
	return (float)exp2((p_bits - c_bits) / 8);
}

/* gap[k]: mean distance from level k to its neighbours among the levels
 * (and their negatives when `sign`), the one gap at either end. */
static void level_gaps(const int *lv, unsigned n, int sign, float *gap)
{
	for (unsigned k = 0; k < n; k++) {
		int v = lv[k], below = -1, above = -1;
		for (unsigned m = 0; m < n; m++)
			for (int s = sign ? -1 : 1; s <= 1; s += 2) {
				int w = s * lv[m];
				if (w < v && (below < 0 || v - w < below))
					below = v - w;
				if (w > v && (above < 0 || w - v < above))
					above = w - v;
			}
		gap[k] = below >= 0 && above >= 0
			     ? 0.5f * (float)(below + above)
			     : (float)(below >= 0 ? below : above);
	}
}

static void u8_gaps(const uint8_t *lv, unsigned n, float *gap)
{
	int v[8];
	for (unsigned k = 0; k < n; k++)
		v[k] = lv[k];
	level_gaps(v, n, 1, gap);
}

/* The dim steps of grid entry idx (fields of `bits` bits): s * gap. */
static void grid_steps(const uint16_t *grid, unsigned bits, unsigned dim,
		       unsigned idx, const float *gap, float s, float *y)
{
	unsigned code = grid[idx], mask = (1u << bits) - 1;

	for (unsigned j = 0; j < dim; j++)
		y[j] = s * gap[(code >> bits * j) & mask];
}

/* log2 of 6^8 (IQ2: 3 levels, 2 signs) and of 3^8 (IQ1: 3 levels). */
#define P_IQ2 (8 * log2(6.0))
#define P_IQ1 (8 * log2(3.0))

/* IQ2_XXS: 256 entries (8 bits) and 128 sign patterns (7) per 8. */
void mp_ggml_steps_iq2_xxs(const uint8_t *src, float *y, size_t nblocks)
{
	float gap[3], f = density(P_IQ2, 8 + 7);
	u8_gaps(mp_ggml_iq2_levels, 3, gap);
	for (size_t i = 0; i < nblocks; i++, src += 66) {
		float d = mp_ggml_half(src);

		for (unsigned ib = 0; ib < 8; ib++) {
			const uint8_t *q = src + 2 + 8 * ib;
			float s = fabsf(iq2_scale(d, le32(q + 4) >> 28)) * f;

			for (unsigned l = 0; l < 4; l++, y += 8)
				grid_steps(mp_ggml_iq2xxs_grid, 2, 8, q[l], gap,
					   s, y);
		}
	}
}

/* The step scale of group g (of 8) of IQ2_XS and IQ2_S: the nibble of
 * sc[g / 4] for its half of the sub-block, times f. */
static float iq2_group_scale(float d, const uint8_t *sc, unsigned g, float f)
{
	unsigned ls = g % 4 < 2 ? sc[g / 4] & 0x0f : sc[g / 4] >> 4;
	return fabsf(iq2_scale(d, ls)) * f;
}

/* IQ2_XS: 512 entries (9 bits), 128 sign patterns (7). */
void mp_ggml_steps_iq2_xs(const uint8_t *src, float *y, size_t nblocks)
{
	float gap[3], f = density(P_IQ2, 9 + 7);
	u8_gaps(mp_ggml_iq2_levels, 3, gap);
	for (size_t i = 0; i < nblocks; i++, src += 74) {
		float d = mp_ggml_half(src);

		for (unsigned g = 0; g < 32; g++, y += 8)
			grid_steps(mp_ggml_iq2xs_grid, 2, 8,
				   le16(src + 2 + 2 * g) & 511, gap,
				   iq2_group_scale(d, src + 66, g, f), y);
	}
}

/* IQ2_S: 1024 entries (10 bits), every sign pattern (8). */
void mp_ggml_steps_iq2_s(const uint8_t *src, float *y, size_t nblocks)
{
	float gap[3], f = density(P_IQ2, 10 + 8);
	u8_gaps(mp_ggml_iq2_levels, 3, gap);
	for (size_t i = 0; i < nblocks; i++, src += 82) {
		float d = mp_ggml_half(src);
		const uint8_t *qh = src + 66;

		for (unsigned g = 0; g < 32; g++, y += 8) {
			unsigned hi = (qh[g / 4] >> 2 * (g % 4)) & 3;
			grid_steps(mp_ggml_iq2s_grid, 2, 8,
				   src[2 + g] | hi << 8, gap,
				   iq2_group_scale(d, src + 74, g, f), y);
		}
	}
}

/* IQ3_XXS: two entries of 256 (16 bits) and 128 sign patterns (7) per 8,
 * of 16 signed levels each (p = 8 * 4 bits). */
void mp_ggml_steps_iq3_xxs(const uint8_t *src, float *y, size_t nblocks)
{
	float gap[8], f = density(32, 8 + 8 + 7);
	u8_gaps(mp_ggml_iq3xxs_levels, 8, gap);
	for (size_t i = 0; i < nblocks; i++, src += 98) {
		float d = mp_ggml_half(src);

		for (unsigned ib = 0; ib < 8; ib++) {
			uint32_t aux = le32(src + 66 + 4 * ib);
			float s =
			    fabsf(d * (0.5f + (float)(aux >> 28)) * 0.5f) * f;
			const uint8_t *q = src + 2 + 8 * ib;

			for (unsigned k = 0; k < 8; k++, y += 4)
				grid_steps(mp_ggml_iq3xxs_grid, 4, 4, q[k], gap,
					   s, y);
		}
	}
}

/* IQ3_S: two entries of 512 (18 bits), every sign pattern (8). */
void mp_ggml_steps_iq3_s(const uint8_t *src, float *y, size_t nblocks)
{
	float gap[8], f = density(32, 9 + 9 + 8);
	u8_gaps(mp_ggml_iq3s_levels, 8, gap);
	for (size_t i = 0; i < nblocks; i++, src += 110) {
		float d = mp_ggml_half(src);
		const uint8_t *qs = src + 2, *qh = src + 66, *sc = src + 106;

		for (unsigned ib = 0; ib < 8; ib++) {
			unsigned nib = (sc[ib / 2] >> 4 * (ib % 2)) & 0x0f;
			float s = fabsf(d * (float)(1 + 2 * nib)) * f;

			for (unsigned k = 0; k < 8; k++, y += 4) {
				unsigned h = (qh[ib] >> k) & 1;
				grid_steps(mp_ggml_iq3s_grid, 4, 4,
					   qs[8 * ib + k] | h << 8, gap, s, y);
			}
		}
	}
}

/* IQ1: gaps of -1, 0, 1 (the delta shifts them all alike). */
static void iq1_gaps(float *gap)
{
	int v[3];
	for (unsigned k = 0; k < 3; k++)
		v[k] = mp_ggml_iq1_levels[k];
	level_gaps(v, 3, 0, gap);
}

/* IQ1_S: 2048 entries (11 bits) per 8, a delta sign per 32 (1/4 bit). */
void mp_ggml_steps_iq1_s(const uint8_t *src, float *y, size_t nblocks)
{
	float gap[3], f = density(P_IQ1, 11 + 0.25);
	iq1_gaps(gap);
	for (size_t i = 0; i < nblocks; i++, src += 50) {
		float d = mp_ggml_half(src);
		const uint8_t *qs = src + 2;

		for (unsigned ib = 0; ib < 8; ib++) {
			unsigned qh = le16(src + 34 + 2 * ib);
			float s =
			    fabsf(d * (float)(2 * ((qh >> 12) & 7) + 1)) * f;

			for (unsigned l = 0; l < 4; l++, y += 8)
				grid_steps(mp_ggml_iq1s_grid, 2, 8,
					   qs[4 * ib + l] | ((qh >> 3 * l) & 7)
								<< 8,
					   gap, s, y);
		}
	}
}

/* IQ1_M: 2048 entries (11 bits) and a delta sign (1 bit) per 8. */
void mp_ggml_steps_iq1_m(const uint8_t *src, float *y, size_t nblocks)
{
	float gap[3], f = density(P_IQ1, 11 + 1);
	iq1_gaps(gap);
	for (size_t i = 0; i < nblocks; i++, src += 56) {
		const uint8_t *qs = src, *qh = src + 32;
		unsigned sc[4];
		float d = iq1m_scales(src, sc);

		for (unsigned ib = 0; ib < 8; ib++)
			for (unsigned l = 0; l < 4; l++, y += 8) {
				unsigned s3 = (sc[ib / 2] >>
					       (6 * (ib % 2) + 3 * (l / 2))) &
					      7;
				float s = fabsf(d * (float)(2 * s3 + 1)) * f;
				unsigned nib =
				    (qh[2 * ib + l / 2] >> 4 * (l % 2)) & 7;
				grid_steps(mp_ggml_iq1s_grid, 2, 8,
					   qs[4 * ib + l] | nib << 8, gap, s,
					   y);
			}
	}
}
