/* tstats_int.h — internals shared by tstats.c (passes and selectors),
 * tstats_mad.c (the mad) and tstats_small.c (8/16-bit types); not for other
 * modules. Each accumulator owns every buffer it points to. */
#ifndef MP_TSTATS_INT_H
#define MP_TSTATS_INT_H

#include "tstats.h"

#include <math.h>
#include <string.h>

#define COLLECT_MAX (1u << 20)
/* the most mad candidates gathered in pass 1 (tstats_mad.c): 12 bytes each
 * while they are settled, so 48 MB at most a tensor */
#define CAND_MAX (1u << 22)
#define NSEL 9
#define CHUNK 1024
/* tensors of at most this many values take the tiny path: their values are
 * kept and sorted, in time proportional to n log n rather than to the 65536
 * buckets of a histogram */
#define TINY_MAX 4096

enum { SEL_Q25A, SEL_Q25B, SEL_MEDA, SEL_MEDB, SEL_Q75A, SEL_Q75B, SEL_ENERGY,
       SEL_MADA, SEL_MADB };

/* Order-preserving keys: sign bit flipped for positives, all bits flipped
 * for negatives. */
static inline uint64_t key64(double x)
{
	uint64_t u;
	memcpy(&u, &x, 8);
	return (u >> 63) ? ~u : u | (1ULL << 63);
}

static inline double val64(uint64_t k)
{
	uint64_t u = (k >> 63) ? k & ~(1ULL << 63) : ~k;
	double x;
	memcpy(&x, &u, 8);
	return x;
}

static inline uint64_t key32(uint32_t u)
{
	return (u >> 31) ? (uint32_t)~u : u | 0x80000000u;
}

static inline double val32(uint64_t k)
{
	uint32_t u = (k >> 31) ? (uint32_t)k & 0x7fffffffu : ~(uint32_t)k;
	float f;
	memcpy(&f, &u, 4);
	return f;
}

static inline double key_value(int width, uint64_t k)
{
	return width == 32 ? val32(k) : val64(k);
}

/* Neumaier compensated sum. */
struct ksum {
	double s, c;
};

static inline void kadd(struct ksum *k, double x)
{
	double t = k->s + x;
	if (fabs(k->s) >= fabs(x))
		k->c += (k->s - t) + x;
	else
		k->c += (x - t) + k->s;
	k->s = t;
}

static inline double kval(const struct ksum *k) { return k->s + k->c; }

enum space { SP_X, SP_ABS, SP_DEV };

/* One range of one key space, counted or collected during a pass. */
struct job {
	enum space sp;
	uint64_t lo, hi;
	int shift;
	bool collect, sorted;
	uint64_t *hist; /* [65536] */
	uint64_t *keys; /* [cap] */
	uint64_t nkeys, cap;
	uint64_t below;
	struct ksum above_sq; /* SP_ABS: x^2 over keys above hi */
	uint64_t above_n;
};

struct selector {
	bool active, done;
	enum space sp;
	uint64_t rank;      /* 0-based ascending rank in its space */
	uint64_t lo, hi;    /* key range holding it */
	uint64_t expect;    /* values in [lo, hi], UINT64_MAX if unknown */
	int job;
	uint64_t key;       /* result key when done */
};

struct mp_tstats_acc {
	enum mp_dtype stored;
	struct mp_quant quant;
	uint64_t numel;
	int pass;
	bool oom, bad;
	struct mp_tstats_small *small; /* 8/16-bit stored types */
	/* wide path */
	int width;         /* 32 or 64 key bits for SP_X and SP_ABS */
	double *xs;        /* [CHUNK] */
	uint64_t *ks;      /* [CHUNK] keys of x */
	uint64_t *kabs;    /* [CHUNK] keys of |x| */
	uint64_t *kdev;    /* [CHUNK] keys of |x - median| */
	uint64_t *top2;    /* [65536] second pass-0 histogram */
	uint8_t *map;      /* [65536] pass 1: jobs of each top-16 bucket */
	uint64_t *top;     /* [65536] pass-0 histogram of top 16 key bits */
	struct ksum sum, l1, sumsq, c2, c3, c4;
	/* ext (tstats_pairs.c): the moments come from pass 0, merged call by
	   call */
	bool ext;
	struct {
		double n;
		struct ksum mean, m2, m3, m4;
	} central;
	double minv, maxv, mean, median, thresh, energy_num;
	double shift; /* the first finite value: sum holds sum(x - shift) */
	bool have_shift;
	uint64_t n, nsparse, nonfinite, energy_k;
	bool moments_done;
	struct selector sel[NSEL];
	struct job jobs[NSEL];
	int njobs;
	/* pass 1 of 32-bit keys: x keys of the buckets that may hold the mad,
	 * gathered while the median is still being resolved */
	uint32_t *cand;    /* [cand_cap] */
	uint64_t ncand, cand_cap, cand_below;
	double cand_tlo, cand_thi;
	/* tiny path (tstats_tiny.c): pass 0 keeps the finite values and where
	 * each chunk of them ends, and everything else is settled from them */
	double *vals;      /* [vcap] */
	uint64_t *ends;    /* [vcap] end of each chunk in vals */
	uint64_t nends, vcap;
	uint64_t sink[2];  /* pass 0's histogram of the tiny path: unused */
};

