/* ident_relation.c — the verdict of identify: whether the best compatible
 * reference is a parent, and the relation to it (copy, dtype conversion,
 * quantization, pruning, fine-tune, merge, renamed tensors, permuted
 * hidden units; or unrelated weights / no match), decided on the
 * sketches and, when the files are at hand, on the files (lineage.c). */
#include "ident_int.h"
#include "nnls.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the sketches say about one pair of tensors. */
struct tcheck {
	bool identical; /* same bytes */
	bool narrowed;	/* U's sketch is R's rounded to U's narrower type */
	bool widened;	/* same values, U's type wider */
	bool rnarrowed; /* R's sketch is U's rounded to R's narrower type */
	bool survivors; /* every nonzero of U equals R's value */
	uint64_t added; /* sketch positions zero in U only */
	bool rsurvivors; /* every nonzero of R equals U's value */
	uint64_t radded; /* sketch positions zero in R only */
	bool int8;	/* on R's int8 symmetric per-tensor grid */
	bool permuted;	/* same order statistics, uncorrelated positions */
	/* a Q/K matrix whose sketch undid llama.cpp's row permutation
	   (sketch_heads), or a matrix it stored transposed (transposed):
	   the same stored type, values at every sketch position and exact
	   statistics, so the same values in the converter's layout (its
	   bytes differ only by that) */
	bool reordered;
	/* a GGUF norm whose sketch had the converter's offset taken off
	   (sketch_offset), the other side the original: at every sketch
	   position the value the converter writes from the original's */
	bool shifted;
	double pearson;
};

/* Relative difference within rounding of a double computed over the
 * same values in another order. */
static bool near(double a, double b)
{
	return fabs(a - b) <= 1e-9 * fmax(1e-300, fmax(fabs(a), fabs(b)));
}

static bool narrower(enum mp_dtype a, enum mp_dtype b)
{
	return (a == MP_F16 || a == MP_BF16) && (b == MP_F32 || b == MP_F64);
}

/* Both present and equal to rounding (the statistics of the same values
 * read in another order). */
static bool same_stats(const struct mp_tstats *p, const struct mp_tstats *q)
{
	return p && q && p->n == q->n && p->nonfinite == q->nonfinite &&
	       p->min == q->min && p->max == q->max &&
	       p->median == q->median && p->q25 == q->q25 &&
	       p->q75 == q->q75 && near(p->l1_norm, q->l1_norm) &&
	       near(p->l2_norm, q->l2_norm) && p->sparsity == q->sparsity;
}

/* Whether GGUF norm g (sketch_offset set) holds at every sketch position
 * what llama.cpp's converter writes from original o's value y: y plus
 * the offset in o's type when that is F16 (the converter keeps F16
 * tensors as they are), else in float32, stored as F32. */
static bool shift_holds(const struct mp_tensor_fp *g,
			const struct mp_tensor_fp *o)
{
	double off = g->sketch_offset - o->sketch_offset;
	if (g->stored != MP_F32 || !mp_dtype_is_float(o->stored))
		return false;
	for (uint32_t i = 0; i < g->nsketch; i++) {
		double y = o->sketch[i] + off;
		double want = o->stored == MP_F16 ? mp_lineage_round(y, MP_F16)
						  : (float)y;
		if ((float)(g->sketch[i] + off) != want)
			return false;
	}
	return true;
}

static void check_pair(const struct mp_tensor_fp *a,
		       const struct mp_tensor_fp *b, bool sk, struct tcheck *t)
{
	memset(t, 0, sizeof *t);
	t->identical = a->sha256[0] && !strcmp(a->sha256, b->sha256);
	double c;
	t->pearson = NAN;
	if (!sk || a->nsketch != b->nsketch || !a->nsketch ||
	    !mp_fp_sketches_aligned(a, b))
		return;
	ident_sketch_corr(a, b, &c, &t->pearson);
	bool nar = narrower(a->stored, b->stored), wid = a->stored != b->stored;
	bool rnar = narrower(b->stored, a->stored), rsur = true;
	bool sur = true, q8 = b->stats && b->stats->linf_norm > 0;
	double step = q8 ? b->stats->linf_norm / 127 : 0;
	for (uint32_t i = 0; i < a->nsketch; i++) {
		double x = a->sketch[i], y = b->sketch[i];
		if (nar && mp_lineage_round(y, a->stored) != x)
			nar = false;
		if (wid && x != y)
			wid = false;
		if (rnar && mp_lineage_round(x, b->stored) != y)
			rnar = false;
		if (x == 0 && y != 0)
			t->added++;
		else if (x != y)
			sur = false;
		if (y == 0 && x != 0)
			t->radded++;
		else if (x != y)
			rsur = false;
		if (q8) {
			double q = fmin(127, fmax(-127, nearbyint(y / step)));
			if (fabs(x - q * step) > 1e-6 * step + 1e-7 * fabs(x))
				q8 = false;
		}
	}
	t->narrowed = nar;
	t->widened = wid && !nar;
	t->rnarrowed = rnar && !nar;
	t->survivors = sur;
	t->rsurvivors = rsur;
	t->int8 = q8;
	t->reordered = (a->sketch_heads || b->sketch_heads ||
			a->transposed != b->transposed) &&
		       a->stored == b->stored && a->ggml == b->ggml &&
		       same_stats(a->stats, b->stats) &&
		       !memcmp(a->sketch, b->sketch,
			       a->nsketch * sizeof *a->sketch);
	t->shifted = a->sketch_offset != b->sketch_offset &&
		     shift_holds(a->sketch_offset ? a : b,
				 a->sketch_offset ? b : a);
	if (a->stats && b->stats && !(t->pearson >= 0.9)) {
		const struct mp_tstats *p = a->stats, *q = b->stats;
		t->permuted = p->n == q->n && near(p->min, q->min) &&
			      near(p->max, q->max) &&
			      near(p->median, q->median) &&
			      near(p->q25, q->q25) && near(p->q75, q->q75) &&
			      near(p->l1_norm, q->l1_norm) &&
			      near(p->l2_norm, q->l2_norm) &&
			      p->sparsity == q->sparsity;
	}
}

