/* identify.c — architecture first, then the compatible references scored
 * over key tensors (seed 003's shape, exact, stats, cosine, pearson and
 * final, with a coverage penalty), then the verdict (ident_relation.c).
 * Scores come from the `tensors` sketches, or over whole tensors when the
 * files are at hand and exact scores are asked for or cheap. */
#include "ident_int.h"
#include "metric.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Exact scores are recomputed for at most this many leading references. */
#define EXACT_TOP 5

mp_status ident_warn(struct mp_ident_result *r, struct mp_error *err,
		     const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	char **w = realloc(r->warnings, (r->nwarnings + 1) * sizeof *w);
	if (!w)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	r->warnings = w;
	if (!(w[r->nwarnings] = mp_strdup(buf)))
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	r->nwarnings++;
	return MP_OK;
}

/* A key tensor: U's index (ID_NONE when U lacks it), its normalised name,
 * weight. Exact per-key correlations replace the sketch ones when set. */
struct key {
	size_t u;
	const char *name;
	double w;
};

/* Per-reference exact correlations by U tensor index (NULL: sketches). */
struct exact {
	double *cos, *pear; /* [U ntensors], NAN where not computed */
};

static void stats_part(const struct mp_tensor_fp *a,
		       const struct mp_tensor_fp *b, double *v, bool *ok)
{
	*ok = false;
	if (!a->stats || !b->stats || !a->stats->n || !b->stats->n)
		return;
	struct mp_tstats x = *a->stats, y = *b->stats;
	double diff = 0;
	for (int i = 0; i < MP_TSTATS_NFIELDS; i++) {
		double p = *mp_tstats_field(&x, i), q = *mp_tstats_field(&y, i);
		if (isfinite(p) && isfinite(q))
			diff += fabs(p - q);
	}
	*v = 1 / (1 + diff);
	*ok = true;
}

/* Scores of one reference over the keys. */
static void score_ref(const struct ident_ctx *c, size_t ri,
		      const struct key *keys, size_t nkeys,
		      const struct exact *ex, struct mp_ident_score *s)
{
	const struct ident_fpx *rx = &c->rx[ri];
	const struct ident_pairing *p = &c->pairs[ri];
	bool sk = ident_sketches_comparable(c->ux, rx);
	double either = 0, both = 0, W = 0, ex_w = 0, st = 0, st_w = 0;
	double cs = 0, cs_w = 0, ps = 0, ps_w = 0;
	size_t n_either = 0, n_both = 0;
	for (size_t k = 0; k < nkeys; k++) {
		size_t iu = keys[k].u, ir = iu != ID_NONE ? p->r_of_u[iu]
							  : ID_NONE;
		bool in_r = ir != ID_NONE ||
			    ident_fpx_find(rx, keys[k].name) != ID_NONE;
		if (iu == ID_NONE && !in_r)
			continue;
		double w = keys[k].w;
		either += w;
		n_either++;
		if (ir == ID_NONE)
			continue;
		both += w;
		n_both++;
		const struct mp_tensor_fp *a = &c->u->tensors[iu],
					  *b = &rx->fp->tensors[ir];
		W += w;
		if (a->sha256[0] && !strcmp(a->sha256, b->sha256))
			ex_w += w;
		double v, cv = NAN, pv = NAN;
		bool ok;
		stats_part(a, b, &v, &ok);
		if (ok) {
			st += w * v;
			st_w += w;
		}
		if (ex && ex->cos && !isnan(ex->pear[iu])) {
			cv = ex->cos[iu];
			pv = ex->pear[iu];
		} else if (sk) {
			ident_sketch_corr(a, b, &cv, &pv);
		}
		if (!isnan(cv)) {
			cs += w * cv;
			cs_w += w;
		}
		if (!isnan(pv)) {
			ps += w * pv;
			ps_w += w;
		}
	}
	s->shape = n_either ? (double)n_both / (double)n_either : NAN;
	s->coverage = either > 0 ? both / either : 0;
	s->exact = W > 0 ? ex_w / W : NAN;
	s->stats = st_w > 0 ? st / st_w : NAN;
	s->cosine = cs_w > 0 ? cs / cs_w : NAN;
	s->pearson = ps_w > 0 ? ps / ps_w : NAN;
	static const double bw[4] = {0.2, 0.25, 0.3, 0.25};
	double part[4] = {s->exact, s->stats, s->cosine, s->pearson};
	double num = 0, den = 0;
	for (int i = 0; i < 4; i++)
		if (!isnan(part[i])) {
			num += bw[i] * part[i];
			den += bw[i];
		}
	s->raw_final = den > 0 ? num / den : NAN;
	s->final = den > 0 ? s->raw_final * s->coverage : 0;
}

