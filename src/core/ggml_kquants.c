/* ggml_kquants.c — dequantization of the k-quants Q2_K to Q8_K
 * (ggml_dequant.h).
 *
 * Super-blocks of QK_K = 256 values, laid out as ggml-common.h's block_q*_K
 * structs. The arithmetic is float, in the order ggml's dequantize_row_q*_K
 * does it, so the values are bit for bit ggml's. */
#include "ggml_dequant.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define QK_K 256
#define K_SCALE_SIZE 12

/* Block sizes in bytes (ggml-common.h's static asserts). */
#define Q2_K_BYTES (2 + 2 + QK_K / 16 + QK_K / 4)		/* 84 */
#define Q3_K_BYTES (2 + QK_K / 4 + QK_K / 8 + K_SCALE_SIZE)	/* 110 */
#define Q4_K_BYTES (2 + 2 + K_SCALE_SIZE + QK_K / 2)		/* 144 */
#define Q5_K_BYTES (2 + 2 + K_SCALE_SIZE + QK_K / 2 + QK_K / 8) /* 176 */
#define Q6_K_BYTES (2 + QK_K / 16 + 3 * QK_K / 4)		/* 210 */
#define Q8_K_BYTES (4 + QK_K + QK_K / 16 * 2)			/* 292 */

/* The 16 six-bit scales of Q3_K packed in 12 bytes: the low four bits of
 * scale j in byte j (j < 8, low nibble) or j - 8 (high nibble), the high
 * two bits in byte 8 + j % 4 at bit 2 * (j / 4). */
static void q3_scales(const uint8_t *b, int out[16])
{
	for (int j = 0; j < 16; j++) {
		int lo = j < 8 ? b[j] & 0xF : b[j - 8] >> 4;
		int hi = (b[8 + j % 4] >> (2 * (j / 4))) & 3;
		out[j] = (lo | hi << 4) - 32;
	}
}

/* Scale and min j (0..7) of the 12-byte packing of Q4_K and Q5_K. */
static void scale_min_k4(int j, const uint8_t *q, int *d, int *m)
{
	if (j < 4) {
		*d = q[j] & 63;
		*m = q[j + 4] & 63;
	} else {
		*d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
		*m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
	}
}

/* block_q4_K: d, dmin (fp16), scales[12], qs[128] (4-bit codes: 32 bytes
 * give 32 values in the low nibbles, then 32 in the high ones).
 * block_q5_K: the same with qh[32] (the fifth bits, worth 16) between
 * scales and qs. Value = d * scale * code - dmin * min. The fifth bit is
 * taken without a branch, and Q4_K has its own loop without it: these two
 * carry most of a Q4_K_M model. */
static void q45_scales(const uint8_t *sc, int is, float d, float min,
		       float ds[2], float ms[2])
{
	for (int h = 0; h < 2; h++) {
		int s, mn;
		scale_min_k4(is + h, sc, &s, &mn);
		ds[h] = d * (float)s;
		ms[h] = min * (float)mn;
	}
}

/* The value of code q in a Q4_K sub-block of step ds and offset ms: the one
 * expression of the dequantizer and of the pairs hook. */
static inline float q4k_value(float ds, float ms, int q)
{
	return ds * (float)q - ms;
}

typedef uint8_t v16u __attribute__((vector_size(16)));
typedef uint16_t v8h __attribute__((vector_size(16)));
typedef uint32_t v4w __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));
typedef float v4f __attribute__((vector_size(16)));

/* Byte lane q of onehot[q] is 1, the others 0: adding onehot[code] to a
 * vector of 16 byte counters counts code (at most 255 a lane). */
