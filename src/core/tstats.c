/* tstats.c — exact tensor statistics in bounded memory.
 *
 * Stored types of at most 16 bits: one pass counting raw codes into a
 * histogram; every statistic is then derived from (value, count) pairs.
 * Wider types: pass 0 gathers the sums and the top-16-bit histograms of
 * order-preserving keys; later passes narrow each wanted order statistic by
 * 16 more key bits, or collect the keys of its bucket once it holds at most
 * COLLECT_MAX values, until every statistic is exact. */
#include "tstats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define COLLECT_MAX (1u << 18)
#define NSEL_MAX 9

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

/* Order-preserving key of a double and its inverse. */
static uint64_t key_of(double x)
{
	uint64_t u;
	memcpy(&u, &x, 8);
	return (u >> 63) ? ~u : u | (1ULL << 63);
}

static double value_of(uint64_t k)
{
	uint64_t u = (k >> 63) ? k & ~(1ULL << 63) : ~k;
	double x;
	memcpy(&x, &u, 8);
	return x;
}

/* What a selector orders by. */
enum sel_space { SPACE_X, SPACE_ABS, SPACE_DEV /* |x - median| */ };

/* Finds the value of ascending rank `rank` (0-based) among the keys of one
 * space, 16 bits per pass or by collecting a small bucket. */
struct selector {
	enum sel_space space;
	uint64_t rank;   /* remaining rank inside the current bucket */
	int known;       /* key bits known (0, 16, 32, 48) */
	uint64_t prefix; /* the known top bits */
	uint64_t bucket; /* values in the current bucket */
	bool collecting, done, active;
	uint64_t *hist;  /* [65536] while narrowing */
	uint64_t *keys;  /* [bucket] while collecting */
	uint64_t nkeys;
	double result;
};

struct mp_tstats_acc {
	enum mp_dtype stored;
	struct mp_quant quant;
	uint64_t numel;
	int pass;
	bool small; /* histogram path */
	uint64_t *codes; /* [65536] small path */
	/* wide path */
	double sum, l1, sumsq, minv, maxv, linf;
	uint64_t n, nsparse, nonfinite;
	double mean, c2, c3, c4;
	bool moments_done;
	struct selector sel[NSEL_MAX];
	int nsel;
	double median;
	bool mad_started;
	double thresh; /* energy threshold |x| */
	bool energy_started, energy_done;
	uint64_t energy_k, gt_count;
	double gt_sumsq;
	double *buf; /* decoded block */
	bool oom;
};

struct mp_tstats_acc *mp_tstats_new(enum mp_dtype stored,
				    const struct mp_quant *quant,
				    uint64_t numel)
{
	struct mp_tstats_acc *a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	a->stored = stored;
	if (quant)
		a->quant = *quant;
	a->numel = numel;
	a->small = mp_dtype_size(stored) <= 2;
	a->minv = INFINITY;
	a->maxv = -INFINITY;
	if (a->small) {
		a->codes = calloc(65536, sizeof *a->codes);
		if (!a->codes) {
			free(a);
			return NULL;
		}
	} else {
		a->buf = malloc(4096 * sizeof *a->buf);
		if (!a->buf) {
			free(a);
			return NULL;
		}
	}
	return a;
}

void mp_tstats_free(struct mp_tstats_acc *a)
{
	if (!a)
		return;
	for (int i = 0; i < a->nsel; i++) {
		free(a->sel[i].hist);
		free(a->sel[i].keys);
	}
	free(a->codes);
	free(a->buf);
	free(a);
}

/* Decoded logical value of a raw code (small path). */
static double code_value(const struct mp_tstats_acc *a, uint16_t code)
{
	double v = mp_dtype_decode16(a->stored, code);
	if (a->quant.kind == MP_QUANT_AFFINE)
		v = (double)(float)(v * a->quant.scale + a->quant.min);
	return v;
}

static void feed_small(struct mp_tstats_acc *a, const uint8_t *b, uint64_t n)
{
	uint64_t *c = a->codes;
	if (mp_dtype_size(a->stored) == 1) {
		for (uint64_t i = 0; i < n; i++)
			c[b[i]]++;
		return;
	}
	/* two interleaved histograms break the store-to-load chain on runs
	 * of equal codes */
	static _Thread_local uint32_t h2[65536];
	uint64_t i = 0;
	if (n >= 1024) {
		memset(h2, 0, sizeof h2);
		for (; i + 2 <= n; i += 2) {
			c[b[2 * i] | (unsigned)b[2 * i + 1] << 8]++;
			h2[b[2 * i + 2] | (unsigned)b[2 * i + 3] << 8]++;
			if ((i & 0x3ffffffe) == 0x3ffffffe) {
				for (int k = 0; k < 65536; k++)
					c[k] += h2[k];
				memset(h2, 0, sizeof h2);
			}
		}
		for (int k = 0; k < 65536; k++)
			c[k] += h2[k];
	}
	for (; i < n; i++)
		c[b[2 * i] | (unsigned)b[2 * i + 1] << 8]++;
}

