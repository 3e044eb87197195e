/* tstats.c — exact tensor statistics in bounded memory: the public entry
 * points, and the passes over wide types (stored types of at most 16 bits
 * are in tstats_small.c, the mad in tstats_mad.c).
 *
 * Wide types work on order-preserving keys (32-bit float keys for F32,
 * 64-bit double keys for everything else, decoded to double first). Pass 0
 * gathers the sums, min and max and the histogram of the top 16 key bits.
 * Each wanted order statistic (q25, median and q75 at their floor and ceil
 * ranks, the energy threshold among |x|, the two middle ranks of
 * d = |x - median|) is a selector holding a key range that contains it and
 * its rank; every pass a job per distinct range either counts the next bits
 * of the keys inside it or, when it holds few values, collects and sorts
 * them. Pass 1 also sums the central moments, with one bucket-map lookup
 * per value. F32 usually needs 2 passes: its keys have 32 bits, and the mad
 * is gathered in pass 1 (tstats_mad.c). */
#include "tstats_int.h"

#include <stdlib.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* 16-byte vectors (GCC vector extensions, SSE2 on x86-64, lowered to
 * whatever another target has). Sums keep four lanes, lane r over the
 * values i of a chunk with i % 4 == r, in two vectors of two doubles:
 * exactly what a scalar loop over four accumulators computes, so results
 * do not depend on the instruction set (and -std=c11 forbids contracting
 * into fused multiply-adds). */
typedef float v2f __attribute__((vector_size(8)));
typedef uint32_t v4u __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));
typedef double v2d __attribute__((vector_size(16)));
typedef int64_t v2l __attribute__((vector_size(16)));

#define BYTES_LE (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)

static const char *const field_names[] = {
#define MP_X_NAME(f) #f,
	MP_TSTATS_FIELDS(MP_X_NAME)
#undef MP_X_NAME
};

const char *mp_tstats_field_name(int i)
{
	return i >= 0 && i < MP_TSTATS_NFIELDS ? field_names[i] : NULL;
}

double *mp_tstats_field(struct mp_tstats *s, int i)
{
	double *f[] = {
#define MP_X_PTR(f) &s->f,
		MP_TSTATS_FIELDS(MP_X_PTR)
#undef MP_X_PTR
	};
	return i >= 0 && i < MP_TSTATS_NFIELDS ? f[i] : NULL;
}

static void free_jobs(struct mp_tstats_acc *a)
{
	for (int j = 0; j < a->njobs; j++) {
		free(a->jobs[j].hist);
		free(a->jobs[j].keys);
	}
	a->njobs = 0;
}

struct mp_tstats_acc *mp_tstats_new(enum mp_dtype stored,
				    const struct mp_quant *quant,
				    uint64_t numel)
{
	return mp_tstats_new_limit(stored, quant, numel, TINY_MAX);
}

struct mp_tstats_acc *mp_tstats_new_limit(enum mp_dtype stored,
					  const struct mp_quant *quant,
					  uint64_t numel, uint64_t tiny_max)
{
	struct mp_tstats_acc *a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	a->stored = stored;
	if (quant)
		a->quant = *quant;
	a->numel = numel;
	a->minv = INFINITY;
	a->maxv = -INFINITY;
	if (mp_dtype_size(stored) <= 2) {
		if (!(a->small =
			  mp_tstats_small_new(stored, quant, numel, tiny_max)))
			goto fail;
		return a;
	}
	a->width = stored == MP_F32 && a->quant.kind != MP_QUANT_AFFINE ? 32
									 : 64;
	a->xs = malloc(CHUNK * sizeof *a->xs);
	a->ks = malloc(CHUNK * sizeof *a->ks);
	a->kabs = malloc(CHUNK * sizeof *a->kabs);
	if (numel <= tiny_max) {
		/* no histograms: pass 0 keeps the values */
		size_t m = numel ? (size_t)numel : 1;
		a->vcap = numel;
		a->vals = malloc(m * sizeof *a->vals);
		a->ends = malloc(m * sizeof *a->ends);
		if (!a->xs || !a->ks || !a->vals || !a->ends)
			goto fail;
		return a;
	}
	a->kdev = malloc(CHUNK * sizeof *a->kdev);
	a->top2 = calloc(65536, sizeof *a->top2);
	a->top = calloc(65536, sizeof *a->top);
	if (!a->xs || !a->ks || !a->kabs || !a->kdev || !a->top || !a->top2)
		goto fail;
	return a;
fail:
	mp_tstats_free(a);
	return NULL;
}

void mp_tstats_free(struct mp_tstats_acc *a)
{
	if (!a)
		return;
	free_jobs(a);
	mp_tstats_small_free(a->small);
	free(a->xs);
	free(a->ks);
	free(a->kabs);
	free(a->kdev);
	free(a->map);
	free(a->cand);
	free(a->top2);
	free(a->top);
	free(a->vals);
	free(a->ends);
	free(a);
}

/* ---- wide types ---- */

/* Decode m values to xs (finite ones compacted) and their keys to ks;
 * returns how many are finite. */
