/* tstats_pairs.c — statistics of F32 values fed as (value, count) pairs:
 * a block-quantized tensor gives each code of a sub-block once with the
 * number of the sub-block's values that have it (ggml_dequant.h's pairs
 * hooks), so a pass costs per pair what it cost per value. Pass 0 (sums,
 * extremes, sparsity, the top-16 histogram) and the map pass (central sums,
 * the selectors' buckets, the mad's candidates) of tstats.c are done here
 * weighted; everywhere else (tiny tensors, the general passes) the pairs
 * are expanded back to values. Sums keep two lanes over the pairs, in
 * order: the same bits for any machine and thread count. */
#include "tstats_int.h"

#include <stdlib.h>

/* The pairs as values, in order, for the paths that take values. */
static void expand(struct mp_tstats_acc *a, const float *v, const uint32_t *c,
		   size_t m)
{
	float buf[256];
	size_t k = 0;
	for (size_t i = 0; i < m; i++)
		for (uint32_t r = 0; r < c[i]; r++) {
			buf[k++] = v[i];
			if (k == 256) {
				mp_tstats_feed(a, (const uint8_t *)buf, k);
				k = 0;
			}
		}
	if (k)
		mp_tstats_feed(a, (const uint8_t *)buf, k);
}

/* The counted, finite pairs of v/c[0..m) into xs, ks and cn; returns how
 * many. Pass 0 counts the non-finite values. */
static size_t compact(struct mp_tstats_acc *a, const float *v,
		      const uint32_t *c, size_t m)
{
	size_t j = 0;
	uint64_t bad = 0;
	for (size_t i = 0; i < m; i++) {
		uint32_t u;
		memcpy(&u, v + i, 4);
		bool fin = (u & 0x7f800000u) != 0x7f800000u;
		a->xs[j] = v[i];
		a->ks[j] = key32(u);
		a->cn[j] = c[i];
		bad += fin ? 0 : c[i];
		j += fin && c[i];
	}
	if (a->pass == 0)
		a->nonfinite += bad;
	return j;
}

/* One pair of pass 0 in lane r. */
#define MP_PAIR0(i, r, top)                                                   \
	do {                                                                  \
		double v = x[i], w = c[i], av = fabs(v), y = w * v;           \
		double t = s[r] + y;                                          \
		e[r] += fabs(s[r]) >= fabs(y) ? (s[r] - t) + y : (y - t) + s[r]; \
		s[r] = t;                                                     \
		l[r] += w * av;                                               \
		q[r] += w * (v * v);                                          \
		sp += av < 1e-6 ? c[i] : 0;                                   \
		mn = v < mn ? v : mn;                                         \
		mx = v > mx ? v : mx;                                         \
		top[k[i] >> 16] += c[i];                                      \
		n += c[i];                                                    \
	} while (0)

static void pass0_pairs(struct mp_tstats_acc *a, size_t m)
{
	const double *x = a->xs;
	const uint64_t *k = a->ks;
	const uint32_t *c = a->cn;
	double s[2] = {0, 0}, e[2] = {0, 0}, l[2] = {0, 0}, q[2] = {0, 0};
	double mn = a->minv, mx = a->maxv;
	uint64_t sp = 0, n = 0, *top = a->top, *top2 = a->top2;
	/* no shift: the sum is compensated pair by pair instead, and so is
	   as exact as the mean allows whatever the offset of the values */
	if (!a->have_shift) {
		a->shift = 0;
		a->have_shift = true;
	}
	size_t i = 0;
	for (; i + 2 <= m; i += 2) {
		MP_PAIR0(i, 0, top);
		MP_PAIR0(i + 1, 1, top2);
	}
	if (i < m)
		MP_PAIR0(i, 0, top);
	if (a->shift != 0) { /* values came first: they set the shift */
		kadd(&a->sum, -(double)n * a->shift);
	}
	kadd(&a->sum, s[0]);
	kadd(&a->sum, s[1]);
	kadd(&a->sum, e[0] + e[1]);
	kadd(&a->l1, l[0] + l[1]);
	kadd(&a->sumsq, q[0] + q[1]);
	a->minv = mn;
	a->maxv = mx;
	a->nsparse += sp;
	a->n += n;
}
#undef MP_PAIR0

/* One pair of the map pass in lane r. */
#define MP_PAIR1(i, r)                                                        \
	do {                                                                  \
		double v = x[i], w = c[i], d = v - mean, d2 = d * d;          \
		uint8_t b = map[k[i] >> 16];                                  \
		s2[r] += w * d2;                                              \
		s3[r] += w * (d2 * d);                                        \
		s4[r] += w * (d2 * d2);                                       \
		q[r] += (b & 64) ? w * (v * v) : 0.0;                         \
		up += (b & 64) ? c[i] : 0;                                    \
		if (b & 191)                                                  \
			mp_tstats_map_hit(a, b, k[i], c[i]);                  \
	} while (0)

static void map_pairs(struct mp_tstats_acc *a, size_t m)
{
	const uint8_t *map = a->map;
	const double *x = a->xs;
	const uint64_t *k = a->ks;
	const uint32_t *c = a->cn;
	double s2[2] = {0, 0}, s3[2] = {0, 0}, s4[2] = {0, 0}, q[2] = {0, 0};
	double mean = a->mean;
	uint64_t up = 0;
	size_t i = 0;
	for (; i + 2 <= m; i += 2) {
		MP_PAIR1(i, 0);
		MP_PAIR1(i + 1, 1);
	}
	if (i < m)
		MP_PAIR1(i, 0);
	kadd(&a->c2, s2[0] + s2[1]);
	kadd(&a->c3, s3[0] + s3[1]);
	kadd(&a->c4, s4[0] + s4[1]);
	for (int j = 0; j < a->njobs; j++)
		if (a->jobs[j].sp == SP_ABS) {
			kadd(&a->jobs[j].above_sq, q[0] + q[1]);
			a->jobs[j].above_n += up;
		}
}
#undef MP_PAIR1

void mp_tstats_feed_pairs(struct mp_tstats_acc *a, const float *v,
			  const uint32_t *c, size_t m)
{
	if (a->oom)
		return;
	if (a->small || a->vals || a->width != 32 || (a->pass && !a->map)) {
		expand(a, v, c, m);
		return;
	}
	if (!a->cn && !(a->cn = malloc(CHUNK * sizeof *a->cn))) {
		a->oom = true;
		return;
	}
	while (m) {
		size_t k = m < CHUNK ? m : CHUNK;
		size_t f = compact(a, v, c, k);
		if (a->pass == 0)
			pass0_pairs(a, f);
		else
			map_pairs(a, f);
		v += k;
		c += k;
		m -= k;
	}
}
