/* simmatrix.h — similarity matrices: one per method and metric over n
 * models, computed from fingerprints, and the similarity-matrices JSON file
 * (man/modelprint-files.5). Matrices own their ids and values. */
#ifndef MP_SIMMATRIX_H
#define MP_SIMMATRIX_H

#include "metric.h"

/* A similarity matrix of n models (ids in order) for one method and metric.
 * value[i*n+j] is NAN where undefined and reason[i*n+j] then says why. */
struct mp_simmatrix {
	char *method, *metric;
	bool higher_is_more_alike;
	size_t n;
	char **ids;
	double *value;        /* [n*n] */
	const char **reason;  /* [n*n] static strings or NULL */
};

/* Compute the matrix of fps[0..n) (same method) with metric. */
mp_status mp_simmatrix_compute(const struct mp_metric *metric,
			       struct mp_fingerprint *const *fps,
			       char *const *ids, size_t n,
			       struct mp_simmatrix **out, struct mp_error *err);
void mp_simmatrix_free(struct mp_simmatrix *s);

/* Similarity-matrices file: {"matrices": {method: {metric: {...}}}}. */
mp_json *mp_simmatrix_list_to_json(struct mp_simmatrix *const *ms, size_t n);
mp_status mp_simmatrix_list_from_json(const mp_json *j, const char *where,
				      struct mp_simmatrix ***out, size_t *n,
				      struct mp_error *err);

#endif
