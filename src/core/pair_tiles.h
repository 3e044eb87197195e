/* pair_tiles.h — the upper triangle of an n x n pair matrix cut into tiles
 * and shared out over ranks (`mpirun ... modelprint run`, mpi_pairs.h):
 * the models in side blocks [I*n/side, (I+1)*n/side), tile (I, J) for
 * I <= J holding the pairs (i, j), i in block I, j in block J, j >= i;
 * tiles in row-major order, each rank a contiguous run of them of about
 * the same number of pairs; and a matrix computed over the ranks
 * (simmatrix_ranks.c). */
#ifndef MP_PAIR_TILES_H
#define MP_PAIR_TILES_H

#include "simmatrix.h"

struct mp_tile {
	size_t r0, r1;	/* rows [r0, r1) */
	size_t c0, c1;	/* columns [c0, c1); c0 >= r0 */
	uint64_t pairs; /* (i, j) with i in rows, j in columns, j >= i */
	int rank;	/* the rank that computes it */
};

struct mp_tile_plan {
	size_t n, side, ntiles;
	int ranks;
	struct mp_tile *tile; /* [ntiles], owned */
};

/* Plan the tiles of n >= 1 models over ranks >= 1: side = min(n,
 * 4 * ranks) blocks a side; tile t goes to rank min(ranks - 1, floor((P +
 * pairs_t / 2) * ranks / total)), P the pairs of the tiles before it.
 * MP_EINVAL for n or ranks of 0, MP_ENOMEM. */
mp_status mp_tiles_plan(size_t n, int ranks, struct mp_tile_plan *p,
			struct mp_error *err);
void mp_tiles_free(struct mp_tile_plan *p);

/* need[i] set for every model a tile of rank needs (its rows and
 * columns), own[i] for the models whose diagonal tile is rank's (each
 * model has one owner); either may be NULL. Arrays of p->n. */
void mp_tiles_models(const struct mp_tile_plan *p, int rank, bool *need,
		     bool *own);

/* Pairs of rank's tiles (the cells it sends, one per pair). */
uint64_t mp_tiles_rank_pairs(const struct mp_tile_plan *p, int rank);

/* Collective: metric's matrix of fps[0..n) (ids[i] of fps[i]) over the
 * ranks of plan p (p->n == n, p->ranks the number of ranks): this rank
 * scores the pairs of its tiles with mp_simmatrix_pair (fps[i] needed
 * where mp_tiles_models sets need; on rank 0 every fps[i], for the
 * estimate kind), calling tile_done (when non-NULL) after each with
 * *done, then incremented; rank 0 gathers the values. On rank 0 *out is
 * then the matrix mp_simmatrix_compute gives, bit for bit; elsewhere
 * NULL. Errors are those of the lowest failing rank, on every rank. */
mp_status mp_simmatrix_compute_ranks(
    const struct mp_metric *metric, struct mp_fingerprint *const *fps,
    char *const *ids, size_t n, const struct mp_tile_plan *p, int rank,
    void (*tile_done)(void *ctx, size_t tile), void *ctx, size_t *done,
    struct mp_simmatrix **out, struct mp_error *err);

#endif