static size_t decode_chunk(struct mp_tstats_acc *a, const uint8_t *b,
			   size_t m)
{
	size_t j = 0;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (a->width == 32) {
		/* all values, then drop the non-finite ones if any */
		v4i bad = {0, 0, 0, 0};
		size_t i = 0;
		for (; i + 4 <= m; i += 4) {
			v4u u;
			v2f f0, f1;
			memcpy(&u, b + 4 * i, 16);
			memcpy(&f0, b + 4 * i, 8);
			memcpy(&f1, b + 4 * i + 8, 8);
			v2d x0 = __builtin_convertvector(f0, v2d);
			v2d x1 = __builtin_convertvector(f1, v2d);
			v4u k = u ^ ((v4u)((v4i)u >> 31) | 0x80000000u);
			bad |= (u & 0x7f800000u) == 0x7f800000u;
			memcpy(a->xs + i, &x0, sizeof x0);
			memcpy(a->xs + i + 2, &x1, sizeof x1);
			for (int r = 0; r < 4; r++)
				a->ks[i + r] = k[r];
		}
		bool any = bad[0] | bad[1] | bad[2] | bad[3];
		for (; i < m; i++) {
			uint32_t u;
			float f;
			memcpy(&u, b + 4 * i, 4);
			memcpy(&f, b + 4 * i, 4);
			a->xs[i] = f;
			a->ks[i] = key32(u);
			any |= (u & 0x7f800000u) == 0x7f800000u;
		}
		if (!any)
			return m;
		for (i = 0; i < m; i++) {
			a->xs[j] = a->xs[i];
			a->ks[j] = a->ks[i];
			j += isfinite(a->xs[i]) != 0;
		}
		return j;
	}
#endif
	if (a->width == 32) {
		for (size_t i = 0; i < m; i++) {
			uint32_t u;
			memcpy(&u, b + 4 * i, 4);
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
			u = __builtin_bswap32(u);
#endif
			float f;
			memcpy(&f, &u, 4);
			a->xs[j] = f;
			a->ks[j] = key32(u);
			j += (u & 0x7f800000u) != 0x7f800000u;
		}
		return j;
	}
	mp_dtype_to_double(a->stored, b, m, a->xs);
	for (size_t i = 0; i < m; i++) {
		double x = a->xs[i];
		if (a->quant.kind == MP_QUANT_AFFINE)
			x = (double)(float)(x * a->quant.scale + a->quant.min);
		a->xs[j] = x;
		a->ks[j] = key64(x);
		j += isfinite(x) != 0;
	}
	return j;
}

/* The values of a chunk as pass 0 and the map pass read them: staged
 * by decode_chunk in a->xs and a->ks, or (f32) straight from finite
 * little-endian F32 values at f, so that they are not copied first. */
struct src {
	bool f32; /* a constant in each caller, so that the tests fold */
	const double *x;
	const uint64_t *k;
	const uint8_t *f;
	int sh;
};

static inline v2d src_pair(const struct src *s, size_t i)
{
	v2d v;
	if (s->f32) {
		v2f f;
		memcpy(&f, s->f + 4 * i, sizeof f);
		return __builtin_convertvector(f, v2d);
	}
	memcpy(&v, s->x + i, sizeof v);
	return v;
}

static inline double src_value(const struct src *s, size_t i)
{
	float f;
	if (!s->f32)
		return s->x[i];
	memcpy(&f, s->f + 4 * i, 4);
	return f;
}

static inline uint64_t src_key(const struct src *s, size_t i)
{
	uint32_t u;
	if (!s->f32)
		return s->k[i];
	memcpy(&u, s->f + 4 * i, 4);
	return u ^ ((uint32_t)((int32_t)u >> 31) | 0x80000000u); /* key32 */
}

/* The top-16 buckets of values i..i+3. */
static inline void src_buckets4(const struct src *s, size_t i, unsigned b[4])
{
	if (!s->f32) {
		for (int r = 0; r < 4; r++)
			b[r] = (unsigned)(s->k[i + r] >> s->sh);
		return;
	}
	v4u u;
	memcpy(&u, s->f + 4 * i, 16);
	u = (u ^ ((v4u)((v4i)u >> 31) | 0x80000000u)) >> 16;
	for (int r = 0; r < 4; r++)
		b[r] = u[r];
}

/* Lane-wise v < m ? v : m and v > m ? v : m (minpd and maxpd on x86-64,
 * which keep m on ties and so on +-0 alike). */
static inline v2d min2(v2d v, v2d m)
{
#ifdef __SSE2__
	return _mm_min_pd(v, m);
#else
	v2l lt = (v2l)(v < m);
	return (v2d)((lt & (v2l)v) | (~lt & (v2l)m));
#endif
}

static inline v2d max2(v2d v, v2d m)
{
#ifdef __SSE2__
	return _mm_max_pd(v, m);
#else
	v2l gt = (v2l)(v > m);
	return (v2d)((gt & (v2l)v) | (~gt & (v2l)m));
#endif
}

