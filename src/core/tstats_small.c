/* tstats_small.c — exact statistics of stored types of at most 16 bits in
 * one pass: raw codes are counted into interleaved histograms (or, for few
 * 16-bit values, kept and sorted), and every statistic is then derived from
 * the distinct (value, count) pairs. */
#include "tstats_int.h"

#include <stdlib.h>

#define NSUB 4

struct mp_tstats_small {
	enum mp_dtype stored;
	struct mp_quant quant;
	uint64_t *codes;   /* [ncodes] */
	uint32_t *sub;     /* [NSUB][ncodes], NULL for small tensors */
	uint64_t pending;  /* values counted in sub since the last flush */
	unsigned ncodes;
	uint16_t *raw;     /* [rawcap] codes of a tiny tensor, codes NULL */
	uint64_t nraw, rawcap;
	bool over;         /* more values fed than numel */
};

struct mp_tstats_small *mp_tstats_small_new(enum mp_dtype stored,
					    const struct mp_quant *quant,
					    uint64_t numel, uint64_t tiny_max)
{
	struct mp_tstats_small *a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	a->stored = stored;
	if (quant)
		a->quant = *quant;
	a->ncodes = mp_dtype_size(stored) == 1 ? 256 : 65536;
	if (a->ncodes == 65536 && numel <= tiny_max) {
		a->rawcap = numel;
		if (!(a->raw = malloc((numel ? numel : 1) * sizeof *a->raw))) {
			free(a);
			return NULL;
		}
		return a;
	}
	a->codes = calloc(a->ncodes, sizeof *a->codes);
	if (numel >= 4096)
		a->sub = calloc((size_t)NSUB * a->ncodes, sizeof *a->sub);
	if (!a->codes || (numel >= 4096 && !a->sub)) {
		mp_tstats_small_free(a);
		return NULL;
	}
	return a;
}

void mp_tstats_small_free(struct mp_tstats_small *a)
{
	if (!a)
		return;
	free(a->codes);
	free(a->sub);
	free(a->raw);
	free(a);
}

static void flush_sub(struct mp_tstats_small *a)
{
	for (unsigned s = 0; s < NSUB; s++) {
		uint32_t *h = a->sub + (size_t)s * a->ncodes;
		for (unsigned c = 0; c < a->ncodes; c++)
			a->codes[c] += h[c];
		memset(h, 0, a->ncodes * sizeof *h);
	}
	a->pending = 0;
}

void mp_tstats_small_feed(struct mp_tstats_small *a, const uint8_t *b,
			  uint64_t n)
{
	uint64_t *c = a->codes;
	if (a->raw) {
		if (n > a->rawcap - a->nraw) {
			a->over = true;
			return;
		}
		for (uint64_t i = 0; i < n; i++)
			a->raw[a->nraw++] =
			    (uint16_t)(b[2 * i] | (unsigned)b[2 * i + 1] << 8);
		return;
	}
	if (!a->sub) {
		if (a->ncodes == 256)
			for (uint64_t i = 0; i < n; i++)
				c[b[i]]++;
		else
			for (uint64_t i = 0; i < n; i++)
				c[b[2 * i] | (unsigned)b[2 * i + 1] << 8]++;
		return;
	}
	uint32_t *h0 = a->sub, *h1 = h0 + a->ncodes, *h2 = h1 + a->ncodes,
		 *h3 = h2 + a->ncodes;
	while (n) {
		/* each sub-histogram gets at most pending/NSUB + 1 counts */
		if (a->pending >= (1ULL << 33))
			flush_sub(a);
		uint64_t m = n < (1u << 30) ? n : (1u << 30), i = 0;
		if (a->ncodes == 256) {
			for (; i + 4 <= m; i += 4) {
				h0[b[i]]++;
				h1[b[i + 1]]++;
				h2[b[i + 2]]++;
				h3[b[i + 3]]++;
			}
			for (; i < m; i++)
				h0[b[i]]++;
			b += m;
		} else {
			for (; i + 4 <= m; i += 4) {
				uint64_t w;
				memcpy(&w, b + 2 * i, 8);
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
				w = __builtin_bswap64(w);
				w = (w >> 48) | ((w >> 16) & 0xffff0000ULL) |
				    ((w << 16) & 0xffff00000000ULL) | (w << 48);
#endif
				h0[w & 0xffff]++;
				h1[(w >> 16) & 0xffff]++;
				h2[(w >> 32) & 0xffff]++;
				h3[w >> 48]++;
			}
			for (; i < m; i++)
				h0[b[2 * i] | (unsigned)b[2 * i + 1] << 8]++;
			b += 2 * m;
		}
		a->pending += m;
		n -= m;
	}
}

/* Logical value of a raw code, as mp_tensor_decode gives it. */
static double code_value(const struct mp_tstats_small *a, uint16_t code)
{
	double v = mp_dtype_decode16(a->stored, code);
	if (a->quant.kind == MP_QUANT_AFFINE)
		v = (double)(float)(v * a->quant.scale + a->quant.min);
	return v;
}

struct vc {
	double v;
	uint64_t c;
};

static int cmp_u16(const void *x, const void *y)
{
	uint16_t a = *(const uint16_t *)x, b = *(const uint16_t *)y;
	return (a > b) - (a < b);
}

