/* ident_match.c — pairing an unknown's tensors with a reference's: by
 * normalised name and shape, or by content when the names differ
 * (ident_int.h). */
#include "gguf_names.h"
#include "ident_int.h"
#include "metric.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int norm_cmp(const void *a, const void *b)
{
	const struct ident_norm *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

static uint64_t arg_or(const mp_json *args, const char *key, uint64_t dflt)
{
	uint64_t v;
	const mp_json *j = mp_json_get(args, key);
	return j && mp_json_uint(j, &v) ? v : dflt;
}

mp_status ident_fpx_build(const struct mp_arch_set *s,
			  const struct mp_fingerprint *fp, struct ident_fpx *x,
			  struct mp_error *err)
{
	memset(x, 0, sizeof *x);
	x->fp = fp;
	x->sketch_size = arg_or(fp->args, "sketch_size", MP_SKETCH_DEFAULT);
	x->seed = arg_or(fp->args, "seed", 0);
	size_t n = fp->ntensors ? fp->ntensors : 1;
	x->by = malloc(n * sizeof *x->by);
	x->norm = malloc(n * sizeof *x->norm);
	if (!x->by || !x->norm) {
		ident_fpx_free(x);
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < fp->ntensors; i++) {
		x->by[i].name = mp_arch_normalise(s, fp->tensors[i].name);
		x->by[i].idx = i;
		x->norm[i] = x->by[i].name;
		if (fp->tensors[i].nsketch)
			x->nfloat++;
	}
	if (fp->ntensors)
		qsort(x->by, fp->ntensors, sizeof *x->by, norm_cmp);
	return MP_OK;
}

void ident_fpx_free(struct ident_fpx *x)
{
	free(x->by);
	free(x->norm);
	x->by = NULL;
	x->norm = NULL;
}

static long fpx_find(const void *ctx, const char *norm)
{
	const struct ident_fpx *x = ctx;
	size_t lo = 0, hi = x->fp->ntensors;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(x->by[mid].name, norm) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < x->fp->ntensors && !strcmp(x->by[lo].name, norm)
		   ? (long)x->by[lo].idx
		   : -1;
}

size_t ident_fpx_find(const struct ident_fpx *x, const char *norm)
{
	long i = fpx_find(x, norm);
	if (i < 0) /* the name in the other convention (GGUF <-> HF) */
		i = mp_gguf_names_find(norm, x->fp->names_arch, fpx_find, x);
	return i < 0 ? ID_NONE : (size_t)i;
}

bool ident_sketches_comparable(const struct ident_fpx *a,
			       const struct ident_fpx *b)
{
	return a->sketch_size == b->sketch_size && a->seed == b->seed;
}

void ident_sketch_corr(const struct mp_tensor_fp *a,
		       const struct mp_tensor_fp *b, double *cosine,
		       double *pearson)
{
	*cosine = *pearson = NAN;
	if (!a->nsketch || a->nsketch != b->nsketch ||
	    !mp_fp_sketches_aligned(a, b))
		return;
	struct mp_metric_pair p;
	struct mp_metric_pair_result r;
	double x[256], y[256];
	mp_metric_pair_init(&p);
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t i = 0; i < a->nsketch; i += 256) {
			uint32_t n = a->nsketch - i < 256 ? a->nsketch - i : 256;
			for (uint32_t k = 0; k < n; k++) {
				x[k] = a->sketch[i + k];
				y[k] = b->sketch[i + k];
			}
			mp_metric_pair_feed(&p, x, y, n);
		}
		if (!pass)
			mp_metric_pair_next_pass(&p);
	}
	mp_metric_pair_finish(&p, &r);
	*cosine = r.cosine;
	*pearson = r.pearson;
}

static size_t pair_by_name(const struct ident_fpx *u,
			   const struct ident_fpx *r, size_t *r_of_u)
{
	size_t m = 0;
	for (size_t i = 0; i < u->fp->ntensors; i++) {
		const struct mp_tensor_fp *t = &u->fp->tensors[i];
		size_t j = ident_fpx_find(r, u->norm[i]);
		r_of_u[i] = ID_NONE;
		if (j != ID_NONE && mp_fp_shapes_match(t, &r->fp->tensors[j])) {
			r_of_u[i] = j;
			m++;
		}
	}
	return m;
}

/* Budget of sketch values compared while pairing by content. */
#define RENAME_BUDGET 200000000.0

/* Pair by content the tensors r_of_u leaves unpaired (its pairs kept):
 * identical bytes first, then for each unpaired tensor with a sketch the
 * unused same-shaped one of best correlation. Returns the pairs in all. */