/* Whether the m F32 values at b are all finite. */
static bool all_finite(const uint8_t *b, size_t m)
{
	v4i bad = {0, 0, 0, 0};
	size_t i = 0;
	for (; i + 4 <= m; i += 4) {
		v4u u;
		memcpy(&u, b + 4 * i, 16);
		bad |= (u & 0x7f800000u) == 0x7f800000u;
	}
	for (; i < m; i++) {
		uint32_t u;
		memcpy(&u, b + 4 * i, 4);
		bad[0] |= (u & 0x7f800000u) == 0x7f800000u;
	}
	return !(bad[0] | bad[1] | bad[2] | bad[3]);
}

static inline __attribute__((always_inline)) void
pass0_of(struct mp_tstats_acc *a, const struct src *x, size_t m)
{
	int sh = x->sh;
	double s[4] = {0}, l[4] = {0}, q[4] = {0};
	double mn = a->minv, mx = a->maxv;
	uint64_t sp = 0, *top = a->vals ? a->sink : a->top;
	uint64_t *top2 = a->vals ? a->sink : a->top2;
	size_t i = 0;
	if (m && !a->have_shift) {
		a->shift = src_value(x, 0);
		a->have_shift = true;
	}
	double x0 = a->shift;
	v2d vs[2] = {{0, 0}, {0, 0}}, vl[2] = {{0, 0}, {0, 0}};
	v2d vq[2] = {{0, 0}, {0, 0}};
	v2d vmn[2] = {{mn, mn}, {mn, mn}}, vmx[2] = {{mx, mx}, {mx, mx}};
	v2l vsp[2] = {{0, 0}, {0, 0}};
	/* two loops over the chunk (in L1): vector sums, extremes per lane
	 * (+-0 ties may keep another zero than one scalar loop would) and
	 * sparsity, then the histograms */
	for (; i + 4 <= m; i += 4) {
		/* written out: at -O2 GCC keeps small loops here as loops */
#define MP_LANES(h)                                                           \
	do {                                                                  \
		v2d v = src_pair(x, i + 2 * (h));                             \
		v2d av = (v2d)((v2l)v & INT64_MAX);                           \
		vs[h] += v - x0;                                              \
		vl[h] += av;                                                  \
		vq[h] += v * v;                                               \
		vsp[h] -= (v2l)(av < 1e-6);                                   \
		vmn[h] = min2(v, vmn[h]);                                     \
		vmx[h] = max2(v, vmx[h]);                                     \
	} while (0)
		MP_LANES(0);
		MP_LANES(1);
#undef MP_LANES
	}
	for (i = 0; i + 4 <= m; i += 4) {
		unsigned b[4];
		src_buckets4(x, i, b);
		top[b[0]]++;
		top2[b[1]]++;
		top[b[2]]++;
		top2[b[3]]++;
	}
	sp += (uint64_t)(vsp[0][0] + vsp[0][1] + vsp[1][0] + vsp[1][1]);
	for (int r = 0; r < 4; r++) {
		s[r] = vs[r / 2][r % 2];
		l[r] = vl[r / 2][r % 2];
		q[r] = vq[r / 2][r % 2];
		mn = vmn[r / 2][r % 2] < mn ? vmn[r / 2][r % 2] : mn;
		mx = vmx[r / 2][r % 2] > mx ? vmx[r / 2][r % 2] : mx;
	}
	for (; i < m; i++) {
		double v = src_value(x, i), av = fabs(v);
		s[0] += v - x0;
		l[0] += av;
		q[0] += v * v;
		sp += av < 1e-6;
		mn = v < mn ? v : mn;
		mx = v > mx ? v : mx;
		top[src_key(x, i) >> sh]++;
	}
	kadd(&a->sum, (s[0] + s[1]) + (s[2] + s[3]));
	kadd(&a->l1, (l[0] + l[1]) + (l[2] + l[3]));
	kadd(&a->sumsq, (q[0] + q[1]) + (q[2] + q[3]));
	a->minv = mn;
	a->maxv = mx;
	a->nsparse += sp;
	a->n += m;
}

/* Pass 0 of the m values staged in a->xs and a->ks. */
__attribute__((noinline)) static void pass0_chunk(struct mp_tstats_acc *a,
						  size_t m)
{
	/* tiny: sh 63 counts into sink[0..1] */
	struct src x = {false, a->xs, a->ks, NULL,
			a->vals ? 63 : a->width - 16};
	pass0_of(a, &x, m);
}

/* Pass 0 of m finite F32 values at b. */
__attribute__((noinline)) static void pass0_f32(struct mp_tstats_acc *a,
						const uint8_t *b, size_t m)
{
	struct src x = {true, NULL, NULL, b, 16};
	pass0_of(a, &x, m);
}