/* Compatibility of reference ri: architecture and overlap. */
static void compat(const struct ident_ctx *c, size_t ri,
		   const struct mp_arch_result *ra, struct mp_ident_score *s)
{
	const struct mp_arch_result *ua = c->res->arch;
	const struct ident_pairing *p = &c->pairs[ri];
	size_t nu = c->u->ntensors, nr = c->rx[ri].fp->ntensors;
	size_t small = nu < nr ? nu : nr;
	s->matched = p->matched;
	s->renamed = p->renamed;
	s->overlap = small ? (double)p->matched / (double)small : 0;
	s->arch = ra && ra->known ? ra->m[0].name : NULL;
	s->compatible = false;
	if (!mp_arch_compatible(ua, ra)) {
		snprintf(s->why, sizeof s->why, "architecture %s, not %s",
			 s->arch, ua->m[0].name);
	} else if (!p->matched) {
		snprintf(s->why, sizeof s->why, "no tensor in common");
	} else if (s->overlap < MP_ID_MIN_OVERLAP) {
		snprintf(s->why, sizeof s->why,
			 "only %zu of %zu tensors in common", p->matched,
			 small);
	} else if ((double)p->matched <
		   MP_ID_MIN_SHARE * (double)(nu > nr ? nu : nr)) {
		snprintf(s->why, sizeof s->why,
			 "only %zu of %zu tensors in common", p->matched,
			 nu > nr ? nu : nr);
	} else {
		s->compatible = true;
	}
}

/* Seed weights of the unknown's architecture as keys; 0 when none. */
static mp_status seed_keys(const struct ident_ctx *c, struct key **out,
			   size_t *n, struct mp_error *err)
{
	const struct mp_arch_result *ua = c->res->arch;
	const char *const *names;
	const double *w;
	*n = 0;
	size_t k = ua->known ? mp_arch_weights(c->opts->arch, ua->m[0].name,
					       &names, &w)
			     : 0;
	if (!k)
		return MP_OK;
	if (!(*out = calloc(k, sizeof **out)))
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	double sum = 0;
	for (size_t i = 0; i < k; i++)
		sum += w[i];
	for (size_t i = 0; i < k; i++) {
		(*out)[i].name = names[i];
		(*out)[i].w = w[i] / sum;
		(*out)[i].u = ident_fpx_find(c->ux, names[i]);
	}
	*n = k;
	return MP_OK;
}

/* Every tensor of U with a sketch, equal weights. */
static mp_status equal_keys(const struct ident_ctx *c, struct key **out,
			    size_t *n, struct mp_error *err)
{
	size_t k = c->ux->nfloat;
	*n = 0;
	if (!k)
		return MP_OK;
	if (!(*out = calloc(k, sizeof **out)))
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	for (size_t i = 0; i < c->u->ntensors; i++)
		if (c->u->tensors[i].nsketch) {
			(*out)[*n].u = i;
			(*out)[*n].name = c->ux->norm[i];
			(*out)[*n].w = 1.0 / (double)k;
			(*n)++;
		}
	return MP_OK;
}

struct var_of {
	size_t u;
	double var;
};

static int var_desc(const void *a, const void *b)
{
	const struct var_of *x = a, *y = b;
	if (x->var != y->var)
		return x->var < y->var ? 1 : -1;
	return (x->u > y->u) - (x->u < y->u);
}

/* Dynamic selection: the tensors whose Pearson with the references
 * use[r] marks varies most between them (a missing or undefined
 * correlation counts 0); at most MP_ID_DYNAMIC_MAX of positive variance,
 * equal weights. *n stays 0 when no tensor varies. */
