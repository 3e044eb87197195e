/* experiment_mpi.c — the experiment runner over MPI ranks: each rank
 * fingerprints the models its tiles need, rank 0 gathers every model's
 * fingerprints (mpi_pairs.h), the matrices are computed over the ranks
 * (mp_simmatrix_compute_ranks) and rank 0 writes the files one process
 * would. */
#include "experiment_int.h"
#include "mpi_pairs.h"
#include "pair_tiles.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A growing byte buffer. */
struct buf {
	char *p;
	uint64_t len, cap;
};

static bool buf_add(struct buf *b, const void *data, uint64_t len)
{
	if (b->len + len > b->cap) {
		uint64_t cap = b->cap ? b->cap * 2 : 4096;
		while (cap < b->len + len)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p)
			return false;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	return true;
}

/* The matrices of the config, in the order one process computes them:
 * method by method, metric by metric (those the method has). */
static size_t list_metrics(const struct mp_config *c,
			   const struct mp_metric **me, size_t *method)
{
	size_t q = 0;
	for (size_t m = 0; m < c->nmethods; m++)
		for (size_t k = 0; k < c->nmetrics; k++) {
			const struct mp_metric *x =
			    mp_metric_find(c->methods[m], c->metrics[k]);
			if (!x)
				continue;
			me[q] = x;
			method[q++] = m;
		}
	return q;
}

/* The fingerprints of the models this rank owns (rank 0 keeps its own),
 * as records "METHOD-INDEX MODEL-INDEX\n" JSON NUL. */
static mp_status pack_fps(const struct mp_config *c, const bool *own, int rank,
			  struct mp_fingerprint **fps, struct buf *b,
			  struct mp_error *err)
{
	size_t n = c->nmodels;
	for (size_t m = 0; rank != 0 && m < c->nmethods; m++)
		for (size_t i = 0; i < n; i++) {
			if (!own[i] || !fps[m * n + i])
				continue;
			mp_json *j = mp_fp_to_json(fps[m * n + i]);
			char *text = j ? mp_json_print(j, false) : NULL;
			char head[48];
			int hl = snprintf(head, sizeof head, "%zu %zu\n", m, i);
			bool ok = text && buf_add(b, head, (uint64_t)hl) &&
				  buf_add(b, text, strlen(text) + 1);
			mp_json_free(j);
			free(text);
			if (!ok)
				return mp_error_set(err, MP_ENOMEM,
						    "out of memory");
		}
	return MP_OK;
}

/* On rank 0: the records of pack_fps from every rank into trees[]
 * (for fingerprints.json) and, where rank 0 has none, fps[]. */
static mp_status unpack_fps(const struct mp_config *c, const char *all,
			    uint64_t len, struct mp_fingerprint **fps,
			    mp_json **trees, struct mp_error *err)
{
	size_t n = c->nmodels;
	uint64_t at = 0;
	while (at < len) {
		const char *rec = all + at;
		const char *nl = memchr(rec, '\n', len - at);
		size_t m, i;
		if (!nl || sscanf(rec, "%zu %zu", &m, &i) != 2 ||
		    m >= c->nmethods || i >= n)
			return mp_error_set(err, MP_EFORMAT,
					    "MPI: malformed fingerprint record "
					    "from a rank");
		const char *text = nl + 1;
		size_t tl = strnlen(text, len - (uint64_t)(text - all));
		at = (uint64_t)(text - all) + tl + 1;
		char where[64];
		snprintf(where, sizeof where, "model %.32s (%s) from a rank",
			 c->models[i], c->methods[m]);
		mp_json *j;
		mp_status st = mp_json_parse(text, tl, where, &j, err);
		if (st != MP_OK)
			return st;
		mp_json_free(trees[m * n + i]);
		trees[m * n + i] = j;
		if (!fps[m * n + i]) {
			st = mp_fp_from_json(j, where, &fps[m * n + i], err);
			if (st != MP_OK)
				return st;
		}
	}
	return MP_OK;
}

/* On rank 0: fingerprints.json as one process builds it, the trees
 * received taking the place of mp_fp_to_json (their ownership moves). */
static mp_json *fp_file(const struct mp_config *c, struct mp_fingerprint **fps,
			mp_json **trees)
{
	size_t n = c->nmodels;
	mp_json *file = mp_json_object();
	mp_json *root = file ? mp_json_add_obj(file, "fingerprints") : NULL;
	for (size_t m = 0; root && m < c->nmethods; m++) {
		mp_json *byid = mp_json_add_obj(root, c->methods[m]);
		for (size_t i = 0; byid && i < n; i++) {
			mp_json *j = trees[m * n + i];
			trees[m * n + i] = NULL;
			if (j || fps[m * n + i])
				mp_json_set(byid, c->models[i],
					    j ? j : mp_fp_to_json(fps[m * n + i]));
		}
	}
	return file;
}

