/* tui_sparsity.h — the cluster explorer's state (sparsity.h for the
 * interface): a model's matrix tensors with their share of zeros, and for
 * the chosen one its zero profile and pruning pattern, a feature, its
 * nearest features by Hamming distance and k-means over them, recomputed
 * when a setting changes. Nothing here draws; the view shows it. The state
 * owns the model, the masks and every array. */
#ifndef MP_TUI_SPARSITY_H
#define MP_TUI_SPARSITY_H

#include "sparsity.h"

/* The defaults of `modelprint sparsity hamming`. */
#define MP_TUI_SP_NFEAT 128
#define MP_TUI_SP_NCLUS 8
#define MP_TUI_SP_SEED 42
#define MP_TUI_SP_NINIT 10

struct mp_tui_sp {
	char *name;	       /* the file as shown (its last component) */
	struct mp_model *m;    /* owned */
	size_t nmat;	       /* matrix tensors (mp_sparsity_is_matrix) */
	size_t *mat;	       /* [nmat] their indices into m->tensors */
	double *share;	       /* [nmat] share of exact zeros, NAN until
				* measured (mp_tui_sp_measure) */
	/* Settings, as the options of `sparsity hamming`. */
	enum mp_sparsity_axis axis;
	size_t nfeat, nclus; /* asked for; n and k below are what was used */
	uint64_t seed;
	int ninit;
	/* The chosen tensor: sel < nmat once one is chosen, else
	 * (size_t)-1. rows is its mask with MP_SPARSITY_ROWS (the profile),
	 * cols its mask with MP_SPARSITY_COLS when axis is cols. */
	size_t sel;
	struct mp_mask rows, cols;
	struct mp_prune_profile prof;
	uint64_t feature;	/* the chosen feature along axis */
	size_t n, k;		/* nearest features and clusters used */
	uint64_t *idx, *dist;	/* [n] nearest first (mp_mask_nearest) */
	bool clustered;		/* km and within are valid */
	struct mp_kmeans km;
	double *within;		/* [k] mean distance of a member to its centre */
	/* Why there are no nearest features or no clusters, or how a
	 * setting was narrowed to the tensor ("" when nothing to say). */
	char note[256];
};

/* Open the model file or directory at path and list its matrices; MP_EINVAL
 * naming the file when it holds none. Settings are the defaults above,
 * nothing chosen yet. */
mp_status mp_tui_sp_open(const char *path, struct mp_tui_sp **out,
			 struct mp_error *err);
void mp_tui_sp_free(struct mp_tui_sp *sp);

/* Measure share[i] (reads the tensor once) unless it is known. */
mp_status mp_tui_sp_measure(struct mp_tui_sp *sp, size_t i,
			    struct mp_error *err);

/* The mask the features are drawn from: rows or cols by the axis. NULL
 * before a tensor is chosen. */
const struct mp_mask *mp_tui_sp_mask(const struct mp_tui_sp *sp);

/* Choose matrix i: its masks, profile and pattern, the feature drawn from
 * the seed as the CLI does (splitmix64 of the seed, first number modulo
 * the features), then mp_tui_sp_run. */
mp_status mp_tui_sp_choose(struct mp_tui_sp *sp, size_t i,
			   struct mp_error *err);

/* The nearest features of the feature and k-means over them with the
 * settings: n = nfeat narrowed to the other features there are, k = nclus
 * narrowed to n (no clustering below 2, note says so); an all-zero or
 * all-dense matrix has neither (note says why). */
mp_status mp_tui_sp_run(struct mp_tui_sp *sp, struct mp_error *err);

/* Take feature f (MP_EINVAL when out of range) and run. */
mp_status mp_tui_sp_feature(struct mp_tui_sp *sp, uint64_t f,
			    struct mp_error *err);

/* Take the seed, draw the feature from it, and run. */
mp_status mp_tui_sp_reseed(struct mp_tui_sp *sp, uint64_t seed,
			   struct mp_error *err);

/* Features along the other axis: build that mask when needed, draw the
 * feature from the seed, and run. */
mp_status mp_tui_sp_toggle_axis(struct mp_tui_sp *sp, struct mp_error *err);

#endif
