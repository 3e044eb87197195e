/* metric_exact.c — exact cosine and Pearson over the full tensors of two
 * open models, streamed in blocks (the `--exact` path and `compare`). */
#include "gguf_names.h"
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

/* Rows of one side to read in another order: llama.cpp's Q/K permutation
 * with heads heads undone on side (1: a, 2: b; 0: rows as stored). */
struct perm {
	int side;
	uint64_t rows, cols, heads;
	/* what llama.cpp's converter added to the values of side
	   offset_side's tensor (a Gemma norm, mp_gguf_names_offset): added
	   to the other side's values too; 0: nothing */
	double offset;
	int offset_side;
	/* b stored as the transpose of a (a GGUF matrix the converter
	   transposed, mp_gguf_names_transposed): a's element (i, j) of rows
	   x cols is b's (j, i), read one by one */
	bool transposed;
};

/* Offset of value off (original order) on the side p permutes. */
static uint64_t perm_off(const struct perm *p, uint64_t off)
{
	return mp_gguf_qk_off(off, p->rows, p->cols, p->heads);
}

/* The n elements of b, stored as the transpose of a (p), that pair with
 * a's elements from off, copied one by one into buf in a's order. */
static const uint8_t *gather_t(const struct mp_tensor *b, const struct perm *p,
			       uint64_t off, uint64_t n, uint8_t *buf)
{
	size_t w = b->ggml ? 4 : mp_dtype_size(b->stored);
	for (uint64_t i = 0; i < n; i++) {
		uint8_t *to = buf + i * w;
		const uint8_t *q = mp_tensor_elems(
		    b, mp_gguf_transposed_off(off + i, p->rows, p->cols), 1, to);
		if (q != to)
			memcpy(to, q, w);
	}
	return buf;
}

/* Compare one pair of tensors of equal numel in two passes (means, then
 * the raw and centred products) over the positions finite on both sides;
 * blocks stop at row ends when p permutes rows. */
static void pair_scores(const struct mp_tensor *a, const struct mp_tensor *b,
			const struct perm *p, struct bufs *w,
			struct mp_exact_pair *out)
{
	unsigned wa = mp_dtype_size(a->stored);
	bool identical = a->stored == b->stored;
	struct mp_metric_pair acc;
	mp_metric_pair_init(&acc);
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1)
			mp_metric_pair_next_pass(&acc);
		for (uint64_t off = 0, n; off < a->numel; off += n) {
			uint64_t left = a->numel - off;
			if (p->side)
				left = p->cols - off % p->cols < left
					   ? p->cols - off % p->cols
					   : left;
			n = left < BLOCK ? left : BLOCK;
			uint64_t oa = p->side == 1 ? perm_off(p, off) : off;
			uint64_t ob = p->side == 2 ? perm_off(p, off) : off;
			const uint8_t *pa = mp_tensor_elems(a, oa, n, w->sa);
			const uint8_t *pb = p->transposed
						? gather_t(b, p, off, n, w->sb)
						: mp_tensor_elems(b, ob, n, w->sb);
			if (pass == 0 && identical)
				identical = memcmp(pa, pb, n * wa) == 0;
			mp_tensor_decode(a, pa, n, w->x);
			mp_tensor_decode(b, pb, n, w->y);
			double *orig = p->offset_side == 1   ? w->y
				       : p->offset_side == 2 ? w->x
							     : NULL;
			for (uint64_t i = 0; orig && i < n; i++)
				orig[i] += p->offset;
			mp_metric_pair_feed(&acc, w->x, w->y, (size_t)n);
		}
	}
	mp_metric_pair_finish(&acc, &out->r);
	out->identical_bytes = identical;
}

/* general.architecture of GGUF model m (NULL: none). */
static const char *arch_of(const struct mp_model *m)
{
	return mp_meta_get(m->meta, m->nmeta, "general.architecture");
}

/* How ta of a and tb of b line up when one is in GGUF naming and the
 * other in Hugging Face naming: llama.cpp's converter added an offset to
 * the GGUF one (a Gemma norm; offset_side its side), or stored it as the
 * other's transpose (GPT-2's Conv1D weights; transposed); neither:
 * offset_side 0, transposed false. The Q/K permutation is qk_scores'. */
static struct perm layout_of(const struct mp_model *a,
			     const struct mp_tensor *ta,
			     const struct mp_model *b,
			     const struct mp_tensor *tb)
{
	struct perm p = {0};
	bool ga = mp_gguf_names_is_gguf(ta->name);
	if (ga == mp_gguf_names_is_gguf(tb->name))
		return p;
	const struct mp_gguf_names *map = mp_gguf_names_default();
	const char *arch = arch_of(ga ? a : b), *gn = ga ? ta->name : tb->name;
	p.offset = mp_gguf_names_offset(map, arch, gn);
	p.offset_side = p.offset != 0 ? (ga ? 1 : 2) : 0;
	mp_gguf_shapes_pair(a, ta, b, tb, &p.transposed);
	p.rows = p.transposed ? ta->shape[0] : 0;
	p.cols = p.transposed ? ta->shape[1] : 0;
	return p;
}