static size_t pair_by_content(const struct ident_fpx *u,
			      const struct ident_fpx *r, size_t *r_of_u,
			      bool *used)
{
	const struct mp_fingerprint *fu = u->fp, *fr = r->fp;
	size_t m = 0;
	for (size_t i = 0; i < fu->ntensors; i++)
		if (r_of_u[i] != ID_NONE) {
			used[r_of_u[i]] = true;
			m++;
		}
	for (size_t i = 0; i < fu->ntensors; i++) {
		const struct mp_tensor_fp *t = &fu->tensors[i];
		if (r_of_u[i] != ID_NONE || !t->sha256[0] ||
		    t->numel < ID_RENAME_MIN_VALUES)
			continue;
		for (size_t j = 0; j < fr->ntensors; j++)
			if (!used[j] && mp_fp_shapes_match(t, &fr->tensors[j]) &&
			    !strcmp(t->sha256, fr->tensors[j].sha256)) {
				r_of_u[i] = j;
				used[j] = true;
				m++;
				break;
			}
	}
	double spent = 0;
	bool comparable = ident_sketches_comparable(u, r);
	for (size_t i = 0; comparable && i < fu->ntensors; i++) {
		const struct mp_tensor_fp *t = &fu->tensors[i];
		if (r_of_u[i] != ID_NONE || t->nsketch < ID_RENAME_MIN_VALUES)
			continue;
		size_t best = ID_NONE;
		double bp = ID_RENAME_PEARSON;
		for (size_t j = 0; j < fr->ntensors && spent < RENAME_BUDGET;
		     j++) {
			if (used[j] || !mp_fp_shapes_match(t, &fr->tensors[j]))
				continue;
			double c, p;
			ident_sketch_corr(t, &fr->tensors[j], &c, &p);
			spent += t->nsketch;
			if (p >= bp) {
				bp = p;
				best = j;
			}
		}
		if (best != ID_NONE) {
			r_of_u[i] = best;
			used[best] = true;
			m++;
		}
	}
	return m;
}

/* Cells of the positional alignment's table at most. */
#define POSITION_CELLS 4000000.0

/* Pair by position: the longest common subsequence of the two tensor
 * lists by shape (tensors in file order: a model renamed tensor by
 * tensor keeps its order). Returns the pairs; 0 when the lists are too
 * long to align or out of memory. */
static size_t pair_by_position(const struct ident_fpx *u,
			       const struct ident_fpx *r, size_t *r_of_u)
{
	size_t nu = u->fp->ntensors, nr = r->fp->ntensors;
	if ((double)(nu + 1) * (double)(nr + 1) > POSITION_CELLS)
		return 0;
	uint32_t *L = calloc((nu + 1) * (nr + 1), sizeof *L);
	if (!L)
		return 0;
#define AT(i, j) L[(size_t)(i) * (nr + 1) + (j)]
	for (size_t i = nu; i-- > 0;)
		for (size_t j = nr; j-- > 0;)
			AT(i, j) = mp_fp_shapes_match(&u->fp->tensors[i],
					      &r->fp->tensors[j])
				       ? AT(i + 1, j + 1) + 1
				   : AT(i + 1, j) > AT(i, j + 1) ? AT(i + 1, j)
								 : AT(i, j + 1);
	size_t m = 0, i = 0, j = 0;
	for (size_t k = 0; k < nu; k++)
		r_of_u[k] = ID_NONE;
	while (i < nu && j < nr) {
		if (mp_fp_shapes_match(&u->fp->tensors[i], &r->fp->tensors[j]) &&
		    AT(i, j) == AT(i + 1, j + 1) + 1) {
			r_of_u[i++] = j++;
			m++;
		} else if (AT(i + 1, j) >= AT(i, j + 1)) {
			i++;
		} else {
			j++;
		}
	}
#undef AT
	free(L);
	return m;
}

/* Use alt as the pairing of p when it pairs more than p does. */
static void take_if_more(const struct ident_fpx *u, const struct ident_fpx *r,
			 struct ident_pairing *p, size_t **alt, size_t m,
			 enum ident_paired_by by)
{
	if (m <= p->matched)
		return;
	size_t renamed = 0;
	for (size_t i = 0; i < u->fp->ntensors; i++)
		if ((*alt)[i] != ID_NONE && strcmp(u->norm[i], r->norm[(*alt)[i]]))
			renamed++;
	size_t *old = p->r_of_u;
	p->r_of_u = *alt;
	*alt = old;
	p->matched = m;
	p->renamed = renamed;
	p->by = by;
}

mp_status ident_pair(const struct ident_fpx *u, const struct ident_fpx *r,
		     bool rename, struct ident_pairing *p, struct mp_error *err)
{
	size_t nu = u->fp->ntensors, nr = r->fp->ntensors;
	memset(p, 0, sizeof *p);
	if (!(p->r_of_u = malloc((nu ? nu : 1) * sizeof *p->r_of_u)))
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	p->matched = pair_by_name(u, r, p->r_of_u);
	size_t small = nu < nr ? nu : nr;
	if (!rename || !small ||
	    (double)p->matched >= MP_ID_MIN_OVERLAP * (double)small)
		return MP_OK;
	size_t *alt = malloc(nu * sizeof *alt);
	bool *used = calloc(nr ? nr : 1, sizeof *used);
	if (!alt || !used) {
		free(alt);
		free(used);
		ident_pairing_free(p);
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	memcpy(alt, p->r_of_u, nu * sizeof *alt);
	take_if_more(u, r, p, &alt, pair_by_content(u, r, alt, used),
		     BY_CONTENT);
	/* the same structure in the same order, every name changed: only a
	 * near-complete alignment counts */
	size_t m = pair_by_position(u, r, alt);
	if ((double)m >= ID_POSITION_SHARE * (double)small)
		take_if_more(u, r, p, &alt, m, BY_POSITION);
	free(alt);
	free(used);
	return MP_OK;
}

void ident_pairing_free(struct ident_pairing *p)
{
	free(p->r_of_u);
	p->r_of_u = NULL;
}