static uint64_t space_key(const struct mp_tstats_acc *a, enum sel_space sp,
			  double x)
{
	switch (sp) {
	case SPACE_ABS:
		return key_of(fabs(x));
	case SPACE_DEV:
		return key_of(fabs(x - a->median));
	default:
		return key_of(x);
	}
}

static void sel_start(struct mp_tstats_acc *a, enum sel_space sp,
		      uint64_t rank)
{
	struct selector *s = &a->sel[a->nsel++];
	memset(s, 0, sizeof *s);
	s->space = sp;
	s->rank = rank;
	s->bucket = a->n;
	s->active = true;
}

/* Prepare each live selector for the coming pass. */
static void sel_begin_pass(struct mp_tstats_acc *a)
{
	for (int i = 0; i < a->nsel; i++) {
		struct selector *s = &a->sel[i];
		if (s->done)
			continue;
		if (s->bucket <= COLLECT_MAX || s->known == 48) {
			s->collecting = true;
			free(s->hist);
			s->hist = NULL;
			s->keys = malloc((s->bucket ? s->bucket : 1) *
					 sizeof *s->keys);
			if (!s->keys)
				a->oom = true;
			s->nkeys = 0;
		} else if (!s->hist) {
			s->hist = calloc(65536, sizeof *s->hist);
			if (!s->hist)
				a->oom = true;
		} else {
			memset(s->hist, 0, 65536 * sizeof *s->hist);
		}
	}
}