/* Which tensors rel->top lists: those that moved most (1 - Pearson),
 * lost most weights (sparsity added), or hold their values in another
 * order (1 - Pearson). */
enum top_kind { TOP_MOVED, TOP_PRUNED, TOP_PERMUTED };

/* The scores of reference ri. */
static const struct mp_ident_score *score_of(const struct ident_ctx *c,
					     size_t ri)
{
	for (size_t i = 0; i + 1 < c->res->nscores; i++)
		if (c->res->scores[i].ref == ri)
			return &c->res->scores[i];
	return &c->res->scores[c->res->nscores - 1];
}

/* Counts over the floating tensors paired with the parent. */
struct tally {
	size_t n, identical, narrowed, widened, rnarrowed, pruned, survivors,
	    rpruned, rsurvivors, int8, permuted;
	size_t reordered; /* of identical: tcheck.reordered, Q/K rows */
	size_t transposed; /* of identical: tcheck.reordered, transposed */
	size_t shifted;	  /* of identical: tcheck.shifted */
	double offset;	  /* the converter's offset of those */
	uint64_t added, positions;
	double zeroed; /* values zeroed, from the exact statistics */
	double values;
	enum mp_dtype from, to;
};

static void keep_top(struct mp_ident_relation *rel, const char *name,
		     double v)
{
	int n = rel->ntop, i = n < MP_ID_TOP ? n : MP_ID_TOP - 1;
	if (n == MP_ID_TOP && !(v > rel->top[i].value))
		return;
	while (i > 0 && v > rel->top[i - 1].value) {
		rel->top[i] = rel->top[i - 1];
		i--;
	}
	rel->top[i] = (struct mp_ident_tensor){name, v};
	if (n < MP_ID_TOP)
		rel->ntop++;
}

static void tally_of(const struct ident_ctx *c, size_t ri, struct tally *t,
		     struct mp_ident_relation *rel, enum top_kind top)
{
	const struct ident_pairing *p = &c->pairs[ri];
	const struct mp_fingerprint *r = c->rx[ri].fp;
	bool sk = ident_sketches_comparable(c->ux, &c->rx[ri]);
	memset(t, 0, sizeof *t);
	rel->ntop = 0;
	for (size_t i = 0; i < c->u->ntensors; i++) {
		const struct mp_tensor_fp *a = &c->u->tensors[i];
		if (p->r_of_u[i] == ID_NONE || !a->nsketch)
			continue;
		const struct mp_tensor_fp *b = &r->tensors[p->r_of_u[i]];
		struct tcheck k;
		if (!mp_fp_sketches_aligned(a, b))
			continue; /* the sketches cannot tell */
		check_pair(a, b, sk, &k);
		t->n++;
		if (k.identical || k.reordered || k.shifted) {
			t->identical++;
			t->reordered += !k.identical && k.reordered &&
					a->transposed == b->transposed;
			t->transposed += !k.identical && k.reordered &&
					 a->transposed != b->transposed;
			t->shifted += !k.identical && !k.reordered;
			if (k.shifted)
				t->offset = a->sketch_offset - b->sketch_offset;
			t->survivors++;
			t->rsurvivors++;
			continue;
		}
		if (k.rnarrowed) {
			t->rnarrowed++;
			t->from = a->stored;
			t->to = b->stored;
		}
		if (k.rsurvivors) {
			t->rsurvivors++;
			t->rpruned += k.radded > 0;
		}
		if (k.narrowed || k.widened) {
			t->narrowed += k.narrowed;
			t->widened += k.widened;
			t->from = b->stored;
			t->to = a->stored;
		}
		if (k.survivors) {
			t->survivors++;
			if (k.added) {
				t->pruned++;
				t->added += k.added;
				if (a->stats && b->stats) {
					double z = (a->stats->sparsity -
						    b->stats->sparsity) *
						   (double)a->numel;
					t->zeroed += z;
					if (top == TOP_PRUNED)
						keep_top(rel, a->name,
							 a->stats->sparsity -
							     b->stats->sparsity);
				}
			}
		}
		t->positions += a->nsketch;
		t->values += (double)a->numel;
		t->int8 += k.int8;
		t->permuted += k.permuted;
		if (top == TOP_PERMUTED && k.permuted)
			keep_top(rel, a->name, 1 - k.pearson);
		if (top == TOP_MOVED && !isnan(k.pearson))
			keep_top(rel, a->name, 1 - k.pearson);
	}
}

