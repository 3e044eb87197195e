/* metric_exact.c — exact cosine and Pearson over the full tensors of two
 * open models, streamed in blocks (the `--exact` path and `compare`). */
#include "mapguard.h"
#include "metric.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 65536 /* values per block */

static bool same_shape(const struct mp_tensor *a, const struct mp_tensor *b)
{
	if (a->ndim != b->ndim)
		return false;
	for (int d = 0; d < a->ndim; d++)
		if (a->shape[d] != b->shape[d])
			return false;
	return true;
}

struct bufs {
	double *x, *y;
	uint8_t *sa, *sb;
};

/* Compare one pair of tensors of equal numel. Two passes: means, then the
 * centred and raw products (numerically stable Pearson). */
static void pair_scores(const struct mp_tensor *a, const struct mp_tensor *b,
			struct bufs *w, struct mp_exact_pair *out)
{
	unsigned wa = mp_dtype_size(a->stored), wb = mp_dtype_size(b->stored);
	double sx = 0, sy = 0;
	bool identical = a->stored == b->stored;
	for (int pass = 0; pass < 2; pass++) {
		double mx = sx / (double)a->numel, my = sy / (double)a->numel;
		double dot = 0, xx = 0, yy = 0, cxy = 0, cxx = 0, cyy = 0;
		for (uint64_t off = 0; off < a->numel; off += BLOCK) {
			size_t n = a->numel - off < BLOCK ? (size_t)(a->numel - off)
							  : BLOCK;
			const uint8_t *pa = mp_tensor_bytes(a, off * wa, n * wa, w->sa);
			const uint8_t *pb = mp_tensor_bytes(b, off * wb, n * wb, w->sb);
			if (pass == 0 && identical)
				identical = memcmp(pa, pb, n * wa) == 0;
			mp_tensor_decode(a, pa, n, w->x);
			mp_tensor_decode(b, pb, n, w->y);
			for (size_t i = 0; i < n; i++) {
				double x = w->x[i], y = w->y[i];
				if (pass == 0) {
					sx += x;
					sy += y;
					continue;
				}
				dot += x * y;
				xx += x * x;
				yy += y * y;
				cxy += (x - mx) * (y - my);
				cxx += (x - mx) * (x - mx);
				cyy += (y - my) * (y - my);
			}
		}
		if (pass == 1) {
			out->cosine = xx == 0 && yy == 0 ? 1
				      : xx == 0 || yy == 0 ? 0
							   : dot / sqrt(xx * yy);
			out->pearson = cxx == 0 || cyy == 0
					       ? (cxx == 0 && cyy == 0 && mx == my)
					       : cxy / sqrt(cxx * cyy);
		}
	}
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
	double wsum = 0, cs = 0, ps = 0;
	for (size_t i = 0; i < a->ntensors; i++) {
		const struct mp_tensor *ta = &a->tensors[i];
		const struct mp_tensor *tb = mp_model_find(b, ta->name);
		if (!tb || !same_shape(ta, tb) || !mp_dtype_is_float(ta->logical) ||
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
		wsum += (double)ta->numel;
		cs += (double)ta->numel * p[n].cosine;
		ps += (double)ta->numel * p[n].pearson;
		n++;
	}
	free(w.x), free(w.y), free(w.sa), free(w.sb);
	if (n == 0) {
		*cosine = *pearson = (struct mp_score){false, NAN,
						       "no floating tensors in common"};
	} else {
		*cosine = (struct mp_score){true, cs / wsum, NULL};
		*pearson = (struct mp_score){true, ps / wsum, NULL};
	}
	*pairs = p;
	*npairs = n;
	return MP_OK;
}