void mp_tstats_moments(struct mp_tstats_acc *a, const double *x, size_t m)
{
	double s2[4] = {0}, s3[4] = {0}, s4[4] = {0}, mean = a->mean;
	size_t i = 0;
	for (; i + 4 <= m; i += 4) {
		for (int r = 0; r < 4; r++) {
			double d = x[i + r] - mean, d2 = d * d;
			s2[r] += d2;
			s3[r] += d2 * d;
			s4[r] += d2 * d2;
		}
	}
	for (; i < m; i++) {
		double d = x[i] - mean, d2 = d * d;
		s2[0] += d2;
		s3[0] += d2 * d;
		s4[0] += d2 * d2;
	}
	kadd(&a->c2, (s2[0] + s2[1]) + (s2[2] + s2[3]));
	kadd(&a->c3, (s3[0] + s3[1]) + (s3[2] + s3[3]));
	kadd(&a->c4, (s4[0] + s4[1]) + (s4[2] + s4[3]));
}

/* Count or collect the keys k[0..m) of one job's space. */
static void job_chunk(struct mp_tstats_acc *a, struct job *j,
		      const uint64_t *k, size_t m)
{
	uint64_t lo = j->lo, span = j->hi - j->lo, below = 0;
	int sh = j->shift;
	for (size_t i = 0; i < m; i++) {
		below += k[i] < lo;
		uint64_t off = k[i] - lo;
		if (off > span)
			continue;
		if (!j->collect)
			j->hist[off >> sh]++;
		else if (j->nkeys < j->cap)
			j->keys[j->nkeys++] = k[i];
		else
			a->bad = true; /* the bytes changed between passes */
	}
	j->below += below;
	if (j->sp == SP_ABS)
		j->above_n += mp_tstats_above(a->xs, k, m, j->hi, &j->above_sq);
}

uint64_t mp_tstats_above(const double *x, const uint64_t *k, size_t m,
			 uint64_t hi, struct ksum *sq)
{
	double s[4] = {0};
	uint64_t above = 0;
	size_t i = 0;
	for (; i + 4 <= m; i += 4)
		for (int r = 0; r < 4; r++) {
			double v = x[i + r];
			bool up = k[i + r] > hi;
			s[r] += up ? v * v : 0.0;
			above += up;
		}
	for (; i < m; i++) {
		bool up = k[i] > hi;
		s[0] += up ? x[i] * x[i] : 0.0;
		above += up;
	}
	kadd(sq, (s[0] + s[1]) + (s[2] + s[3]));
	return above;
}

/* Keys of |x| and of |x - median| for this chunk, when a job needs them. */
static void space_keys(struct mp_tstats_acc *a, size_t m)
{
	bool need_abs = false, need_dev = false;
	for (int j = 0; j < a->njobs; j++) {
		need_abs |= a->jobs[j].sp == SP_ABS;
		need_dev |= a->jobs[j].sp == SP_DEV;
	}
	if (need_abs) {
		if (a->width == 32)
			for (size_t i = 0; i < m; i++) {
				uint64_t k = a->ks[i];
				a->kabs[i] = (k >> 31) ? k : (~k & 0xffffffffULL);
			}
		else
			for (size_t i = 0; i < m; i++) {
				uint64_t k = a->ks[i];
				a->kabs[i] = (k >> 63) ? k : ~k;
			}
	}
	if (need_dev) {
		double med = a->median;
		for (size_t i = 0; i < m; i++) {
			double d = fabs(a->xs[i] - med);
			uint64_t u;
			memcpy(&u, &d, 8);
			a->kdev[i] = u | (1ULL << 63);
		}
	}
}

/* Pass 1, when every job is one top-16 bucket: map[top bits of the x key]
 * holds up to two job numbers (bits 0-2 and 3-5, 1-based), in bit 6
 * whether |x| lies above the energy job's bucket and in bit 7 whether the
 * bucket may hold the mad (its x keys are then gathered in cand). One
 * lookup per value; mp_tstats_map_hit counts w values of key k. */
void mp_tstats_map_hit(struct mp_tstats_acc *a, uint8_t c, uint64_t k,
		       uint32_t w)
{
	if (c & 128) {
		if (w <= a->cand_cap - a->ncand)
			for (uint32_t r = 0; r < w; r++)
				a->cand[a->ncand++] = (uint32_t)k;
		else
			a->bad = true; /* the bytes changed between passes */
	}
	for (int t = 0; t < 2; t++) {
		unsigned jj = (c >> (3 * t)) & 7;
		if (!jj)
			continue;
		struct job *j = &a->jobs[jj - 1];
		uint64_t kk = k;
		if (j->sp == SP_ABS && !(k >> (a->width - 1)))
			kk = ~k & (a->width == 32 ? 0xffffffffULL : UINT64_MAX);
		if (!j->collect)
			j->hist[(kk - j->lo) >> j->shift] += w;
		else if (w <= j->cap - j->nkeys)
			for (uint32_t r = 0; r < w; r++)
				j->keys[j->nkeys++] = kk;
		else
			a->bad = true;
	}
}

/* Central sums of two values (lanes) and x^2 where hi (all ones) says
 * |x| lies above the energy bucket. */
struct lanes2 {
	v2d s2, s3, s4, q;
};

