/* sparsity_pattern.c — which pruning pattern a zero mask shows, with the
 * evidence in words (sparsity.h gives the rules and their order). */
#include "sparsity.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned long long ull;

const char *mp_prune_name(enum mp_prune_pattern p)
{
	switch (p) {
	case MP_PRUNE_ROWS: return "rows-removed";
	case MP_PRUNE_COLS: return "cols-removed";
	case MP_PRUNE_NM_ROWS: return "n:m-rows";
	case MP_PRUNE_NM_COLS: return "n:m-cols";
	case MP_PRUNE_PER_ROW: return "per-row";
	case MP_PRUNE_PER_BLOCK: return "per-block";
	case MP_PRUNE_NONE: break;
	}
	return "none";
}

/* The non-zeros of every group of m consecutive weights along a row
 * (cols) or a column (!cols) when they are all the same, else -1. */
static long nm_count(const struct mp_mask *mk, bool along_rows, unsigned m)
{
	uint64_t len = along_rows ? mk->width : mk->nfeat;
	uint64_t other = along_rows ? mk->nfeat : mk->width;
	if (len % m || len / m < 2)
		return -1;
	long n = -1;
	for (uint64_t o = 0; o < other; o++)
		for (uint64_t g = 0; g < len; g += m) {
			long c = 0;
			for (unsigned i = 0; i < m; i++)
				c += along_rows ? mp_mask_get(mk, o, g + i)
						: mp_mask_get(mk, g + i, o);
			if (n < 0)
				n = c;
			else if (c != n)
				return -1;
		}
	return n;
}

static bool find_nm(const struct mp_mask *mk, bool along_rows,
		    struct mp_prune_profile *p)
{
	for (unsigned m = 2; m <= MP_PRUNE_MAX_M; m++) {
		long n = nm_count(mk, along_rows, m);
		if (n >= 1 && n < (long)m) {
			p->pattern = along_rows ? MP_PRUNE_NM_ROWS
						: MP_PRUNE_NM_COLS;
			p->n = (unsigned)n;
			p->m = m;
			snprintf(p->evidence, sizeof p->evidence,
				 "every group of %u consecutive weights along "
				 "each %s has exactly %ld non-zero%s",
				 m, along_rows ? "row" : "column", n,
				 n == 1 ? "" : "s");
			return true;
		}
	}
	return false;
}

/* Zeros in columns [from, from + n) (all rows). */
static uint64_t block_zeros(const struct mp_mask *mk, const uint64_t *colnz,
			    uint64_t from, uint64_t n)
{
	uint64_t nz = 0;
	for (uint64_t j = 0; j < n; j++)
		nz += colnz[from + j];
	return mk->nfeat * n - nz;
}

/* Same zero count in every block of MP_PRUNE_BLOCK columns (all rows), at
 * least two of them, and at least MP_PRUNE_BLOCK_MIN_SHARE of each zero;
 * a last, narrower block (what SparseGPT leaves when the
 * width is not a multiple of the block) must hold the same share: its
 * zero count within 1 of first * rem / MP_PRUNE_BLOCK (the rounding of
 * both counts). */
static bool per_block(const struct mp_mask *mk, const uint64_t *colnz,
		      struct mp_prune_profile *p)
{
	uint64_t nb = mk->width / MP_PRUNE_BLOCK, rem = mk->width % MP_PRUNE_BLOCK;
	if (nb < 2)
		return false;
	uint64_t first = block_zeros(mk, colnz, 0, MP_PRUNE_BLOCK);
	if ((double)first <
	    MP_PRUNE_BLOCK_MIN_SHARE * (double)(mk->nfeat * MP_PRUNE_BLOCK))
		return false;
	for (uint64_t b = 1; b < nb; b++)
		if (block_zeros(mk, colnz, b * MP_PRUNE_BLOCK,
				MP_PRUNE_BLOCK) != first)
			return false;
	uint64_t last = 0;
	if (rem) {
		last = block_zeros(mk, colnz, nb * MP_PRUNE_BLOCK, rem);
		double want = (double)first * (double)rem / MP_PRUNE_BLOCK;
		if (fabs((double)last - want) > 1)
			return false;
	}
	p->pattern = MP_PRUNE_PER_BLOCK;
	p->count = first;
	int w = snprintf(p->evidence, sizeof p->evidence,
			 "every block of %d columns has exactly %llu zeros "
			 "(of %llu)",
			 MP_PRUNE_BLOCK, (ull)first,
			 (ull)(mk->nfeat * MP_PRUNE_BLOCK));
	if (rem && w > 0 && (size_t)w < sizeof p->evidence)
		snprintf(p->evidence + w, sizeof p->evidence - (size_t)w,
			 "; the last %llu columns %llu", (ull)rem, (ull)last);
	return true;
}

