/* ggml_quants.c — dequantization of float and integer types, Q4_0 to Q8_1
 * (ggml_dequant.h). Arithmetic in float, as ggml's reference to_float:
 * each value is (float)code * d (+ m), one rounding per operation; fp16
 * scales are converted exactly. */
#include "ggml_dequant.h"

#include "dtype.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* fp16 to float exactly, NaN payloads kept (as ggml's bit conversion). */
static float half(const uint8_t *p)
{
	uint16_t h = rd16(p);
	uint32_t sign = (uint32_t)(h & 0x8000) << 16, e = (h >> 10) & 31,
		 man = h & 0x3FF, u;
	if (e == 0)
		return mp_f16_to_f32(h); /* zero, subnormal: exact */
	if (e == 31)
		u = sign | 0x7F800000u | man << 13;
	else
		u = sign | (e + 112) << 23 | man << 13;
	float f;
	memcpy(&f, &u, sizeof f);
	return f;
}

static void dq_f32(const uint8_t *src, float *dst, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t u = rd32(src + 4 * i);
		memcpy(&dst[i], &u, sizeof u);
	}
}

static void dq_f64(const uint8_t *src, float *dst, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t u = rd64(src + 8 * i);
		double d;
		memcpy(&d, &u, sizeof d);
		dst[i] = (float)d;
	}
}

static void dq_f16(const uint8_t *src, float *dst, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = half(src + 2 * i);
}

static void dq_bf16(const uint8_t *src, float *dst, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = mp_bf16_to_f32(rd16(src + 2 * i));
}

static void dq_i8(const uint8_t *src, float *dst, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = (float)(int8_t)src[i];
}

static void dq_i16(const uint8_t *src, float *dst, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = (float)(int16_t)rd16(src + 2 * i);
}

static void dq_i32(const uint8_t *src, float *dst, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = (float)(int32_t)rd32(src + 4 * i);
}

static void dq_i64(const uint8_t *src, float *dst, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = (float)(int64_t)rd64(src + 8 * i);
}

/* Q4_0: fp16 d, 16 bytes of nibbles; low nibbles are values 0..15, high
 * nibbles 16..31; value = (nibble - 8) * d. */
/* The value of code q of Q4_0 and of Q4_1, for the dequantizers and the
 * pairs hooks alike. */
static inline float q4_0_value(float d, int q)
{
	return (float)(q - 8) * d;
}

static inline float q4_1_value(float d, float m, int q)
{
	return (float)q * d + m;
}

static void dq_q4_0(const uint8_t *src, float *dst, size_t nb)
{
	for (size_t b = 0; b < nb; b++, src += 18, dst += 32) {
		float d = half(src);
		const uint8_t *qs = src + 2;
		for (int j = 0; j < 16; j++) {
			dst[j] = q4_0_value(d, qs[j] & 0x0F);
			dst[j + 16] = q4_0_value(d, qs[j] >> 4);
		}
	}
}

typedef float v2f_t __attribute__((vector_size(8)));
typedef double v2d_t __attribute__((vector_size(16)));
typedef int64_t v2l_t __attribute__((vector_size(16)));

/* The exponent of the lowest set bit of finite nonzero x. */
static inline int lsb_exponent(float x)
{
	uint32_t u;
	memcpy(&u, &x, sizeof u);
	uint32_t e = u >> 23 & 0xff, m = u & 0x7fffff;
	if (e)
		m |= 1u << 23;
	return (int)(e ? e : 1) - 150 + __builtin_ctz(m);
}

/* Whether every A * q - B, q = 0..15, is a float for finite A and B (A * q
 * exact): they are whole multiples of 2^e, e the lowest bit of A and B,
 * and of magnitude below 2^(24 + e). A sufficient test, without touching
 * the 16 values. */
static bool whole_on_grid(float A, float B)
{
	if (A == 0 && B == 0)
		return true;
	int e = A != 0 ? lsb_exponent(A) : INT32_MAX;
	if (B != 0 && lsb_exponent(B) < e)
		e = lsb_exponent(B);
	double m = fmax(fabs((double)B), fabs(15.0 * A - (double)B));
	uint64_t bits = (uint64_t)(24 + e + 1023) << 52;
	double lim;
	memcpy(&lim, &bits, sizeof lim);
	return m < lim;
}