static inline void moments2(struct lanes2 *l, v2d v, double mean, v2l hi)
{
	v2d d = v - mean, d2 = d * d;
	l->s2 += d2;
	l->s3 += d2 * d;
	l->s4 += d2 * d2;
	l->q += (v2d)((v2l)(v * v) & hi); /* +0 in the other lanes */
}

static inline __attribute__((always_inline)) void
map_of(struct mp_tstats_acc *a, const struct src *x, size_t m)
{
	const uint8_t *map = a->map;
	int sh = x->sh;
	double s2[4] = {0}, s3[4] = {0}, s4[4] = {0}, q[4] = {0};
	double mean = a->mean;
	uint64_t up = 0;
	size_t i = 0;
	struct lanes2 l0 = {{0, 0}, {0, 0}, {0, 0}, {0, 0}}, l1 = l0;
	v4i vup = {0, 0, 0, 0};
	for (; i + 4 <= m; i += 4) {
		/* written out: at -O2 GCC keeps small loops here as loops */
		unsigned bk[4];
		src_buckets4(x, i, bk);
		uint8_t c0 = map[bk[0]], c1 = map[bk[1]];
		uint8_t c2 = map[bk[2]], c3 = map[bk[3]];
		v4i cv = {c0, c1, c2, c3};
		v4i hi = (cv & 64) != 0; /* all ones above the energy bucket */
		vup -= hi;
		moments2(&l0, src_pair(x, i), mean,
			 (v2l)__builtin_shufflevector(hi, hi, 0, 0, 1, 1));
		moments2(&l1, src_pair(x, i + 2), mean,
			 (v2l)__builtin_shufflevector(hi, hi, 2, 2, 3, 3));
		if ((c0 | c1 | c2 | c3) & 191) {
			uint8_t c[4] = {c0, c1, c2, c3};
			for (int r = 0; r < 4; r++)
				if (c[r] & 191)
					mp_tstats_map_hit(a, c[r],
							  src_key(x, i + r), 1);
		}
	}
	up = (uint64_t)(vup[0] + vup[1] + vup[2] + vup[3]);
	v2d v2[2] = {l0.s2, l1.s2}, v3[2] = {l0.s3, l1.s3};
	v2d v4[2] = {l0.s4, l1.s4}, vq[2] = {l0.q, l1.q};
	for (int r = 0; r < 4; r++) {
		s2[r] = v2[r / 2][r % 2];
		s3[r] = v3[r / 2][r % 2];
		s4[r] = v4[r / 2][r % 2];
		q[r] = vq[r / 2][r % 2];
	}
	for (; i < m; i++) {
		double v = src_value(x, i), d = v - mean, d2 = d * d;
		uint64_t k = src_key(x, i);
		uint8_t c = map[k >> sh];
		s2[0] += d2;
		s3[0] += d2 * d;
		s4[0] += d2 * d2;
		q[0] += (c & 64) ? v * v : 0.0;
		up += (c >> 6) & 1;
		if (c & 191)
			mp_tstats_map_hit(a, c, k, 1);
	}
	kadd(&a->c2, (s2[0] + s2[1]) + (s2[2] + s2[3]));
	kadd(&a->c3, (s3[0] + s3[1]) + (s3[2] + s3[3]));
	kadd(&a->c4, (s4[0] + s4[1]) + (s4[2] + s4[3]));
	for (int j = 0; j < a->njobs; j++)
		if (a->jobs[j].sp == SP_ABS) {
			kadd(&a->jobs[j].above_sq, (q[0] + q[1]) + (q[2] + q[3]));
			a->jobs[j].above_n += up;
		}
}

/* The map pass over the m values staged in a->xs and a->ks. */
static void map_chunk(struct mp_tstats_acc *a, size_t m)
{
	struct src x = {false, a->xs, a->ks, NULL, a->width - 16};
	map_of(a, &x, m);
}

/* The map pass over m finite F32 values at b. */
static void map_f32(struct mp_tstats_acc *a, const uint8_t *b, size_t m)
{
	struct src x = {true, NULL, NULL, b, 16};
	map_of(a, &x, m);
}

/* Set up map_chunk for pass 1; the jobs' counts below their bucket come
 * from the pass-0 histogram. */
static void build_map(struct mp_tstats_acc *a)
{
	if (a->njobs > 7 || !(a->map = calloc(65536, 1)))
		return; /* the general loop does the same, slower */
	int sh = a->width - 16;
	for (int jj = 0; jj < a->njobs; jj++) {
		struct job *j = &a->jobs[jj];
		unsigned b = (unsigned)(j->lo >> sh);
		unsigned bs[2] = {b, ~b & 0xffff};
		int nb = j->sp == SP_ABS ? 2 : 1;
		for (int t = 0; t < nb; t++) {
			uint8_t *c = &a->map[bs[t]];
			*c |= (*c & 7) ? (uint8_t)((jj + 1) << 3) : (uint8_t)(jj + 1);
		}
		j->below = 0;
		if (j->sp == SP_X) {
			for (unsigned u = 0; u < b; u++)
				j->below += a->top[u];
			continue;
		}
		for (unsigned u = 0x8000; u < 65536; u++) {
			uint64_t c = a->top[u] + a->top[~u & 0xffff];
			if (u < b)
				j->below += c;
			else if (u > b) {
				a->map[u] |= 64;
				a->map[~u & 0xffff] |= 64;
			}
		}
	}
}