/* --- merge on sketches ------------------------------------------------ */

struct mgram {
	double G[MP_NNLS_MAX][MP_NNLS_MAX], b[MP_NNLS_MAX], uu;
};

/* The tensors of U paired in every reference of set[0..k) with sketches
 * of U's length, fed to fn(ctx, u values, ref values[k], n, weight). */
static void each_common(const struct ident_ctx *c, const size_t *set, int k,
			void (*fn)(void *ctx, const float *u,
				   const float *const *r, uint32_t n, double w),
			void *ctx)
{
	for (size_t i = 0; i < c->u->ntensors; i++) {
		const struct mp_tensor_fp *a = &c->u->tensors[i];
		if (!a->nsketch)
			continue;
		const float *rs[MP_NNLS_MAX];
		int q = 0;
		for (; q < k; q++) {
			size_t j = c->pairs[set[q]].r_of_u[i];
			if (j == ID_NONE ||
			    !ident_sketches_comparable(c->ux, &c->rx[set[q]]))
				break;
			const struct mp_tensor_fp *b =
			    &c->rx[set[q]].fp->tensors[j];
			if (b->nsketch != a->nsketch ||
			    !mp_fp_sketches_aligned(a, b))
				break;
			rs[q] = b->sketch;
		}
		if (q == k)
			fn(ctx, a->sketch, rs, a->nsketch,
			   (double)a->numel / a->nsketch);
	}
}

struct gctx {
	int k;
	struct mgram g;
	uint64_t values; /* sketch positions used */
};

static void gram_one(void *ctx, const float *u, const float *const *r,
		     uint32_t n, double w)
{
	struct gctx *x = ctx;
	for (uint32_t p = 0; p < n; p++) {
		if (!isfinite(u[p]))
			continue;
		bool ok = true;
		for (int i = 0; i < x->k; i++)
			ok = ok && isfinite(r[i][p]);
		if (!ok)
			continue;
		x->values++;
		x->g.uu += w * u[p] * (double)u[p];
		for (int i = 0; i < x->k; i++) {
			x->g.b[i] += w * r[i][p] * (double)u[p];
			for (int j = 0; j < x->k; j++)
				x->g.G[i][j] += w * r[i][p] * (double)r[j][p];
		}
	}
}

struct rctx {
	int k;
	const double *coef;
	double e, uu;
};

static void resid_one(void *ctx, const float *u, const float *const *r,
		      uint32_t n, double w)
{
	struct rctx *x = ctx;
	for (uint32_t p = 0; p < n; p++) {
		if (!isfinite(u[p]))
			continue;
		double d = u[p];
		bool ok = true;
		for (int i = 0; i < x->k; i++) {
			ok = ok && isfinite(r[i][p]);
			d -= x->coef[i] * r[i][p];
		}
		if (!ok)
			continue;
		x->e += w * d * d;
		x->uu += w * u[p] * (double)u[p];
	}
}

/* ||U - sum coef R|| / ||U|| over the common sketches. */
static double residual_of(const struct ident_ctx *c, const size_t *set, int k,
			  const double *coef)
{
	struct rctx x = {.k = k, .coef = coef};
	each_common(c, set, k, resid_one, &x);
	return x.uu > 0 ? sqrt(x.e / x.uu) : NAN;
}

/* Fit the coefficients; false when too few values back them. */
static bool fit(const struct ident_ctx *c, const size_t *set, int k,
		double *coef)
{
	struct gctx x = {.k = k};
	each_common(c, set, k, gram_one, &x);
	mp_nnls(k, x.g.G, x.g.b, coef);
	return x.values >= (uint64_t)MP_ID_MERGE_MIN_VALUES * (uint64_t)k;
}

/* Try U as a merge of the best reference and up to three more compatible
 * ones of Pearson at least 0.1; true (rel filled) when it is one. */
