/* pair_tiles.c — tiles of the upper triangle of a pair matrix over ranks. */
#include "pair_tiles.h"

#include <stdlib.h>
#include <string.h>

static uint64_t tile_pairs(size_t r0, size_t r1, size_t c0, size_t c1)
{
	if (r0 == c0) { /* diagonal: a triangle with its diagonal */
		uint64_t b = r1 - r0;
		return b * (b + 1) / 2;
	}
	return (uint64_t)(r1 - r0) * (c1 - c0);
}

mp_status mp_tiles_plan(size_t n, int ranks, struct mp_tile_plan *p,
			struct mp_error *err)
{
	memset(p, 0, sizeof *p);
	if (n == 0 || ranks < 1)
		return mp_error_set(err, MP_EINVAL,
				    "pair tiles need models and ranks");
	size_t side = (size_t)ranks * 4;
	if (side > n)
		side = n;
	p->n = n;
	p->side = side;
	p->ranks = ranks;
	p->ntiles = side * (side + 1) / 2;
	p->tile = calloc(p->ntiles, sizeof *p->tile);
	if (!p->tile)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	size_t t = 0;
	for (size_t I = 0; I < side; I++)
		for (size_t J = I; J < side; J++, t++) {
			struct mp_tile *x = &p->tile[t];
			x->r0 = I * n / side;
			x->r1 = (I + 1) * n / side;
			x->c0 = J * n / side;
			x->c1 = (J + 1) * n / side;
			x->pairs = tile_pairs(x->r0, x->r1, x->c0, x->c1);
		}
	uint64_t total = (uint64_t)n * (n + 1) / 2, before = 0;
	for (t = 0; t < p->ntiles; t++) {
		struct mp_tile *x = &p->tile[t];
		/* long double: total * ranks may exceed 2^64 */
		long double r =
		    ((long double)before + x->pairs / 2) * ranks / total;
		x->rank = r >= ranks - 1 ? ranks - 1 : (int)r;
		before += x->pairs;
	}
	return MP_OK;
}

void mp_tiles_free(struct mp_tile_plan *p)
{
	free(p->tile);
	memset(p, 0, sizeof *p);
}

void mp_tiles_models(const struct mp_tile_plan *p, int rank, bool *need,
		     bool *own)
{
	for (size_t t = 0; t < p->ntiles; t++) {
		const struct mp_tile *x = &p->tile[t];
		if (x->rank != rank)
			continue;
		for (size_t i = x->r0; need && i < x->r1; i++)
			need[i] = true;
		for (size_t j = x->c0; need && j < x->c1; j++)
			need[j] = true;
		for (size_t i = x->r0; own && x->r0 == x->c0 && i < x->r1; i++)
			own[i] = true;
	}
}

uint64_t mp_tiles_rank_pairs(const struct mp_tile_plan *p, int rank)
{
	uint64_t s = 0;
	for (size_t t = 0; t < p->ntiles; t++)
		if (p->tile[t].rank == rank)
			s += p->tile[t].pairs;
	return s;
}
