/* sparsity_parent.c — a pruned tensor against its dense parent: were the
 * survivors left alone (mask-only pruning) or updated (SparseGPT-style
 * reconstruction), and are the new zeros the parent's smallest |w|,
 * tensor-wide or per row (sparsity.h). One pass over both, in chunks. */
#include "sparsity.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK 4096

typedef unsigned long long ull;

const char *mp_parent_select_name(enum mp_parent_select s)
{
	switch (s) {
	case MP_SEL_THRESHOLD: return "threshold";
	case MP_SEL_PER_ROW: return "per-row";
	case MP_SEL_OTHER: return "other";
	case MP_SEL_NONE: break;
	}
	return "none";
}

static bool same_shape(const struct mp_tensor *a, const struct mp_tensor *b)
{
	if (a->ndim != b->ndim || a->output_last != b->output_last)
		return false;
	for (int d = 0; d < a->ndim; d++)
		if (a->shape[d] != b->shape[d])
			return false;
	return true;
}

/* Per-row extremes: the largest parent |w| pruned, the smallest kept. */
struct rows {
	uint64_t n, cols;
	bool out_last;
	double *max_pruned, *min_kept;
};

static uint64_t row_of(const struct rows *r, uint64_t e)
{
	return r->out_last ? e % r->n : e / r->cols;
}

static void fill_evidence(struct mp_parent_cmp *c)
{
	char upd[96], sel[120];
	if (c->mask_only)
		snprintf(upd, sizeof upd,
			 "mask only: all %llu survivors equal the parent",
			 (ull)c->kept);
	else
		snprintf(upd, sizeof upd,
			 "survivors updated: %.1f %% changed, relative change "
			 "%.3g",
			 100.0 * (double)c->changed / (double)c->kept,
			 c->rel_change);
	switch (c->select) {
	case MP_SEL_NONE:
		snprintf(sel, sizeof sel, "no new zeros");
		break;
	case MP_SEL_THRESHOLD:
		snprintf(sel, sizeof sel,
			 "the %llu new zeros are the smallest |w| (<= %.4g, "
			 "survivors >= %.4g)",
			 (ull)c->pruned, c->max_pruned, c->min_kept);
		break;
	case MP_SEL_PER_ROW:
		snprintf(sel, sizeof sel,
			 "the %llu new zeros are the smallest |w| of each row, "
			 "not tensor-wide",
			 (ull)c->pruned);
		break;
	case MP_SEL_OTHER:
		snprintf(sel, sizeof sel,
			 "the %llu new zeros are not the smallest |w|, "
			 "tensor-wide or per row",
			 (ull)c->pruned);
		break;
	}
	snprintf(c->evidence, sizeof c->evidence,
		 "%s; %s; %llu zero in the parent already%s", upd, sel,
		 (ull)c->both_zero, c->revived ? ", some revived" : "");
}

mp_status mp_parent_compare(const struct mp_model *m, const struct mp_tensor *t,
			    const struct mp_model *pm,
			    const struct mp_tensor *pt,
			    struct mp_parent_cmp *c, struct mp_error *err)
{
	char show[MP_NAME_SHOW + 8];
	memset(c, 0, sizeof *c);
	if (!same_shape(t, pt)) {
		char a[8 * 21 + 8], b[8 * 21 + 8];
		mp_shape_text(t->ndim, t->shape, a, sizeof a);
		mp_shape_text(pt->ndim, pt->shape, b, sizeof b);
		return mp_error_set(err, MP_EINVAL,
				    "%s: tensor %s is %s, but %s in the parent "
				    "%s",
				    m->path, mp_printable(t->name, show), a, b,
				    pm->path);
	}
	c->numel = t->numel;
	struct rows r = {1, t->numel, false, NULL, NULL};
	if (t->ndim >= 2) {
		r.out_last = t->output_last;
		r.n = r.out_last ? t->shape[t->ndim - 1] : t->shape[0];
		r.cols = r.n ? t->numel / r.n : 0;
	}
	unsigned es = mp_dtype_size(t->stored), pes = mp_dtype_size(pt->stored);
	uint8_t *s1 = malloc((size_t)CHUNK * es), *s2 = malloc((size_t)CHUNK * pes);
	double *v = malloc(CHUNK * sizeof *v), *p = malloc(CHUNK * sizeof *p);
	r.max_pruned = malloc((size_t)(r.n + 1) * sizeof *r.max_pruned);
	r.min_kept = malloc((size_t)(r.n + 1) * sizeof *r.min_kept);
	mp_status st = MP_OK;
	if (!s1 || !s2 || !v || !p || !r.max_pruned || !r.min_kept) {
		st = mp_error_set(err, MP_ENOMEM, "out of memory");
		goto out;
	}
	for (uint64_t i = 0; i < r.n; i++) {
		r.max_pruned[i] = -INFINITY;
		r.min_kept[i] = INFINITY;
	}
	double hi = -INFINITY, lo = INFINITY, d2 = 0, p2 = 0;
	for (uint64_t off = 0; off < t->numel; off += CHUNK) {
		size_t n = t->numel - off < CHUNK ? (size_t)(t->numel - off)
						  : CHUNK;
		if ((st = mp_sparsity_read(m, t, off, n, s1, v, err)) != MP_OK ||
		    (st = mp_sparsity_read(pm, pt, off, n, s2, p, err)) !=
			MP_OK)
			goto out;
		for (size_t i = 0; i < n; i++) {
			uint64_t row = row_of(&r, off + i);
			double a = fabs(p[i]);
			if (v[i] == 0 && p[i] == 0) {
				c->both_zero++;
			} else if (v[i] == 0) {
				c->pruned++;
				hi = a > hi ? a : hi;
				if (a > r.max_pruned[row])
					r.max_pruned[row] = a;
			} else if (p[i] == 0) {
				c->revived++;
			} else {
				c->kept++;
				lo = a < lo ? a : lo;
				if (a < r.min_kept[row])
					r.min_kept[row] = a;
				if (memcmp(&v[i], &p[i], sizeof v[i])) {
					c->changed++;
					d2 += (v[i] - p[i]) * (v[i] - p[i]);
				}
				p2 += p[i] * p[i];
			}
		}
	}
	c->max_pruned = c->pruned ? hi : NAN;
	c->min_kept = c->kept ? lo : NAN;
	c->rel_change = p2 > 0 ? sqrt(d2 / p2) : 0;
	c->mask_only = c->changed == 0;
	if (!c->pruned)
		c->select = MP_SEL_NONE;
	else if (!c->kept || hi <= lo)
		c->select = MP_SEL_THRESHOLD;
	else {
		c->select = MP_SEL_PER_ROW;
		for (uint64_t i = 0; i < r.n; i++)
			if (r.max_pruned[i] > r.min_kept[i])
				c->select = MP_SEL_OTHER;
	}
	fill_evidence(c);
out:
	free(s1);
	free(s2);
	free(v);
	free(p);
	free(r.max_pruned);
	free(r.min_kept);
	return st;
}