static bool try_merge(const struct ident_ctx *c, struct mp_ident_relation *rel)
{
	const struct mp_ident_result *res = c->res;
	size_t set[MP_NNLS_MAX];
	int k = 0;
	for (size_t i = 0; i < res->ncompatible && k < MP_NNLS_MAX; i++)
		if (i == 0 || res->scores[i].pearson >= 0.1)
			set[k++] = res->scores[i].ref;
	if (k < 2)
		return false;
	double coef[MP_NNLS_MAX], one;
	fit(c, set, 1, &one);
	double single = residual_of(c, set, 1, &one);
	if (!fit(c, set, k, coef))
		return false;
	int kept = 0;
	for (int i = 0; i < k; i++)
		if (coef[i] >= MP_ID_MERGE_MIN_COEF)
			set[kept++] = set[i];
	if (kept < 2)
		return false;
	if (kept < k)
		fit(c, set, kept, coef);
	double resid = residual_of(c, set, kept, coef);
	if (!(resid <= MP_ID_MERGE_RESIDUAL && resid <= 0.5 * single))
		return false;
	/* largest coefficient first */
	for (int i = 1; i < kept; i++)
		for (int j = i; j > 0 && coef[j] > coef[j - 1]; j--) {
			double t = coef[j];
			coef[j] = coef[j - 1];
			coef[j - 1] = t;
			size_t s = set[j];
			set[j] = set[j - 1];
			set[j - 1] = s;
		}
	rel->kind = MP_ID_MERGE;
	rel->nparents = kept;
	rel->merge_sum = 0;
	for (int i = 0; i < kept; i++) {
		rel->parents[i] = set[i];
		rel->coef[i] = coef[i];
		rel->merge_sum += coef[i];
	}
	rel->parent = set[0];
	rel->merge_residual = resid;
	rel->single_residual = single;
	rel->linear = fabs(rel->merge_sum - 1) <= MP_LIN_MERGE_SUM_TOL;
	return true;
}

/* Refine the merge coefficients over the files when all are at hand. */
static mp_status merge_files(const struct ident_ctx *c,
			     struct mp_ident_relation *rel, struct mp_error *err)
{
	const char *up = c->opts->unknown_path;
	struct mp_model *um = NULL, *rm[MP_NNLS_MAX] = {NULL};
	struct mp_error e2 = {0};
	mp_status st = MP_OK;
	if (!up)
		return MP_OK;
	for (int i = 0; i < rel->nparents; i++)
		if (!c->refs[rel->parents[i]].path)
			return MP_OK;
	if (mp_model_open(up, &um, &e2) != MP_OK)
		return MP_OK;
	int n = 0;
	for (; n < rel->nparents; n++)
		if (mp_model_open(c->refs[rel->parents[n]].path, &rm[n], &e2) !=
		    MP_OK)
			break;
	if (n == rel->nparents) {
		struct mp_merge m;
		if (mp_lineage_merge(um, (const struct mp_model *const *)rm, n,
				     &m, &e2) == MP_OK) {
			rel->from_files = true;
			rel->merge_sum = m.sum;
			rel->merge_residual = m.residual;
			rel->linear = m.linear;
			for (int i = 0; i < n; i++)
				rel->coef[i] = m.coef[i];
			mp_merge_free(&m);
		}
	} else {
		st = ident_warn(c->res, err,
				"reference %s: %s: merge coefficients from "
				"sketches only",
				c->refs[rel->parents[n]].id, e2.msg);
	}
	for (int i = 0; i < n; i++)
		mp_model_free(rm[i]);
	mp_model_free(um);
	return st;
}

/* --- the verdict ------------------------------------------------------- */

static const char *confidence(const struct mp_ident_result *res)
{
	const struct mp_ident_score *b = &res->scores[0];
	double second = res->ncompatible > 1 ? res->scores[1].final : 0;
	double margin = b->final - second;
	if (b->pearson >= MP_ID_VERY_HIGH_PEARSON && margin >= MP_ID_MARGIN)
		return "very high";
	if (b->pearson >= MP_ID_HIGH_PEARSON && margin >= MP_ID_MARGIN)
		return "high";
	if (margin >= MP_ID_MARGIN / 2)
		return "medium";
	return "low";
}

static void append(char *buf, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t cap, const char *fmt, ...)
{
	size_t l = strlen(buf);
	if (l + 1 >= cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + l, cap - l, fmt, ap);
	va_end(ap);
}

static mp_status renames_of(const struct ident_ctx *c, size_t ri,
			    struct mp_ident_relation *rel, struct mp_error *err)
{
	const struct ident_pairing *p = &c->pairs[ri];
	if (!p->renamed)
		return MP_OK;
	if (!(rel->renames = calloc(p->renamed, sizeof *rel->renames)))
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	for (size_t i = 0; i < c->u->ntensors; i++) {
		size_t j = p->r_of_u[i];
		if (j != ID_NONE && strcmp(c->ux->norm[i], c->rx[ri].norm[j]))
			rel->renames[rel->nrenames++] = (struct mp_ident_rename){
			    c->u->tensors[i].name,
			    c->rx[ri].fp->tensors[j].name};
	}
	return MP_OK;
}

/* Finish a merge found by try_merge: coefficients over the files when at
 * hand, confidence from the residual, evidence. */
static mp_status merge_verdict(const struct ident_ctx *c,
			       struct mp_ident_relation *rel,
			       struct mp_error *err)
{
	rel->from_files = false;
	mp_status st = merge_files(c, rel, err);
	if (st != MP_OK)
		return st;
	rel->confidence = rel->merge_residual <= 0.01	? "very high"
			  : rel->merge_residual <= 0.05 ? "high"
							: "medium";
	snprintf(rel->evidence, sizeof rel->evidence,
		 "non-negative least squares over %s: relative residual %.3g "
		 "with %d parents against %.3g for the best one alone; "
		 "coefficients sum to %.4f%s",
		 rel->from_files ? "the files" : "the sketches",
		 rel->merge_residual, rel->nparents, rel->single_residual,
		 rel->merge_sum, rel->linear ? " (a linear merge)" : "");
	return MP_OK;
}