/* Whether candidate x beats the best so far: a higher cosine (a defined
 * one beats an undefined one). */
static bool better(const struct mp_exact_pair *x, const struct mp_exact_pair *best)
{
	if (x->r.cos_why != MP_WHY_OK)
		return false;
	return best->r.cos_why != MP_WHY_OK || x->r.cosine > best->r.cosine;
}

/* The pair with rows as stored, and for a GGUF Q/K paired with a Hugging
 * Face one, with llama.cpp's permutation undone: for the known head count
 * (hq for Q, hkv for K; 0 unknown), else each count that divides the rows into even heads; the one of
 * highest cosine kept. */
static void qk_scores(const struct mp_tensor *a, const struct mp_tensor *b,
		      uint64_t hq, uint64_t hkv, const char *arch,
		      const struct perm *shift, struct bufs *w,
		      struct mp_exact_pair *out)
{
	struct perm p = {0};
	if (shift && (shift->offset_side || shift->transposed)) {
		pair_scores(a, b, shift, w, out);
		return;
	}
	pair_scores(a, b, &p, w, out);
	int qk = 0;
	bool ga = mp_gguf_names_is_gguf(a->name), gb = mp_gguf_names_is_gguf(b->name);
	char alias[MP_GGUF_ALIAS_MAX][MP_GGUF_NAME_MAX];
	if (ga == gb || a->ndim != 2 || a->shape[0] < 2 || !a->numel)
		return;
	const struct mp_gguf_names *map = mp_gguf_names_default();
	if (mp_gguf_names_knows(map, arch)) /* its converter's own rule */
		qk = mp_gguf_names_permuted(map, arch, ga ? a->name : b->name);
	else
		mp_gguf_names_alias(map, arch, ga ? a->name : b->name, alias,
				    &qk);
	if (!qk)
		return;
	uint64_t heads = qk == 'k' ? hkv : hq;
	if (heads && a->shape[0] == 2 * heads)
		return; /* heads of two rows: the permutation moves none */
	p = (struct perm){.side = ga ? 1 : 2,
			 .rows = a->shape[0],
			 .cols = a->numel / a->shape[0]};
	for (uint64_t h = heads ? heads : 1; h < p.rows / 2; h++) {
		if (p.rows % (2 * h) == 0) {
			struct mp_exact_pair x = *out;
			p.heads = h;
			pair_scores(a, b, &p, w, &x);
			if (better(&x, out)) {
				*out = x;
				out->unpermuted_heads = h;
				out->heads_inferred = !heads;
			}
		}
		if (heads)
			break;
	}
}

uint64_t mp_metric_qk_heads(const struct mp_tensor *a,
			    const struct mp_tensor *b, uint64_t hq,
			    uint64_t hkv, const char *arch, bool *inferred)
{
	struct mp_exact_pair x = {0};
	struct bufs w = {malloc(BLOCK * sizeof(double)),
			 malloc(BLOCK * sizeof(double)), malloc(BLOCK * 8),
			 malloc(BLOCK * 8)};
	if (w.x && w.y && w.sa && w.sb)
		qk_scores(a, b, hq, hkv, arch, NULL, &w, &x);
	free(w.x), free(w.y), free(w.sa), free(w.sb);
	*inferred = x.heads_inferred;
	return x.unpermuted_heads;
}

/* pair_scores (qk_scores) guarded: false when a file shrank under it
 * (g->addr). */
static bool guarded_pair(const struct mp_tensor *a, const struct mp_tensor *b,
			 uint64_t hq, uint64_t hkv, const char *arch,
			 const struct perm *shift, struct bufs *w,
			 struct mp_exact_pair *out, struct mp_mapguard *g)
{
	if (MP_MAPGUARD_BEGIN(g))
		return false;
	qk_scores(a, b, hq, hkv, arch, shift, w, out);
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
	uint64_t hq = 0, hkv = 0; /* from either side */
	if (!mp_gguf_heads(a, &hq, &hkv))
		mp_gguf_heads(b, &hq, &hkv);
	for (size_t i = 0; i < a->ntensors; i++) {
		const struct mp_tensor *ta = &a->tensors[i];
		const struct mp_tensor *tb = mp_model_find(b, ta->name);
		if (!tb)
			continue;
		struct perm lay = layout_of(a, ta, b, tb);
		if (!mp_gguf_shapes_pair(a, ta, b, tb, NULL) ||
		    !mp_dtype_is_float(ta->logical) ||
		    !mp_dtype_is_float(tb->logical) || ta->numel == 0)
			continue;
		p[n].name = ta->name;
		p[n].numel = ta->numel;
		p[n].transposed = lay.transposed;
		struct mp_mapguard g;
		const char *arch =
		    arch_of(mp_gguf_names_is_gguf(ta->name) ? a : b);
		if (!guarded_pair(ta, tb, hq, hkv, arch, &lay, &w, &p[n],
				  &g)) {
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
