/* lineage.c — the relation of an unknown U to a reference R, from their
 * values (see lineage.h). One pass over each pair of tensors matched by
 * name and shape, in blocks of BLK values, gathers everything every rule
 * needs: byte equality, conversion mismatches, zeros added and survivors
 * that changed with the prune structure, and the co-moments for Pearson
 * and cosine. The rules are then tried from the most exact to the least:
 * copy, dtype conversion, pruning, then (each its own pass, only when those
 * fail) quantization both ways (lineage_quant.c), permuted hidden units
 * (lineage_perm.c), pruning the other way, and fine-tune, unrelated,
 * unclear.
 *
 * Thresholds (lineage.h):
 * MP_LIN_FINETUNE_MIN 0.9: a fine-tune moves weights by a small fraction of
 *   their spread (relative change well under 0.5 gives Pearson > 0.9),
 *   while independently initialised weights correlate near 0;
 * MP_LIN_UNRELATED_MAX 0.1: two independent tensors of n values correlate
 *   with a standard deviation of 1/sqrt(n); weighting by n makes the mean
 *   |Pearson| of unrelated models of a thousand values or more fall well
 *   below 0.1;
 * MP_LIN_HIGH 0.98: a fine-tune whose worst tensor still correlates at
 *   0.98 leaves no doubt; between 0.9 and 0.98 the confidence is medium. */
#include "gguf_names.h"
#include "lineage_int.h"
#include "metric.h"
#include "nnls.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLK MP_LIN_BLK

void mp_lineage_block(const struct mp_tensor *t, uint64_t e0, size_t n,
		      struct mp_lin_block *b)
{
	b->raw = mp_tensor_elems(t, e0, n, b->scratch);
	if (mp_dtype_is_float(t->logical))
		mp_tensor_decode(t, b->raw, n, b->v);
}

double mp_lineage_round(double x, enum mp_dtype dt)
{
	int p, emin;
	double max;
	switch (dt) {
	case MP_F32:
		p = 24, emin = -126, max = 0x1.fffffep127;
		break;
	case MP_F16:
		p = 11, emin = -14, max = 65504.0;
		break;
	case MP_BF16:
		p = 8, emin = -126, max = 0x1.fep127;
		break;
	default:
		return x;
	}
	if (x == 0 || !isfinite(x))
		return x;
	int e = ilogb(x);
	if (e < emin)
		e = emin;
	double q = ldexp(1.0, e - (p - 1)); /* one unit in the last place */
	double r = nearbyint(x / q) * q;    /* ties to even (default mode) */
	if (fabs(r) > max)
		r = copysign(INFINITY, x);
	return r;
}

/* The type that bounds a tensor's values' precision. */
static enum mp_dtype value_type(const struct mp_tensor *t)
{
	return t->quant.kind == MP_QUANT_AFFINE ? t->logical : t->stored;
}

int mp_lineage_precision(const struct mp_tensor *t)
{
	return mp_dtype_is_float(t->logical) ? mp_dtype_significand(value_type(t)) : 0;
}

static bool same(double a, double b)
{
	return a == b || (isnan(a) && isnan(b));
}

/* What one matched pair of tensors shows. */
struct tacc {
	bool is_float, identical;
	int conv; /* 0 not a conversion, -1 narrowing to U's, 1 widening */
	uint64_t n, conv_bad, zeroed, changed;
	bool nm24, nm48;
	/* [rows], [cols] for tensors of 2 or more axes, else NULL: bit 0 a
	 * zero added in the line, bit 1 a nonzero of U in it */
	uint8_t *rowf, *colf;
	uint64_t rows, cols;
	/* co-moments over finite positions */
	double nf, mu, mr, cuu, crr, cur, suu, srr, sur, sdd;
};

bool mp_lineage_comparable(const struct mp_tensor *a, const struct mp_tensor *b)
{
	return a->stored == b->stored && a->nbytes == b->nbytes &&
	       a->quant.kind == b->quant.kind &&
	       a->quant.scale == b->quant.scale && a->quant.min == b->quant.min;
}

