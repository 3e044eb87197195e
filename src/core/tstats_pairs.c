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

/* GCC vector extensions as in tstats.c: lanes fixed, so the bits do not
 * depend on the instruction set. */
typedef float v2f __attribute__((vector_size(8)));
typedef uint32_t v2u __attribute__((vector_size(8)));
typedef uint32_t v4u __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));
typedef double v2d __attribute__((vector_size(16)));
typedef int64_t v2l __attribute__((vector_size(16)));

/* Lanes of a where mask m is set, of b elsewhere. */
static inline v2d blend(v2l m, v2d a, v2d b)
{
	return (v2d)(((v2l)a & m) | ((v2l)b & ~m));
}

/* Four pairs from i on: values (non-finite ones as 0) and counts (0 for
 * the non-finite, whose counts go to *bad) as two vectors of two, keys. */
struct quad {
	v2d x[2], w[2];
	v4u k;
};

static inline void load4(const float *v, const uint32_t *c, struct quad *o,
			 v4u *bad)
{
	v4u u, cn;
	memcpy(&u, v, 16);
	memcpy(&cn, c, 16);
	v4u fin = (v4u)((u & 0x7f800000u) != 0x7f800000u);
	*bad += cn & ~fin;
	cn &= fin;
	v4u xb = u & fin;
	o->k = u ^ ((v4u)((v4i)u >> 31) | 0x80000000u);
	for (int h = 0; h < 2; h++) {
		v2f f;
		v2u n;
		memcpy(&f, (const uint32_t *)&xb + 2 * h, 8);
		memcpy(&n, (const uint32_t *)&cn + 2 * h, 8);
		o->x[h] = __builtin_convertvector(f, v2d);
		o->w[h] = __builtin_convertvector(n, v2d);
	}
}

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

/* Pair i as (x, key, count), a non-finite value as count 0 (pass 0 counts
 * it apart). */
#define MP_PAIR_LOAD(i)                                                       \
	uint32_t u;                                                           \
	memcpy(&u, v + (i), 4);                                               \
	bool fin = (u & 0x7f800000u) != 0x7f800000u;                          \
	uint32_t cn = fin ? c[i] : 0;                                         \
	double x = fin ? (double)v[i] : 0.0, w = cn;                          \
	uint64_t key = key32(u)

/* One pair of pass 0 in lane r: the sum compensated (Knuth's two-sum, no
 * branch), the other sums of positive terms plain. */
#define MP_PAIR0(i, r, top)                                                   \
	do {                                                                  \
		MP_PAIR_LOAD(i);                                              \
		double ax = fabs(x), y = w * x, t = s[r] + y, bp = t - s[r];  \
		e[r] += (s[r] - (t - bp)) + (y - bp);                         \
		s[r] = t;                                                     \
		l[r] += w * ax;                                               \
		q[r] += y * x;                                                \
		sp += ax < 1e-6 ? cn : 0;                                     \
		mn = cn && x < mn ? x : mn;                                   \
		mx = cn && x > mx ? x : mx;                                   \
		top[key >> 16] += cn;                                         \
		n += cn;                                                      \
		bad += c[i] - cn;                                             \
	} while (0)

static void pass0_pairs(struct mp_tstats_acc *a, const float *v,
			const uint32_t *c, size_t m)
{
	double s[2] = {0, 0}, e[2] = {0, 0}, l[2] = {0, 0}, q[2] = {0, 0};
	double mn = a->minv, mx = a->maxv;
	uint64_t sp = 0, n = 0, bad = 0, *top = a->top, *top2 = a->top2;
	/* no shift: the sum is compensated pair by pair instead, and so is
	   as exact as the mean allows whatever the offset of the values */
	if (!a->have_shift) {
		a->shift = 0;
		a->have_shift = true;
	}
	size_t i = 0;
	if (m >= 4) {
		/* lanes: two vectors of two, i % 4 == 2h + r in [h][r] */
		v2d vs[2] = {{0, 0}, {0, 0}}, ve[2] = {{0, 0}, {0, 0}};
		v2d vl[2] = {{0, 0}, {0, 0}}, vq[2] = {{0, 0}, {0, 0}};
		v2d vsp[2] = {{0, 0}, {0, 0}}, vn[2] = {{0, 0}, {0, 0}};
		v2d vmn[2] = {{mn, mn}, {mn, mn}}, vmx[2] = {{mx, mx}, {mx, mx}};
		v4u vbad = {0, 0, 0, 0};
		for (; i + 4 <= m; i += 4) {
			struct quad p;
			load4(v + i, c + i, &p, &vbad);
			for (int h = 0; h < 2; h++) {
				v2d x = p.x[h], w = p.w[h], y = w * x;
				v2d ax = (v2d)((v2l)x & INT64_MAX);
				v2d t = vs[h] + y, bp = t - vs[h];
				ve[h] += (vs[h] - (t - bp)) + (y - bp);
				vs[h] = t;
				vl[h] += w * ax;
				vq[h] += y * x;
				vsp[h] += (v2d)((v2l)(ax < 1e-6) & (v2l)w);
				vn[h] += w;
				v2l has = w > 0;
				vmn[h] = blend(has & (x < vmn[h]), x, vmn[h]);
				vmx[h] = blend(has & (x > vmx[h]), x, vmx[h]);
			}
			top[p.k[0] >> 16] += c[i] & -(uint32_t)(p.w[0][0] > 0);
			top2[p.k[1] >> 16] += c[i + 1] & -(uint32_t)(p.w[0][1] > 0);
			top[p.k[2] >> 16] += c[i + 2] & -(uint32_t)(p.w[1][0] > 0);
			top2[p.k[3] >> 16] += c[i + 3] & -(uint32_t)(p.w[1][1] > 0);
		}
		for (int r = 0; r < 4; r++) {
			int h = r / 2, z = r % 2;
			kadd(&a->sum, vs[h][z]);
			kadd(&a->sum, ve[h][z]);
			l[0] += vl[h][z];
			q[0] += vq[h][z];
			sp += (uint64_t)vsp[h][z];
			n += (uint64_t)vn[h][z];
			bad += vbad[r];
			mn = vmn[h][z] < mn ? vmn[h][z] : mn;
			mx = vmx[h][z] > mx ? vmx[h][z] : mx;
		}
	}
	for (; i < m; i++)
		MP_PAIR0(i, 0, top);
	if (a->shift != 0) /* values came first: they set the shift */
		kadd(&a->sum, -(double)n * a->shift);
	kadd(&a->sum, s[0]);
	kadd(&a->sum, s[1]);
	kadd(&a->sum, e[0] + e[1]);
	kadd(&a->l1, l[0] + l[1]);
	kadd(&a->sumsq, q[0] + q[1]);
	a->minv = mn;
	a->maxv = mx;
	a->nsparse += sp;
	a->n += n;
	a->nonfinite += bad;
}
#undef MP_PAIR0

