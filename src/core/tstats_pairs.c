/* tstats_pairs.c — statistics of F32 values fed as runs of (value, count)
 * pairs: a block-quantized tensor gives each code of a sub-block once with
 * the number of the sub-block's values that have it (ggml_dequant.h's
 * pairs hooks), MP_TSTATS_RUN pairs a run.
 *
 * Such an accumulator is "ext" (it takes its moments in pass 0): pass 0
 * sums x (compensated, every term exact: the mean is as exact as the
 * values allow), x^2 and |x|, counts the top-16 histogram and finds the
 * extremes and the sparse values; an exact run (affine_sums.h) does the
 * sums in closed form from its codes' power sums, the others pair by
 * pair. Each call's central sums (about its own mean, found first) are
 * merged into the tensor's by Chan et al.'s pairwise formulas, so no
 * large sum is ever subtracted from another. The map pass (pass 1) then
 * only looks its pairs up in the map: the selectors' buckets, the mad's
 * candidates and, without a branch, the sum of squares above the energy
 * bucket. Later passes, tiny tensors and accumulators fed values first
 * take the pairs expanded back to values.
 * Every sum runs in a fixed order of fixed lanes: the same bits on any
 * machine and thread count. */
#include "tstats_int.h"

#include <stdlib.h>

typedef float v2f __attribute__((vector_size(8)));
typedef uint32_t v2u __attribute__((vector_size(8)));
typedef int32_t v2i __attribute__((vector_size(8)));
typedef float v4f __attribute__((vector_size(16)));
typedef double v2d __attribute__((vector_size(16)));
typedef uint32_t v4u __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));

/* u = i - 8 of pair i and its powers, four lanes at a time. */
static const v4f pow_u[4][4] = {
#define MP_U(i) ((float)((i) - 8))
#define MP_ROW(k, i0)                                                         \
	{MP_U(i0) * (k > 1 ? MP_U(i0) : 1) * (k > 2 ? MP_U(i0) : 1) *         \
	     (k > 3 ? MP_U(i0) : 1),                                          \
	 MP_U(i0 + 1) * (k > 1 ? MP_U(i0 + 1) : 1) *                          \
	     (k > 2 ? MP_U(i0 + 1) : 1) * (k > 3 ? MP_U(i0 + 1) : 1),         \
	 MP_U(i0 + 2) * (k > 1 ? MP_U(i0 + 2) : 1) *                          \
	     (k > 2 ? MP_U(i0 + 2) : 1) * (k > 3 ? MP_U(i0 + 2) : 1),         \
	 MP_U(i0 + 3) * (k > 1 ? MP_U(i0 + 3) : 1) *                          \
	     (k > 2 ? MP_U(i0 + 3) : 1) * (k > 3 ? MP_U(i0 + 3) : 1)}
#define MP_POW(k) {MP_ROW(k, 0), MP_ROW(k, 4), MP_ROW(k, 8), MP_ROW(k, 12)}
    MP_POW(1), MP_POW(2), MP_POW(3), MP_POW(4)
#undef MP_POW
#undef MP_ROW
#undef MP_U
};

static inline float hsum(v4f x) { return (x[0] + x[1]) + (x[2] + x[3]); }

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

/* Pass-0 sums of one call, added to the accumulator at its end: x as
 * s + e; central sums about the call's mean m in c[k - 2], k = 2..4. */
struct sums0 {
	double s, e, sq, l1, mn, mx, m, c[3];
	uint64_t sp, n, bad;
};

/* Knuth's two-sum of exact term y into s + e. */
static inline void two_sum(struct sums0 *s, double y)
{
	double t = s->s + y, bp = t - s->s;
	s->e += (s->s - (t - bp)) + (y - bp);
	s->s = t;
}

/* Pass 0 of m pairs one by one (runs that are not exact, values fed to an
 * ext accumulator), all but the central sums. */