/* The next distinct code from *at on, in ascending order, and how many
 * values have it; false after the last. */
static bool next_code(struct mp_tstats_small *a, uint64_t *at, uint16_t *code,
		      uint64_t *count)
{
	if (a->raw) {
		if (*at >= a->nraw)
			return false;
		uint64_t i = *at;
		while (*at < a->nraw && a->raw[*at] == a->raw[i])
			++*at;
		*code = a->raw[i];
		*count = *at - i;
		return true;
	}
	while (*at < a->ncodes && !a->codes[*at])
		++*at;
	if (*at >= a->ncodes)
		return false;
	*code = (uint16_t)*at;
	*count = a->codes[(*at)++];
	return true;
}

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

static double vc_median(const struct vc *p, size_t np, uint64_t n)
{
	if (n % 2)
		return vc_rank(p, np, n / 2);
	return (vc_rank(p, np, n / 2 - 1) + vc_rank(p, np, n / 2)) / 2;
}

mp_status mp_tstats_small_finish(struct mp_tstats_small *a,
				 struct mp_tstats *o)
{
	if (a->over)
		return MP_EIO;
	if (a->sub)
		flush_sub(a);
	size_t cap = a->ncodes;
	if (a->raw) {
		qsort(a->raw, a->nraw, sizeof *a->raw, cmp_u16);
		cap = a->nraw ? (size_t)a->nraw : 1;
	}
	struct vc *p = malloc(cap * sizeof *p);
	struct vc *d = malloc(cap * sizeof *d);
	if (!p || !d) {
		free(p);
		free(d);
		return MP_ENOMEM;
	}
	size_t np = 0;
	uint64_t n = 0, nsparse = 0;
	o->nonfinite = 0;
	uint16_t code;
	uint64_t count;
	for (uint64_t at = 0; next_code(a, &at, &code, &count);) {
		double v = code_value(a, code);
		if (!isfinite(v)) {
			o->nonfinite += count;
			continue;
		}
		p[np].v = v;
		p[np++].c = count;
	}
	qsort(p, np, sizeof *p, cmp_vc);
	size_t w = 0; /* merge equal values: +0 and -0, equal affine codes */
	for (size_t i = 0; i < np; i++) {
		if (w && p[w - 1].v == p[i].v)
			p[w - 1].c += p[i].c;
		else
			p[w++] = p[i];
	}
	np = w;
	struct ksum sum = {0}, l1 = {0}, sumsq = {0};
	for (size_t i = 0; i < np; i++) {
		double v = p[i].v, c = (double)p[i].c;
		n += p[i].c;
		kadd(&sum, c * (v - p[0].v));
		kadd(&l1, c * fabs(v));
		kadd(&sumsq, c * (v * v));
		if (fabs(v) < 1e-6)
			nsparse += p[i].c;
	}
	o->n = n;
	if (n == 0)
		goto out;
	o->mean = p[0].v + kval(&sum) / (double)n;
	struct ksum c2 = {0}, c3 = {0}, c4 = {0};
	for (size_t i = 0; i < np; i++) {
		double e = p[i].v - o->mean, c = (double)p[i].c, e2 = e * e;
		kadd(&c2, c * e2);
		kadd(&c3, c * (e2 * e));
		kadd(&c4, c * (e2 * e2));
	}
	mp_tstats_shape(o, kval(&c2), kval(&c3), kval(&c4), n);
	o->min = p[0].v;
	o->max = p[np - 1].v;
	uint64_t lo = (n - 1) / 4, hi = lo + ((n - 1) % 4 != 0);
	o->q25 = pct_value(0.25, n, vc_rank(p, np, lo), vc_rank(p, np, hi));
	lo = 3 * ((n - 1) / 4) + (3 * ((n - 1) % 4)) / 4;
	hi = 3 * ((n - 1) / 4) + (3 * ((n - 1) % 4) + 3) / 4;
	o->q75 = pct_value(0.75, n, vc_rank(p, np, lo), vc_rank(p, np, hi));
	o->median = vc_median(p, np, n);
	o->iqr = o->q75 - o->q25;
	o->l1_norm = kval(&l1);
	o->l2_norm = sqrt(kval(&sumsq));
	o->linf_norm = fmax(fabs(o->min), fabs(o->max));
	o->sparsity = (double)nsparse / (double)n;
	for (size_t i = 0; i < np; i++) {
		d[i].v = fabs(p[i].v - o->median);
		d[i].c = p[i].c;
	}
	qsort(d, np, sizeof *d, cmp_vc);
	o->mad = vc_median(d, np, n);
	for (size_t i = 0; i < np; i++) {
		d[i].v = fabs(p[i].v);
		d[i].c = p[i].c;
	}
	qsort(d, np, sizeof *d, cmp_vc);
	uint64_t left = n / 10 ? n / 10 : 1;
	struct ksum top = {0};
	for (size_t i = np; i-- > 0 && left;) {
		uint64_t take = d[i].c < left ? d[i].c : left;
		kadd(&top, (double)take * (d[i].v * d[i].v));
		left -= take;
	}
	double ss = kval(&sumsq);
	o->energy_concentration = ss > 0 ? kval(&top) / ss : 0;
out:
	free(d);
	free(p);
	return MP_OK;
}
