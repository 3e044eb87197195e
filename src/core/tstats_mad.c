/* tstats_mad.c — the mad, median(|x - median|), of wide types: both middle
 * ranks of d are bracketed with the pass-0 histogram of the top 16 key bits.
 * For 32-bit keys the buckets that may hold them, for any median inside the
 * median's pass-0 buckets, are gathered during pass 1 and settled by
 * selection once pass 1 has made the median exact: F32 takes 2 passes.
 * Otherwise (too many candidates, 64-bit keys) the mad gets selectors of
 * its own over keys of d from the pass after the median is exact. */
#include "tstats_int.h"

#include <stdlib.h>

/* Put the value of rank r of k[0..n) at k[r], the smaller ones before it
 * and the larger after (Hoare partitions around a median of three; qsort
 * once the partitions stop shrinking, so hostile input stays n log n). */
static void select_u64(uint64_t *k, size_t n, size_t r)
{
	size_t lo = 0, hi = n, budget = 64;
	while (hi - lo > 16) {
		if (!budget--) {
			qsort(k + lo, hi - lo, sizeof *k, cmp_u64);
			return;
		}
		uint64_t x = k[lo], y = k[lo + (hi - lo) / 2], z = k[hi - 1];
		uint64_t p = x < y ? (y < z ? y : (x < z ? z : x))
				   : (x < z ? x : (y < z ? z : y));
		size_t i = lo, j = hi - 1;
		for (;;) {
			while (k[i] < p)
				i++;
			while (k[j] > p)
				j--;
			if (i >= j)
				break;
			uint64_t t = k[i];
			k[i++] = k[j];
			k[j--] = t;
		}
		/* k[lo..j] <= p <= k[j+1..hi) */
		if (r <= j)
			hi = j + 1;
		else
			lo = j + 1;
	}
	qsort(k + lo, hi - lo, sizeof *k, cmp_u64);
}

/* Interval of |x - m| over the values x of top-16 bucket b and every m in
 * [m0, m1]. Rounded subtraction is monotonic, so the bounds computed from
 * the ends hold for the rounded |x - m| as well. */
static void bucket_dev(const struct mp_tstats_acc *a, unsigned b, double m0,
		       double m1, double *dmin, double *dmax)
{
	int sh = a->width - 16;
	uint64_t span = (1ULL << sh) - 1;
	double lo = key_value(a->width, (uint64_t)b << sh);
	double hi = key_value(a->width, ((uint64_t)b << sh) | span);
	if (!isfinite(lo) || !isfinite(hi)) {
		*dmin = 0;
		*dmax = INFINITY;
	} else if (lo >= m1) {
		*dmin = lo - m1;
		*dmax = hi - m0;
	} else if (hi <= m0) {
		*dmin = m0 - hi;
		*dmax = m1 - lo;
	} else {
		*dmin = 0;
		*dmax = fmax(hi - m0, m1 - lo);
	}
}

struct dc {
	double d;
	uint64_t c;
};

static int cmp_dc(const void *x, const void *y)
{
	double a = ((const struct dc *)x)->d, b = ((const struct dc *)y)->d;
	return a < b ? -1 : a > b;
}

/* Smallest t among p[].d whose cumulative count exceeds rank. */
static double dc_rank(struct dc *p, size_t np, uint64_t rank)
{
	qsort(p, np, sizeof *p, cmp_dc);
	uint64_t acc = 0;
	for (size_t i = 0; i < np; i++) {
		acc += p[i].c;
		if (acc > rank)
			return p[i].d;
	}
	return INFINITY;
}

/* Bracket the mad with the pass-0 histogram, for a median known to lie in
 * [m0, m1]: both middle ranks of d = |x - median| lie in [*tlo, *thi],
 * where tlo is the least t such that the buckets that may hold a d <= t hold
 * more than rank (n-1)/2 values, and thi the least t such that the buckets
 * that surely do hold more than rank n/2 values. Sets *cand to the number
 * of values in the buckets whose d interval meets the bracket and *below to
 * the number in those lying wholly below it. False when there is no finite
 * bracket or no memory. */