static const v16u onehot[16] = {
#define MP_OH(q) {(q) == 0, (q) == 1, (q) == 2, (q) == 3, (q) == 4, (q) == 5, \
		  (q) == 6, (q) == 7, (q) == 8, (q) == 9, (q) == 10,          \
		  (q) == 11, (q) == 12, (q) == 13, (q) == 14, (q) == 15}
    MP_OH(0),  MP_OH(1),  MP_OH(2),  MP_OH(3), MP_OH(4),  MP_OH(5),
    MP_OH(6),  MP_OH(7),  MP_OH(8),  MP_OH(9), MP_OH(10), MP_OH(11),
    MP_OH(12), MP_OH(13), MP_OH(14), MP_OH(15)
#undef MP_OH
};

/* The 16 byte lanes of x as 32-bit lanes, by interleaving with zeros (one
 * SSE2 instruction each) rather than lane by lane. */
static inline void widen(v16u x, v4w out[4])
{
	const v16u z = {0};
	const v8h z8 = {0};
	v8h h[2] = {(v8h)__builtin_shufflevector(x, z, 0, 16, 1, 17, 2, 18, 3,
						 19, 4, 20, 5, 21, 6, 22, 7, 23),
		    (v8h)__builtin_shufflevector(x, z, 8, 24, 9, 25, 10, 26, 11,
						 27, 12, 28, 13, 29, 14, 30, 15,
						 31)};
	for (int k = 0; k < 2; k++) {
		out[2 * k] = (v4w)__builtin_shufflevector(h[k], z8, 0, 8, 1, 9,
							  2, 10, 3, 11);
		out[2 * k + 1] = (v4w)__builtin_shufflevector(
		    h[k], z8, 4, 12, 5, 13, 6, 14, 7, 15);
	}
}

void mp_ggml_nibble_counts(const uint8_t *q, unsigned nbytes, uint32_t lo[16],
			   uint32_t hi[16])
{
	/* two counters each (even and odd bytes) */
	v16u lo0 = {0}, lo1 = {0}, hi0 = {0}, hi1 = {0};
	unsigned l = 0;
	for (; l + 2 <= nbytes; l += 2) {
		lo0 += onehot[q[l] & 0xF];
		hi0 += onehot[q[l] >> 4];
		lo1 += onehot[q[l + 1] & 0xF];
		hi1 += onehot[q[l + 1] >> 4];
	}
	if (l < nbytes) {
		lo0 += onehot[q[l] & 0xF];
		hi0 += onehot[q[l] >> 4];
	}
	v4w a[4], b[4];
	widen(lo0 + lo1, a);
	widen(hi0 + hi1, b);
	memcpy(lo, a, sizeof a);
	memcpy(hi, b, sizeof b);
}

/* Q4_K as pairs (ggml_dequant.h): per sub-block of 32 values the 16 codes'
 * values and counts, 128 pairs a block. */
static void pr_q4_k(const uint8_t *src, float *v, uint32_t *c,
		    struct mp_affine_run *run, size_t nb)
{
	for (size_t i = 0; i < nb; i++, src += Q4_K_BYTES) {
		const float d = mp_ggml_half(src);
		const float min = mp_ggml_half(src + 2);
		const uint8_t *ql = src + 16;
		for (int is = 0; is < 8; is += 2, ql += 32, v += 32, c += 32) {
			float ds[2], ms[2], lv[2][16];
			uint32_t cnt[2][16];
			q45_scales(src + 4, is, d, min, ds, ms);
			if (!run) { /* in code order */
				mp_ggml_nibble_counts(ql, 32, c, c + 16);
				for (int q = 0; q < 16; q++) {
					v[q] = q4k_value(ds[0], ms[0], q);
					v[16 + q] = q4k_value(ds[1], ms[1], q);
				}
				continue;
			}
			mp_ggml_nibble_counts(ql, 32, cnt[0], cnt[1]);
			for (int h = 0; h < 2; h++) {
				for (int q = 0; q < 16; q++)
					lv[h][q] = q4k_value(ds[h], ms[h], q);
				mp_ggml_run16(ds[h], ms[h], lv[h], cnt[h],
					      v + 16 * h, c + 16 * h,
					      run + 8 * i + is + h);
			}
		}
	}
}