/* Map a relation decided on the files. */
static bool from_lineage(struct mp_ident_relation *rel,
			 const struct mp_lineage *l)
{
	switch (l->kind) {
	case MP_LIN_COPY:
		rel->kind = MP_ID_COPY;
		break;
	case MP_LIN_DTYPE:
		rel->kind = MP_ID_DTYPE;
		break;
	case MP_LIN_PRUNE:
		rel->kind = MP_ID_PRUNE;
		break;
	case MP_LIN_FINETUNE:
		rel->kind = MP_ID_FINETUNE;
		break;
	case MP_LIN_QUANT:
		rel->kind = MP_ID_QUANT;
		break;
	case MP_LIN_PERMUTED:
		rel->kind = MP_ID_PERMUTED;
		break;
	default:
		return false;
	}
	rel->lineage = *l;
	rel->from_files = true;
	rel->reversed = l->reversed;
	if (l->confidence && !strcmp(l->confidence, "certain"))
		rel->confidence = "very high"; /* every value was checked */
	snprintf(rel->evidence, sizeof rel->evidence,
		 "A = the unknown, B = the parent: %s",
		 l->evidence);
	return true;
}

/* The unknown fingerprint's copy of a tensor name, NULL if none. */
static const char *fp_name(const struct mp_fingerprint *u, const char *name)
{
	const struct mp_tensor_fp *t = name ? mp_fp_find(u, name) : NULL;
	return t ? t->name : NULL;
}

/* The relation decided on the files of U and the parent, when at hand. */
static mp_status lineage_files(const struct ident_ctx *c, size_t ri,
			       struct mp_ident_relation *rel, bool *decided,
			       struct mp_error *err)
{
	const char *up = c->opts->unknown_path, *rp = c->refs[ri].path;
	struct mp_model *um = NULL, *rm = NULL;
	struct mp_error e2 = {0};
	*decided = false;
	if (!up || !rp)
		return MP_OK;
	if (mp_model_open(rp, &rm, &e2) != MP_OK)
		return ident_warn(c->res, err,
				  "reference %s (%s): %s: relation from "
				  "sketches only",
				  c->refs[ri].id, c->refs[ri].name, e2.msg);
	mp_status st = mp_model_open(up, &um, err);
	struct mp_lineage l;
	if (st == MP_OK && (st = mp_lineage_pair(um, rm, &l, err)) == MP_OK)
		*decided = from_lineage(rel, &l);
	if (*decided && rel->kind == MP_ID_PERMUTED) {
		struct tally t; /* the tensors that carry a permutation */
		tally_of(c, ri, &t, rel, TOP_PERMUTED);
	}
	/* names borrowed from the models: rebound to the unknown's
	 * fingerprint, which outlives the result */
	struct mp_lineage *k = &rel->lineage;
	k->worst = fp_name(c->u, k->worst);
	for (int i = 0; i < k->nmoved; i++)
		k->moved[i].name = fp_name(c->u, k->moved[i].name);
	for (int i = 0; i < k->nperm; i++)
		for (size_t j = 0; j < k->perm[i].ntensors &&
				   j < MP_LIN_PERM_TENSORS;
		     j++)
			k->perm[i].tensor[j] = fp_name(c->u, k->perm[i].tensor[j]);
	mp_model_free(um);
	mp_model_free(rm);
	return st;
}

static void sketch_kind_words(const struct ident_ctx *c, size_t ri,
			      struct mp_ident_relation *rel);

/* The relation decided on the sketches: every value the sketches hold was
 * checked for the exact kinds, so those are at least high confidence. */
static void sketch_kind(const struct ident_ctx *c, size_t ri,
			struct mp_ident_relation *rel)
{
	sketch_kind_words(c, ri, rel);
	if (rel->kind != MP_ID_FINETUNE && strcmp(rel->confidence, "very high"))
		rel->confidence = "high";
}