static void acc_values(struct tacc *a, uint64_t e0, const double *u,
		       const double *r, size_t n, enum mp_dtype to)
{
	for (size_t i = 0; i < n; i++) {
		double x = u[i], y = r[i];
		if (a->conv < 0 && !same(x, mp_lineage_round(y, to)))
			a->conv_bad++;
		else if (a->conv > 0 && !same(x, y))
			a->conv_bad++;
		uint64_t e = e0 + i, col = e % a->cols, row = e / a->cols;
		if (x == 0 && y != 0) {
			a->zeroed++;
			if (a->rowf) {
				a->rowf[row] |= 1;
				a->colf[col] |= 1;
			}
		} else if (x != 0 && !same(x, y))
			a->changed++;
		if (x != 0) {
			if (a->rowf) {
				a->rowf[row] |= 2;
				a->colf[col] |= 2;
			}
		}
		if (!isfinite(x) || !isfinite(y))
			continue;
		a->nf += 1;
		double du = x - a->mu, dr = y - a->mr;
		a->mu += du / a->nf;
		a->mr += dr / a->nf;
		a->cuu += du * (x - a->mu);
		a->crr += dr * (y - a->mr);
		a->cur += du * (y - a->mr);
		a->suu += x * x;
		a->srr += y * y;
		a->sur += x * y;
		a->sdd += (x - y) * (x - y);
	}
}

/* One pass over a matched pair; a->rowf/colf allocated by the caller. */
/* acc_tensor's reading order: llama.cpp's Q/K row permutation with heads
 * heads (0: none) undone on the side (1: U, 2: R) in GGUF naming. */
void mp_lineage_qk(const struct mp_model *u, const struct mp_model *r,
		   const struct mp_tensor *tu, const struct mp_tensor *tr,
		   struct mp_lin_qk *q)
{
	*q = (struct mp_lin_qk){0};
	bool gu = mp_gguf_names_is_gguf(tu->name);
	if (!(mp_dtype_is_float(tu->logical) && mp_dtype_is_float(tr->logical) &&
	      gu != mp_gguf_names_is_gguf(tr->name)))
		return;
	const struct mp_model *g = gu ? u : r;
	const char *arch =
	    mp_meta_get(g->meta, g->nmeta, "general.architecture");
	double off = mp_gguf_names_offset(mp_gguf_names_default(), arch,
					  gu ? tu->name : tr->name);
	if (off != 0) {
		q->offset = off;
		q->offset_side = gu ? 1 : 2;
		return;
	}
	if (tu->ndim != 2 || tr->ndim != 2)
		return;
	bool tr_pair;
	mp_gguf_shapes_pair(u, tu, r, tr, &tr_pair);
	if (tr_pair) {
		*q = (struct mp_lin_qk){.side = gu ? 1 : 2,
					.rows = tu->shape[0],
					.cols = tu->shape[1],
					.transposed = true};
		return;
	}
	if (!mp_lineage_shapes_match(tu, tr))
		return;
	uint64_t hq = 0, hkv = 0;
	if (!mp_gguf_heads(u, &hq, &hkv))
		mp_gguf_heads(r, &hq, &hkv);
	bool inferred;
	*q = (struct mp_lin_qk){
	    .side = gu ? 1 : 2,
	    .rows = tu->shape[0],
	    .cols = tu->numel / tu->shape[0],
	    .heads = mp_metric_qk_heads(tu, tr, hq, hkv, arch, &inferred)};
}