mp_status mp_experiment_run_mpi(const struct mp_config *c,
				const struct mp_run_opts *o,
				struct mp_run_result *res, struct mp_error *err)
{
	if (o->write_to_registry || o->shard_n)
		return mp_error_set(err, MP_EINVAL,
				    "under mpirun, run computes matrices only: "
				    "store fingerprints with --shard tasks or "
				    "a one-process --write-to-registry run");
	size_t n = c->nmodels, nm = c->nmethods;
	int rank = o->mpi_rank;
	struct mp_registry *reg = NULL;
	struct mp_tile_plan plan = {0};
	struct mp_fingerprint **fps = calloc(n * nm + 1, sizeof *fps);
	mp_json **trees = calloc(n * nm + 1, sizeof *trees);
	bool *need = calloc(n + 1, sizeof *need),
	     *own = calloc(n + 1, sizeof *own);
	const struct mp_metric **me = calloc(nm * c->nmetrics + 1, sizeof *me);
	size_t *method = calloc(nm * c->nmetrics + 1, sizeof *method);
	uint64_t *lens = calloc((size_t)o->mpi_size, sizeof *lens);
	struct mp_simmatrix **mats = calloc(nm * c->nmetrics + 1, sizeof *mats);
	struct buf b = {0};
	char *all = NULL;
	size_t nq = 0;
	mp_status st =
	    fps && trees && need && own && me && method && lens && mats
		? MP_OK
		: mp_error_set(err, MP_ENOMEM, "out of memory");
	if (st == MP_OK)
		st = mp_regdb_list(o->registry, NULL, &reg, err);
	for (size_t i = 0; st == MP_OK && i < n; i++)
		if (!mp_registry_find(reg, c->models[i]))
			st = mp_error_set(
			    err, MP_ENOENT, "%s: unknown model id '%s'",
			    mp_regdb_name(o->registry), c->models[i]);
	if (st == MP_OK)
		st = mp_tiles_plan(n, o->mpi_size, &plan, err);
	if (st == MP_OK) {
		mp_tiles_models(&plan, rank, need, own);
		nq = list_metrics(c, me, method);
		st = mp_exp_fingerprints(c, o, reg, need, own, true, fps, res,
					 err);
	}
	/* the fingerprints of every model to rank 0 (fingerprints.json and
	 * the matrices' estimate kind) */
	if ((st = mp_mpi_agree(st, err)) == MP_OK)
		st = pack_fps(c, own, rank, fps, &b, err);
	if ((st = mp_mpi_agree(st, err)) == MP_OK)
		st = mp_mpi_gather(b.p, b.len, &all, lens, err);
	if (st == MP_OK && rank == 0) {
		uint64_t total = 0;
		for (int r = 0; r < o->mpi_size; r++)
			total += lens[r];
		st = unpack_fps(c, all, total, fps, trees, err);
	}
	free(all);
	all = NULL;
	/* the matrices, one after the other; tiles_done counts on */
	size_t done = 0;
	for (size_t q = 0; q < nq && (st = mp_mpi_agree(st, err)) == MP_OK; q++)
		st = mp_simmatrix_compute_ranks(
		    me[q], &fps[method[q] * n], c->models, n, &plan, rank,
		    o->tile_done, o->tile_ctx, &done, &mats[q], err);
	uint64_t count[5] = {res->computed, res->reused, res->stale,
			     res->models_done, res->models_skipped};
	if ((st = mp_mpi_agree(st, err)) == MP_OK)
		st = mp_mpi_sum(count, 5, err);
	if (st == MP_OK && rank == 0) {
		res->computed = count[0];
		res->reused = count[1];
		res->stale = count[2];
		res->models_done = count[3];
		res->models_skipped = count[4];
	}
	mp_json *file =
	    st == MP_OK && rank == 0 ? fp_file(c, fps, trees) : NULL;
	if (st == MP_OK && rank == 0)
		st = file ? mp_exp_write(c, o, reg, file, mats, nq, res, err)
			  : mp_error_set(err, MP_ENOMEM, "out of memory");
	st = mp_mpi_agree(st, err);
	mp_json_free(file);
	free(all);
	free(b.p);
	for (size_t i = 0; i < n * nm; i++) {
		if (fps)
			mp_fp_free(fps[i]);
		if (trees)
			mp_json_free(trees[i]);
	}
	for (size_t q = 0; mats && q < nq; q++)
		mp_simmatrix_free(mats[q]);
	free(mats);
	free(fps);
	free(trees);
	free(need);
	free(own);
	free(me);
	free(method);
	free(lens);
	mp_tiles_free(&plan);
	mp_registry_free(reg);
	if (st != MP_OK)
		mp_run_result_done(res);
	return st;
}
