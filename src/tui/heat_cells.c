/* heat_cells.c — colour scale and block values of the heatmap. */
#include "heat_cells.h"

#include <math.h>
#include <stdlib.h>

static int cmp_double(const void *pa, const void *pb)
{
	double a = *(const double *)pa, b = *(const double *)pb;
	return a < b ? -1 : a > b;
}

double mp_heat_quantile(const double *x, size_t k, double q)
{
	double p = q * (double)(k - 1);
	size_t i = (size_t)p;
	if (i + 1 >= k)
		return x[k - 1];
	return x[i] + (p - (double)i) * (x[i + 1] - x[i]);
}

mp_status mp_heat_scale_compute(const struct mp_simmatrix *m,
				struct mp_heat_scale *s,
				struct mp_error *err)
{
	size_t n = m->n, k = 0;
	s->vmin = INFINITY;
	s->vmax = -INFINITY;
	double *off = malloc((n ? n * n : 1) * sizeof *off);
	if (!off)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			double v = m->value[i * n + j];
			if (isnan(v))
				continue;
			s->vmin = fmin(s->vmin, v);
			s->vmax = fmax(s->vmax, v);
			if (i != j)
				off[k++] = v;
		}
	if (k) {
		qsort(off, k, sizeof *off, cmp_double);
		s->q02 = mp_heat_quantile(off, k, 0.02);
		s->q98 = mp_heat_quantile(off, k, 0.98);
	} else {
		s->q02 = s->vmin;
		s->q98 = s->vmax;
	}
	free(off);
	return MP_OK;
}

/* Sum (or best) of the block's defined values, diagonal left out unless
 * with_diag. */
static double scan(const struct mp_simmatrix *m, const size_t *ord, size_t r,
		   size_t c, size_t b, bool best, bool with_diag, size_t *k)
{
	size_t n = m->n;
	bool hi = m->higher_is_more_alike;
	double acc = best ? NAN : 0;
	*k = 0;
	for (size_t i = r; i < r + b && i < n; i++)
		for (size_t j = c; j < c + b && j < n; j++) {
			if (!with_diag && ord[i] == ord[j])
				continue;
			double v = m->value[ord[i] * n + ord[j]];
			if (isnan(v))
				continue;
			if (!best)
				acc += v;
			else if (isnan(acc) || (hi ? v > acc : v < acc))
				acc = v;
			(*k)++;
		}
	return acc;
}

double mp_heat_block(const struct mp_simmatrix *m, const size_t *ord,
		     size_t r, size_t c, size_t b, bool most_alike,
		     size_t *defined)
{
	size_t k;
	double acc = scan(m, ord, r, c, b, most_alike, b == 1, &k);
	if (k == 0 && b > 1)
		acc = scan(m, ord, r, c, b, most_alike, true, &k);
	*defined = k;
	if (k == 0)
		return NAN;
	return most_alike ? acc : acc / (double)k;
}