/* 16 values ds * code - ms of Q4_K/Q5_K codes u, as the scalar loop
 * forms them. */
static inline void q45_sub(v16u u, float ds, float ms, float *y)
{
	v4w w[4];
	widen(u, w);
	for (int h = 0; h < 4; h++) {
		v4f yv = ds * __builtin_convertvector((v4i)w[h], v4f) - ms;
		memcpy(y + 4 * h, &yv, sizeof yv);
	}
}

static void deq_q4_k(const uint8_t *src, float *y, size_t nb)
{
	for (size_t i = 0; i < nb; i++, src += Q4_K_BYTES) {
		const float d = mp_ggml_half(src);
		const float min = mp_ggml_half(src + 2);
		const uint8_t *ql = src + 16;
		for (int is = 0; is < 8; is += 2, ql += 32, y += 64) {
			float ds[2], ms[2];
			q45_scales(src + 4, is, d, min, ds, ms);
			for (int l0 = 0; l0 < 32; l0 += 16) {
				v16u a;
				memcpy(&a, ql + l0, 16);
				q45_sub(a & 15, ds[0], ms[0], y + l0);
				q45_sub(a >> 4, ds[1], ms[1], y + 32 + l0);
			}
		}
	}
}

static void deq_q5_k(const uint8_t *src, float *y, size_t nb)
{
	for (size_t i = 0; i < nb; i++, src += Q5_K_BYTES) {
		const float d = mp_ggml_half(src);
		const float min = mp_ggml_half(src + 2);
		const uint8_t *qh = src + 16;
		const uint8_t *ql = src + 48;
		for (int is = 0; is < 8; is += 2, ql += 32, y += 64) {
			float ds[2], ms[2];
			q45_scales(src + 4, is, d, min, ds, ms);
			for (int l0 = 0; l0 < 32; l0 += 16) {
				v16u a, h;
				memcpy(&a, ql + l0, 16);
				memcpy(&h, qh + l0, 16);
				/* the fifth bit, worth 16 */
				v16u c0 = (a & 15) | ((h >> is & 1) << 4);
				v16u c1 = (a >> 4) | ((h >> (is + 1) & 1) << 4);
				q45_sub(c0, ds[0], ms[0], y + l0);
				q45_sub(c1, ds[1], ms[1], y + 32 + l0);
			}
		}
	}
}

/* block_q6_K: ql[128] (low 4 bits), qh[64] (high 2 bits), int8 scales[16],
 * d (fp16); value = d * scale * (code - 32), value j of scale j / 16.
 * q6_k_sub: the 16 values of sub-block k from its codes u: d * scale, one
 * float product as ggml forms it for each value, times u - 32. */
static inline void q6_k_sub(v16u u, float d, int8_t sc, float *y)
{
	v4w w[4];
	widen(u, w);
	float ds = d * (float)sc;
	for (int h = 0; h < 4; h++) {
		v4f yv = ds * __builtin_convertvector((v4i)w[h] - 32, v4f);
		memcpy(y + 4 * h, &yv, sizeof yv);
	}
}

static void deq_q6_k(const uint8_t *src, float *y, size_t nb)
{
	for (size_t i = 0; i < nb; i++, src += Q6_K_BYTES, y += QK_K) {
		const int8_t *sc = (const int8_t *)(src + 192);
		const float d = mp_ggml_half(src + 208);
		for (int n = 0; n < QK_K; n += 128)
			for (int l0 = 0; l0 < 32; l0 += 16) {
				const uint8_t *ql = src + n / 2 + l0;
				v16u a, b, h;
				memcpy(&a, ql, 16);
				memcpy(&b, ql + 32, 16);
				memcpy(&h, src + 128 + n / 4 + l0, 16);
				v16u u[4] = {(a & 15) | (h << 4 & 0x30),
					     (b & 15) | (h << 2 & 0x30),
					     (a >> 4) | (h & 0x30),
					     (b >> 4) | (h >> 2 & 0x30)};
				for (int m = 0; m < 4; m++) {
					int k = n / 16 + l0 / 16 + 2 * m;
					q6_k_sub(u[m], d, sc[k], y + 16 * k);
				}
			}
	}
}