void mp_tstats_feed(struct mp_tstats_acc *a, const uint8_t *bytes,
		    uint64_t nvalues)
{
	if (a->oom)
		return;
	if (a->small) {
		mp_tstats_small_feed(a->small, bytes, nvalues);
		return;
	}
	if (a->ext && (a->pass == 0 || a->map)) {
		float buf[CHUNK];
		while (nvalues) {
			size_t m = nvalues < CHUNK ? (size_t)nvalues : CHUNK;
			memcpy(buf, bytes, m * sizeof *buf);
			mp_tstats_ext_values(a, buf, m);
			bytes += m * sizeof *buf;
			nvalues -= m;
		}
		return;
	}
	unsigned w = mp_dtype_size(a->stored);
	/* F32 in pass 0 (not tiny) and in the map pass read their bytes
	   straight while they are finite */
	bool direct = BYTES_LE && a->width == 32 &&
		      ((a->pass == 0 && !a->vals) || a->map);
	while (nvalues) {
		size_t m = nvalues < CHUNK ? (size_t)nvalues : CHUNK;
		if (direct && all_finite(bytes, m)) {
			if (a->pass == 0)
				pass0_f32(a, bytes, m);
			else
				map_f32(a, bytes, m);
			bytes += m * w;
			nvalues -= m;
			continue;
		}
		size_t f = decode_chunk(a, bytes, m);
		if (a->pass == 0) {
			a->nonfinite += m - f;
			if (a->vals && (a->nends == a->vcap ||
					f > a->vcap - a->n)) {
				a->bad = true; /* more values than numel */
				return;
			}
			pass0_chunk(a, f);
			if (a->vals) {
				memcpy(a->vals + a->n - f, a->xs, f * sizeof *a->xs);
				a->ends[a->nends++] = a->n;
			}
		} else if (a->map) {
			map_chunk(a, f);
		} else {
			if (!a->moments_done)
				mp_tstats_moments(a, a->xs, f);
			space_keys(a, f);
			for (int j = 0; j < a->njobs; j++) {
				struct job *jb = &a->jobs[j];
				job_chunk(a, jb,
					  jb->sp == SP_X     ? a->ks
					  : jb->sp == SP_ABS ? a->kabs
							     : a->kdev,
					  f);
			}
		}
		bytes += m * w;
		nvalues -= m;
	}
}

static int space_width(const struct mp_tstats_acc *a, enum space sp)
{
	return sp == SP_DEV ? 64 : a->width;
}

void mp_tstats_sel_start(struct mp_tstats_acc *a, int i, enum space sp,
			 uint64_t rank, uint64_t lo, uint64_t hi,
			 uint64_t expect)
{
	struct selector *s = &a->sel[i];
	memset(s, 0, sizeof *s);
	s->active = true;
	s->sp = sp;
	s->rank = rank;
	s->lo = lo;
	s->hi = hi;
	s->expect = expect;
}

void mp_tstats_sel_done(struct mp_tstats_acc *a, int i, enum space sp,
			uint64_t rank, uint64_t key)
{
	mp_tstats_sel_start(a, i, sp, rank, key, key, 1);
	a->sel[i].done = true;
	a->sel[i].key = key;
}

/* Energy numerator once its threshold key is known: x^2 summed over the
 * values above the threshold, then the threshold for the remaining ones. */
static void energy_done(struct mp_tstats_acc *a, const struct job *j,
			uint64_t tkey)
{
	int w = space_width(a, SP_ABS);
	double t = key_value(w, tkey);
	struct ksum s = j->above_sq;
	uint64_t c = j->above_n;
	if (j->collect) {
		for (uint64_t i = j->nkeys; i-- > 0 && j->keys[i] > tkey;) {
			double v = key_value(w, j->keys[i]);
			kadd(&s, v * v);
			c++;
		}
	} else {
		for (uint64_t d = ((tkey - j->lo) >> j->shift) + 1;
		     d < 65536 && j->lo + (d << j->shift) <= j->hi; d++) {
			if (!j->hist[d])
				continue;
			double v = key_value(w, j->lo + d);
			kadd(&s, (double)j->hist[d] * (v * v));
			c += j->hist[d];
		}
	}
	a->thresh = t;
	a->energy_num = c <= a->energy_k
				? kval(&s) + (double)(a->energy_k - c) * (t * t)
				: NAN;
	if (c > a->energy_k)
		a->bad = true;
}

