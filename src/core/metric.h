/* metric.h — model-level scores between two fingerprints of one method
 * (DESIGN.md §5), and the table of metrics. */
#ifndef MP_METRIC_H
#define MP_METRIC_H

#include "fingerprint.h"

/* Result of one score: defined (value) or undefined with a static reason. */
struct mp_score {
	bool defined;
	double value;
	const char *reason; /* when !defined, e.g. "no tensors in common" */
};

struct mp_metric {
	const char *name;
	const char *method;       /* method whose fingerprints it compares */
	bool higher_is_more_alike; /* false for divergences (js) */
	const char *summary;
	struct mp_score (*score)(const struct mp_fingerprint *a,
				 const struct mp_fingerprint *b);
};

/* Lookup by method and name; NULL when unknown. */
const struct mp_metric *mp_metric_find(const char *method, const char *name);
/* All metrics in table order; *n receives the count. */
const struct mp_metric *mp_metric_all(size_t *n);

/* Tensors of a and b matched by name and identical shape: calls fn for each
 * pair in a's order; returns the number of matches. */
size_t mp_metric_match(const struct mp_fingerprint *a,
		       const struct mp_fingerprint *b,
		       void (*fn)(const struct mp_tensor_fp *ta,
				  const struct mp_tensor_fp *tb, void *ctx),
		       void *ctx);

/* Exact per-tensor cosine and Pearson from two open models (the files at
 * hand), for tensors matched by name and shape; element-weighted means as
 * for the sketch estimates. */
struct mp_exact_pair {
	const char *name; /* borrowed from model a */
	uint64_t numel;
	double cosine, pearson;
	bool identical_bytes;
};
mp_status mp_metric_exact(const struct mp_model *a, const struct mp_model *b,
			  struct mp_exact_pair **pairs, size_t *npairs,
			  struct mp_score *cosine, struct mp_score *pearson,
			  struct mp_error *err);

#endif
