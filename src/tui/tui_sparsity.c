/* tui_sparsity.c — the cluster explorer's computations, on the calls of
 * sparsity.h and in the order `modelprint sparsity hamming` makes them, so
 * that the view shows what the CLI prints for the same settings. */
#include "tui_sparsity.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The analysis of the feature (nearest features and clusters), dropped. */
static void drop_run(struct mp_tui_sp *sp)
{
	free(sp->idx);
	free(sp->dist);
	free(sp->within);
	sp->idx = sp->dist = NULL;
	sp->within = NULL;
	mp_kmeans_done(&sp->km);
	sp->clustered = false;
	sp->n = sp->k = 0;
	sp->note[0] = '\0';
}

/* Everything of the chosen tensor, dropped. */
static void drop_tensor(struct mp_tui_sp *sp)
{
	drop_run(sp);
	mp_mask_done(&sp->rows);
	mp_mask_done(&sp->cols);
	memset(&sp->prof, 0, sizeof sp->prof);
	sp->sel = (size_t)-1;
}

void mp_tui_sp_free(struct mp_tui_sp *sp)
{
	if (!sp)
		return;
	drop_tensor(sp);
	mp_model_free(sp->m);
	free(sp->mat);
	free(sp->share);
	free(sp->name);
	free(sp);
}

mp_status mp_tui_sp_open(const char *path, struct mp_tui_sp **out,
			 struct mp_error *err)
{
	*out = NULL;
	struct mp_tui_sp *sp = calloc(1, sizeof *sp);
	if (!sp)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	sp->sel = (size_t)-1;
	sp->axis = MP_SPARSITY_ROWS;
	sp->nfeat = MP_TUI_SP_NFEAT;
	sp->nclus = MP_TUI_SP_NCLUS;
	sp->seed = MP_TUI_SP_SEED;
	sp->ninit = MP_TUI_SP_NINIT;
	mp_status st = mp_model_open(path, &sp->m, err);
	if (st != MP_OK) {
		free(sp);
		return st;
	}
	size_t nt = sp->m->ntensors;
	const char *slash = strrchr(path, '/');
	sp->name = mp_strdup(slash && slash[1] ? slash + 1 : path);
	sp->mat = calloc(nt ? nt : 1, sizeof *sp->mat);
	sp->share = calloc(nt ? nt : 1, sizeof *sp->share);
	if (!sp->name || !sp->mat || !sp->share) {
		mp_tui_sp_free(sp);
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < nt; i++)
		if (mp_sparsity_is_matrix(&sp->m->tensors[i])) {
			sp->share[sp->nmat] = NAN;
			sp->mat[sp->nmat++] = i;
		}
	if (sp->nmat == 0) {
		st = mp_error_set(err, MP_EINVAL,
				  "%s: no floating tensor of 2 or more "
				  "dimensions to explore",
				  sp->m->path);
		mp_tui_sp_free(sp);
		return st;
	}
	*out = sp;
	return MP_OK;
}

mp_status mp_tui_sp_measure(struct mp_tui_sp *sp, size_t i,
			    struct mp_error *err)
{
	if (i >= sp->nmat)
		return mp_error_set(err, MP_EINVAL, "no such matrix");
	if (!isnan(sp->share[i]))
		return MP_OK;
	const struct mp_tensor *t = &sp->m->tensors[sp->mat[i]];
	struct mp_mask mk;
	mp_status st = mp_mask_from_tensor(sp->m, t, MP_SPARSITY_ROWS, false,
					   &mk, err);
	if (st == MP_OK)
		sp->share[i] = (double)mk.nzero / (double)(mk.rows * mk.cols);
	mp_mask_done(&mk);
	return st;
}

const struct mp_mask *mp_tui_sp_mask(const struct mp_tui_sp *sp)
{
	if (sp->sel >= sp->nmat)
		return NULL;
	return sp->axis == MP_SPARSITY_COLS ? &sp->cols : &sp->rows;
}

/* The feature drawn from the seed, as `sparsity hamming` draws it. */
static void draw_feature(struct mp_tui_sp *sp)
{
	struct mp_rng rng;
	const struct mp_mask *mk = mp_tui_sp_mask(sp);
	mp_rng_init(&rng, sp->seed);
	sp->feature = mk && mk->nfeat ? mp_rng_next(&rng) % mk->nfeat : 0;
}

/* Build the mask of the axis unless it is there. */
static mp_status need_cols(struct mp_tui_sp *sp, struct mp_error *err)
{
	if (sp->axis != MP_SPARSITY_COLS || sp->cols.bits)
		return MP_OK;
	return mp_mask_from_tensor(sp->m, &sp->m->tensors[sp->mat[sp->sel]],
				   MP_SPARSITY_COLS, false, &sp->cols, err);
}

mp_status mp_tui_sp_choose(struct mp_tui_sp *sp, size_t i,
			   struct mp_error *err)
{
	if (i >= sp->nmat)
		return mp_error_set(err, MP_EINVAL, "no such matrix");
	drop_tensor(sp);
	const struct mp_tensor *t = &sp->m->tensors[sp->mat[i]];
	mp_status st = mp_mask_from_tensor(sp->m, t, MP_SPARSITY_ROWS, false,
					   &sp->rows, err);
	sp->sel = i;
	if (st == MP_OK)
		st = mp_prune_detect(&sp->rows, &sp->prof, err);
	if (st == MP_OK)
		st = need_cols(sp, err);
	if (st != MP_OK) {
		drop_tensor(sp);
		return st;
	}
	sp->share[i] = (double)sp->rows.nzero /
		       (double)(sp->rows.rows * sp->rows.cols);
	draw_feature(sp);
	return mp_tui_sp_run(sp, err);
}