static void pass0_generic(struct mp_tstats_acc *a, struct sums0 *s,
			  const float *v, const uint32_t *c, size_t m)
{
	for (size_t i = 0; i < m; i++) {
		uint32_t u;
		memcpy(&u, v + i, 4);
		if ((u & 0x7f800000u) == 0x7f800000u) {
			s->bad += c[i];
			continue;
		}
		if (!c[i])
			continue;
		double x = v[i], w = c[i];
		two_sum(s, w * x); /* exact: counts below 2^29 */
		s->sq += w * (x * x);
		s->l1 += w * fabs(x);
		s->sp += fabs(x) < 1e-6 ? c[i] : 0;
		s->mn = x < s->mn ? x : s->mn;
		s->mx = x > s->mx ? x : s->mx;
		a->top[key32(u) >> 16] += c[i];
		s->n += c[i];
	}
}

/* The sum of x and of x^2 of values A * u + c whose codes u have power
 * sums S[k], k = 0..4: a (24 bits) * S1 (at most 2^24) and c (at most 53 -
 * 6 bits, fp16-made) * S0 (6 bits) are exact, hence the compensated sum
 * of x is as exact as the values allow. */
static inline void closed_sums(struct sums0 *s, double A, double c,
			       const double S[5])
{
	two_sum(s, A * S[1]);
	two_sum(s, c * S[0]);
	s->sq += A * A * S[2] + 2 * A * c * S[1] + c * c * S[0];
}

/* Their sums of (x - s->m)^k, k = 2..4, into s->c: each term a^j C^(k-j)
 * S[j] of the binomial expansion is at most the run's own share, so
 * nothing cancels but within the run. */
static inline void closed_central(struct sums0 *s, double A, double c,
				  const double S[5])
{
	double C = c - s->m, A2 = A * A, C2 = C * C;
	s->c[0] += A2 * S[2] + 2 * A * C * S[1] + C2 * S[0];
	s->c[1] += A2 * A * S[3] + 3 * A2 * C * S[2] + 3 * A * C2 * S[1] +
		   C2 * C * S[0];
	s->c[2] += A2 * A2 * S[4] + 4 * A2 * A * C * S[3] +
		   6 * A2 * C2 * S[2] + 4 * A * C2 * C * S[1] + C2 * C2 * S[0];
}

/* The central sums of m pairs one by one (finite values only). */
static void central_generic(struct sums0 *s, const float *v, const uint32_t *c,
			    size_t m)
{
	for (size_t i = 0; i < m; i++) {
		double x = v[i], w = c[i], d = x - s->m, d2 = d * d;
		if (!isfinite(x) || !c[i])
			continue;
		s->c[0] += w * d2;
		s->c[1] += w * d2 * d;
		s->c[2] += w * d2 * d2;
	}
}

/* The call's mean, before its central sums. */
static inline void call_mean(struct sums0 *s)
{
	s->m = s->n ? (s->s + s->e) / (double)s->n : 0;
}

/* Pass 0 of one exact run but its central sums: the sums in closed form
 * from the counts' power sums S[k] (integers held exactly by float lanes;
 * written to S), the extremes at the first and last counted pair, the
 * sparse values around the sign change. */
