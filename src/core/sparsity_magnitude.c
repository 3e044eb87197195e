/* sparsity_magnitude.c — magnitude pruning recognised from the pruned
 * values alone, per tensor and across a model (rules in sparsity.h).
 *
 * Why the bounds hold:
 * - Random zeros leave survivors whose |w| keeps its full distribution
 *   down to 0. For Gaussian weights (sd s) |w| is half-normal, of density
 *   0.798 / s at 0 and median 0.674 s; the chance that all n survivors lie
 *   above 0.05 x the median (0.0337 s) is about exp(-0.798 * 0.0337 n) =
 *   exp(-0.0269 n): 1.1e-12 for n = MP_MAG_MIN_KEPT = 1024. Uniform
 *   weights on [-a, a] (density 1/a at 0, median a/2) give exp(-0.025 n),
 *   7.6e-12. So min/median >= MP_MAG_RATIO_MIN = 0.05 does not happen by
 *   chance.
 * - Magnitude pruning of a share z leaves min/median = q(z) / q((1+z)/2)
 *   with q the quantile of |w|: 0.088 at z = 0.05, 0.17 at 0.1, 0.59 at
 *   0.5, 0.84 at 0.9 for Gaussian weights, 0.069 at z = 0.05 and 0.5 at
 *   0.5 for Laplace ones: above 0.05 from MP_MAG_MIN_SHARE = 5 % zeros on.
 * - One global threshold T leaves in each tensor a smallest survivor just
 *   above T: the gap is about 1 / (n f(T)) for n weights of density f at
 *   T, well under MP_MAG_TOLERANCE = 2 % of T for tensors of a thousand
 *   weights or more whose spread is within a few times T; thresholds set
 *   per tensor at the same share differ by the tensors' spreads, which in
 *   real models differ by far more than 2 %. */
#include "sparsity.h"
#include "mapguard.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK 4096

mp_status mp_sparsity_read(const struct mp_model *m, const struct mp_tensor *t,
			   uint64_t off, size_t n, uint8_t *scratch,
			   double *out, struct mp_error *err)
{
	struct mp_mapguard g;
	if (MP_MAPGUARD_BEGIN(&g))
		return mp_mapguard_error(
		    mp_mapguard_file(g.addr, m->files, m->nfiles), err);
	const uint8_t *b =
	    mp_tensor_elems(t, off, n, scratch);
	mp_tensor_decode(t, b, n, out);
	mp_mapguard_end(&g);
	return MP_OK;
}

/* Reorder x[0..n) so that x[k] is the k-th smallest, none before it
 * larger and none after it smaller (Hoare's selection, median-of-three
 * pivots): O(n) on average where sorting the sample would be O(n log n). */