static bool mad_bracket(const struct mp_tstats_acc *a, double m0, double m1,
			double *tlo, double *thi, uint64_t *cand,
			uint64_t *below)
{
	uint64_t r1 = (a->n - 1) / 2, r2 = a->n / 2;
	struct dc *pmin = malloc(65536 * sizeof *pmin);
	struct dc *pmax = malloc(65536 * sizeof *pmax);
	bool ok = pmin && pmax && isfinite(m0) && isfinite(m1);
	if (ok) {
		size_t np = 0;
		for (unsigned b = 0; b < 65536; b++) {
			if (!a->top[b])
				continue;
			bucket_dev(a, b, m0, m1, &pmin[np].d, &pmax[np].d);
			pmin[np].c = pmax[np].c = a->top[b];
			np++;
		}
		*tlo = dc_rank(pmin, np, r1);
		*thi = dc_rank(pmax, np, r2);
		ok = isfinite(*thi) && *tlo <= *thi;
	}
	free(pmin);
	free(pmax);
	if (!ok)
		return false;
	*cand = *below = 0;
	for (unsigned b = 0; b < 65536; b++) {
		double d0, d1;
		if (!a->top[b])
			continue;
		bucket_dev(a, b, m0, m1, &d0, &d1);
		if (d1 < *tlo)
			*below += a->top[b];
		else if (d0 <= *thi)
			*cand += a->top[b];
	}
	return true;
}

/* Start the two mad selectors once the median is exact, from a range
 * bracketed with the pass-0 histogram. */
void mp_tstats_start_mad(struct mp_tstats_acc *a)
{
	uint64_t r1 = (a->n - 1) / 2, r2 = a->n / 2;
	uint64_t lo = 0, hi = UINT64_MAX, expect = UINT64_MAX, below;
	double tlo, thi;
	if (mad_bracket(a, a->median, a->median, &tlo, &thi, &expect,
			&below)) {
		lo = key64(tlo);
		hi = key64(thi);
	} else {
		expect = UINT64_MAX;
	}
	mp_tstats_sel_start(a, SEL_MADA, SP_DEV, r1, lo, hi, expect);
	mp_tstats_sel_start(a, SEL_MADB, SP_DEV, r2, lo, hi, expect);
}

/* Pass 1 of 32-bit keys: the median lies between the bottom of the
 * bucket of rank (n-1)/2 and the top of that of rank n/2. Mark the buckets
 * that may hold the mad for gathering when they hold at most CAND_MAX
 * values; otherwise the mad takes a pass of its own. */
void mp_tstats_plan_cand(struct mp_tstats_acc *a)
{
	const struct selector *s0 = &a->sel[SEL_MEDA], *s1 = &a->sel[SEL_MEDB];
	double m0 = key_value(a->width, s0->done ? s0->key : s0->lo);
	double m1 = key_value(a->width, s1->done ? s1->key : s1->hi);
	uint64_t ncand;
	if (!mad_bracket(a, m0, m1, &a->cand_tlo, &a->cand_thi, &ncand,
			 &a->cand_below) ||
	    ncand > CAND_MAX ||
	    !(a->cand = malloc((ncand ? ncand : 1) * sizeof *a->cand)))
		return;
	a->cand_cap = ncand;
	for (unsigned b = 0; b < 65536; b++) {
		double d0, d1;
		if (!a->top[b])
			continue;
		bucket_dev(a, b, m0, m1, &d0, &d1);
		if (d1 >= a->cand_tlo && d0 <= a->cand_thi)
			a->map[b] |= 128;
	}
}

/* End of pass 1 with gathered candidates and the exact median: the value
 * of rank r among all d is the candidate of rank r - cand_below when that
 * one lies in the bracket (the values wholly below it are all smaller, the
 * others outside the candidates all larger). False when the candidates do
 * not settle both ranks, which leaves the mad to a pass of its own. */
bool mp_tstats_mad_from_cand(struct mp_tstats_acc *a)
{
	uint64_t r[2] = {(a->n - 1) / 2, a->n / 2}, *d = NULL;
	bool ok = a->ncand == a->cand_cap && a->ncand &&
		  (d = malloc(a->ncand * sizeof *d));
	for (uint64_t i = 0; ok && i < a->ncand; i++)
		d[i] = key64(fabs(val32(a->cand[i]) - a->median));
	uint64_t key[2] = {0, 0};
	for (int t = 0; ok && t < 2; t++) {
		ok = r[t] >= a->cand_below && r[t] - a->cand_below < a->ncand;
		if (!ok)
			break;
		uint64_t q = r[t] - a->cand_below;
		if (t == 0 || q != r[0] - a->cand_below) {
			/* rank r[1] = r[0] + 1: the least key after r[0] */
			if (t == 1 && q == r[0] - a->cand_below + 1) {
				uint64_t m = d[q];
				for (uint64_t i = q + 1; i < a->ncand; i++)
					m = d[i] < m ? d[i] : m;
				d[q] = m;
			} else {
				select_u64(d, a->ncand, q);
			}
		}
		key[t] = d[q];
		double v = val64(key[t]);
		ok = v >= a->cand_tlo && v <= a->cand_thi;
	}
	free(d);
	free(a->cand);
	a->cand = NULL;
	if (!ok)
		return false;
	for (int t = 0; t < 2; t++)
		mp_tstats_sel_done(a, SEL_MADA + t, SP_DEV, r[t], key[t]);
	return true;
}