/* block_q2_K: scales[16] (low nibble scale, high nibble min), qs[64]
 * (2-bit codes), d, dmin (fp16); value = d * (scale & 15) * code -
 * dmin * (scale >> 4), 16 values a scale. */
static void deq_q2_k(const uint8_t *src, float *y, size_t nb)
{
	for (size_t i = 0; i < nb; i++, src += Q2_K_BYTES) {
		const uint8_t *sc = src;
		const uint8_t *q = src + 16;
		const float d = mp_ggml_half(src + 80);
		const float min = mp_ggml_half(src + 82);
		int is = 0;
		for (int n = 0; n < QK_K; n += 128, q += 32) {
			v16u qv[2];
			memcpy(qv, q, sizeof qv);
			for (int shift = 0; shift < 8; shift += 2)
				for (int h = 0; h < 2; h++, is++, y += 16) {
					uint8_t s = sc[is];
					q45_sub(qv[h] >> shift & 3,
						d * (float)(s & 0xF),
						min * (float)(s >> 4), y);
				}
		}
	}
}

/* 16 values dl * (code - 4) of Q3_K codes u + 4, as the scalar loop
 * forms them. */
static inline void q3_sub(v16u u, float dl, float *y)
{
	v4w w[4];
	widen(u, w);
	for (int k = 0; k < 4; k++) {
		v4f yv = dl * __builtin_convertvector((v4i)w[k] - 4, v4f);
		memcpy(y + 4 * k, &yv, sizeof yv);
	}
}

/* block_q3_K: hmask[32] (high bit, set means no -4), qs[64] (low 2 bits),
 * scales[12], d (fp16); value = d * scale * (code - 4 when the mask bit is
 * clear), 16 values a scale. */
static void deq_q3_k(const uint8_t *src, float *y, size_t nb)
{
	for (size_t i = 0; i < nb; i++, src += Q3_K_BYTES) {
		v16u hm[2];
		memcpy(hm, src, sizeof hm);
		const uint8_t *q = src + 32;
		int scales[16];
		q3_scales(src + 96, scales);
		const float d_all = mp_ggml_half(src + 108);
		int is = 0;
		uint8_t m = 1;
		for (int n = 0; n < QK_K; n += 128, q += 32) {
			v16u qv[2];
			memcpy(qv, q, sizeof qv);
			for (int shift = 0; shift < 8; shift += 2, m <<= 1)
				for (int h = 0; h < 2; h++, is++, y += 16) {
					/* code + 4 (4 more with the bit set) */
					v16u u = (qv[h] >> shift & 3) |
						 ((v16u)((hm[h] & m) != 0) & 4);
					q3_sub(u, d_all * (float)scales[is], y);
				}
		}
	}
}

/* block_q8_K: d (float32 LE), int8 qs[256], int16 bsums[16] (unused). */
static void deq_q8_k(const uint8_t *src, float *y, size_t nb)
{
	for (size_t i = 0; i < nb; i++, src += Q8_K_BYTES) {
		uint32_t bits = (uint32_t)src[0] | (uint32_t)src[1] << 8 |
				(uint32_t)src[2] << 16 | (uint32_t)src[3] << 24;
		float d;
		memcpy(&d, &bits, sizeof d);
		const int8_t *q = (const int8_t *)(src + 4);
		for (int j = 0; j < QK_K; j++)
			*y++ = d * (float)q[j];
	}
}

/* Spacing of k-quant super-blocks whose values run in sub-blocks of
 * `sub` values, sub-block j having step |d * scale_j| (ggml_dequant.h). */
static void fill_steps(float *y, const float *step, int nsub)
{
	const int sub = QK_K / nsub;
	for (int j = 0; j < nsub; j++)
		for (int l = 0; l < sub; l++)
			*y++ = step[j];
}

