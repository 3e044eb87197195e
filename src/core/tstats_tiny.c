/* tstats_tiny.c — the tiny path of wide types: a tensor of at most
 * TINY_MAX values keeps its finite values in pass 0 (which sums as usual
 * but builds no histogram), and every order statistic is then read from
 * sorted keys, in time proportional to n log n. The results are the ones
 * the passes over histograms give, bit for bit: the same keys are
 * selected, and the central sums and the energy numerator are added chunk
 * by chunk, lane by lane, in the order pass 1 adds them. */
#include "tstats_int.h"

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
	uint64_t *ks = malloc(n * sizeof *ks);
	if (!kx || !ka || !ks) {
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
	qsort(kx, n, sizeof *kx, cmp_u64);
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
	qsort(ks, n, sizeof *ks, cmp_u64);
	energy(a, ka, ks);
	/* the mad: keys of d = |x - median| */
	for (uint64_t i = 0; i < n; i++)
		ks[i] = key64(fabs(a->vals[i] - a->median));
	qsort(ks, n, sizeof *ks, cmp_u64);
	mp_tstats_sel_done(a, SEL_MADA, SP_DEV, (n - 1) / 2, ks[(n - 1) / 2]);
	mp_tstats_sel_done(a, SEL_MADB, SP_DEV, n / 2, ks[n / 2]);
out:
	free(kx);
	free(ka);
	free(ks);
}