static mp_status dynamic_keys(const struct ident_ctx *c, const bool *use,
			      struct key **out, size_t *n,
			      struct mp_error *err)
{
	size_t nu = c->u->ntensors, m = 0;
	*n = 0;
	struct var_of *v = calloc(nu ? nu : 1, sizeof *v);
	if (!v)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	for (size_t i = 0; i < nu; i++) {
		if (!c->u->tensors[i].nsketch)
			continue;
		double s1 = 0, s2 = 0;
		size_t k = 0;
		for (size_t r = 0; r < c->nrefs; r++) {
			if (!use[r])
				continue;
			size_t j = c->pairs[r].r_of_u[i];
			double cv, pv = NAN;
			if (j != ID_NONE && ident_sketches_comparable(
						c->ux, &c->rx[r]))
				ident_sketch_corr(&c->u->tensors[i],
						  &c->rx[r].fp->tensors[j],
						  &cv, &pv);
			if (isnan(pv))
				pv = 0;
			s1 += pv;
			s2 += pv * pv;
			k++;
		}
		double var = k ? s2 / (double)k - (s1 / (double)k) *
							(s1 / (double)k)
			       : 0;
		if (var > 1e-12)
			v[m++] = (struct var_of){i, var};
	}
	qsort(v, m, sizeof *v, var_desc);
	if (m > MP_ID_DYNAMIC_MAX)
		m = MP_ID_DYNAMIC_MAX;
	if (m && !(*out = calloc(m, sizeof **out))) {
		free(v);
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < m; i++) {
		(*out)[i].u = v[i].u;
		(*out)[i].name = c->ux->norm[v[i].u];
		(*out)[i].w = 1.0 / (double)m;
	}
	*n = m;
	free(v);
	return MP_OK;
}

static int score_cmp(const void *a, const void *b);

/* With equal keys scored (res->scores still by reference), choose the
 * dynamic keys over the MP_ID_DYNAMIC_REFS best compatible references
 * (the plausible parents, so that a large registry's candidates and a
 * full scan choose alike) and score again with them; the equal keys stay
 * when no tensor varies. */
static mp_status select_dynamic(struct ident_ctx *c, struct key **keys,
				size_t *nkeys, struct mp_error *err)
{
	struct mp_ident_result *res = c->res;
	size_t n = c->nrefs;
	struct mp_ident_score *order = malloc(n * sizeof *order);
	bool *use = calloc(n, sizeof *use);
	struct key *dk = NULL;
	size_t dn = 0;
	mp_status st = MP_OK;
	if (!order || !use) {
		st = mp_error_set(err, MP_ENOMEM, "out of memory");
		goto out;
	}
	memcpy(order, res->scores, n * sizeof *order);
	qsort(order, n, sizeof *order, score_cmp);
	for (size_t i = 0; i < n && i < MP_ID_DYNAMIC_REFS; i++)
		if (order[i].compatible)
			use[order[i].ref] = true;
	if ((st = dynamic_keys(c, use, &dk, &dn, err)) || !dn)
		goto out;
	free(*keys);
	*keys = dk;
	*nkeys = dn;
	dk = NULL;
	res->selection = MP_SEL_DYNAMIC;
	for (size_t i = 0; i < n; i++)
		if (res->scores[i].compatible)
			score_ref(c, i, *keys, *nkeys, NULL, &res->scores[i]);
out:
	free(dk);
	free(order);
	free(use);
	return st;
}

static int score_cmp(const void *a, const void *b)
{
	const struct mp_ident_score *x = a, *y = b;
	if (x->compatible != y->compatible)
		return x->compatible ? -1 : 1;
	double fx = x->compatible ? x->final : x->overlap;
	double fy = y->compatible ? y->final : y->overlap;
	if (isnan(fx) != isnan(fy))
		return isnan(fx) ? 1 : -1;
	if (fx != fy)
		return fx < fy ? 1 : -1;
	return (x->ref > y->ref) - (x->ref < y->ref);
}

/* Exact per-tensor correlations of U and reference ri over whole tensors
 * (files at hand); ex left with NULL arrays when a file cannot be opened
 * (a warning, or an error when opts->exact). */
