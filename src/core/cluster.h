/* cluster.h — average-linkage (UPGMA) hierarchical clustering of n items
 * from their pairwise distances, by the nearest-neighbour chain algorithm:
 * O(n^2) time and one n x n working copy of the distances. The caller owns
 * every array. */
#ifndef MP_CLUSTER_H
#define MP_CLUSTER_H

#include "mp.h"

/* One merge, in the convention of scipy.cluster.hierarchy.linkage: items
 * are clusters 0..n-1, merge k creates cluster n+k; a < b. */
struct mp_merge {
	size_t a, b;
	double height; /* average distance between the two clusters */
	size_t size;   /* items in the new cluster */
};

/* Cluster n items whose distances are d[i*n+j] (symmetric, finite, the
 * diagonal is ignored). Fills merges[n-1] sorted by height (ties in the
 * order found) and order[n], the leaves of the dendrogram left to right
 * (each merge's a before its b). Non-finite or negative distances are
 * MP_EINVAL; allocation failure MP_ENOMEM. */
mp_status mp_cluster_average(const double *d, size_t n,
			     struct mp_merge *merges, size_t *order,
			     struct mp_error *err);

#endif