void mp_lineage_side(const struct mp_lin_qk *q, int side,
		     const struct mp_tensor *t, uint64_t at, size_t n,
		     struct mp_lin_block *b)
{
	if (q->transposed && side == 2) {
		size_t w = t->ggml ? 4 : mp_dtype_size(t->stored);
		for (size_t i = 0; i < n; i++) {
			uint8_t *to = b->scratch + i * w;
			const uint8_t *p = mp_tensor_elems(
			    t, mp_gguf_transposed_off(at + i, q->rows, q->cols),
			    1, to);
			if (p != to)
				memcpy(to, p, w);
		}
		b->raw = b->scratch;
		if (mp_dtype_is_float(t->logical))
			mp_tensor_decode(t, b->raw, n, b->v);
	} else {
		mp_lineage_block(t, at, n, b);
	}
	if (q->offset == 0 || side == q->offset_side)
		return;
	for (size_t i = 0; i < n; i++) {
		double y = b->v[i] + q->offset;
		b->v[i] = t->stored == MP_F16 ? mp_lineage_round(y, MP_F16)
					      : (double)(float)y;
	}
}

uint64_t mp_lineage_qk_at(const struct mp_lin_qk *q, uint64_t e0,
			  uint64_t left, uint64_t *eu, uint64_t *er)
{
	*eu = *er = e0;
	if (!q->heads) /* as stored, or transposed: gathered */
		return left;
	if (q->cols - e0 % q->cols < left)
		left = q->cols - e0 % q->cols;
	*(q->side == 1 ? eu : er) =
	    mp_gguf_qk_off(e0, q->rows, q->cols, q->heads);
	return left;
}

static void acc_tensor(struct tacc *a, const struct mp_tensor *tu,
		       const struct mp_tensor *tr, const struct mp_lin_qk *q,
		       struct mp_lin_block *bu, struct mp_lin_block *br)
{
	bool cmp = mp_lineage_comparable(tu, tr);
	a->identical = cmp;
	enum mp_dtype du = value_type(tu), dr = value_type(tr);
	int pu = mp_dtype_significand(du), pr = mp_dtype_significand(dr);
	if (!pu || !pr || du == dr ||
	    (pu < pr && du == MP_BF16 && dr == MP_F16))
		a->conv = 0;
	else
		a->conv = pu < pr ? -1 : 1;
	unsigned g4 = 0, g8 = 0;
	a->nm24 = a->nm48 = true;
	for (uint64_t e0 = 0, n; e0 < tu->numel; e0 += n) {
		uint64_t eu, er; /* blocks end at row ends under Q/K */
		uint64_t left = mp_lineage_qk_at(q, e0, tu->numel - e0, &eu, &er);
		n = left < BLK ? left : BLK;
		mp_lineage_side(q, 1, tu, eu, (size_t)n, bu);
		mp_lineage_side(q, 2, tr, er, (size_t)n, br);
		if (a->identical && q->offset != 0) /* as the converter wrote */
			a->identical = !memcmp(bu->v, br->v, n * sizeof *bu->v);
		else if (a->identical)
			a->identical = !memcmp(bu->raw, br->raw,
					       n * mp_dtype_size(tu->stored));
		if (!a->is_float)
			continue;
		acc_values(a, e0, bu->v, br->v, (size_t)n, du);
		for (size_t i = 0; i < n; i++) {
			uint64_t col = (e0 + i) % a->cols;
			if (col % 4 == 0)
				g4 = 0;
			if (col % 8 == 0)
				g8 = 0;
			if (bu->v[i] != 0) {
				g4++;
				g8++;
			}
			if (g4 > 2)
				a->nm24 = false;
			if (g8 > 4)
				a->nm48 = false;
		}
	}
	if (a->cols % 4)
		a->nm24 = false;
	if (a->cols % 8)
		a->nm48 = false;
}

/* Whole lines zeroed: every line that lost a weight has no nonzero. */
static bool lines_zeroed(const uint8_t *f, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		if ((f[i] & 3) == 3)
			return false;
	return true;
}

static enum mp_prune_shape structure_of(const struct tacc *a)
{
	if (a->nm24)
		return MP_PRUNE_2_4;
	if (a->nm48)
		return MP_PRUNE_4_8;
	if (!a->rowf)
		return MP_PRUNE_UNSTRUCTURED;
	if (a->rows > 1 && lines_zeroed(a->rowf, a->rows))
		return MP_PRUNE_ROWS;
	if (a->cols > 1 && lines_zeroed(a->colf, a->cols))
		return MP_PRUNE_COLUMNS;
	return MP_PRUNE_UNSTRUCTURED;
}