static inline int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

/* numpy's _lerp: exact at both ends, symmetric in rounding. */
static inline double lerp(double lo, double hi, double t)
{
	double d = hi - lo;
	return t >= 0.5 ? hi - d * (1 - t) : lo + d * t;
}

/* Linear-interpolation percentile p from the values at ranks floor and
 * ceil of p*(n-1) (numpy's default method). */
static inline double pct_value(double p, uint64_t n, double vlo, double vhi)
{
	double pos = p * (double)(n - 1);
	return lerp(vlo, vhi, pos - floor(pos));
}

/* tstats.c: std, skew and kurtosis of o from the central sums of n values
 * (o->mean set). */
void mp_tstats_shape(struct mp_tstats *o, double c2, double c3, double c4,
		     uint64_t n);
/* tstats.c: make selector i look for rank in [lo, hi] of space sp, which
 * holds expect values (UINT64_MAX if unknown). */
void mp_tstats_sel_start(struct mp_tstats_acc *a, int i, enum space sp,
			 uint64_t rank, uint64_t lo, uint64_t hi,
			 uint64_t expect);

/* tstats.c: mp_tstats_new taking the tiny path when numel <= tiny_max
 * (tests compare both paths on the same values). */
struct mp_tstats_acc *mp_tstats_new_limit(enum mp_dtype stored,
					  const struct mp_quant *quant,
					  uint64_t numel, uint64_t tiny_max);
/* tstats.c: central sums of x[0..m) about a->mean into a->c2..c4, as one
 * chunk of pass 1 adds them. */
void mp_tstats_moments(struct mp_tstats_acc *a, const double *x, size_t m);
/* tstats.c: add to *sq the squares of the x[i] whose key k[i] of |x| lies
 * above hi, as one chunk of pass 1 adds them; returns how many do. */
uint64_t mp_tstats_above(const double *x, const uint64_t *k, size_t m,
			 uint64_t hi, struct ksum *sq);
/* tstats.c: in the map pass, count w values of 32-bit x key k whose map
 * byte c has bits 0-5 or 7 set. */
void mp_tstats_map_hit(struct mp_tstats_acc *a, uint8_t c, uint64_t k,
		       uint32_t w);
/* tstats.c: mark selector i done with the value of key. */
void mp_tstats_sel_done(struct mp_tstats_acc *a, int i, enum space sp,
			uint64_t rank, uint64_t key);

/* tstats_pairs.c: feed m F32 values to an ext accumulator in pass 0 or
 * in its map pass. */
void mp_tstats_ext_values(struct mp_tstats_acc *a, const float *x, size_t m);
/* tstats_pairs.c: at the end of pass 0 of an ext accumulator (a->n > 0),
 * the central sums from the merged ones; sets moments_done. */
void mp_tstats_ext_moments(struct mp_tstats_acc *a);

/* tstats_tiny.c: after pass 0 of the tiny path (a->n > 0), settle every
 * selector, the median, the central sums and the energy numerator from
 * a->vals, with the arithmetic of the passes they replace. Sets a->oom or
 * a->bad on failure. */
void mp_tstats_tiny_settle(struct mp_tstats_acc *a);

/* tstats_mad.c: start the two mad selectors once a->median is exact. */
void mp_tstats_start_mad(struct mp_tstats_acc *a);
/* tstats_mad.c: before pass 1 of 32-bit keys (a->map built), mark the
 * buckets that may hold the mad so that map_chunk gathers their keys in
 * a->cand; does nothing when they are too many. */
void mp_tstats_plan_cand(struct mp_tstats_acc *a);
/* tstats_mad.c: after pass 1, with the exact median, settle both mad
 * selectors from a->cand; false leaves them to mp_tstats_start_mad. Frees
 * a->cand either way. */
bool mp_tstats_mad_from_cand(struct mp_tstats_acc *a);

/* tstats_small.c: one pass of histograms of raw codes (16-bit codes of
 * at most tiny_max values are kept and sorted instead). NULL when out of
 * memory; free accepts NULL. */
struct mp_tstats_small *mp_tstats_small_new(enum mp_dtype stored,
					    const struct mp_quant *quant,
					    uint64_t numel, uint64_t tiny_max);
void mp_tstats_small_feed(struct mp_tstats_small *sm, const uint8_t *b,
			  uint64_t n);
mp_status mp_tstats_small_finish(struct mp_tstats_small *sm,
				 struct mp_tstats *o);
void mp_tstats_small_free(struct mp_tstats_small *sm);

#endif
