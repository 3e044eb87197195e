/* groups.h — family and type analysis of one similarity matrix (seed 000):
 * intrafamily groups (pairs within one family), interfamily groups (pairs
 * across two families) and type-pair groups (pairs of different types within
 * one family, grouped across families by the unordered type combination).
 * Pairs are the upper triangle without the diagonal; pairs whose score is
 * null (undefined) are left out of every statistic and counted in n_null.
 * The analysis owns its arrays and strings and borrows the matrix and the
 * model-info set (names, families and types point into it), which must
 * both outlive it. */
#ifndef MP_GROUPS_H
#define MP_GROUPS_H

#include "modelinfo.h"
#include "simmatrix.h"

enum mp_group_kind { MP_GROUP_INTRA, MP_GROUP_INTER, MP_GROUP_TYPEPAIR };

/* Summary statistics of the defined scores of one group. variance is the
 * sample variance (n-1), 0 for a single pair; quartiles by linear
 * interpolation (numpy's default). All NAN when n_pairs == 0. */
struct mp_group_stats {
	enum mp_group_kind kind;
	char *label;   /* "BlazeFace", "BlazeFace vs MoveNet", "Base-Lite" */
	char *key[2];  /* the two families or types in label order; intra:
			  key[0] == key[1] (both point to the family) */
	size_t n_pairs; /* pairs with a defined score */
	size_t n_null;  /* pairs of the group whose score is null */
	double min, max, mean, variance, q25, median, q75;
	size_t *pairs;  /* [n_pairs + n_null] indices into analysis->pairs,
			   sorted most alike first, nulls last */
};

/* One unordered pair of models (i < j, matrix row indices). */
struct mp_pair {
	size_t i, j;
	bool defined;
	double value;        /* NAN when !defined */
	const char *reason;  /* when !defined; borrowed from the matrix */
	bool same_family;    /* both families known and equal */
	long intra_or_inter; /* index into intra[] (same_family) or inter[],
				-1 when a family is unknown */
	long typepair;       /* index into typepair[] or -1 */
};

struct mp_analysis {
	const struct mp_simmatrix *m; /* borrowed */
	size_t n;                     /* = m->n */
	/* [n] per matrix row: display name, family, type (borrowed from the
	   info set when present, else id / "" / ""), and whether the model
	   info had this id */
	const char **name, **family, **type;
	bool *in_info;
	size_t *order; /* [n] rows ordered by family, then type, then name */
	/* ids present in the results but not in the model info, and the
	   reverse, in their original order (owned) */
	char **missing_in_info;
	size_t n_missing_in_info;
	char **missing_in_results;
	size_t n_missing_in_results;
	size_t npairs; /* n*(n-1)/2 */
	struct mp_pair *pairs; /* [npairs] sorted most alike first, nulls last */
	size_t n_null;         /* pairs whose score is null */
	/* groups, each array sorted by mean, most alike first (descending for
	   a similarity, ascending for a divergence); empty groups last */
	struct mp_group_stats *intra, *inter, *typepair;
	size_t n_intra, n_inter, n_typepair;
	/* distinct non-empty families and types of the matrix's models,
	   sorted by strcmp (owned); group keys point into these */
	char **families, **types;
	size_t n_families, n_types;
};

/* Analyse matrix m with the families and types of info. Models of the
 * matrix missing from info still take part under family "" (excluded from
 * family groups) and are listed in missing_in_info. */
mp_status mp_analysis_compute(const struct mp_simmatrix *m,
			      const struct mp_model_info_set *info,
			      struct mp_analysis **out, struct mp_error *err);
void mp_analysis_free(struct mp_analysis *a);

/* True when score x is more alike than y under the matrix's direction. */
bool mp_analysis_more_alike(const struct mp_analysis *a, double x, double y);

/* The JSON report (man/modelprint-files.5, "analysis report"): method,
 * metric, direction, models, missing ids, pair counts, and the three group
 * tables with every statistic and each group's most and least alike pair.
 * It does not list every pair (2,000 models make 2 million; the text
 * reports of report_text.h do). NULL on allocation failure. */
mp_json *mp_analysis_to_json(const struct mp_analysis *a);

#endif
