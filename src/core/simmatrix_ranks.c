/* simmatrix_ranks.c — one similarity matrix computed over MPI ranks: each
 * rank its tiles (pair_tiles.h) with mp_simmatrix_pair, gathered on rank
 * 0 (mpi_pairs.h). */
#include "mpi_pairs.h"
#include "pair_tiles.h"
#include "simmatrix.h"

#include <stdlib.h>
#include <string.h>

/* One pair on the wire: the value's 8 bytes, then a reason code: 0 none,
 * k + 1 the metric module's reason k, CELL_OTHER another one. */
#define CELL 12
#define CELL_OTHER UINT32_MAX

static uint32_t reason_code(const char *r)
{
	size_t n;
	const char *const *known = mp_metric_reasons(&n);
	if (!r)
		return 0;
	for (size_t k = 0; k < n; k++)
		if (r == known[k] || strcmp(r, known[k]) == 0)
			return (uint32_t)k + 1;
	return CELL_OTHER;
}

static const char *reason_of(uint32_t code)
{
	size_t n;
	const char *const *known = mp_metric_reasons(&n);
	if (code == 0)
		return NULL;
	return code <= n ? known[code - 1] : "undefined";
}

/* The cells of rank's tiles in order, each tile's pairs row by row. */
static mp_status compute(const struct mp_metric *metric,
			 struct mp_fingerprint *const *fps,
			 const struct mp_tile_plan *p, int rank,
			 void (*tile_done)(void *, size_t), void *ctx,
			 size_t *done, unsigned char *cell)
{
	for (size_t t = 0; t < p->ntiles; t++) {
		const struct mp_tile *x = &p->tile[t];
		if (x->rank != rank)
			continue;
		for (size_t i = x->r0; i < x->r1; i++)
			for (size_t j = x->c0 > i ? x->c0 : i; j < x->c1;
			     j++, cell += CELL) {
				const char *r;
				double v = mp_simmatrix_pair(metric, fps[i],
							     fps[j], &r);
				uint32_t code = reason_code(r);
				memcpy(cell, &v, 8);
				memcpy(cell + 8, &code, 4);
			}
		if (tile_done)
			tile_done(ctx, *done);
		++*done;
	}
	return MP_OK;
}

/* On rank 0: the cells of every rank (all, lens[r] bytes from rank r)
 * into s. */
static mp_status assemble(const struct mp_tile_plan *p, const char *all,
			  const uint64_t *lens, struct mp_simmatrix *s,
			  struct mp_error *err)
{
	size_t n = s->n;
	const unsigned char *cell = (const unsigned char *)all;
	for (int r = 0; r < p->ranks; r++) {
		uint64_t want = mp_tiles_rank_pairs(p, r) * CELL;
		if (lens[r] != want)
			return mp_error_set(err, MP_EFORMAT,
					    "MPI: rank %d sent %llu bytes of "
					    "pairs, not %llu",
					    r, (unsigned long long)lens[r],
					    (unsigned long long)want);
		for (size_t t = 0; t < p->ntiles; t++) {
			const struct mp_tile *x = &p->tile[t];
			if (x->rank != r)
				continue;
			for (size_t i = x->r0; i < x->r1; i++)
				for (size_t j = x->c0 > i ? x->c0 : i;
				     j < x->c1; j++, cell += CELL) {
					double v;
					uint32_t code;
					memcpy(&v, cell, 8);
					memcpy(&code, cell + 8, 4);
					s->value[i * n + j] =
					    s->value[j * n + i] = v;
					s->reason[i * n + j] =
					    s->reason[j * n + i] =
						reason_of(code);
				}
		}
	}
	return MP_OK;
}

/* On rank 0: the matrix with its names, estimate and ids, no values. */
static mp_status blank(const struct mp_metric *metric,
		       struct mp_fingerprint *const *fps, char *const *ids,
		       size_t n, struct mp_simmatrix **out,
		       struct mp_error *err)
{
	struct mp_simmatrix *s =
	    mp_simmatrix_new(metric->method, metric->name, n);
	if (!s)
		return mp_error_set(err, MP_ENOMEM,
				    "out of memory for a %zu x "
				    "%zu matrix",
				    n, n);
	s->higher_is_more_alike = metric->higher_is_more_alike;
	mp_simmatrix_estimate_of(metric, fps, n, &s->estimate,
				 &s->sketch_values);
	for (size_t i = 0; i < n; i++)
		if (!(s->ids[i] = mp_strdup(ids[i]))) {
			mp_simmatrix_free(s);
			return mp_error_set(err, MP_ENOMEM, "out of memory");
		}
	*out = s;
	return MP_OK;
}

mp_status mp_simmatrix_compute_ranks(
    const struct mp_metric *metric, struct mp_fingerprint *const *fps,
    char *const *ids, size_t n, const struct mp_tile_plan *p, int rank,
    void (*tile_done)(void *ctx, size_t tile), void *ctx, size_t *done,
    struct mp_simmatrix **out, struct mp_error *err)
{
	*out = NULL;
	uint64_t len = mp_tiles_rank_pairs(p, rank) * CELL;
	unsigned char *cells = malloc(len ? len : 1);
	uint64_t *lens = calloc((size_t)p->ranks, sizeof *lens);
	mp_status st = cells && lens
			   ? MP_OK
			   : mp_error_set(err, MP_ENOMEM, "out of memory");
	if (st == MP_OK && rank == 0)
		st = blank(metric, fps, ids, n, out, err);
	if (st == MP_OK)
		st = compute(metric, fps, p, rank, tile_done, ctx, done, cells);
	char *all = NULL;
	if ((st = mp_mpi_agree(st, err)) == MP_OK)
		st = mp_mpi_gather(cells, len, &all, lens, err);
	if (st == MP_OK && rank == 0)
		st = assemble(p, all, lens, *out, err);
	st = mp_mpi_agree(st, err);
	free(all);
	free(cells);
	free(lens);
	if (st != MP_OK) {
		mp_simmatrix_free(*out);
		*out = NULL;
	}
	return st;
}