static void select_kth(double *x, size_t n, size_t k)
{
	size_t lo = 0, hi = n - 1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		double a = x[lo], b = x[mid], c = x[hi];
		double piv = a < b ? (b < c ? b : a < c ? c : a)
				   : (a < c ? a : b < c ? c : b);
		size_t i = lo, j = hi;
		while (i <= j) {
			while (x[i] < piv)
				i++;
			while (x[j] > piv)
				j--;
			if (i <= j) {
				double t = x[i];
				x[i] = x[j];
				x[j] = t;
				i++;
				if (j == 0)
					break;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			return;
	}
}

/* Median of x[0..n), n >= 1 (reorders x). */
static double median(double *x, size_t n)
{
	select_kth(x, n, n / 2);
	double m = x[n / 2];
	if (n % 2)
		return m;
	double below = x[0]; /* the largest of x[0..n/2) */
	for (size_t i = 1; i < n / 2; i++)
		below = x[i] > below ? x[i] : below;
	return (below + m) / 2;
}

mp_status mp_magnitude_of(const struct mp_model *m, const struct mp_tensor *t,
			  struct mp_magnitude *out, struct mp_error *err)
{
	memset(out, 0, sizeof *out);
	out->numel = t->numel;
	out->min_kept = out->median_kept = out->ratio = NAN;
	uint64_t k = t->numel / MP_MAG_SAMPLE + 1;
	if (k > 1 && k % 2 == 0)
		k++;
	size_t cap = (size_t)(t->numel / k + 1), ns = 0;
	unsigned es = mp_dtype_size(t->stored);
	uint8_t *scratch = malloc((size_t)CHUNK * es);
	double *v = malloc(CHUNK * sizeof *v);
	double *sample = malloc(cap * sizeof *sample);
	mp_status st = MP_OK;
	if (!scratch || !v || !sample) {
		st = mp_error_set(err, MP_ENOMEM, "out of memory");
		goto out;
	}
	double lo = INFINITY;
	for (uint64_t off = 0; off < t->numel; off += CHUNK) {
		size_t n = t->numel - off < CHUNK ? (size_t)(t->numel - off)
						  : CHUNK;
		if ((st = mp_sparsity_read(m, t, off, n, scratch, v, err)) !=
		    MP_OK)
			goto out;
		for (size_t i = 0; i < n; i++) {
			double a = fabs(v[i]);
			if (a == 0) {
				out->zeros++;
				continue;
			}
			if (isnan(a))
				continue;
			out->kept++;
			lo = a < lo ? a : lo;
			if ((off + i) % k == 0 && ns < cap)
				sample[ns++] = a;
		}
	}
	if (out->kept) {
		out->min_kept = lo;
		out->median_kept = ns ? median(sample, ns) : lo;
		out->ratio = out->min_kept / out->median_kept;
	}
	double share = t->numel ? (double)out->zeros / (double)t->numel : 0;
	out->pruned = share >= MP_MAG_MIN_SHARE && out->kept >= MP_MAG_MIN_KEPT;
	out->magnitude = out->pruned && out->ratio >= MP_MAG_RATIO_MIN;
	if (!out->kept)
		snprintf(out->evidence, sizeof out->evidence,
			 "no surviving weight");
	else if (!out->pruned)
		snprintf(out->evidence, sizeof out->evidence,
			 "%.1f %% zeros, %llu survivors: too few to tell",
			 100 * share, (unsigned long long)out->kept);
	else
		snprintf(out->evidence, sizeof out->evidence,
			 "smallest surviving |w| %.4g is %.3g x the median "
			 "%.4g (%s %.2f)%s",
			 out->min_kept, out->ratio, out->median_kept,
			 out->magnitude ? ">=" : "<", MP_MAG_RATIO_MIN,
			 out->magnitude ? ": a magnitude threshold"
					: ": zeros not by magnitude");
out:
	free(scratch);
	free(v);
	free(sample);
	return st;
}

void mp_magnitude_grouped(struct mp_magnitude *g,
			  const struct mp_prune_profile *p)
{
	const char *within;
	switch (p->pattern) {
	case MP_PRUNE_PER_ROW: within = "each row"; break;
	case MP_PRUNE_NM_ROWS:
	case MP_PRUNE_NM_COLS: within = "each N:M group"; break;
	case MP_PRUNE_PER_BLOCK: within = "each 128-column block"; break;
	default: return;
	}
	if (!g->magnitude)
		return;
	g->grouped = true;
	snprintf(g->evidence, sizeof g->evidence,
		 "smallest surviving |w| %.4g is %.3g x the median %.4g: "
		 "magnitude pruning within %s (equal zero counts), not one "
		 "threshold",
		 g->min_kept, g->ratio, g->median_kept, within);
}

void mp_magnitude_model(const struct mp_magnitude *v, size_t n,
			struct mp_mag_model *o)
{
	memset(o, 0, sizeof *o);
	o->t_min = INFINITY;
	o->t_max = -INFINITY;
	for (size_t i = 0; i < n; i++) {
		if (!v[i].pruned)
			continue;
		o->pruned++;
		o->numel += v[i].numel;
		o->zeros += v[i].zeros;
		if (!v[i].magnitude)
			continue;
		o->magnitude++;
		o->grouped += v[i].grouped;
		o->t_min = v[i].min_kept < o->t_min ? v[i].min_kept : o->t_min;
		o->t_max = v[i].min_kept > o->t_max ? v[i].min_kept : o->t_max;
	}
	double pct = o->numel ? 100.0 * (double)o->zeros / (double)o->numel : 0;
	if (!o->magnitude) {
		o->t_min = o->t_max = NAN;
		o->verdict = MP_MAG_NONE;
		if (!o->pruned)
			snprintf(o->evidence, sizeof o->evidence,
				 "no tensor has %.0f %% zeros or more with %d "
				 "survivors or more",
				 100 * MP_MAG_MIN_SHARE, MP_MAG_MIN_KEPT);
		else
			snprintf(o->evidence, sizeof o->evidence,
				 "none of %zu pruned tensors shows a magnitude "
				 "threshold; %.1f %% zeros",
				 o->pruned, pct);
	} else if (o->magnitude < o->pruned) {
		o->verdict = MP_MAG_MIXED;
		snprintf(o->evidence, sizeof o->evidence,
			 "%zu of %zu pruned tensors show a magnitude threshold "
			 "(smallest survivors %.4g to %.4g), the others do not",
			 o->magnitude, o->pruned, o->t_min, o->t_max);
	} else if (o->grouped == o->magnitude) {
		o->verdict = MP_MAG_GROUPED;
		snprintf(o->evidence, sizeof o->evidence,
			 "each of %zu pruned tensor%s lost its smallest |w| "
			 "within rows, N:M groups or blocks (equal zero "
			 "counts), not by one threshold; %.1f %% zeros",
			 o->pruned, o->pruned == 1 ? "" : "s", pct);
	} else if (o->grouped) {
		o->verdict = MP_MAG_MIXED;
		snprintf(o->evidence, sizeof o->evidence,
			 "%zu of %zu pruned tensors by a threshold, %zu by "
			 "magnitude within rows, N:M groups or blocks "
			 "(smallest survivors %.4g to %.4g)",
			 o->magnitude - o->grouped, o->pruned, o->grouped,
			 o->t_min, o->t_max);
	} else if (o->t_max <= o->t_min * (1 + MP_MAG_TOLERANCE)) {
		o->verdict = MP_MAG_GLOBAL;
		snprintf(o->evidence, sizeof o->evidence,
			 "no surviving |w| below %.4g in any of %zu tensor%s "
			 "(smallest survivors within %.0f %%); %.1f %% zeros",
			 o->t_min, o->pruned, o->pruned == 1 ? "" : "s",
			 100 * MP_MAG_TOLERANCE, pct);
	} else {
		o->verdict = MP_MAG_PER_TENSOR;
		snprintf(o->evidence, sizeof o->evidence,
			 "each of %zu tensors has its own threshold: smallest "
			 "surviving |w| from %.4g to %.4g; %.1f %% zeros",
			 o->pruned, o->t_min, o->t_max, pct);
	}
}

const char *mp_mag_verdict_name(enum mp_mag_verdict v)
{
	switch (v) {
	case MP_MAG_GLOBAL: return "global";
	case MP_MAG_PER_TENSOR: return "per-tensor";
	case MP_MAG_MIXED: return "mixed";
	case MP_MAG_GROUPED: return "within-groups";
	case MP_MAG_NONE: break;
	}
	return "none";
}