static mp_status exact_of(const struct ident_ctx *c, size_t ri,
			  const struct mp_model *um, struct exact *ex,
			  struct mp_error *err)
{
	const struct mp_ident_ref *r = &c->refs[ri];
	struct mp_model *rm = NULL;
	struct mp_error e2 = {0};
	memset(ex, 0, sizeof *ex);
	if (!r->path)
		return MP_OK;
	mp_status st = mp_model_open(r->path, &rm, &e2);
	if (st != MP_OK) {
		if (c->opts->exact)
			return mp_error_set(err, st, "reference %s: %s", r->id,
					    e2.msg);
		return ident_warn(c->res, err,
				  "reference %s (%s): %s: exact scores "
				  "skipped, sketches used",
				  r->id, r->name, e2.msg);
	}
	struct mp_exact_pair *pairs = NULL;
	size_t np = 0;
	struct mp_score sc, sp;
	st = mp_metric_exact(um, rm, &pairs, &np, &sc, &sp, err);
	size_t nu = c->u->ntensors;
	if (st == MP_OK && (!(ex->cos = malloc((nu ? nu : 1) * sizeof(double))) ||
			    !(ex->pear = malloc((nu ? nu : 1) * sizeof(double)))))
		st = mp_error_set(err, MP_ENOMEM, "out of memory");
	for (size_t i = 0; st == MP_OK && i < nu; i++)
		ex->cos[i] = ex->pear[i] = NAN;
	for (size_t k = 0; st == MP_OK && k < np; k++) {
		const struct mp_tensor_fp *t = mp_fp_find(c->u, pairs[k].name);
		if (!t)
			continue;
		size_t i = (size_t)(t - c->u->tensors);
		ex->cos[i] = pairs[k].r.cosine;
		ex->pear[i] = pairs[k].r.pearson;
	}
	free(pairs);
	mp_model_free(rm);
	if (st != MP_OK) {
		free(ex->cos);
		free(ex->pear);
		memset(ex, 0, sizeof *ex);
	}
	return st;
}

/* Total bytes of a fingerprint's files. */
static uint64_t fp_bytes(const struct mp_fingerprint *fp)
{
	uint64_t b = 0;
	for (size_t i = 0; i < fp->nfiles; i++)
		b += fp->files[i].size;
	return b;
}

/* Recompute the leading compatible references' scores over whole tensors
 * when asked for (opts->exact) or when the files are small. */
static mp_status rescore_exact(struct ident_ctx *c, const struct key *keys,
			       size_t nkeys, struct mp_error *err)
{
	const struct mp_ident_opts *o = c->opts;
	struct mp_ident_result *res = c->res;
	if (!o->unknown_path)
		return MP_OK;
	bool small = o->max_exact_bytes && fp_bytes(c->u) <= o->max_exact_bytes;
	if (!o->exact && !small)
		return MP_OK;
	struct mp_model *um = NULL;
	mp_status st = mp_model_open(o->unknown_path, &um, err);
	if (st != MP_OK)
		return st;
	bool changed = false;
	for (size_t k = 0; st == MP_OK && k < res->nscores && k < EXACT_TOP;
	     k++) {
		struct mp_ident_score *s = &res->scores[k];
		if (!s->compatible)
			break;
		const struct mp_ident_ref *r = &c->refs[s->ref];
		if (!o->exact && fp_bytes(r->fp) > o->max_exact_bytes)
			continue;
		struct exact ex;
		st = exact_of(c, s->ref, um, &ex, err);
		if (st == MP_OK && ex.cos) {
			score_ref(c, s->ref, keys, nkeys, &ex, s);
			changed = true;
		}
		free(ex.cos);
		free(ex.pear);
	}
	mp_model_free(um);
	if (changed)
		qsort(res->scores, res->ncompatible, sizeof *res->scores,
		      score_cmp);
	return st;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static mp_status check_ids(const struct mp_ident_ref *refs, size_t n,
			   struct mp_error *err)
{
	const char **ids = malloc((n ? n : 1) * sizeof *ids);
	if (!ids)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		ids[i] = refs[i].id;
	qsort(ids, n, sizeof *ids, str_cmp);
	mp_status st = MP_OK;
	for (size_t i = 1; i < n && st == MP_OK; i++)
		if (!strcmp(ids[i - 1], ids[i])) {
			char b[MP_NAME_SHOW + 8];
			st = mp_error_set(err, MP_EINVAL,
					  "two references have the id '%s'",
					  mp_printable(ids[i], b));
		}
	free(ids);
	return st;
}

static mp_status store_keys(struct mp_ident_result *res, const struct key *k,
			    size_t n, struct mp_error *err)
{
	if (n && !(res->keys = calloc(n, sizeof *res->keys)))
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		if (!(res->keys[i].name = mp_strdup(k[i].name)))
			return mp_error_set(err, MP_ENOMEM, "out of memory");
		res->keys[i].weight = k[i].w;
		res->nkeys = i + 1;
	}
	return MP_OK;
}