static void sel_feed(struct mp_tstats_acc *a, double x)
{
	for (int i = 0; i < a->nsel; i++) {
		struct selector *s = &a->sel[i];
		if (s->done || a->oom)
			continue;
		uint64_t k = space_key(a, s->space, x);
		if (s->known && (k >> (64 - s->known)) != s->prefix)
			continue;
		if (s->collecting) {
			if (s->nkeys < s->bucket)
				s->keys[s->nkeys++] = k;
		} else {
			s->hist[(k >> (48 - s->known)) & 0xffff]++;
		}
	}
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

static void sel_end_pass(struct mp_tstats_acc *a)
{
	for (int i = 0; i < a->nsel; i++) {
		struct selector *s = &a->sel[i];
		if (s->done || a->oom)
			continue;
		if (s->collecting) {
			qsort(s->keys, s->nkeys, sizeof *s->keys, cmp_u64);
			/* nkeys < rank only if the bytes changed between
			 * passes (file rewritten while being read) */
			s->result = s->rank < s->nkeys
					    ? value_of(s->keys[s->rank])
					    : NAN;
			free(s->keys);
			s->keys = NULL;
			s->done = true;
			continue;
		}
		uint64_t acc = 0;
		int d = 0;
		while (d < 65535 && acc + s->hist[d] <= s->rank)
			acc += s->hist[d++];
		s->rank -= acc;
		s->bucket = s->hist[d];
		s->prefix = (s->prefix << 16) | (uint64_t)d;
		s->known += 16;
	}
}

static bool sels_done(const struct mp_tstats_acc *a, int from, int to)
{
	for (int i = from; i < to; i++)
		if (!a->sel[i].done)
			return false;
	return true;
}

void mp_tstats_feed(struct mp_tstats_acc *a, const uint8_t *bytes,
		    uint64_t nvalues)
{
	if (a->small) {
		feed_small(a, bytes, nvalues);
		return;
	}
	unsigned w = mp_dtype_size(a->stored);
	while (nvalues) {
		size_t m = nvalues < 4096 ? (size_t)nvalues : 4096;
		mp_dtype_to_double(a->stored, bytes, m, a->buf);
		double bs = 0, bl1 = 0, bsq = 0, c2 = 0, c3 = 0, c4 = 0;
		for (size_t i = 0; i < m; i++) {
			double x = a->buf[i];
			if (!isfinite(x)) {
				if (a->pass == 0)
					a->nonfinite++;
				continue;
			}
			if (a->pass == 0) {
				double ax = fabs(x);
				bs += x;
				bl1 += ax;
				bsq += x * x;
				if (x < a->minv)
					a->minv = x;
				if (x > a->maxv)
					a->maxv = x;
				if (ax > a->linf)
					a->linf = ax;
				if (ax < 1e-6)
					a->nsparse++;
				a->n++;
				continue;
			}
			if (!a->moments_done) {
				double d = x - a->mean, d2 = d * d;
				c2 += d2;
				c3 += d2 * d;
				c4 += d2 * d2;
			}
			if (a->energy_started && !a->energy_done &&
			    fabs(x) > a->thresh) {
				a->gt_count++;
				a->gt_sumsq += x * x;
			}
			sel_feed(a, x);
		}
		a->sum += bs;
		a->l1 += bl1;
		a->sumsq += bsq;
		a->c2 += c2;
		a->c3 += c3;
		a->c4 += c4;
		bytes += m * w;
		nvalues -= m;
	}
}

/* Ranks (0-based, ascending) below the floor/ceil of p*(n-1). */
static void pct_ranks(uint64_t n, double p, uint64_t *lo, uint64_t *hi)
{
	double pos = p * (double)(n - 1);
	*lo = (uint64_t)floor(pos);
	*hi = (uint64_t)ceil(pos);
}

bool mp_tstats_next_pass(struct mp_tstats_acc *a)
{
	if (a->small || a->oom)
		return false;
	if (a->pass == 0) {
		if (a->n == 0)
			return false;
		a->mean = a->sum / (double)a->n;
		uint64_t lo, hi;
		pct_ranks(a->n, 0.25, &lo, &hi);
		sel_start(a, SPACE_X, lo);
		sel_start(a, SPACE_X, hi);
		sel_start(a, SPACE_X, (a->n - 1) / 2);
		sel_start(a, SPACE_X, a->n / 2);
		pct_ranks(a->n, 0.75, &lo, &hi);
		sel_start(a, SPACE_X, lo);
		sel_start(a, SPACE_X, hi);
		uint64_t k = a->n / 10 ? a->n / 10 : 1;
		a->energy_k = k;
		sel_start(a, SPACE_ABS, a->n - k);
		/* pass 0 could not histogram (the mean was unknown, the
		 * selectors did not exist): pass 1 starts them at level 0 */
	} else {
		sel_end_pass(a);
		a->moments_done = true;
		if (a->energy_started)
			a->energy_done = true;
	}
	if (!a->mad_started && sels_done(a, 2, 4)) {
		a->median = (a->sel[2].result + a->sel[3].result) / 2;
		sel_start(a, SPACE_DEV, (a->n - 1) / 2);
		sel_start(a, SPACE_DEV, a->n / 2);
		a->mad_started = true;
	}
	if (!a->energy_started && a->sel[6].done) {
		a->thresh = a->sel[6].result;
		a->energy_started = true;
	}
	bool more = !a->moments_done || !a->energy_done ||
		    !sels_done(a, 0, a->nsel);
	a->pass++;
	if (more)
		sel_begin_pass(a);
	return more && !a->oom;
}

/* numpy's _lerp: exact at both ends, symmetric in rounding. */
static double lerp(double lo, double hi, double t)
{
	double d = hi - lo;
	return t >= 0.5 ? hi - d * (1 - t) : lo + d * t;
}

static double pct_value(double p, uint64_t n, double vlo, double vhi)
{
	double pos = p * (double)(n - 1);
	return lerp(vlo, vhi, pos - floor(pos));
}

static void set_empty(struct mp_tstats *o)
{
	for (int i = 0; i < MP_TSTATS_NFIELDS; i++)
		*mp_tstats_field(o, i) = NAN;
}

/* Shape statistics from central sums; NaN for constant data as scipy. */
static void shape_stats(struct mp_tstats *o, double c2, double c3, double c4,
			uint64_t n)
{
	double m2 = c2 / (double)n, m3 = c3 / (double)n, m4 = c4 / (double)n;
	o->std = sqrt(m2);
	if (m2 <= 0 || m2 <= 1e-28 * o->mean * o->mean) {
		o->skew = o->kurtosis = NAN;
	} else {
		o->skew = m3 / pow(m2, 1.5);
		o->kurtosis = m4 / (m2 * m2) - 3.0;
	}
}

struct vc {
	double v;
	uint64_t c;
};

static int cmp_vc(const void *x, const void *y)
{
	double a = ((const struct vc *)x)->v, b = ((const struct vc *)y)->v;
	return a < b ? -1 : a > b;
}

/* Value of ascending rank r in sorted (value, count) pairs. */
static double vc_rank(const struct vc *p, size_t np, uint64_t r)
{
	uint64_t acc = 0;
	for (size_t i = 0; i < np; i++) {
		acc += p[i].c;
		if (r < acc)
			return p[i].v;
	}
	return p[np - 1].v;
}

static mp_status finish_small(struct mp_tstats_acc *a, struct mp_tstats *o)
{
	unsigned ncodes = mp_dtype_size(a->stored) == 1 ? 256 : 65536;
	struct vc *p = malloc(ncodes * sizeof *p);
	if (!p)
		return MP_ENOMEM;
	size_t np = 0;
	uint64_t n = 0, nonfinite = 0, nsparse = 0;
	double sum = 0, l1 = 0, sumsq = 0, linf = 0;
	for (unsigned c = 0; c < ncodes; c++) {
		if (!a->codes[c])
			continue;
		double v = code_value(a, (uint16_t)c);
		if (!isfinite(v)) {
			nonfinite += a->codes[c];
			continue;
		}
		p[np].v = v;
		p[np++].c = a->codes[c];
	}
	qsort(p, np, sizeof *p, cmp_vc);
	/* merge equal values (+0 and -0, distinct codes of one value) */
	size_t w = 0;
	for (size_t i = 0; i < np; i++) {
		if (w && p[w - 1].v == p[i].v)
			p[w - 1].c += p[i].c;
		else
			p[w++] = p[i];
	}
	np = w;
	for (size_t i = 0; i < np; i++) {
		double v = p[i].v, c = (double)p[i].c;
		n += p[i].c;
		sum += c * v;
		l1 += c * fabs(v);
		sumsq += c * v * v;
		if (fabs(v) > linf)
			linf = fabs(v);
		if (fabs(v) < 1e-6)
			nsparse += p[i].c;
	}
	o->n = n;
	o->nonfinite = nonfinite;
	if (n == 0) {
		free(p);
		return MP_OK;
	}
	o->mean = sum / (double)n;
	double c2 = 0, c3 = 0, c4 = 0;
	for (size_t i = 0; i < np; i++) {
		double d = p[i].v - o->mean, c = (double)p[i].c;
		c2 += c * d * d;
		c3 += c * d * d * d;
		c4 += c * d * d * d * d;
	}
	shape_stats(o, c2, c3, c4, n);
	o->min = p[0].v;
	o->max = p[np - 1].v;
	uint64_t lo, hi;
	pct_ranks(n, 0.25, &lo, &hi);
	o->q25 = pct_value(0.25, n, vc_rank(p, np, lo), vc_rank(p, np, hi));
	pct_ranks(n, 0.75, &lo, &hi);
	o->q75 = pct_value(0.75, n, vc_rank(p, np, lo), vc_rank(p, np, hi));
	o->median = (vc_rank(p, np, (n - 1) / 2) + vc_rank(p, np, n / 2)) / 2;
	o->iqr = o->q75 - o->q25;
	o->l1_norm = l1;
	o->l2_norm = sqrt(sumsq);
	o->linf_norm = linf;
	o->sparsity = (double)nsparse / (double)n;
	/* mad: deviations of the distinct values */
	struct vc *d = malloc(np * sizeof *d);
	if (!d) {
		free(p);
		return MP_ENOMEM;
	}
	for (size_t i = 0; i < np; i++) {
		d[i].v = fabs(p[i].v - o->median);
		d[i].c = p[i].c;
	}
	qsort(d, np, sizeof *d, cmp_vc);
	o->mad = (vc_rank(d, np, (n - 1) / 2) + vc_rank(d, np, n / 2)) / 2;
	/* energy: the k largest |x| */
	for (size_t i = 0; i < np; i++) {
		d[i].v = fabs(p[i].v);
		d[i].c = p[i].c;
	}
	qsort(d, np, sizeof *d, cmp_vc);
	uint64_t k = n / 10 ? n / 10 : 1, left = k;
	double top = 0;
	for (size_t i = np; i-- > 0 && left;) {
		uint64_t take = d[i].c < left ? d[i].c : left;
		top += (double)take * d[i].v * d[i].v;
		left -= take;
	}
	o->energy_concentration = sumsq > 0 ? top / sumsq : 0;
	free(d);
	free(p);
	return MP_OK;
}

mp_status mp_tstats_finish(struct mp_tstats_acc *a, struct mp_tstats *o)
{
	memset(o, 0, sizeof *o);
	set_empty(o);
	if (a->oom)
		return MP_ENOMEM;
	if (a->small)
		return finish_small(a, o);
	o->n = a->n;
	o->nonfinite = a->nonfinite;
	if (a->n == 0)
		return MP_OK;
	o->mean = a->mean;
	shape_stats(o, a->c2, a->c3, a->c4, a->n);
	o->min = a->minv;
	o->max = a->maxv;
	o->q25 = pct_value(0.25, a->n, a->sel[0].result, a->sel[1].result);
	o->median = (a->sel[2].result + a->sel[3].result) / 2;
	o->q75 = pct_value(0.75, a->n, a->sel[4].result, a->sel[5].result);
	o->iqr = o->q75 - o->q25;
	o->mad = (a->sel[7].result + a->sel[8].result) / 2;
	o->l1_norm = a->l1;
	o->l2_norm = sqrt(a->sumsq);
	o->linf_norm = a->linf;
	o->sparsity = (double)a->nsparse / (double)a->n;
	double top = a->gt_sumsq +
		     (double)(a->energy_k - a->gt_count) * a->thresh * a->thresh;
	o->energy_concentration = a->sumsq > 0 ? top / a->sumsq : 0;
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