/* Narrow or resolve one selector from the job it was counted in. */
static void sel_end(struct mp_tstats_acc *a, struct selector *s, struct job *j)
{
	if (s->rank < j->below) {
		a->bad = true;
		return;
	}
	uint64_t r = s->rank - j->below;
	uint64_t key;
	if (j->collect) {
		if (!j->sorted) {
			qsort(j->keys, j->nkeys, sizeof *j->keys, cmp_u64);
			j->sorted = true;
		}
		if (r >= j->nkeys) {
			a->bad = true;
			return;
		}
		key = j->keys[r];
	} else {
		uint64_t acc = 0;
		unsigned d = 0;
		while (d < 65535 && acc + j->hist[d] <= r)
			acc += j->hist[d++];
		if (acc + j->hist[d] <= r) {
			a->bad = true;
			return;
		}
		uint64_t lo = j->lo + ((uint64_t)d << j->shift);
		uint64_t span = (1ULL << j->shift) - 1;
		s->lo = lo;
		s->hi = j->hi - lo < span ? j->hi : lo + span;
		s->expect = j->hist[d];
		if (j->shift)
			return;
		key = lo;
	}
	s->done = true;
	s->key = key;
	if (s->sp == SP_ABS)
		energy_done(a, j, key);
}

static double sel_value(const struct mp_tstats_acc *a, int i)
{
	return key_value(space_width(a, a->sel[i].sp), a->sel[i].key);
}

/* Build this pass's jobs from the live selectors. */
static void plan_jobs(struct mp_tstats_acc *a)
{
	free_jobs(a);
	for (int i = 0; i < NSEL; i++) {
		struct selector *s = &a->sel[i];
		if (!s->active || s->done)
			continue;
		int j = 0;
		while (j < a->njobs &&
		       !(a->jobs[j].sp == s->sp && a->jobs[j].lo == s->lo &&
			 a->jobs[j].hi == s->hi))
			j++;
		s->job = j;
		if (j < a->njobs)
			continue;
		struct job *jb = &a->jobs[a->njobs++];
		memset(jb, 0, sizeof *jb);
		jb->sp = s->sp;
		jb->lo = s->lo;
		jb->hi = s->hi;
		/* a range of at most 65536 keys is resolved by one
		 * histogram; collecting pays only for few values */
		bool one_hist = s->hi - s->lo < 65536 && s->expect > 4096;
		if (s->expect <= COLLECT_MAX && !one_hist) {
			jb->collect = true;
			jb->cap = s->expect;
			jb->keys = malloc((s->expect ? s->expect : 1) *
					  sizeof *jb->keys);
			if (!jb->keys)
				a->oom = true;
		} else {
			while (jb->shift < 64 && ((s->hi - s->lo) >> jb->shift) >= 65536)
				jb->shift++;
			jb->hist = calloc(65536, sizeof *jb->hist);
			if (!jb->hist)
				a->oom = true;
		}
	}
}

static bool sel_ready(const struct mp_tstats_acc *a, int i)
{
	return a->sel[i].active && a->sel[i].done;
}

bool mp_tstats_next_pass(struct mp_tstats_acc *a)
{
	if (a->small || a->oom || a->bad)
		return false;
	if (a->vals) {
		if (a->pass++ == 0 && a->n)
			mp_tstats_tiny_settle(a);
		return false;
	}
	if (a->pass == 0) {
		if (a->n == 0)
			return false;
		a->mean = a->shift + kval(&a->sum) / (double)a->n;
		if (a->ext)
			mp_tstats_ext_moments(a);
		for (unsigned b = 0; b < 65536; b++)
			a->top[b] += a->top2[b];
		free(a->top2);
		a->top2 = NULL;
		uint64_t n = a->n, k = n / 10 ? n / 10 : 1;
		a->energy_k = k;
		uint64_t full = a->width == 32 ? 0xffffffffULL : UINT64_MAX;
		mp_tstats_sel_start(a, SEL_Q25A, SP_X, (n - 1) / 4, 0, full, n);
		mp_tstats_sel_start(a, SEL_Q25B, SP_X, (n - 1) / 4 + ((n - 1) % 4 != 0),
			  0, full, n);
		mp_tstats_sel_start(a, SEL_MEDA, SP_X, (n - 1) / 2, 0, full, n);
		mp_tstats_sel_start(a, SEL_MEDB, SP_X, n / 2, 0, full, n);
		mp_tstats_sel_start(a, SEL_Q75A, SP_X, 3 * ((n - 1) / 4) +
			  (3 * ((n - 1) % 4)) / 4, 0, full, n);
		mp_tstats_sel_start(a, SEL_Q75B, SP_X, 3 * ((n - 1) / 4) +
			  (3 * ((n - 1) % 4) + 3) / 4, 0, full, n);
		mp_tstats_sel_start(a, SEL_ENERGY, SP_ABS, n - k, 0, full, n);
		/* narrow the first 16 bits with the pass-0 histogram */
		struct job jx = {.sp = SP_X, .lo = 0, .hi = full,
				 .shift = a->width - 16, .hist = a->top};
		uint64_t *ah = malloc(65536 * sizeof *ah);
		if (!ah) {
			a->oom = true;
			return false;
		}
		/* bucket b of |x| holds the positive bucket b and the
		 * negative bucket ~b */
		for (unsigned b = 0x8000; b < 65536; b++)
			ah[b] = a->top[b] + a->top[~b & 0xffff];
		for (unsigned b = 0; b < 0x8000; b++)
			ah[b] = 0;
		struct job ja = jx;
		ja.sp = SP_ABS;
		ja.hist = ah;
		for (int i = 0; i < SEL_ENERGY; i++)
			sel_end(a, &a->sel[i], &jx);
		sel_end(a, &a->sel[SEL_ENERGY], &ja);
		free(ah);
	} else {
		for (int i = 0; i < NSEL; i++) {
			struct selector *s = &a->sel[i];
			if (s->active && !s->done && !a->bad)
				sel_end(a, s, &a->jobs[s->job]);
		}
		a->moments_done = true;
	}
	if (!a->bad && !a->sel[SEL_MADA].active && sel_ready(a, SEL_MEDA) &&
	    sel_ready(a, SEL_MEDB)) {
		double m0 = sel_value(a, SEL_MEDA), m1 = sel_value(a, SEL_MEDB);
		a->median = a->sel[SEL_MEDA].key == a->sel[SEL_MEDB].key
				    ? m0
				    : (m0 + m1) / 2;
		if (!a->cand || !mp_tstats_mad_from_cand(a))
			mp_tstats_start_mad(a);
	}
	free(a->cand); /* gathered for pass 1 only */
	a->cand = NULL;
	bool more = !a->moments_done;
	for (int i = 0; i < NSEL; i++)
		more |= a->sel[i].active && !a->sel[i].done;
	a->pass++;
	free(a->map);
	a->map = NULL;
	if (more && !a->bad) {
		plan_jobs(a);
		if (a->pass == 1 && !a->oom)
			build_map(a);
		if (a->pass == 1 && a->map && a->width == 32)
			mp_tstats_plan_cand(a);
	}
	return more && !a->oom && !a->bad;
}

