/* tstats_tiny.c — the tiny path of wide types: a tensor of at most
 * TINY_MAX values keeps its finite values in pass 0 (which sums as usual
 * but builds no histogram), and every order statistic is then read from
 * sorted keys (radix sorted: time proportional to n). The results are the ones
 * the passes over histograms give, bit for bit: the same keys are
 * selected, and the central sums and the energy numerator are added chunk
 * by chunk, lane by lane, in the order pass 1 adds them. */
#include "tstats_int.h"

#include <assert.h>
#include <stdlib.h>

static uint64_t x_key(int width, double x)
{
	if (width == 32) {
		float f = (float)x; /* exact: the value came from a float */
		uint32_t u;
		memcpy(&u, &f, 4);
		return key32(u);
	}
	return key64(x);
}

/* Sort k[0..n) ascending: insertion for a few keys, else least significant
 * digit first, a byte a pass (the counts of all eight bytes taken in one
 * read), skipping the bytes all keys share; tmp holds n keys. */
static void sort_keys(uint64_t *k, uint64_t *tmp, size_t n)
{
	if (n <= 48) {
		for (size_t i = 1; i < n; i++) {
			uint64_t v = k[i];
			size_t j = i;
			for (; j > 0 && k[j - 1] > v; j--)
				k[j] = k[j - 1];
			k[j] = v;
		}
		return;
	}
	static_assert(TINY_MAX < UINT32_MAX, "counts are 32-bit");
	uint32_t count[8][256];
	memset(count, 0, sizeof count);
	for (size_t i = 0; i < n; i++)
		for (int b = 0; b < 8; b++)
			count[b][(k[i] >> (8 * b)) & 255]++;
	uint64_t *src = k, *dst = tmp;
	for (int b = 0; b < 8; b++) {
		uint32_t *c = count[b];
		if (c[(k[0] >> (8 * b)) & 255] == n)
			continue;
		uint32_t at = 0;
		for (int d = 0; d < 256; d++) {
			uint32_t m = c[d];
			c[d] = at;
			at += m;
		}
		for (size_t i = 0; i < n; i++)
			dst[c[(src[i] >> (8 * b)) & 255]++] = src[i];
		uint64_t *t = src;
		src = dst;
		dst = t;
	}
	if (src != k)
		memcpy(k, src, n * sizeof *k);
}

/* Key of |x| from the key k of x (the SP_ABS space). */
static uint64_t abs_key(int width, uint64_t k)
{
	if (width == 32)
		return (k >> 31) ? k : (~k & 0xffffffffULL);
	return (k >> 63) ? k : ~k;
}

/* The energy numerator as pass 1 finds it: the threshold t is the |x| of
 * rank n - k; the squares of the values in higher top-16 buckets are summed
 * chunk by chunk, then those in t's bucket above t one by one from the
 * largest, then t^2 for each of the k values not counted yet. ka holds the
 * keys of |x| in order, sorted a copy of them ascending. */
static void energy(struct mp_tstats_acc *a, const uint64_t *ka,
		   const uint64_t *sorted)
{
	uint64_t n = a->n, k = a->energy_k, tkey = sorted[n - k];
	int sh = a->width - 16;
	uint64_t b = tkey >> sh, hi = (b << sh) | ((1ULL << sh) - 1);
	struct ksum s = {0, 0};
	uint64_t c = 0, start = 0;
	for (uint64_t e = 0; e < a->nends; start = a->ends[e++])
		c += mp_tstats_above(a->vals + start, ka + start,
				     a->ends[e] - start, hi, &s);
	for (uint64_t i = n; i-- > 0 && sorted[i] > tkey;) {
		if (sorted[i] > hi)
			continue; /* summed above */
		double v = key_value(a->width, sorted[i]);
		kadd(&s, v * v);
		c++;
	}
	double t = key_value(a->width, tkey);
	mp_tstats_sel_done(a, SEL_ENERGY, SP_ABS, n - k, tkey);
	a->thresh = t;
	if (c > k) {
		a->bad = true;
		a->energy_num = NAN;
		return;
	}
	a->energy_num = kval(&s) + (double)(k - c) * (t * t);
}

void mp_tstats_tiny_settle(struct mp_tstats_acc *a)
{
	uint64_t n = a->n, start = 0;
	int w = a->width;
	uint64_t *kx = malloc(n * sizeof *kx), *ka = malloc(n * sizeof *ka);
	uint64_t *ks = malloc(n * sizeof *ks), *tmp = malloc(n * sizeof *tmp);
	if (!kx || !ka || !ks || !tmp) {
		a->oom = true;
		goto out;
	}
	a->mean = a->shift + kval(&a->sum) / (double)n;
	for (uint64_t e = 0; e < a->nends; start = a->ends[e++])
		mp_tstats_moments(a, a->vals + start, a->ends[e] - start);
	a->moments_done = true;
	for (uint64_t i = 0; i < n; i++) {
		kx[i] = x_key(w, a->vals[i]);
		ka[i] = abs_key(w, kx[i]);
	}
	sort_keys(kx, tmp, n);
	const struct {
		int sel;
		uint64_t rank;
	} ranks[] = {
	    {SEL_Q25A, (n - 1) / 4},
	    {SEL_Q25B, (n - 1) / 4 + ((n - 1) % 4 != 0)},
	    {SEL_MEDA, (n - 1) / 2},
	    {SEL_MEDB, n / 2},
	    {SEL_Q75A, 3 * ((n - 1) / 4) + (3 * ((n - 1) % 4)) / 4},
	    {SEL_Q75B, 3 * ((n - 1) / 4) + (3 * ((n - 1) % 4) + 3) / 4},
	};
	for (size_t i = 0; i < sizeof ranks / sizeof *ranks; i++)
		mp_tstats_sel_done(a, ranks[i].sel, SP_X, ranks[i].rank,
				   kx[ranks[i].rank]);
	uint64_t m0 = kx[(n - 1) / 2], m1 = kx[n / 2];
	a->median = m0 == m1 ? key_value(w, m0)
			     : (key_value(w, m0) + key_value(w, m1)) / 2;
	a->energy_k = n / 10 ? n / 10 : 1;
	memcpy(ks, ka, n * sizeof *ks);
	sort_keys(ks, tmp, n);
	energy(a, ka, ks);
	/* the mad: keys of d = |x - median| */
	for (uint64_t i = 0; i < n; i++)
		ks[i] = key64(fabs(a->vals[i] - a->median));
	sort_keys(ks, tmp, n);
	mp_tstats_sel_done(a, SEL_MADA, SP_DEV, (n - 1) / 2, ks[(n - 1) / 2]);
	mp_tstats_sel_done(a, SEL_MADB, SP_DEV, n / 2, ks[n / 2]);
out:
	free(kx);
	free(ka);
	free(ks);
	free(tmp);
}