static void sketch_kind_words(const struct ident_ctx *c, size_t ri,
			      struct mp_ident_relation *rel)
{
	struct tally t;
	tally_of(c, ri, &t, rel, TOP_MOVED);
	rel->from_files = false;
	rel->reversed = false;
	rel->lineage.ggml.on = false; /* no file measurement behind it */
	size_t rest = t.n - t.identical;
	char *ev = rel->evidence;
	size_t cap = sizeof rel->evidence;
	if (!rest && (t.reordered || t.shifted || t.transposed)) {
		rel->kind = MP_ID_COPY;
		rel->confidence = "very high";
		snprintf(ev, cap, "%zu of %zu tensors have the parent's SHA-256",
			 t.n - t.reordered - t.shifted - t.transposed, t.n);
		if (t.transposed)
			append(ev, cap,
			       "; %zu are matrices llama.cpp's converter stored "
			       "transposed, holding the parent's values at every "
			       "sketch position of its layout, and its exact "
			       "statistics",
			       t.transposed);
		if (t.reordered)
			append(ev, cap,
			       "; %zu are Q/K matrices in llama.cpp's rotary "
			       "row order holding the parent's values at every "
			       "sketch position with that permutation undone, "
			       "and its exact statistics",
			       t.reordered);
		if (t.shifted)
			append(ev, cap,
			       "; %zu are norms holding the parent's weights "
			       "plus the %g llama.cpp's converter adds, at "
			       "every sketch position",
			       t.shifted, fabs(t.offset));
	} else if (rest && t.narrowed + t.widened == rest) {
		rel->kind = MP_ID_DTYPE;
		snprintf(ev, cap,
			 "%zu of %zu tensors hold the parent's values %s %s "
			 "(%s -> %s) at every sketch position; %zu identical",
			 rest, t.n, t.narrowed ? "rounded to" : "widened to",
			 mp_dtype_name(t.to), mp_dtype_name(t.from),
			 mp_dtype_name(t.to), t.identical);
	} else if (rest && t.rnarrowed == rest) {
		rel->kind = MP_ID_DTYPE;
		rel->reversed = true;
		snprintf(ev, cap,
			 "the parent holds the unknown's values rounded to %s "
			 "(%s -> %s) at every sketch position of %zu of %zu "
			 "tensors, %zu identical: the reference is a dtype "
			 "conversion of the unknown",
			 mp_dtype_name(t.to), mp_dtype_name(t.from),
			 mp_dtype_name(t.to), rest, t.n, t.identical);
	} else if (rest && t.rsurvivors == t.n && t.rpruned &&
		   !(t.survivors == t.n && t.pruned)) {
		rel->kind = MP_ID_PRUNE;
		rel->reversed = true;
		snprintf(ev, cap,
			 "%zu of %zu tensors of the parent have weights set "
			 "to zero where the unknown's are not, every other "
			 "sketch value equal: the reference is a pruned copy "
			 "of the unknown; %zu identical",
			 t.rpruned, t.n, t.identical);
	} else if (rest && t.survivors == t.n && t.pruned) {
		rel->kind = MP_ID_PRUNE;
		tally_of(c, ri, &t, rel, TOP_PRUNED);
		snprintf(ev, cap,
			 "%zu of %zu tensors have weights set to zero (%.1f %% "
			 "of their values, from the exact statistics), every "
			 "surviving sketch value equal to the parent's; %zu "
			 "identical; the structure needs the files",
			 t.pruned, t.n,
			 t.values > 0 ? 100 * t.zeroed / t.values : 0,
			 t.identical);
	} else if (rest && t.int8 == rest) {
		rel->kind = MP_ID_QUANT;
		snprintf(ev, cap,
			 "%zu of %zu tensors lie on the parent's int8 "
			 "symmetric per-tensor grid (step max|w|/127) at "
			 "every sketch position; %zu identical",
			 rest, t.n, t.identical);
	} else if (rest && t.permuted == rest) {
		rel->kind = MP_ID_PERMUTED;
		tally_of(c, ri, &t, rel, TOP_PERMUTED);
		snprintf(ev, cap,
			 "%zu of %zu tensors hold the parent's values in "
			 "another order (the same minimum, maximum, "
			 "quartiles and norms; uncorrelated positions), the "
			 "other %zu are identical: hidden units permuted",
			 rest, t.n, t.identical);
	} else {
		rel->kind = MP_ID_FINETUNE;
		snprintf(ev, cap,
			 "Pearson %.4f over the key tensors, %zu of %zu "
			 "tensors identical",
			 score_of(c, ri)->pearson, t.identical, t.n);
		if (rel->ntop) {
			append(ev, cap, "; moved most (1 - Pearson):");
			for (int i = 0; i < rel->ntop; i++)
				append(ev, cap, "%s %s %.3g", i ? "," : "",
				       rel->top[i].name, rel->top[i].value);
		}
	}
}

/* Whether every tensor of U paired with reference ri that is not
 * identical holds its values in another order (permutation-invariant
 * statistics equal, positions uncorrelated): a parent whatever the
 * position-wise scores say. Values shuffled at random pass that test
 * too, so the files must confirm the permutation when at hand, and
 * without them some tensors must be untouched. */
static mp_status all_permuted(const struct ident_ctx *c, size_t ri,
			      bool *yes, struct mp_error *err)
{
	struct tally t;
	struct mp_ident_relation tmp = {0};
	*yes = false;
	tally_of(c, ri, &t, &tmp, TOP_MOVED);
	if (!(t.n > t.identical && t.permuted == t.n - t.identical))
		return MP_OK;
	if (!c->opts->unknown_path || !c->refs[ri].path) {
		*yes = t.identical > 0;
		return MP_OK;
	}
	bool decided;
	mp_status st = lineage_files(c, ri, &tmp, &decided, err);
	*yes = st == MP_OK && decided && tmp.kind == MP_ID_PERMUTED;
	return st;
}

/* The relation of U to the related reference ri (rel->parent is ri,
 * rel->confidence the ranking's). */