/* Shape statistics from central sums. scipy returns NaN for skew and
 * kurtosis when m2 <= (eps_resolution * mean)^2 (constant input); so do we,
 * which the JSON writer turns into null. */
void mp_tstats_shape(struct mp_tstats *o, double c2, double c3, double c4,
		     uint64_t n)
{
	double m2 = c2 / (double)n, m3 = c3 / (double)n, m4 = c4 / (double)n;
	o->std = sqrt(m2);
	double z = 1e-15 * o->mean;
	if (m2 <= z * z) {
		o->skew = o->kurtosis = NAN;
	} else {
		o->skew = m3 / pow(m2, 1.5);
		o->kurtosis = m4 / (m2 * m2) - 3.0;
	}
}

mp_status mp_tstats_finish(struct mp_tstats_acc *a, struct mp_tstats *o)
{
	memset(o, 0, sizeof *o);
	for (int i = 0; i < MP_TSTATS_NFIELDS; i++)
		*mp_tstats_field(o, i) = NAN;
	if (a->oom)
		return MP_ENOMEM;
	if (a->small)
		return mp_tstats_small_finish(a->small, o);
	if (a->bad)
		return MP_EIO;
	o->n = a->n;
	o->nonfinite = a->nonfinite;
	if (a->n == 0)
		return MP_OK;
	for (int i = 0; i < NSEL; i++)
		if (!sel_ready(a, i))
			return MP_EINVAL; /* finish before the last pass */
	uint64_t n = a->n;
	o->mean = a->mean;
	mp_tstats_shape(o, kval(&a->c2), kval(&a->c3), kval(&a->c4), n);
	o->min = a->minv;
	o->max = a->maxv;
	o->q25 = pct_value(0.25, n, sel_value(a, SEL_Q25A),
			   sel_value(a, SEL_Q25B));
	o->median = a->median;
	o->q75 = pct_value(0.75, n, sel_value(a, SEL_Q75A),
			   sel_value(a, SEL_Q75B));
	o->iqr = o->q75 - o->q25;
	o->mad = n % 2 ? sel_value(a, SEL_MADA)
		       : (sel_value(a, SEL_MADA) + sel_value(a, SEL_MADB)) / 2;
	o->l1_norm = kval(&a->l1);
	double ss = kval(&a->sumsq);
	o->l2_norm = sqrt(ss);
	o->linf_norm = fmax(fabs(a->minv), fabs(a->maxv));
	o->sparsity = (double)a->nsparse / (double)n;
	o->energy_concentration = ss > 0 ? a->energy_num / ss : 0;
	return MP_OK;
}

mp_status mp_tstats_of_doubles(const double *x, uint64_t n,
			       struct mp_tstats *out)
{
	struct mp_tstats_acc *a = mp_tstats_new(MP_F64, NULL, n);
	if (!a)
		return MP_ENOMEM;
	do
		mp_tstats_feed(a, (const uint8_t *)x, n);
	while (mp_tstats_next_pass(a));
	mp_status s = mp_tstats_finish(a, out);
	mp_tstats_free(a);
	return s;
}