/* Prepare the per-reference indices, pairings and architectures. */
static mp_status prepare(struct ident_ctx *c, struct ident_fpx *rx,
			 struct ident_pairing *pairs, struct mp_error *err)
{
	struct mp_ident_result *res = c->res;
	mp_status st = MP_OK;
	for (size_t i = 0; st == MP_OK && i < c->nrefs; i++) {
		const struct mp_ident_ref *r = &c->refs[i];
		struct mp_ident_score *s = &res->scores[i];
		s->ref = i;
		s->shape = s->exact = s->stats = s->cosine = s->pearson = NAN;
		s->raw_final = s->coverage = s->final = NAN;
		if ((st = ident_fpx_build(c->opts->arch, r->fp, &rx[i], err)))
			break;
		struct mp_arch_result *ra = NULL;
		if ((st = mp_arch_match_fp(c->opts->arch, r->fp, &ra, err)))
			break;
		bool arch_ok = mp_arch_compatible(res->arch, ra);
		st = ident_pair(c->ux, &rx[i], arch_ok, &pairs[i], err);
		if (st == MP_OK) {
			compat(c, i, ra, s);
			/* the name is borrowed from the set, ra can go */
		}
		mp_arch_result_free(ra);
		if (st == MP_OK && s->compatible &&
		    !ident_sketches_comparable(c->ux, &rx[i]))
			st = ident_warn(res, err,
					"reference %s (%s): sketches of another "
					"size or seed, cosine and pearson "
					"undefined",
					r->id, r->name);
		if (s->compatible)
			res->ncompatible++;
	}
	return st;
}

mp_status mp_identify(const struct mp_fingerprint *unknown,
		      const struct mp_ident_ref *refs, size_t n,
		      const struct mp_ident_opts *opts,
		      struct mp_ident_result **out, struct mp_error *err)
{
	*out = NULL;
	mp_status st = check_ids(refs, n, err);
	if (st != MP_OK)
		return st;
	struct mp_ident_result *res = calloc(1, sizeof *res);
	struct ident_fpx ux = {0};
	struct ident_fpx *rx = calloc(n ? n : 1, sizeof *rx);
	struct ident_pairing *pairs = calloc(n ? n : 1, sizeof *pairs);
	struct key *keys = NULL;
	size_t nkeys = 0;
	if (!res || !rx || !pairs ||
	    !(res->scores = calloc(n ? n : 1, sizeof *res->scores))) {
		st = mp_error_set(err, MP_ENOMEM, "out of memory");
		goto done;
	}
	res->nscores = n;
	if ((st = ident_fpx_build(opts->arch, unknown, &ux, err)))
		goto done;
	if (!ux.nfloat) {
		st = mp_error_set(err, MP_EFORMAT,
				  "%s: no floating tensor to identify",
				  opts->unknown_path ? opts->unknown_path
						     : "the unknown model");
		goto done;
	}
	if ((st = mp_arch_match_fp(opts->arch, unknown, &res->arch, err)))
		goto done;
	struct ident_ctx c = {.u = unknown,
			      .ux = &ux,
			      .refs = refs,
			      .nrefs = n,
			      .rx = rx,
			      .pairs = pairs,
			      .opts = opts,
			      .res = res};
	if ((st = prepare(&c, rx, pairs, err)))
		goto done;
	res->selection = MP_SEL_SEED;
	if ((st = seed_keys(&c, &keys, &nkeys, err)))
		goto done;
	if (!nkeys) {
		res->selection = MP_SEL_EQUAL;
		if ((st = equal_keys(&c, &keys, &nkeys, err)))
			goto done;
	}
	for (size_t i = 0; i < n; i++)
		if (res->scores[i].compatible)
			score_ref(&c, i, keys, nkeys, NULL, &res->scores[i]);
	if (res->selection == MP_SEL_EQUAL && res->ncompatible >= 3 &&
	    (st = select_dynamic(&c, &keys, &nkeys, err)))
		goto done;
	if ((st = store_keys(res, keys, nkeys, err)))
		goto done;
	qsort(res->scores, n, sizeof *res->scores, score_cmp);
	if ((st = rescore_exact(&c, keys, nkeys, err)))
		goto done;
	if ((st = ident_relation(&c, err)) == MP_OK)
		ident_declared(&c);
done:
	free(keys);
	for (size_t i = 0; rx && pairs && i < n; i++) {
		ident_fpx_free(&rx[i]);
		ident_pairing_free(&pairs[i]);
	}
	ident_fpx_free(&ux);
	free(rx);
	free(pairs);
	if (st != MP_OK) {
		mp_ident_result_free(res);
		return st;
	}
	*out = res;
	return MP_OK;
}