static void pass0_exact(struct mp_tstats_acc *a, struct sums0 *s,
			const float *v, const uint32_t *c,
			const struct mp_affine_run *r, double S[5])
{
	v4f cf[4], vv[4];
	v4u kk[4];
	for (int h = 0; h < 4; h++) {
		v4u cu;
		memcpy(&cu, c + 4 * h, 16);
		memcpy(&vv[h], v + 4 * h, 16);
		memcpy(&kk[h], v + 4 * h, 16);
		cf[h] = __builtin_convertvector((v4i)cu, v4f);
		kk[h] = kk[h] ^ ((v4u)((v4i)kk[h] >> 31) | 0x80000000u);
		kk[h] >>= 16;
	}
	/* the histogram first: its stores overlap the arithmetic */
	uint64_t *top = a->top, *top2 = a->top2;
	for (int h = 0; h < 4; h++) {
		top[kk[h][0]] += c[4 * h];
		top2[kk[h][1]] += c[4 * h + 1];
		top[kk[h][2]] += c[4 * h + 2];
		top2[kk[h][3]] += c[4 * h + 3];
	}
	v4f p[5] = {cf[0] + cf[1] + cf[2] + cf[3]}, neg0 = {0}, neg1 = {0};
	for (int k = 0; k < 4; k++)
		p[k + 1] = cf[0] * pow_u[k][0] + cf[1] * pow_u[k][1] +
			   cf[2] * pow_u[k][2] + cf[3] * pow_u[k][3];
	v4i nb = {0, 0, 0, 0};
	for (int h = 0; h < 4; h++) {
		v4i below = vv[h] < 0;
		neg0 += (v4f)((v4i)cf[h] & below);
		neg1 += (v4f)((v4i)(cf[h] * pow_u[0][h]) & below);
		nb -= below;
	}
	int k0 = nb[0] + nb[1] + nb[2] + nb[3]; /* pairs below zero */
	for (int k = 0; k < 5; k++)
		S[k] = hsum(p[k]);
	if (S[0] == 0)
		return;
	closed_sums(s, r->a, r->c, S);
	double total = r->a * S[1] + r->c * S[0];
	s->l1 += total - 2 * (r->a * (double)hsum(neg1) + r->c * hsum(neg0));
	int lo = 0, hi = 15;
	while (!c[lo])
		lo++;
	while (!c[hi])
		hi--;
	s->mn = v[lo] < s->mn ? v[lo] : s->mn;
	s->mx = v[hi] > s->mx ? v[hi] : s->mx;
	for (int i = k0 - 1; i >= 0 && fabs((double)v[i]) < 1e-6; i--)
		s->sp += c[i];
	for (int i = k0; i < 16 && fabs((double)v[i]) < 1e-6; i++)
		s->sp += c[i];
	s->n += (uint64_t)S[0];
}

/* Merge central sums c2..c4 of nb values of mean mb into the tensor's
 * (Chan, Golub and LeVeque; Pébay for the third and fourth), every term
 * added compensated: tens of thousands of merges lose no digits. */
static void merge_central(struct mp_tstats_acc *a, double nb, double mb,
			  const double c[3])
{
	__typeof__(a->central) *t = &a->central;
	if (nb == 0)
		return;
	double na = t->n, n = na + nb, d = mb - kval(&t->mean), dn = d / n;
	double m2 = kval(&t->m2), m3 = kval(&t->m3);
	kadd(&t->m4, c[2]);
	kadd(&t->m4, d * dn * dn * dn * na * nb * (na * na - na * nb + nb * nb));
	kadd(&t->m4, 6 * dn * dn * (na * na * c[0] + nb * nb * m2));
	kadd(&t->m4, 4 * dn * (na * c[1] - nb * m3));
	kadd(&t->m3, c[1]);
	kadd(&t->m3, d * dn * dn * na * nb * (na - nb));
	kadd(&t->m3, 3 * dn * (na * c[0] - nb * m2));
	kadd(&t->m2, c[0]);
	kadd(&t->m2, d * dn * na * nb);
	kadd(&t->mean, dn * nb);
	t->n = n;
}

static void add_sums0(struct mp_tstats_acc *a, const struct sums0 *s)
{
	merge_central(a, (double)s->n, s->m, s->c);
	kadd(&a->sum, s->s);
	kadd(&a->sum, s->e);
	kadd(&a->sumsq, s->sq);
	kadd(&a->l1, s->l1);
	a->minv = s->mn;
	a->maxv = s->mx;
	a->nsparse += s->sp;
	a->n += s->n;
	a->nonfinite += s->bad;
}

#define CALL_RUNS 256 /* runs whose central sums are merged at once */

/* A fresh call's sums: all 0 but the extremes so far. */
static struct sums0 start0(const struct mp_tstats_acc *a)
{
	return (struct sums0){.mn = a->minv, .mx = a->maxv};
}