static double pearson(const struct tacc *a, bool *ok)
{
	*ok = a->nf > 1 && a->cuu > 0 && a->crr > 0;
	return *ok ? a->cur / sqrt(a->cuu * a->crr) : 0;
}

const char *mp_lineage_kind_name(enum mp_lineage_kind k)
{
	static const char *const v[] = {"exact copy",
					"dtype conversion",
					"pruning",
					"quantization",
					"permuted hidden units",
					"fine-tune",
					"unrelated weights",
					"related, kind unclear",
					"no tensors in common"};
	return (unsigned)k < sizeof v / sizeof v[0] ? v[k] : "?";
}

const char *mp_prune_shape_name(enum mp_prune_shape s)
{
	static const char *const v[] = {"2:4 along the last axis",
					"4:8 along the last axis", "whole rows",
					"whole columns", "unstructured"};
	return (unsigned)s < sizeof v / sizeof v[0] ? v[s] : "?";
}

/* Totals over the matched tensors while the pass goes. */
struct tot {
	size_t nfloat, converted, conv_bad_t, prune_bad_t, pruned_t, corr_t,
	    identical_float;
	const char *conv_bad_name, *prune_bad_name;
	uint64_t changed;
	double wabs, wn;
	enum mp_prune_shape shape;
};

static void keep_moved(struct mp_lineage *l, const char *name, double change,
		       double rel, double p)
{
	int i;
	if (l->nmoved < MP_LIN_TOP)
		i = l->nmoved++;
	else if (change <= l->moved[MP_LIN_TOP - 1].change)
		return;
	else
		i = MP_LIN_TOP - 1;
	for (; i > 0 && l->moved[i - 1].change < change; i--)
		l->moved[i] = l->moved[i - 1];
	l->moved[i] = (struct mp_lineage_moved){name, change, rel, p};
}

static void fold(struct mp_lineage *l, struct tot *t, const struct tacc *a,
		 const struct mp_tensor *tu, const struct mp_tensor *tr)
{
	if (a->identical)
		l->identical++;
	if (!a->is_float)
		return;
	t->nfloat++;
	if (a->identical)
		t->identical_float++;
	l->values += a->n;
	l->zeroed += a->zeroed;
	t->changed += a->changed;
	if (!a->identical) {
		if (a->conv && !a->conv_bad) {
			if (!t->converted++) {
				l->from = value_type(tr);
				l->to = value_type(tu);
			}
		} else if (!t->conv_bad_t++)
			t->conv_bad_name = tu->name;
	}
	if (a->changed) {
		if (!t->prune_bad_t++)
			t->prune_bad_name = tu->name;
	} else if (a->zeroed) {
		enum mp_prune_shape s = structure_of(a);
		if (!t->pruned_t++ || s > t->shape)
			t->shape = s;
	}
	bool ok;
	double p = pearson(a, &ok);
	if (!ok)
		return;
	t->corr_t++;
	t->wabs += fabs(p) * a->nf;
	t->wn += a->nf;
	if (p < l->min_pearson || !l->worst) {
		l->min_pearson = p;
		l->worst = tu->name;
	}
	if (a->suu > 0 && a->srr > 0 && !a->identical) {
		double cosv = a->sur / sqrt(a->suu * a->srr);
		keep_moved(l, tu->name, 1 - cosv, sqrt(a->sdd / a->srr), p);
	}
}

#define EV(...)                                                                \
	snprintf(l->evidence + strlen(l->evidence),                            \
		 sizeof l->evidence - strlen(l->evidence), __VA_ARGS__)

