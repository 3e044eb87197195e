/* metric_exact.c — exact cosine and Pearson over the full tensors of two
 * open models, streamed in blocks (the `--exact` path and `compare`). */
#include "mapguard.h"
#include "metric.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 65536 /* values per block */

struct bufs {
	double *x, *y;
	uint8_t *sa, *sb;
};

/* Compare one pair of tensors of equal numel in two passes (means, then
 * the raw and centred products) over the positions finite on both sides. */
static void pair_scores(const struct mp_tensor *a, const struct mp_tensor *b,
			struct bufs *w, struct mp_exact_pair *out)
{
	unsigned wa = mp_dtype_size(a->stored);
	bool identical = a->stored == b->stored;
	struct mp_metric_pair acc;
	mp_metric_pair_init(&acc);
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1)
			mp_metric_pair_next_pass(&acc);
		for (uint64_t off = 0; off < a->numel; off += BLOCK) {
			size_t n = a->numel - off < BLOCK ? (size_t)(a->numel - off)
							  : BLOCK;
			const uint8_t *pa = mp_tensor_elems(a, off, n, w->sa);
			const uint8_t *pb = mp_tensor_elems(b, off, n, w->sb);
			if (pass == 0 && identical)
				identical = memcmp(pa, pb, n * wa) == 0;
			mp_tensor_decode(a, pa, n, w->x);
			mp_tensor_decode(b, pb, n, w->y);
			mp_metric_pair_feed(&acc, w->x, w->y, n);
		}
	}
	mp_metric_pair_finish(&acc, &out->r);
	out->identical_bytes = identical;
}

/* pair_scores guarded: false when a file shrank under it (g->addr). */
static bool guarded_pair(const struct mp_tensor *a, const struct mp_tensor *b,
			 struct bufs *w, struct mp_exact_pair *out,
			 struct mp_mapguard *g)
{
	if (MP_MAPGUARD_BEGIN(g))
		return false;
	pair_scores(a, b, w, out);
	mp_mapguard_end(g);
	return true;
}

mp_status mp_metric_exact(const struct mp_model *a, const struct mp_model *b,
			  struct mp_exact_pair **pairs, size_t *npairs,
			  struct mp_score *cosine, struct mp_score *pearson,
			  struct mp_error *err)
{
	*pairs = NULL;
	*npairs = 0;
	struct mp_exact_pair *p = calloc(a->ntensors + 1, sizeof *p);
	struct bufs w = {malloc(BLOCK * sizeof(double)),
			 malloc(BLOCK * sizeof(double)), malloc(BLOCK * 8),
			 malloc(BLOCK * 8)};
	if (!p || !w.x || !w.y || !w.sa || !w.sb) {
		free(p);
		free(w.x), free(w.y), free(w.sa), free(w.sb);
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	size_t n = 0;
	struct mp_metric_mean mc = {0}, mpe = {0};
	for (size_t i = 0; i < a->ntensors; i++) {
		const struct mp_tensor *ta = &a->tensors[i];
		const struct mp_tensor *tb = mp_model_find(b, ta->name);
		if (!tb ||
		    !mp_metric_shapes_match(ta->ndim, ta->shape, ta->numel,
					    tb->ndim, tb->shape, tb->numel) ||
		    !mp_dtype_is_float(ta->logical) ||
		    !mp_dtype_is_float(tb->logical) || ta->numel == 0)
			continue;
		p[n].name = ta->name;
		p[n].numel = ta->numel;
		struct mp_mapguard g;
		if (!guarded_pair(ta, tb, &w, &p[n], &g)) {
			const char *f = mp_mapguard_file(g.addr, a->files,
							 a->nfiles);
			free(p);
			free(w.x), free(w.y), free(w.sa), free(w.sb);
			return mp_mapguard_error(
			    f ? f : mp_mapguard_file(g.addr, b->files, b->nfiles),
			    err);
		}
		const struct mp_metric_pair_result *r = &p[n].r;
		double wt = (double)ta->numel;
		mp_metric_mean_add(&mc, wt, r->cosine, r->cos_why, r->skipped);
		mp_metric_mean_add(&mpe, wt, r->pearson, r->pear_why, r->skipped);
		n++;
	}
	free(w.x), free(w.y), free(w.sa), free(w.sb);
	*cosine = mp_metric_mean_score(&mc, MP_REASON_NO_FLOAT,
				       MP_REASON_COS_NONE);
	*pearson = mp_metric_mean_score(&mpe, MP_REASON_NO_FLOAT,
					MP_REASON_PEAR_NONE);
	*pairs = p;
	*npairs = n;
	return MP_OK;
}