static void pass0_runs(struct mp_tstats_acc *a, const float *v,
		       const uint32_t *c, const struct mp_affine_run *run,
		       size_t nruns)
{
	double S[CALL_RUNS][5];
	for (size_t j0 = 0; j0 < nruns; j0 += CALL_RUNS) {
		size_t k = nruns - j0 < CALL_RUNS ? nruns - j0 : CALL_RUNS;
		const float *vj = v + j0 * MP_TSTATS_RUN;
		const uint32_t *cj = c + j0 * MP_TSTATS_RUN;
		const struct mp_affine_run *r = run + j0;
		struct sums0 s = start0(a);
		for (size_t j = 0; j < k; j++) {
			const float *x = vj + j * MP_TSTATS_RUN;
			const uint32_t *w = cj + j * MP_TSTATS_RUN;
			if (r[j].exact)
				pass0_exact(a, &s, x, w, &r[j], S[j]);
			else
				pass0_generic(a, &s, x, w, MP_TSTATS_RUN);
		}
		call_mean(&s);
		for (size_t j = 0; j < k; j++) {
			const float *x = vj + j * MP_TSTATS_RUN;
			const uint32_t *w = cj + j * MP_TSTATS_RUN;
			if (!r[j].exact)
				central_generic(&s, x, w, MP_TSTATS_RUN);
			else if (S[j][0] > 0)
				closed_central(&s, r[j].a, r[j].c, S[j]);
		}
		add_sums0(a, &s);
	}
}

/* Pass-1 sums of one call: squares and count above the energy bucket. */
struct sums1 {
	v2d q[2];
	v4u up;
};

typedef int64_t v2l __attribute__((vector_size(16)));

/* Pass 1 of m pairs (m a multiple of 4; counts all 1 when c is NULL):
 * the selectors' buckets and the mad's candidates through
 * mp_tstats_map_hit (rare), and without a branch the squares above the
 * energy bucket (finite values only: the map marks the buckets of
 * infinities and NaNs above it too). */
static inline __attribute__((always_inline)) void
map_pass(struct mp_tstats_acc *a, struct sums1 *s, const float *v,
	 const uint32_t *c, size_t m)
{
	const uint8_t *map = a->map;
	v2d q[2] = {s->q[0], s->q[1]}; /* in registers, not through s */
	v4u up = s->up;
	for (size_t i = 0; i < m; i += 4) {
		v4u u, k, n = {1, 1, 1, 1};
		v4f x;
		memcpy(&u, v + i, 16);
		memcpy(&x, v + i, 16);
		if (c)
			memcpy(&n, c + i, 16);
		k = (u ^ ((v4u)((v4i)u >> 31) | 0x80000000u)) >> 16;
		v4u b = {map[k[0]], map[k[1]], map[k[2]], map[k[3]]};
		v4u fin = (v4u)((u & 0x7f800000u) != 0x7f800000u);
		v4u above = (v4u)((b & 64) != 0) & fin;
		up += n & above;
		v2f x0 = {x[0], x[1]}, x1 = {x[2], x[3]};
		v2d d0 = __builtin_convertvector(x0, v2d);
		v2d d1 = __builtin_convertvector(x1, v2d);
		v2d q0 = d0 * d0, q1 = d1 * d1;
		if (c) { /* exact: a square of a float times a count < 2^5 */
			v2u n0 = {n[0], n[1]}, n1 = {n[2], n[3]};
			q0 *= __builtin_convertvector((v2i)n0, v2d);
			q1 *= __builtin_convertvector((v2i)n1, v2d);
		}
		v4i am = (v4i)above;
		q[0] += (v2d)((v2l)q0 &
			      (v2l)__builtin_shufflevector(am, am, 0, 0, 1, 1));
		q[1] += (v2d)((v2l)q1 &
			      (v2l)__builtin_shufflevector(am, am, 2, 2, 3, 3));
		v4u hit = b & 191 & fin & (v4u)(n != 0);
		if (!(hit[0] | hit[1] | hit[2] | hit[3]))
			continue;
		for (int r = 0; r < 4; r++)
			if (hit[r])
				mp_tstats_map_hit(a, (uint8_t)b[r],
						  u[r] ^ ((uint32_t)((int32_t)u[r] >> 31) |
							  0x80000000u),
						  n[r]);
	}
	s->q[0] = q[0];
	s->q[1] = q[1];
	s->up = up;
}