/* Mean distance of each cluster's members to their centre: the Euclidean
 * norm of a 0/1 vector less a float centre. */
static void cluster_within(struct mp_tui_sp *sp, const struct mp_mask *mk)
{
	const struct mp_kmeans *km = &sp->km;
	for (size_t c = 0; c < km->k; c++)
		sp->within[c] = 0;
	for (size_t p = 0; p < km->n; p++) {
		size_t c = km->label[p];
		const double *ce = km->centre + c * km->width;
		double s = 0;
		for (uint64_t j = 0; j < km->width; j++) {
			double d = (mp_mask_get(mk, sp->idx[p], j) ? 1.0 : 0.0) -
				   ce[j];
			s += d * d;
		}
		sp->within[c] += sqrt(s);
	}
	for (size_t c = 0; c < km->k; c++)
		if (km->size[c])
			sp->within[c] /= (double)km->size[c];
}

mp_status mp_tui_sp_run(struct mp_tui_sp *sp, struct mp_error *err)
{
	const struct mp_mask *mk = mp_tui_sp_mask(sp);
	drop_run(sp);
	if (!mk)
		return mp_error_set(err, MP_EINVAL, "no tensor chosen");
	uint64_t numel = mk->rows * mk->cols;
	if (mk->nzero == numel) {
		snprintf(sp->note, sizeof sp->note, "every weight is zero: "
			 "there is no mask to cluster");
		return MP_OK;
	}
	if (mk->nzero == 0) {
		snprintf(sp->note, sizeof sp->note, "no weight is zero: every "
			 "feature has the same mask");
		return MP_OK;
	}
	if (mk->nfeat < 2) {
		snprintf(sp->note, sizeof sp->note, "one feature along %s: "
			 "nothing to compare it with",
			 sp->axis ? "cols" : "rows");
		return MP_OK;
	}
	sp->n = sp->nfeat < mk->nfeat - 1 ? sp->nfeat : (size_t)(mk->nfeat - 1);
	sp->k = sp->nclus < sp->n ? sp->nclus : sp->n;
	if (sp->n < sp->nfeat)
		snprintf(sp->note, sizeof sp->note, "n-features %zu: there are "
			 "only %zu other features", sp->nfeat, sp->n);
	sp->idx = malloc(sp->n * sizeof *sp->idx);
	sp->dist = malloc(sp->n * sizeof *sp->dist);
	if (!sp->idx || !sp->dist) {
		drop_run(sp);
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	mp_status st = mp_mask_nearest(mk, sp->feature, sp->n, sp->idx,
				       sp->dist, err);
	if (st != MP_OK) {
		drop_run(sp);
		return st;
	}
	if (sp->k < 2) {
		snprintf(sp->note, sizeof sp->note, "%zu feature%s: k-means "
			 "needs 2 or more", sp->n, sp->n == 1 ? "" : "s");
		return MP_OK;
	}
	st = mp_kmeans_run(mk, sp->idx, sp->n, sp->k, sp->seed, sp->ninit,
			   &sp->km, err);
	if (st == MP_OK && !(sp->within = calloc(sp->k, sizeof *sp->within)))
		st = mp_error_set(err, MP_ENOMEM, "out of memory");
	if (st != MP_OK) {
		drop_run(sp);
		return st;
	}
	cluster_within(sp, mk);
	sp->clustered = true;
	return MP_OK;
}

mp_status mp_tui_sp_feature(struct mp_tui_sp *sp, uint64_t f,
			    struct mp_error *err)
{
	const struct mp_mask *mk = mp_tui_sp_mask(sp);
	if (!mk)
		return mp_error_set(err, MP_EINVAL, "no tensor chosen");
	if (f >= mk->nfeat)
		return mp_error_set(err, MP_EINVAL, "feature %llu: there are "
				    "%llu features along %s (0 to %llu)",
				    (unsigned long long)f,
				    (unsigned long long)mk->nfeat,
				    sp->axis ? "cols" : "rows",
				    (unsigned long long)(mk->nfeat - 1));
	sp->feature = f;
	return mp_tui_sp_run(sp, err);
}

mp_status mp_tui_sp_reseed(struct mp_tui_sp *sp, uint64_t seed,
			   struct mp_error *err)
{
	sp->seed = seed;
	if (!mp_tui_sp_mask(sp))
		return MP_OK;
	draw_feature(sp);
	return mp_tui_sp_run(sp, err);
}

mp_status mp_tui_sp_toggle_axis(struct mp_tui_sp *sp, struct mp_error *err)
{
	sp->axis = sp->axis == MP_SPARSITY_ROWS ? MP_SPARSITY_COLS
						: MP_SPARSITY_ROWS;
	if (!mp_tui_sp_mask(sp))
		return MP_OK;
	mp_status st = need_cols(sp, err);
	if (st != MP_OK) {
		sp->axis = MP_SPARSITY_ROWS;
		return st;
	}
	draw_feature(sp);
	return mp_tui_sp_run(sp, err);
}