void mp_ggml_run16(float A, float B, const float lv[16], const uint32_t cnt[16],
		   float *v, uint32_t *c, struct mp_affine_run *run)
{
	/* a negative step reverses the codes: pair i is code 15 - i */
	bool rev = A < 0;
	if (rev) {
		for (int i = 0; i < 16; i++) {
			v[i] = lv[15 - i];
			c[i] = cnt[15 - i];
		}
	} else {
		memcpy(v, lv, 16 * sizeof *v);
		memcpy(c, cnt, 16 * sizeof *c);
	}
	/* pair 8 is code 8 (ascending) or code 7; A * q and B are exact in
	   double and so is their difference (the exponents of fp16-made
	   scales are close) */
	double a = rev ? -(double)A : (double)A;
	double c0 = (double)A * (rev ? 7 : 8) - (double)B;
	bool exact = isfinite(A) && isfinite(B);
	if (exact && !whole_on_grid(A, B)) {
		v2l_t diff = {0, 0};
		v2d_t u = {-8, -7};
		for (int i = 0; i < 16; i += 2, u += 2) {
			v2f_t f;
			memcpy(&f, v + i, sizeof f);
			diff |= __builtin_convertvector(f, v2d_t) != a * u + c0;
		}
		exact = !(diff[0] | diff[1]);
	}
	*run = (struct mp_affine_run){a, c0, exact};
}

/* Q4_0 and Q4_1 as pairs (ggml_dequant.h): the 16 codes of the block's 32
 * values, 16 pairs a block. */
static void pr_q4_0(const uint8_t *src, float *v, uint32_t *c,
		    struct mp_affine_run *run, size_t nb)
{
	for (size_t b = 0; b < nb; b++, src += 18, v += 16, c += 16) {
		float d = half(src), lv[16];
		uint32_t lo[16], hi[16], cnt[16];
		mp_ggml_nibble_counts(src + 2, 16, lo, hi);
		for (int q = 0; q < 16; q++) {
			(run ? lv : v)[q] = q4_0_value(d, q);
			(run ? cnt : c)[q] = lo[q] + hi[q];
		}
		if (run)
			mp_ggml_run16(d, 8 * d, lv, cnt, v, c, run + b);
	}
}

static void pr_q4_1(const uint8_t *src, float *v, uint32_t *c,
		    struct mp_affine_run *run, size_t nb)
{
	for (size_t b = 0; b < nb; b++, src += 20, v += 16, c += 16) {
		float d = half(src), m = half(src + 2), lv[16];
		uint32_t lo[16], hi[16], cnt[16];
		mp_ggml_nibble_counts(src + 4, 16, lo, hi);
		for (int q = 0; q < 16; q++) {
			(run ? lv : v)[q] = q4_1_value(d, m, q);
			(run ? cnt : c)[q] = lo[q] + hi[q];
		}
		if (run)
			mp_ggml_run16(d, -m, lv, cnt, v, c, run + b);
	}
}

/* Q4_1: fp16 d, fp16 m, 16 bytes of nibbles; value = nibble * d + m. */
static void dq_q4_1(const uint8_t *src, float *dst, size_t nb)
{
	for (size_t b = 0; b < nb; b++, src += 20, dst += 32) {
		float d = half(src), m = half(src + 2);
		const uint8_t *qs = src + 4;
		for (int j = 0; j < 16; j++) {
			dst[j] = q4_1_value(d, m, qs[j] & 0x0F);
			dst[j + 16] = q4_1_value(d, m, qs[j] >> 4);
		}
	}
}

typedef int8_t v16c __attribute__((vector_size(16)));
typedef int16_t v8s __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));
typedef float v4f __attribute__((vector_size(16)));
typedef uint8_t v16u __attribute__((vector_size(16)));