/* The verdict; la and lb name u and r in the evidence ("A", "B"). */
static void decide(struct mp_lineage *l, const struct tot *t, const char *la,
		   const char *lb)
{
	char nb[MP_NAME_SHOW + 8];
	size_t m = l->matched;
	bool whole = !l->only_u && !l->only_r && !l->shape_differs;
	l->mean_abs_pearson = t->wn > 0 ? t->wabs / t->wn : 0;
	if (m == 0) {
		l->kind = MP_LIN_NONE;
		l->confidence = "certain";
		EV("none of the %zu tensors of %s has a tensor of the same "
		   "name "
		   "and shape in %s (%zu share a name but not the shape)",
		   l->only_u + l->shape_differs, la, lb, l->shape_differs);
		return;
	}
	if (l->identical == m) {
		l->kind = MP_LIN_COPY;
		l->confidence = whole ? "certain" : "high";
		EV(l->offset_norms ? "all %zu matched tensors hold identical "
				     "values"
				   : "all %zu matched tensors have identical "
				     "bytes",
		   m);
	} else if (t->converted && t->converted + l->identical == m) {
		l->kind = MP_LIN_DTYPE;
		l->confidence = whole ? "certain" : "high";
		EV("every value of %zu tensors of %s equals the %s value of %s "
		   "%s %s; %zu tensors have identical bytes",
		   t->converted, la, mp_dtype_name(l->from), lb,
		   mp_dtype_significand(l->to) < mp_dtype_significand(l->from)
		       ? "rounded (to nearest, ties to even) to"
		       : "widened exactly to",
		   mp_dtype_name(l->to), l->identical);
	} else if (l->zeroed && !t->prune_bad_t &&
		   t->nfloat + l->identical >= m + t->identical_float) {
		l->kind = MP_LIN_PRUNE;
		l->confidence = whole ? "certain" : "high";
		l->sparsity_added = (double)l->zeroed / (double)l->values;
		l->structure = t->shape;
		EV("%.1f %% of the weights of %s zeroed (%llu of %llu values) "
		   "where those of %s are not, every survivor equal to the "
		   "value in %s; structure %s on the %zu tensors that lost "
		   "weights",
		   100 * l->sparsity_added, la, (unsigned long long)l->zeroed,
		   (unsigned long long)l->values, lb, lb,
		   mp_prune_shape_name(t->shape), t->pruned_t);
	} else if (t->corr_t && l->min_pearson >= MP_LIN_FINETUNE_MIN) {
		l->kind = MP_LIN_FINETUNE;
		l->confidence =
		    l->min_pearson >= MP_LIN_HIGH ? "high" : "medium";
		EV("all %zu floating tensors with a defined Pearson (of %zu; "
		   "the others constant) correlate with %s at >= %.2f; lowest "
		   "%.6f on %s; %zu of %zu matched tensors have identical "
		   "bytes",
		   t->corr_t, t->nfloat, lb, MP_LIN_FINETUNE_MIN,
		   l->min_pearson, mp_printable(l->worst, nb), l->identical, m);
	} else if (t->corr_t && l->mean_abs_pearson <= MP_LIN_UNRELATED_MAX) {
		l->kind = MP_LIN_UNRELATED;
		l->confidence = t->wn >= 10000	? "high"
				: t->wn >= 1000 ? "medium"
						: "low";
		EV("mean |Pearson| %.4f over %zu tensors (%.0f values, "
		   "weighted by size) <= %.2f%s",
		   l->mean_abs_pearson, t->corr_t, t->wn, MP_LIN_UNRELATED_MAX,
		   whole ? "; same tensor set" : "");
	} else {
		l->kind = MP_LIN_UNCLEAR;
		l->confidence = "low";
		EV("mean |Pearson| %.4f over %zu tensors, lowest %.6f on %s; "
		   "%zu of %zu tensors have identical bytes",
		   l->mean_abs_pearson, t->corr_t, l->min_pearson,
		   l->worst ? mp_printable(l->worst, nb) : "-", l->identical,
		   m);
	}
	mp_lineage_suffix(l, la, lb);
}