static void map_pairs(struct mp_tstats_acc *a, struct sums1 *s,
		      const float *v, const uint32_t *c, size_t m)
{
	map_pass(a, s, v, c, m);
}

static void map_values(struct mp_tstats_acc *a, struct sums1 *s,
		       const float *x, size_t m)
{
	map_pass(a, s, x, NULL, m);
}

static void add_above(struct mp_tstats_acc *a, const struct sums1 *s)
{
	v2d q = s->q[0] + s->q[1];
	uint64_t up = (uint64_t)s->up[0] + s->up[1] + s->up[2] + s->up[3];
	for (int j = 0; j < a->njobs; j++)
		if (a->jobs[j].sp == SP_ABS) {
			kadd(&a->jobs[j].above_sq, q[0] + q[1]);
			a->jobs[j].above_n += up;
		}
}

/* Whether runs may be taken as runs: an ext accumulator in pass 0 or in
 * its map pass, or a wide 32-bit one that nothing was fed yet. */
static bool takes_runs(struct mp_tstats_acc *a)
{
	if (a->small || a->vals || a->width != 32)
		return false;
	if (!a->ext && a->pass == 0 && !a->n && !a->nonfinite &&
	    !a->have_shift) {
		a->ext = true;
		a->shift = 0; /* the sum of x is compensated instead */
		a->have_shift = true;
	}
	return a->ext && (a->pass == 0 || a->map);
}

void mp_tstats_feed_runs(struct mp_tstats_acc *a, const float *v,
			 const uint32_t *c, const struct mp_affine_run *run,
			 size_t nruns)
{
	if (a->oom)
		return;
	size_t m = nruns * MP_TSTATS_RUN;
	if (!takes_runs(a)) {
		expand(a, v, c, m);
	} else if (a->pass == 0) {
		pass0_runs(a, v, c, run, nruns);
	} else {
		struct sums1 s1 = {0};
		map_pairs(a, &s1, v, c, m);
		add_above(a, &s1);
	}
}

/* counts for values fed one by one */
static const uint32_t ones[MP_TSTATS_RUN] = {1, 1, 1, 1, 1, 1, 1, 1,
					     1, 1, 1, 1, 1, 1, 1, 1};

void mp_tstats_ext_values(struct mp_tstats_acc *a, const float *x, size_t m)
{
	if (a->pass == 0) {
		struct sums0 s = start0(a);
		for (size_t i = 0; i < m; i += MP_TSTATS_RUN)
			pass0_generic(a, &s, x + i, ones,
				      m - i < MP_TSTATS_RUN ? m - i
							     : MP_TSTATS_RUN);
		call_mean(&s);
		for (size_t i = 0; i < m; i += MP_TSTATS_RUN)
			central_generic(&s, x + i, ones,
					m - i < MP_TSTATS_RUN ? m - i
							       : MP_TSTATS_RUN);
		add_sums0(a, &s);
		return;
	}
	struct sums1 s1 = {0};
	size_t i = m / 4 * 4;
	map_values(a, &s1, x, i);
	for (; i < m; i++) {
		float f[4] = {x[i], NAN, NAN, NAN};
		map_values(a, &s1, f, 4);
	}
	add_above(a, &s1);
}

void mp_tstats_ext_moments(struct mp_tstats_acc *a)
{
	a->c2 = a->central.m2;
	a->c3 = a->central.m3;
	a->c4 = a->central.m4;
	a->moments_done = true;
}