static mp_status relate(struct ident_ctx *c, size_t ri,
			struct mp_ident_relation *rel, struct mp_error *err)
{
	mp_status st;
	const struct ident_pairing *p = &c->pairs[ri];
	size_t nu = c->u->ntensors, nr = c->rx[ri].fp->ntensors;
	bool all_same = p->matched == nu && nu == nr;
	for (size_t i = 0; all_same && i < nu; i++) {
		const struct mp_tensor_fp *x = &c->u->tensors[i];
		all_same = !strcmp(x->sha256,
				   c->rx[ri].fp->tensors[p->r_of_u[i]].sha256);
	}
	if ((st = renames_of(c, ri, rel, err)))
		return st;
	if (p->renamed) {
		rel->kind = MP_ID_RENAMED;
		char how[160];
		if (p->by == BY_POSITION)
			snprintf(how, sizeof how,
				 "by position: the same shapes in the same "
				 "order for %zu of %zu tensors",
				 p->matched, nu);
		else
			snprintf(how, sizeof how,
				 "by identical bytes or a sketch correlation "
				 "of at least %.2f among tensors of the same "
				 "shape",
				 ID_RENAME_PEARSON);
		snprintf(rel->evidence, sizeof rel->evidence,
			 "%zu of %zu tensors found in the parent under other "
			 "names, %s; ",
			 p->renamed, nu, how);
		if (all_same)
			append(rel->evidence, sizeof rel->evidence,
			       "every tensor's bytes are identical");
		else
			append(rel->evidence, sizeof rel->evidence,
			       "the values differ too: Pearson %.4f over the "
			       "key tensors, exact %.3f",
			       score_of(c, ri)->pearson, score_of(c, ri)->exact);
		if (all_same)
			rel->confidence = "very high";
		return MP_OK;
	}
	if (all_same) {
		rel->kind = MP_ID_COPY;
		rel->confidence = "very high";
		snprintf(rel->evidence, sizeof rel->evidence,
			 "all %zu tensors have the parent's names, shapes and "
			 "SHA-256 (whatever the file names, container or "
			 "metadata)",
			 nu);
		return MP_OK;
	}
	size_t same = 0;
	for (size_t i = 0; i < nu; i++)
		if (p->r_of_u[i] != ID_NONE)
			same += !strcmp(c->u->tensors[i].sha256,
					c->rx[ri].fp->tensors[p->r_of_u[i]].sha256);
	if (same && same == p->matched) {
		rel->kind = MP_ID_COPY;
		rel->partial = true;
		rel->confidence = "very high";
		snprintf(rel->evidence, sizeof rel->evidence,
			 "the %zu tensors in common have the parent's names, "
			 "shapes and SHA-256; %zu more only in the unknown, "
			 "%zu only in the parent: a copy of %s",
			 same, nu - same, nr - same,
			 nu < nr	? "part of the parent"
			 : nu > nr ? "the parent with tensors added"
				   : "the parent with tensors replaced");
		return MP_OK;
	}
	bool decided;
	if ((st = lineage_files(c, ri, rel, &decided, err)))
		return st;
	if (decided && rel->kind != MP_ID_FINETUNE)
		return MP_OK;
	if (!decided) {
		sketch_kind(c, ri, rel);
		if (rel->kind == MP_ID_DTYPE || rel->kind == MP_ID_PRUNE ||
		    rel->kind == MP_ID_COPY)
			return MP_OK;
		bool quant;
		if ((st = ident_ggml_sketch(c, ri, rel, &quant, err)))
			return st;
		if (quant && rel->kind == MP_ID_QUANT)
			return MP_OK;
	}
	struct mp_ident_relation keep = *rel;
	if (try_merge(c, rel))
		return merge_verdict(c, rel, err);
	*rel = keep;
	if (decided) {
		/* the files say fine-tune: a tighter relation seen on the
		 * sketches (quantization, permuted units) names it better */
		sketch_kind(c, ri, rel);
		if (rel->kind == MP_ID_FINETUNE)
			*rel = keep;
	}
	return MP_OK;
}

/* Significand bits of a fingerprint's values, weighted by parameters
 * (block-quantized ones count 0). */
static double source_bits(const struct mp_fingerprint *fp)
{
	double bits = 0, n = 0;
	for (int d = 0; d < MP_DTYPE_COUNT; d++) {
		bits += (double)fp->dtype_params[d] * mp_dtype_significand(d);
		n += (double)fp->dtype_params[d];
	}
	for (int i = 0; i < MP_FP_GGML_IDS; i++)
		n += (double)fp->ggml_params[i];
	return n > 0 ? bits / n : 0;
}

/* A GGUF quantized from the parent is about as close to the parent's own
 * dtype conversions and quantizations, which hold its values plus their
 * own rounding: of the references in a near tie that the grids explain
 * too, the one that leaves the smallest error is the source (the same
 * unknown's grids, so the ratios compare); within MP_ID_SOURCE_MARGIN the
 * more precise one is. */