void mp_lineage_suffix(struct mp_lineage *l, const char *la, const char *lb)
{
	if (l->unpermuted_qk)
		EV("; %zu Q/K tensors in GGUF naming compared with llama.cpp's "
		   "rotary row permutation undone",
		   l->unpermuted_qk);
	if (l->offset_norms)
		EV("; %zu norms in GGUF naming compared as llama.cpp's "
		   "converter writes them, the other side's weights + %g",
		   l->offset_norms, l->norm_offset);
	if (l->transposed)
		EV("; %zu matrices in GGUF naming compared with the other "
		   "side's transposed, as llama.cpp's converter stores them",
		   l->transposed);
	if (l->only_u || l->only_r || l->shape_differs)
		EV("; %zu tensors only in %s, %zu only in %s, %zu with another "
		   "shape",
		   l->only_u, la, l->only_r, lb, l->shape_differs);
}

bool mp_lineage_same_bytes(const struct mp_tensor *a, const struct mp_tensor *b,
			   struct mp_lin_block *ba, struct mp_lin_block *bb)
{
	if (!mp_lineage_comparable(a, b))
		return false;
	unsigned es = mp_dtype_size(a->stored);
	for (uint64_t e0 = 0; e0 < a->numel; e0 += BLK) {
		size_t n = a->numel - e0 < BLK ? (size_t)(a->numel - e0) : BLK;
		const uint8_t *x =
		    mp_tensor_elems(a, e0, n, ba->scratch);
		const uint8_t *y =
		    mp_tensor_elems(b, e0, n, bb->scratch);
		if (memcmp(x, y, n * es))
			return false;
	}
	return true;
}

bool mp_lineage_shapes_match(const struct mp_tensor *a,
			     const struct mp_tensor *b)
{
	return mp_metric_shapes_match(a->ndim, a->shape, a->numel, b->ndim,
				      b->shape, b->numel);
}

static mp_status pair_once(const struct mp_model *u, const struct mp_model *r,
			   const char *la, const char *lb, struct mp_lineage *l,
			   struct mp_error *err)
{
	memset(l, 0, sizeof *l);
	struct mp_lin_block *b = malloc(2 * sizeof *b);
	if (!b)
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
				    u->path);
	struct tot t = {0};
	mp_status st = MP_OK;
	for (size_t i = 0; i < u->ntensors && st == MP_OK; i++) {
		const struct mp_tensor *tu = &u->tensors[i];
		const struct mp_tensor *tr = mp_model_find(r, tu->name);
		if (!tr) {
			l->only_u++;
			continue;
		}
		struct mp_lin_qk q;
		mp_lineage_qk(u, r, tu, tr, &q);
		if (!q.transposed && !mp_lineage_shapes_match(tu, tr)) {
			l->shape_differs++;
			continue;
		}
		l->transposed += q.transposed;
		l->matched++;
		struct tacc a = {0};
		a.n = tu->numel;
		a.is_float = mp_dtype_is_float(tu->logical) &&
			     mp_dtype_is_float(tr->logical);
		a.cols = tu->ndim ? tu->shape[tu->ndim - 1] : 1;
		if (!a.cols)
			a.cols = 1;
		a.rows = tu->numel / a.cols;
		if (a.is_float && tu->ndim >= 2) {
			a.rowf = calloc(a.rows ? a.rows : 1, 1);
			a.colf = calloc(a.cols, 1);
			if (!a.rowf || !a.colf)
				st = mp_error_set(err, MP_ENOMEM,
						  "%s: out of memory", u->path);
		}
		l->unpermuted_qk += q.heads != 0;
		if (q.offset != 0) {
			l->offset_norms++;
			l->norm_offset = q.offset;
		}
		if (st == MP_OK) {
			acc_tensor(&a, tu, tr, &q, &b[0], &b[1]);
			fold(l, &t, &a, tu, tr);
		}
		free(a.rowf);
		free(a.colf);
	}
	for (size_t i = 0; i < r->ntensors; i++)
		if (!mp_model_find(u, r->tensors[i].name))
			l->only_r++;
	free(b);
	if (st == MP_OK)
		decide(l, &t, la, lb);
	return st;
}