static inline void v2d_add3(v2d *s2, v2d *s3, v2d *s4, v2d wd2, v2d d,
			    v2d d2)
{
	*s2 += wd2;
	*s3 += wd2 * d;
	*s4 += wd2 * d2;
}

/* One pair of the map pass in lane r. */
#define MP_PAIR1(i, r)                                                        \
	do {                                                                  \
		MP_PAIR_LOAD(i);                                              \
		double d = x - mean, d2 = d * d, wd2 = w * d2;                \
		uint8_t b = map[key >> 16];                                   \
		s2[r] += wd2;                                                 \
		s3[r] += wd2 * d;                                             \
		s4[r] += wd2 * d2;                                            \
		q[r] += (b & 64) ? w * (x * x) : 0.0;                         \
		up += (b & 64) ? cn : 0;                                      \
		if ((b & 191) && cn)                                          \
			mp_tstats_map_hit(a, b, key, cn);                     \
	} while (0)

static void map_pairs(struct mp_tstats_acc *a, const float *v,
		      const uint32_t *c, size_t m)
{
	const uint8_t *map = a->map;
	double s2[2] = {0, 0}, s3[2] = {0, 0}, s4[2] = {0, 0}, q[2] = {0, 0};
	double mean = a->mean;
	uint64_t up = 0;
	size_t i = 0;
	if (m >= 4) {
		v2d v2[2] = {{0, 0}, {0, 0}}, v3[2] = {{0, 0}, {0, 0}};
		v2d v4[2] = {{0, 0}, {0, 0}}, vq[2] = {{0, 0}, {0, 0}};
		v2d vup[2] = {{0, 0}, {0, 0}};
		v4u vbad = {0, 0, 0, 0};
		for (; i + 4 <= m; i += 4) {
			struct quad p;
			load4(v + i, c + i, &p, &vbad);
			uint8_t b[4];
			for (int r = 0; r < 4; r++)
				b[r] = map[p.k[r] >> 16];
			for (int h = 0; h < 2; h++) {
				v2d x = p.x[h], w = p.w[h], d = x - mean;
				v2d d2 = d * d, wd2 = w * d2;
				v2d_add3(&v2[h], &v3[h], &v4[h], wd2, d, d2);
				v2l above = {-(int64_t)(b[2 * h] >> 6 & 1),
					     -(int64_t)(b[2 * h + 1] >> 6 & 1)};
				vq[h] += (v2d)((v2l)(w * (x * x)) & above);
				vup[h] += (v2d)((v2l)w & above);
			}
			if ((b[0] | b[1] | b[2] | b[3]) & 191)
				for (int r = 0; r < 4; r++)
					if ((b[r] & 191) && p.w[r / 2][r % 2] > 0)
						mp_tstats_map_hit(a, b[r], p.k[r],
								  c[i + r]);
		}
		for (int r = 0; r < 4; r++) {
			int h = r / 2, z = r % 2;
			s2[0] += v2[h][z];
			s3[0] += v3[h][z];
			s4[0] += v4[h][z];
			q[0] += vq[h][z];
			up += (uint64_t)vup[h][z];
		}
	}
	for (; i < m; i++)
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
#undef MP_PAIR_LOAD

void mp_tstats_feed_pairs(struct mp_tstats_acc *a, const float *v,
			  const uint32_t *c, size_t m)
{
	if (a->oom)
		return;
	if (a->small || a->vals || a->width != 32 || (a->pass && !a->map))
		expand(a, v, c, m);
	else if (a->pass == 0)
		pass0_pairs(a, v, c, m);
	else
		map_pairs(a, v, c, m);
}