static mp_status nearest_source(struct ident_ctx *c,
				struct mp_ident_relation *rel,
				struct mp_error *err)
{
	struct mp_ident_result *res = c->res;
	const struct mp_ident_score *b = &res->scores[0];
	char also[320] = "";
	for (size_t i = 1; i < res->ncompatible && i <= MP_ID_TIE_TRIES; i++) {
		const struct mp_ident_score *s = &res->scores[i];
		if (!(s->final >= b->final - MP_ID_TIE))
			break;
		struct mp_ident_relation alt = {.parent = s->ref,
						.confidence = rel->confidence};
		mp_status st = relate(c, s->ref, &alt, err);
		const struct mp_lineage_ggml *g = &alt.lineage.ggml;
		if (st || alt.kind != MP_ID_QUANT || !g->on || alt.reversed ||
		    g->tensors != rel->lineage.ggml.tensors) {
			free(alt.renames);
			if (st)
				return st;
			continue;
		}
		char one[160];
		double r0 = rel->lineage.ggml.ratio;
		bool better = g->ratio < r0 * (1 - MP_ID_SOURCE_MARGIN) ||
			      (g->ratio < r0 * (1 + MP_ID_SOURCE_MARGIN) &&
			       source_bits(c->refs[s->ref].fp) >
				   source_bits(c->refs[rel->parent].fp));
		const struct mp_ident_relation *worse = better ? rel : &alt;
		snprintf(one, sizeof one, "%s%s (error %.6g x expected)",
			 also[0] ? ", " : "", c->refs[worse->parent].name,
			 worse->lineage.ggml.ratio);
		append(also, sizeof also, "%s", one);
		if (better) {
			free(rel->renames);
			*rel = alt;
		} else
			free(alt.renames);
	}
	if (also[0])
		append(rel->evidence, sizeof rel->evidence,
		       "; the source is the reference leaving the smallest "
		       "error (%.6g x expected); these fit too but add their "
		       "own rounding: %s",
		       rel->lineage.ggml.ratio, also);
	return MP_OK;
}

mp_status ident_relation(struct ident_ctx *c, struct mp_error *err)
{
	struct mp_ident_result *res = c->res;
	struct mp_ident_relation *rel = &res->relation;
	const struct mp_ident_score *b = res->ncompatible ? &res->scores[0]
							  : NULL;
	rel->parent = ID_NONE;
	rel->confidence = "high";
	if (!b) {
		rel->kind = MP_ID_NONE;
		snprintf(rel->evidence, sizeof rel->evidence,
			 "no reference of a compatible architecture among %zu "
			 "(same architecture, and tensors in common at least "
			 "%.0f %% of the smaller model's and %.0f %% of the "
			 "larger's)",
			 c->nrefs, 100 * MP_ID_MIN_OVERLAP,
			 100 * MP_ID_MIN_SHARE);
		return MP_OK;
	}
	bool exact_copy = b->exact >= 1 && isnan(b->pearson);
	bool related = b->final >= MP_ID_RELATED_FINAL &&
		       (b->pearson >= MP_ID_RELATED_PEARSON || exact_copy);
	mp_status st = MP_OK;
	if (!related && (st = all_permuted(c, b->ref, &related, err)))
		return st;
	if (!related) {
		if (try_merge(c, rel)) {
			res->match = true;
			return merge_verdict(c, rel, err);
		}
		rel->kind = MP_ID_UNRELATED;
		snprintf(rel->evidence, sizeof rel->evidence,
			 "the best compatible reference, %s, scores final "
			 "%.3f and Pearson %.3f (a parent needs at least "
			 "%.2f and %.2f), and no merge of the references "
			 "fits: same architecture, unrelated weights",
			 c->refs[b->ref].name, b->final, b->pearson,
			 MP_ID_RELATED_FINAL, MP_ID_RELATED_PEARSON);
		return MP_OK;
	}
	res->match = true;
	rel->parent = b->ref;
	rel->confidence = confidence(res);
	if ((st = relate(c, b->ref, rel, err)))
		return st;
	/* a near tie with a tighter relation names the parent better (a BF16
	 * conversion is as close to the F16 one as to the original) */
	for (size_t i = 1; rel->kind == MP_ID_FINETUNE &&
			   i < res->ncompatible && i <= MP_ID_TIE_TRIES;
	     i++) {
		const struct mp_ident_score *s = &res->scores[i];
		if (!(s->final >= b->final - MP_ID_TIE))
			break;
		struct mp_ident_relation alt = {.parent = s->ref,
						.confidence = "medium"};
		if ((st = relate(c, s->ref, &alt, err))) {
			free(alt.renames);
			return st;
		}
		if (alt.kind == MP_ID_FINETUNE || alt.kind == MP_ID_MERGE) {
			free(alt.renames);
			continue;
		}
		free(rel->renames);
		*rel = alt;
		append(rel->evidence, sizeof rel->evidence,
		       "; chosen over %s, whose final is within %.2f, for "
		       "the tighter relation",
		       c->refs[b->ref].name, MP_ID_TIE);
		break;
	}
	return rel->kind == MP_ID_QUANT && rel->lineage.ggml.on
		   ? nearest_source(c, rel, err)
		   : MP_OK;
}
