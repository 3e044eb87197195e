/* heat_cells.h — what a heatmap cell shows: the colour scale of a matrix
 * (min..max, or the 2nd..98th percentile of its defined off-diagonal
 * values) and the value of a block of entries (their mean, or the most
 * alike of them). Pure functions over a struct mp_simmatrix. */
#ifndef MP_HEAT_CELLS_H
#define MP_HEAT_CELLS_H

#include "simmatrix.h"

#include <stdbool.h>
#include <stddef.h>

struct mp_heat_scale {
	double vmin, vmax; /* over every defined value */
	double q02, q98;   /* percentiles of the defined off-diagonal values
			      (linear interpolation, as numpy); vmin/vmax
			      when there are none */
};

/* The scale of m; MP_ENOMEM when out of memory. */
mp_status mp_heat_scale_compute(const struct mp_simmatrix *m,
				struct mp_heat_scale *s,
				struct mp_error *err);

/* Percentile q in [0, 1] of k sorted values (k >= 1), interpolating
 * linearly between neighbours. */
double mp_heat_quantile(const double *sorted, size_t k, double q);

/* The block of b x b entries from display position (r, c), rows and
 * columns through ord (matrix row at each display position, n of them):
 * the mean of its defined values, or with most_alike the largest value
 * (the smallest when lower values are more alike). A block of more than
 * one entry leaves out the diagonal (self pairs) unless it holds nothing
 * else. *defined receives the count of values used; NAN when none. */
double mp_heat_block(const struct mp_simmatrix *m, const size_t *ord,
		     size_t r, size_t c, size_t b, bool most_alike,
		     size_t *defined);

#endif