/* The 16 int8 lanes of q times d (plus m when add; m is not added
 * otherwise, so that -0 stays -0) stored at dst, one float product as
 * the scalar loops form it: the bytes are widened by interleaving with
 * themselves and shifting back (SSE2 has no sign extension of bytes). */
static inline __attribute__((always_inline)) void
store_scaled(v16c q, float d, float m, bool add, float *dst)
{
	v8s w0 = (v8s)__builtin_shufflevector(q, q, 0, 0, 1, 1, 2, 2, 3, 3, 4,
					      4, 5, 5, 6, 6, 7, 7);
	v8s w1 = (v8s)__builtin_shufflevector(q, q, 8, 8, 9, 9, 10, 10, 11, 11,
					      12, 12, 13, 13, 14, 14, 15, 15);
	w0 >>= 8;
	w1 >>= 8;
	v4i i[4] = {
	    (v4i)__builtin_shufflevector(w0, w0, 0, 0, 1, 1, 2, 2, 3, 3),
	    (v4i)__builtin_shufflevector(w0, w0, 4, 4, 5, 5, 6, 6, 7, 7),
	    (v4i)__builtin_shufflevector(w1, w1, 0, 0, 1, 1, 2, 2, 3, 3),
	    (v4i)__builtin_shufflevector(w1, w1, 4, 4, 5, 5, 6, 6, 7, 7)};
	/* written out: at -O2 GCC keeps small loops here as loops */
#define MP_LANE(k)                                                            \
	do {                                                                  \
		v4f y = __builtin_convertvector(i[k] >> 16, v4f) * d;         \
		if (add)                                                      \
			y += m;                                               \
		memcpy(dst + 4 * (k), &y, sizeof y);                          \
	} while (0)
	MP_LANE(0);
	MP_LANE(1);
	MP_LANE(2);
	MP_LANE(3);
#undef MP_LANE
}

/* Q8_0: fp16 d, 32 int8 q; value = q * d, 16 at a time. */
static void dq_q8_0(const uint8_t *src, float *dst, size_t nb)
{
	for (size_t b = 0; b < nb; b++, src += 34, dst += 32) {
		float d = half(src);
		v16c q[2];
		memcpy(q, src + 2, sizeof q);
		store_scaled(q[0], d, 0, false, dst);
		store_scaled(q[1], d, 0, false, dst + 16);
	}
}

/* The 5-bit codes of a Q5_0/Q5_1 block from its nibbles qs[16] and high
 * bits qh (bit j the fifth bit of value j): values 0..15 in c[0], 16..31
 * in c[1]. */
static inline void q5_codes(const uint8_t *qs, uint32_t qh, v16c c[2])
{
	static const v16u bit = {1, 2, 4, 8, 16, 32, 64, 128,
				 1, 2, 4, 8, 16, 32, 64, 128};
	v16u q, hb[2];
	memcpy(&q, qs, 16);
	/* byte k of qh in lanes 8k .. 8k + 7 */
	uint64_t ones = 0x0101010101010101u;
	uint64_t bb[4] = {(qh & 0xff) * ones, (qh >> 8 & 0xff) * ones,
			  (qh >> 16 & 0xff) * ones, (qh >> 24) * ones};
	memcpy(hb, bb, sizeof hb);
	c[0] = (v16c)((q & 15) | ((v16u)((hb[0] & bit) != 0) & 16));
	c[1] = (v16c)((q >> 4) | ((v16u)((hb[1] & bit) != 0) & 16));
}

/* Q5_0: fp16 d, 32 high bits (LE), 16 bytes of nibbles; value = (code -
 * 16) * d. */
static void dq_q5_0(const uint8_t *src, float *dst, size_t nb)
{
	for (size_t b = 0; b < nb; b++, src += 22, dst += 32) {
		float d = half(src);
		v16c c[2];
		q5_codes(src + 6, rd32(src + 2), c);
		store_scaled(c[0] - 16, d, 0, false, dst);
		store_scaled(c[1] - 16, d, 0, false, dst + 16);
	}
}