static void st_q2_k(const uint8_t *src, float *y, size_t nb)
{
	for (size_t i = 0; i < nb; i++, src += Q2_K_BYTES, y += QK_K) {
		float d = mp_ggml_half(src + 80), step[16];
		for (int j = 0; j < 16; j++)
			step[j] = fabsf(d * (float)(src[j] & 0xF));
		fill_steps(y, step, 16);
	}
}

static void st_q3_k(const uint8_t *src, float *y, size_t nb)
{
	for (size_t i = 0; i < nb; i++, src += Q3_K_BYTES, y += QK_K) {
		int scales[16];
		float d = mp_ggml_half(src + 108), step[16];
		q3_scales(src + 96, scales);
		for (int j = 0; j < 16; j++)
			step[j] = fabsf(d * (float)scales[j]);
		fill_steps(y, step, 16);
	}
}

static void st_q45_k(const uint8_t *src, float *y, size_t nb, size_t bytes)
{
	for (size_t i = 0; i < nb; i++, src += bytes, y += QK_K) {
		float d = mp_ggml_half(src), step[8];
		for (int j = 0; j < 8; j++) {
			int s, mn;
			scale_min_k4(j, src + 4, &s, &mn);
			step[j] = fabsf(d * (float)s);
		}
		fill_steps(y, step, 8);
	}
}

static void st_q4_k(const uint8_t *src, float *y, size_t nb)
{
	st_q45_k(src, y, nb, Q4_K_BYTES);
}

static void st_q5_k(const uint8_t *src, float *y, size_t nb)
{
	st_q45_k(src, y, nb, Q5_K_BYTES);
}

/* Q6_K: scale j (int8 at 192 + j) covers values 16j .. 16j+15. */
static void st_q6_k(const uint8_t *src, float *y, size_t nb)
{
	for (size_t i = 0; i < nb; i++, src += Q6_K_BYTES, y += QK_K) {
		float d = mp_ggml_half(src + 208), step[16];
		for (int j = 0; j < 16; j++)
			step[j] = fabsf(d * (float)(int8_t)src[192 + j]);
		fill_steps(y, step, 16);
	}
}

static void st_q8_k(const uint8_t *src, float *y, size_t nb)
{
	for (size_t i = 0; i < nb; i++, src += Q8_K_BYTES, y += QK_K) {
		uint32_t bits = (uint32_t)src[0] | (uint32_t)src[1] << 8 |
				(uint32_t)src[2] << 16 | (uint32_t)src[3] << 24;
		float d;
		memcpy(&d, &bits, sizeof d);
		d = fabsf(d);
		fill_steps(y, &d, 1);
	}
}

static const struct mp_ggml_type_info types[] = {
    {MP_GGML_Q2_K, "Q2_K", QK_K, Q2_K_BYTES, deq_q2_k, st_q2_k, NULL, 0},
    {MP_GGML_Q3_K, "Q3_K", QK_K, Q3_K_BYTES, deq_q3_k, st_q3_k, NULL, 0},
    {MP_GGML_Q4_K, "Q4_K", QK_K, Q4_K_BYTES, deq_q4_k, st_q4_k, pr_q4_k, 128},
    {MP_GGML_Q5_K, "Q5_K", QK_K, Q5_K_BYTES, deq_q5_k, st_q5_k, NULL, 0},
    {MP_GGML_Q6_K, "Q6_K", QK_K, Q6_K_BYTES, deq_q6_k, st_q6_k, NULL, 0},
    {MP_GGML_Q8_K, "Q8_K", QK_K, Q8_K_BYTES, deq_q8_k, st_q8_k, NULL, 0},
    {0, NULL, 0, 0, NULL, NULL, NULL, 0}};

const struct mp_ggml_type_info *mp_ggml_kquants_type(uint32_t id)
{
	for (size_t i = 0; types[i].name; i++)
		if (types[i].id == id)
			return &types[i];
	return NULL;
}