mp_status mp_lineage_pair(const struct mp_model *u, const struct mp_model *r,
			  struct mp_lineage *l, struct mp_error *err)
{
	mp_status st = pair_once(u, r, "A", "B", l, err);
	if (st != MP_OK || l->kind <= MP_LIN_PRUNE || l->kind == MP_LIN_NONE)
		return st;
	bool hit = false;
	if ((st = mp_lineage_ggml(u, r, false, l, &hit, err)) != MP_OK ||
	    hit || (st = mp_lineage_ggml(r, u, true, l, &hit, err)) != MP_OK ||
	    hit || (st = mp_lineage_quant(u, r, false, l, &hit, err)) != MP_OK ||
	    hit || (st = mp_lineage_quant(r, u, true, l, &hit, err)) != MP_OK ||
	    hit || (st = mp_lineage_perm(u, r, l, &hit, err)) != MP_OK || hit)
		return st;
	/* a pruned R reads as a fine-tune of U or worse: try R pruned
	 * from U */
	struct mp_lineage *rev = malloc(sizeof *rev);
	if (!rev)
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
				    u->path);
	st = pair_once(r, u, "B", "A", rev, err);
	if (st == MP_OK && rev->kind == MP_LIN_PRUNE) {
		*l = *rev;
		l->reversed = true;
		size_t x = l->only_u;
		l->only_u = l->only_r;
		l->only_r = x;
	}
	free(rev);
	return st;
}

/* Gram sums of one tensor or of the whole model. */
struct gram {
	double G[MP_MERGE_MAX][MP_MERGE_MAX], b[MP_MERGE_MAX], uu;
};

static void solve(int k, const struct gram *g, double *coef)
{
	mp_nnls(k, g->G, g->b, coef);
}

/* Residual sums ||u - sum c_i r_i||^2 of one tensor, for the tensor's
 * coefficients ct and the overall ones ca, in a second pass (the Gram
 * form loses the small residual of an exact merge to cancellation). */
static void residuals(int k, const struct mp_tensor *tu,
		      const struct mp_tensor *const *tr, struct mp_lin_block *b,
		      const double *ct, const double *ca, double *et,
		      double *ea)
{
	*et = *ea = 0;
	for (uint64_t e0 = 0; e0 < tu->numel; e0 += BLK) {
		size_t n =
		    tu->numel - e0 < BLK ? (size_t)(tu->numel - e0) : BLK;
		mp_lineage_block(tu, e0, n, &b[0]);
		for (int i = 0; i < k; i++)
			mp_lineage_block(tr[i], e0, n, &b[i + 1]);
		for (size_t v = 0; v < n; v++) {
			double x = b[0].v[v], dt = x, da = x;
			bool fin = isfinite(x);
			for (int i = 0; i < k; i++) {
				double y = b[i + 1].v[v];
				fin = fin && isfinite(y);
				dt -= ct[i] * y;
				da -= ca[i] * y;
			}
			if (fin) {
				*et += dt * dt;
				*ea += da * da;
			}
		}
	}
}

/* The references' tensors matching tu, or false. */
static bool find_all(const struct mp_tensor *tu,
		     const struct mp_model *const *refs, int k,
		     const struct mp_tensor **tr)
{
	if (!mp_dtype_is_float(tu->logical))
		return false;
	for (int i = 0; i < k; i++) {
		tr[i] = mp_model_find(refs[i], tu->name);
		if (!tr[i] || !mp_lineage_shapes_match(tu, tr[i]) ||
		    !mp_dtype_is_float(tr[i]->logical))
			return false;
	}
	return true;
}

