/* cluster_cut.h — the dendrogram of a similarity matrix (average linkage,
 * cluster.h) with merge heights in the metric's own units, and its cut at a
 * threshold: the clusters, their declared families and types, purity
 * against the families and the models whose family disagrees with their
 * cluster's. The tree and the cut own their arrays; the cut borrows the
 * family and type strings it is given. */
#ifndef MP_CLUSTER_CUT_H
#define MP_CLUSTER_CUT_H

#include "cluster.h"
#include "json.h"
#include "simmatrix.h"

struct mp_cluster_tree {
	size_t n;    /* leaves = matrix rows */
	bool higher; /* the metric's direction (higher = more alike) */
	struct mp_merge *merge; /* [n-1] as mp_cluster_average gives them */
	double *score;		/* [n-1] merge height in the metric's units:
				   the mean value between the two clusters */
	size_t *order;		/* [n] leaves left to right */
};

/* The dendrogram of m: the distance of rows i, j is the mean of m[i][j] and
 * m[j][i] turned so that the most alike value of the matrix is 0; null
 * pairs count as the least alike value of the matrix. Since average linkage
 * commutes with that affine change, score[k] is the mean metric value
 * between the two clusters merged. n == 0 gives an empty tree. */
mp_status mp_cluster_tree_build(const struct mp_simmatrix *m,
				struct mp_cluster_tree **out,
				struct mp_error *err);
void mp_cluster_tree_free(struct mp_cluster_tree *t);

/* True when score x is at least as alike as the cut c (x >= c for a
 * similarity, x <= c for a divergence). */
bool mp_cluster_within(const struct mp_cluster_tree *t, double x, double c);

/* The default cut: the median of the merge heights (the mean of the two
 * middle ones for an even count); NAN with fewer than two leaves. */
double mp_cluster_default_cut(const struct mp_cluster_tree *t);

struct mp_cluster_count {
	const char *name; /* family or type, borrowed */
	size_t count;
};

struct mp_cluster {
	size_t size;
	size_t *member; /* [size] matrix rows in dendrogram order */
	double score;	/* height of the cluster's top merge; NAN alone */
	size_t n_families, n_types;
	struct mp_cluster_count *families, *types; /* most members first, ties
						     by name; unknown ("")
						     left out */
	const char *majority; /* families[0].name, NULL when none is known */
	double purity;	      /* families[0].count / members of known family;
				 NAN when none is known */
	size_t n_disagree;    /* members of a known family other than the
				 majority */
};

struct mp_cluster_cut {
	double cut;
	size_t n;	      /* clusters, in dendrogram order */
	struct mp_cluster *v; /* [n] */
	size_t rows;	      /* = tree->n */
	size_t *cluster_of;   /* [rows] cluster index of each row */
	bool *disagrees; /* [rows] known family != its cluster's majority */
};

/* Cut t at c: rows joined by every merge whose score is within c (merges
 * are non-decreasing in distance, so a prefix of them). family[i] and
 * type[i] of row i ("" when unknown) are borrowed. NAN c is MP_EINVAL. */
mp_status mp_cluster_cut_make(const struct mp_cluster_tree *t, double c,
			      const char *const *family,
			      const char *const *type,
			      struct mp_cluster_cut **out,
			      struct mp_error *err);
void mp_cluster_cut_free(struct mp_cluster_cut *c);

/* The cut as JSON (man/modelprint-files.5, "clusters"): an array of
 * {size, score, members [ids], families {name: count}, types {...},
 * majority_family, purity, disagreeing [ids]}. NULL when out of memory. */
mp_json *mp_cluster_cut_to_json(const struct mp_cluster_cut *c,
				char *const *ids);

#endif