void mp_ident_result_free(struct mp_ident_result *r)
{
	if (!r)
		return;
	mp_arch_result_free(r->arch);
	for (size_t i = 0; i < r->nkeys; i++)
		free(r->keys[i].name);
	free(r->keys);
	free(r->scores);
	free(r->relation.renames);
	for (size_t i = 0; i < r->nwarnings; i++)
		free(r->warnings[i]);
	free(r->warnings);
	free(r);
}

const char *mp_ident_kind_name(enum mp_ident_kind k)
{
	static const char *const n[] = {
	    "exact copy",	"dtype conversion",	"quantization",
	    "pruning",		"fine-tune",		"merge",
	    "renamed tensors", "permuted hidden units", "unrelated weights",
	    "no match"};
	return (unsigned)k < sizeof n / sizeof *n ? n[k] : "no match";
}

const char *mp_ident_kind_key(enum mp_ident_kind k)
{
	static const char *const n[] = {"copy",	    "dtype",	"quant",
					"prune",    "finetune", "merge",
					"renamed",  "permuted", "unrelated",
					"none"};
	return (unsigned)k < sizeof n / sizeof *n ? n[k] : "none";
}

const char *mp_ident_selection_name(enum mp_ident_selection s)
{
	return s == MP_SEL_SEED	     ? "seed"
	       : s == MP_SEL_DYNAMIC ? "dynamic"
				     : "equal";
}

void mp_ident_verdict_text(const struct mp_ident_result *r,
			   const struct mp_ident_ref *refs, char *buf,
			   size_t cap)
{
	const struct mp_ident_relation *rel = &r->relation;
	char b[MP_NAME_SHOW + 8];
	if (!r->match) {
		if (rel->kind == MP_ID_UNRELATED && r->ncompatible)
			snprintf(buf, cap,
				 "no parent found: the same architecture as "
				 "%s, with unrelated weights",
				 mp_printable(refs[r->scores[0].ref].name, b));
		else
			snprintf(buf, cap,
				 "no match: no reference of a compatible "
				 "architecture");
		return;
	}
	const char *name = mp_printable(refs[rel->parent].name, b);
	if (rel->reversed) {
		snprintf(buf, cap,
			 "the unknown is most likely the original of %s (%s "
			 "is its %s)",
			 name, name,
			 rel->kind == MP_ID_DTYPE   ? "dtype conversion"
			 : rel->kind == MP_ID_PRUNE ? "pruned copy"
						    : "quantization");
		return;
	}
	switch (rel->kind) {
	case MP_ID_COPY:
		if (rel->partial)
			snprintf(buf, cap,
				 "the unknown is a partial copy of %s (every "
				 "tensor in common identical)",
				 name);
		else
			snprintf(buf, cap, "the unknown is %s or a direct copy",
				 name);
		break;
	case MP_ID_MERGE: {
		size_t l = (size_t)snprintf(buf, cap,
					    "the unknown is most likely a "
					    "merge of");
		for (int i = 0; i < rel->nparents && l < cap; i++) {
			char b2[MP_NAME_SHOW + 8];
			l += (size_t)snprintf(
			    buf + l, cap - l, "%s %s (%.2f)",
			    i == 0		     ? ""
			    : i + 1 == rel->nparents ? " and"
						     : ",",
			    mp_printable(refs[rel->parents[i]].name, b2),
			    rel->coef[i]);
		}
		break;
	}
	case MP_ID_RENAMED:
	case MP_ID_PERMUTED:
		snprintf(buf, cap, "the unknown is most likely %s with %s",
			 name, mp_ident_kind_name(rel->kind));
		break;
	case MP_ID_PRUNE:
		snprintf(buf, cap, "the unknown is most likely %s, pruned",
			 name);
		break;
	case MP_ID_QUANT:
	case MP_ID_FINETUNE:
		if (rel->lineage.ggml.on) {
			const struct mp_lineage_ggml *g = &rel->lineage.ggml;
			char mix[400];
			mp_lineage_ggml_text(g, mix, sizeof mix);
			if (rel->kind == MP_ID_QUANT)
				snprintf(buf, cap,
					 "the unknown is most likely %s (%s) "
					 "from %s",
					 g->from[0] ? "requantized"
						    : "quantized",
					 mix, name);
			else
				snprintf(buf, cap,
					 "the unknown is most likely a "
					 "fine-tune of %s, quantized (%s)",
					 name, mix);
			break;
		}
		/* fall through */
	default:
		snprintf(buf, cap, "the unknown is most likely a %s of %s",
			 mp_ident_kind_name(rel->kind), name);
	}
}