static void gather(int k, const struct mp_tensor *tu,
		   const struct mp_tensor *const *tr, struct mp_lin_block *b,
		   struct gram *g)
{
	memset(g, 0, sizeof *g);
	for (uint64_t e0 = 0; e0 < tu->numel; e0 += BLK) {
		size_t n =
		    tu->numel - e0 < BLK ? (size_t)(tu->numel - e0) : BLK;
		mp_lineage_block(tu, e0, n, &b[0]);
		for (int i = 0; i < k; i++)
			mp_lineage_block(tr[i], e0, n, &b[i + 1]);
		for (size_t v = 0; v < n; v++) {
			double x = b[0].v[v], y[MP_MERGE_MAX];
			bool fin = isfinite(x);
			for (int i = 0; i < k; i++)
				fin = fin && isfinite(y[i] = b[i + 1].v[v]);
			if (!fin)
				continue;
			g->uu += x * x;
			for (int i = 0; i < k; i++) {
				g->b[i] += y[i] * x;
				for (int j = 0; j < k; j++)
					g->G[i][j] += y[i] * y[j];
			}
		}
	}
}

mp_status mp_lineage_merge(const struct mp_model *u,
			   const struct mp_model *const *refs, int k,
			   struct mp_merge *out, struct mp_error *err)
{
	memset(out, 0, sizeof *out);
	if (k < 2 || k > MP_MERGE_MAX)
		return mp_error_set(
		    err, MP_EINVAL,
		    "%s: a merge needs 2 to %d references, not %d", u->path,
		    MP_MERGE_MAX, k);
	out->k = k;
	struct mp_lin_block *b = malloc((size_t)(k + 1) * sizeof *b);
	out->tensors =
	    calloc(u->ntensors ? u->ntensors : 1, sizeof *out->tensors);
	if (!b || !out->tensors) {
		free(b);
		mp_merge_free(out);
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
				    u->path);
	}
	gsl_set_error_handler_off();
	struct gram all = {0}, g;
	double *uu = malloc((u->ntensors ? u->ntensors : 1) * sizeof *uu);
	if (!uu) {
		free(b);
		mp_merge_free(out);
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
				    u->path);
	}
	for (size_t t = 0; t < u->ntensors; t++) {
		const struct mp_tensor *tu = &u->tensors[t], *tr[MP_MERGE_MAX];
		if (!find_all(tu, refs, k, tr)) {
			out->skipped++;
			continue;
		}
		gather(k, tu, tr, b, &g);
		uu[out->ntensors] = g.uu;
		struct mp_merge_tensor *mt = &out->tensors[out->ntensors++];
		mt->name = tu->name;
		solve(k, &g, mt->coef);
		all.uu += g.uu;
		for (int i = 0; i < k; i++) {
			all.b[i] += g.b[i];
			for (int j = 0; j < k; j++)
				all.G[i][j] += g.G[i][j];
		}
	}
	if (out->ntensors) {
		solve(k, &all, out->coef);
		double ea = 0;
		for (size_t t = 0, j = 0; t < u->ntensors; t++) {
			const struct mp_tensor *tu = &u->tensors[t],
					       *tr[MP_MERGE_MAX];
			if (!find_all(tu, refs, k, tr))
				continue;
			struct mp_merge_tensor *mt = &out->tensors[j];
			double et, e;
			residuals(k, tu, tr, b, mt->coef, out->coef, &et, &e);
			mt->residual = uu[j] > 0 ? sqrt(et / uu[j]) : 0;
			ea += e;
			j++;
		}
		out->residual = all.uu > 0 ? sqrt(ea / all.uu) : 0;
	}
	free(uu);
	free(b);
	if (!out->ntensors) {
		mp_merge_free(out);
		return mp_error_set(
		    err, MP_ENOENT,
		    "%s: no floating tensor has a tensor of the "
		    "same name and shape in every reference",
		    u->path);
	}
	for (int i = 0; i < k; i++)
		out->sum += out->coef[i];
	out->linear = fabs(out->sum - 1) <= MP_LIN_MERGE_SUM_TOL;
	return MP_OK;
}

void mp_merge_free(struct mp_merge *m)
{
	if (!m)
		return;
	free(m->tensors);
	m->tensors = NULL;
	m->ntensors = 0;
}