/* Q5_1: fp16 d, fp16 m, qh, nibbles; value = code * d + m. */
static void dq_q5_1(const uint8_t *src, float *dst, size_t nb)
{
	for (size_t b = 0; b < nb; b++, src += 24, dst += 32) {
		float d = half(src), m = half(src + 2);
		v16c c[2];
		q5_codes(src + 8, rd32(src + 4), c);
		store_scaled(c[0], d, m, true, dst);
		store_scaled(c[1], d, m, true, dst + 16);
	}
}

/* Q8_1: fp16 d, fp16 s (d * sum of q, unused here), 32 int8; q * d. */
static void dq_q8_1(const uint8_t *src, float *dst, size_t nb)
{
	for (size_t b = 0; b < nb; b++, src += 36, dst += 32) {
		float d = half(src);
		for (int j = 0; j < 32; j++)
			dst[j] = (float)(int8_t)src[4 + j] * d;
	}
}

/* The uniform step |d| of the 32 values of each block whose fp16 d is the
 * block's first two bytes (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1). */
static void steps_d32(const uint8_t *src, float *steps, size_t nb,
		      unsigned bytes)
{
	for (size_t b = 0; b < nb; b++, src += bytes, steps += 32) {
		float d = fabsf(half(src));
		for (int j = 0; j < 32; j++)
			steps[j] = d;
	}
}

static void st_q4_0(const uint8_t *s, float *y, size_t nb)
{
	steps_d32(s, y, nb, 18);
}

static void st_q4_1(const uint8_t *s, float *y, size_t nb)
{
	steps_d32(s, y, nb, 20);
}

static void st_q5_0(const uint8_t *s, float *y, size_t nb)
{
	steps_d32(s, y, nb, 22);
}

static void st_q5_1(const uint8_t *s, float *y, size_t nb)
{
	steps_d32(s, y, nb, 24);
}

static void st_q8_0(const uint8_t *s, float *y, size_t nb)
{
	steps_d32(s, y, nb, 34);
}

static void st_q8_1(const uint8_t *s, float *y, size_t nb)
{
	steps_d32(s, y, nb, 36);
}

static const struct mp_ggml_type_info types[] = {
    {MP_GGML_F32, "F32", 1, 4, dq_f32, NULL, NULL, 0},
    {MP_GGML_F16, "F16", 1, 2, dq_f16, NULL, NULL, 0},
    {MP_GGML_BF16, "BF16", 1, 2, dq_bf16, NULL, NULL, 0},
    {MP_GGML_F64, "F64", 1, 8, dq_f64, NULL, NULL, 0},
    {MP_GGML_I8, "I8", 1, 1, dq_i8, NULL, NULL, 0},
    {MP_GGML_I16, "I16", 1, 2, dq_i16, NULL, NULL, 0},
    {MP_GGML_I32, "I32", 1, 4, dq_i32, NULL, NULL, 0},
    {MP_GGML_I64, "I64", 1, 8, dq_i64, NULL, NULL, 0},
    {MP_GGML_Q4_0, "Q4_0", 32, 18, dq_q4_0, st_q4_0, pr_q4_0, 16},
    {MP_GGML_Q4_1, "Q4_1", 32, 20, dq_q4_1, st_q4_1, pr_q4_1, 16},
    {MP_GGML_Q5_0, "Q5_0", 32, 22, dq_q5_0, st_q5_0, NULL, 0},
    {MP_GGML_Q5_1, "Q5_1", 32, 24, dq_q5_1, st_q5_1, NULL, 0},
    {MP_GGML_Q8_0, "Q8_0", 32, 34, dq_q8_0, st_q8_0, NULL, 0},
    {MP_GGML_Q8_1, "Q8_1", 32, 36, dq_q8_1, st_q8_1, NULL, 0},
    {0, NULL, 0, 0, NULL, NULL, NULL, 0}};

const struct mp_ggml_type_info *mp_ggml_quants_type(uint32_t id)
{
	for (size_t i = 0; types[i].name; i++)
		if (types[i].id == id)
			return &types[i];
	return NULL;
}