/* Every line (row or column) is either all zero or free of zeros, and
 * some are all zero. nz[0..n) are the non-zeros per line of length len. */
static bool removed(const uint64_t *nz, uint64_t n, uint64_t len, bool rows,
		    struct mp_prune_profile *p)
{
	uint64_t gone = 0;
	for (uint64_t i = 0; i < n; i++) {
		if (nz[i] == 0)
			gone++;
		else if (nz[i] != len)
			return false;
	}
	if (!gone || n < 2)
		return false;
	p->pattern = rows ? MP_PRUNE_ROWS : MP_PRUNE_COLS;
	p->count = gone;
	snprintf(p->evidence, sizeof p->evidence,
		 "%llu of %llu %s are all zero, the others have no zeros",
		 (ull)gone, (ull)n, rows ? "rows" : "columns");
	return true;
}

mp_status mp_prune_detect(const struct mp_mask *mk,
			  struct mp_prune_profile *p, struct mp_error *err)
{
	memset(p, 0, sizeof *p);
	uint64_t *rownz = calloc(mk->nfeat + 1, sizeof *rownz);
	uint64_t *colnz = calloc(mk->width + 1, sizeof *colnz);
	if (!rownz || !colnz) {
		free(rownz);
		free(colnz);
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	uint64_t tot = 0;
	for (uint64_t r = 0; r < mk->nfeat; r++) {
		const uint64_t *x = mk->bits + r * mk->words;
		for (uint64_t i = 0; i < mk->words; i++)
			for (uint64_t b = x[i]; b; b &= b - 1)
				colnz[i * 64 + (uint64_t)__builtin_ctzll(b)]++;
		rownz[r] = mp_mask_count(mk, r);
		tot += rownz[r];
	}
	p->row_zero_min = p->col_zero_min = UINT64_MAX;
	for (uint64_t r = 0; r < mk->nfeat; r++) {
		uint64_t z = mk->width - rownz[r];
		p->row_zero_min = z < p->row_zero_min ? z : p->row_zero_min;
		p->row_zero_max = z > p->row_zero_max ? z : p->row_zero_max;
	}
	for (uint64_t j = 0; j < mk->width; j++) {
		uint64_t z = mk->nfeat - colnz[j];
		p->col_zero_min = z < p->col_zero_min ? z : p->col_zero_min;
		p->col_zero_max = z > p->col_zero_max ? z : p->col_zero_max;
	}
	if (!mk->nfeat)
		p->row_zero_min = 0;
	if (!mk->width)
		p->col_zero_min = 0;
	uint64_t all = mk->nfeat * mk->width;
	if (tot == all)
		snprintf(p->evidence, sizeof p->evidence,
			 "no weight is exactly zero");
	else if (tot == 0)
		snprintf(p->evidence, sizeof p->evidence,
			 "every weight is zero");
	else if (removed(rownz, mk->nfeat, mk->width, true, p) ||
		 removed(colnz, mk->width, mk->nfeat, false, p) ||
		 find_nm(mk, true, p) || find_nm(mk, false, p))
		;
	else if (mk->nfeat >= 2 && p->row_zero_min == p->row_zero_max) {
		p->pattern = MP_PRUNE_PER_ROW;
		p->count = p->row_zero_min;
		snprintf(p->evidence, sizeof p->evidence,
			 "every row has exactly %llu zeros (of %llu)",
			 (ull)p->count, (ull)mk->width);
	} else if (!per_block(mk, colnz, p))
		snprintf(p->evidence, sizeof p->evidence,
			 "zeros per row range from %llu to %llu, per column "
			 "from %llu to %llu",
			 (ull)p->row_zero_min, (ull)p->row_zero_max,
			 (ull)p->col_zero_min, (ull)p->col_zero_max);
	free(rownz);
	free(colnz);
	return MP_OK;
}
