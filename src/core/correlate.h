/* correlate.h — agreement between metrics (seed 001): Pearson correlation
 * of every pair of metrics over the upper triangle without the diagonal,
 * with divergences negated so that "more alike" points the same way for
 * all, and each metric's summary statistics. Matrices are matched by model
 * id (they may list the models in different orders); pairs where any
 * metric is null are left out and counted. Owns its arrays; borrows the
 * matrices. */
#ifndef MP_CORRELATE_H
#define MP_CORRELATE_H

#include "simmatrix.h"

struct mp_metric_summary {
	double mean, std; /* population std of the raw (not negated) values */
	double min, max;
};

struct mp_correlation {
	size_t k;                          /* metrics */
	const struct mp_simmatrix **m;     /* [k] borrowed */
	size_t n;                          /* models common to all matrices */
	size_t **row;                      /* [k][n] row of model t in m[i] */
	size_t npairs;                     /* pairs used (all k defined) */
	size_t n_excluded;                 /* pairs left out for a null */
	double *r; /* [k*k] Pearson r; NAN when a metric is constant */
	struct mp_metric_summary *summary; /* [k] over the pairs used */
};

/* Correlate k >= 2 matrices. Fewer than two models in common, or fewer
 * than two usable pairs, is an error naming the metrics. */
mp_status mp_correlate(const struct mp_simmatrix *const *ms, size_t k,
		       struct mp_correlation **out, struct mp_error *err);
void mp_correlation_free(struct mp_correlation *c);

/* JSON form: metrics, direction of each, r matrix, summaries, counts. */
mp_json *mp_correlation_to_json(const struct mp_correlation *c);

#endif
