/* arch_match.c — match a list of tensor names and shapes against every
 * signature of a set: coverage, variant, missing and extra tensors by
 * pattern (see arch.h). */
#include "arch_int.h"
#include "gguf_names.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A growing string; oom once an allocation failed. */
struct sb {
	char *s;
	size_t len, cap;
	bool oom;
};

static void sb_add(struct sb *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void sb_add(struct sb *b, const char *fmt, ...)
{
	if (b->oom)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || b->len + (size_t)n + 1 > b->cap) {
		size_t cap = (b->len + (size_t)(n < 0 ? 0 : n) + 1) * 2;
		char *ns = n < 0 ? NULL : realloc(b->s, cap);
		if (!ns) {
			b->oom = true;
			return;
		}
		b->s = ns;
		b->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Append one character. */
static void sb_putc(struct sb *b, char c)
{
	if (b->oom)
		return;
	if (b->len + 2 > b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 64;
		char *ns = realloc(b->s, cap);
		if (!ns) {
			b->oom = true;
			return;
		}
		b->s = ns;
		b->cap = cap;
	}
	b->s[b->len++] = c;
	b->s[b->len] = '\0';
}

/* The string (caller frees), NULL when out of memory. */
static char *sb_take(struct sb *b)
{
	if (b->oom || !b->s) {
		free(b->s);
		return b->oom ? NULL : mp_strdup("");
	}
	return b->s;
}

/* "3..5,9" for sorted distinct v[0..n). */
static void ranges(struct sb *b, const long *v, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j + 1 < n && v[j + 1] == v[j] + 1)
			j++;
		sb_add(b, "%s%ld", i ? "," : "", v[i]);
		if (j > i)
			sb_add(b, "..%ld", v[j]);
		i = j + 1;
	}
}

struct norm {
	const char *name; /* normalised, borrowed */
	int ndim;
	const uint64_t *shape;
};

static int norm_cmp(const void *a, const void *b)
{
	return strcmp(((const struct norm *)a)->name,
		      ((const struct norm *)b)->name);
}

/* What one signature has bound so far. */
struct bind {
	bool bound[MAX_VARS];
	uint64_t val[MAX_VARS];
	const char *by[MAX_VARS]; /* the tensor that bound it */
};

static bool in_list(const struct var *v, uint64_t x)
{
	for (size_t i = 0; i < v->nin; i++)
		if (v->in[i] == x)
			return true;
	return false;
}

/* Does t's shape fit p under b? On success binds p's new variables. */
static bool shape_fits(const struct sig *g, const struct pat *p,
		       const struct norm *t, struct bind *b)
{
	if (p->ndim < 0)
		return true;
	if (p->ndim != t->ndim)
		return false;
	struct bind nb = *b;
	for (int d = 0; d < p->ndim; d++) {
		const struct dim *dm = &p->dims[d];
		uint64_t x = t->shape[d];
		if (dm->kind == DIM_LIT && dm->lit != x)
			return false;
		if (dm->kind != DIM_VAR)
			continue;
		const struct var *v = &g->vars[dm->var];
		if (nb.bound[dm->var]) {
			if (nb.val[dm->var] != x)
				return false;
			continue;
		}
		if (v->rel == REL_IN && !in_list(v, x))
			return false;
		nb.bound[dm->var] = true;
		nb.val[dm->var] = x;
		nb.by[dm->var] = t->name;
	}
	*b = nb;
	return true;
}

/* "[a, b]" of a shape. */
static void shape_text(struct sb *s, int ndim, const uint64_t *shape)
{
	sb_add(s, "[");
	for (int d = 0; d < ndim; d++)
		sb_add(s, "%s%llu", d ? ", " : "",
		       (unsigned long long)shape[d]);
	sb_add(s, "]");
}

/* The shape p wants under b: numbers where known, a|b for a list. */
static void want_text(struct sb *s, const struct sig *g, const struct pat *p,
		      const struct bind *b)
{
	sb_add(s, "[");
	for (int d = 0; d < p->ndim; d++) {
		const struct dim *dm = &p->dims[d];
		sb_add(s, "%s", d ? ", " : "");
		if (dm->kind == DIM_ANY)
			sb_add(s, "*");
		else if (dm->kind == DIM_LIT)
			sb_add(s, "%llu", (unsigned long long)dm->lit);
		else if (b->bound[dm->var])
			sb_add(s, "%llu", (unsigned long long)b->val[dm->var]);
		else if (g->vars[dm->var].rel == REL_IN)
			for (size_t i = 0; i < g->vars[dm->var].nin; i++)
				sb_add(
				    s, "%s%llu", i ? "|" : "",
				    (unsigned long long)g->vars[dm->var].in[i]);
		else
			sb_add(s, "%s", g->vars[dm->var].name);
	}
	sb_add(s, "]");
}

/* The first conflict wins; the rest only add to rejected. */
static void conflict(struct mp_arch_match *m, struct sb *s)
{
	m->rejected = true;
	if (!m->conflict) {
		m->conflict = sb_take(s);
	} else {
		free(s->s);
	}
}

/* Relations between dimensions (lt, eq), once everything is bound. */
static void relations(const struct sig *g, const struct bind *b,
		      struct mp_arch_match *m)
{
	for (int v = 0; v < g->nvars; v++) {
		const struct var *vr = &g->vars[v];
		if ((vr->rel != REL_LT && vr->rel != REL_EQ) || !b->bound[v] ||
		    !b->bound[vr->other])
			continue;
		uint64_t x = b->val[v], y = b->val[vr->other];
		if (vr->rel == REL_LT ? x < y : x == y)
			continue;
		char show[MP_NAME_SHOW + 8];
		struct sb s = {0};
		sb_add(&s, "%s = %llu (from %s) is not %s %s = %llu", vr->name,
		       (unsigned long long)x, mp_printable(b->by[v], show),
		       vr->rel == REL_LT ? "less than" : "equal to",
		       g->vars[vr->other].name, (unsigned long long)y);
		conflict(m, &s);
	}
}

/* Pattern p with {i} replaced by {ranges of v[0..n)}. */
static char *layered_text(const char *p, const long *v, size_t n)
{
	struct sb s = {0};
	const char *at = strstr(p, "{i}");
	sb_add(&s, "%.*s%s", (int)(at - p), p, n > 1 ? "{" : "");
	ranges(&s, v, n);
	sb_add(&s, "%s%s", n > 1 ? "}" : "", at + 3);
	return sb_take(&s);
}

static bool group_add(struct mp_arch_group **v, size_t *n, char *pattern,
		      size_t count)
{
	if (!pattern)
		return false;
	struct mp_arch_group *nv = realloc(*v, (*n + 1) * sizeof *nv);
	if (!nv) {
		free(pattern);
		return false;
	}
	*v = nv;
	nv[(*n)++] = (struct mp_arch_group){pattern, count};
	return true;
}

/* --- extra tensors by pattern ------------------------------------------ */

#define HOLE '\x01' /* where a numeric component was */

struct xitem {
	char *key;
	long nums[MAX_IDX];
	int nn;
};

static int xitem_cmp(const void *a, const void *b)
{
	const struct xitem *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	if (c)
		return c;
	for (int i = 0; i < x->nn && i < y->nn; i++)
		if (x->nums[i] != y->nums[i])
			return x->nums[i] < y->nums[i] ? -1 : 1;
	return x->nn - y->nn;
}

static int long_cmp(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return (x > y) - (x < y);
}

/* name with its first MAX_IDX numeric dot-separated components (at most
 * 9 digits) cut out into x->nums. */
static bool xitem_make(struct xitem *x, const char *name)
{
	size_t l = strlen(name);
	if (!(x->key = malloc(l + 1)))
		return false;
	char *o = x->key;
	x->nn = 0;
	for (const char *p = name; *p;) {
		const char *e = p;
		while (*e >= '0' && *e <= '9')
			e++;
		bool comp = (p == name || p[-1] == '.') && (*e == '.' || !*e) &&
			    e > p && e - p <= 9;
		if (comp && x->nn < MAX_IDX) {
			x->nums[x->nn++] = strtol(p, NULL, 10);
			*o++ = HOLE;
			p = e;
			continue;
		}
		*o++ = *p++;
	}
	*o = '\0';
	return true;
}

/* Group items[0..n) (sorted) from i on with the same key into one text. */
static char *xgroup_text(const struct xitem *it, size_t n, long *scratch)
{
	struct sb s = {0};
	int hole = 0;
	for (const char *p = it[0].key; *p; p++) {
		if (*p != HOLE || hole >= it[0].nn) {
			sb_putc(&s, *p);
			continue;
		}
		size_t m = 0;
		for (size_t k = 0; k < n; k++)
			scratch[m++] = it[k].nums[hole];
		qsort(scratch, m, sizeof *scratch, long_cmp);
		size_t u = 0;
		for (size_t k = 0; k < m; k++)
			if (!u || scratch[u - 1] != scratch[k])
				scratch[u++] = scratch[k];
		if (u == 1)
			sb_add(&s, "%ld", scratch[0]);
		else {
			sb_add(&s, "{");
			ranges(&s, scratch, u);
			sb_add(&s, "}");
		}
		hole++;
	}
	return sb_take(&s);
}

static bool extras(const struct norm *t, size_t n, const bool *covered,
		   struct mp_arch_match *m)
{
	size_t nx = 0;
	for (size_t i = 0; i < n; i++)
		nx += !covered[i];
	if (!nx)
		return true;
	struct xitem *x = calloc(nx, sizeof *x);
	long *scratch = malloc(nx * sizeof *scratch);
	bool ok = x && scratch;
	size_t k = 0;
	for (size_t i = 0; ok && i < n; i++)
		if (!covered[i])
			ok = xitem_make(&x[k++], t[i].name);
	if (ok)
		qsort(x, k, sizeof *x, xitem_cmp);
	for (size_t i = 0; ok && i < k;) {
		size_t j = i + 1;
		while (j < k && x[j].nn == x[i].nn &&
		       !strcmp(x[j].key, x[i].key))
			j++;
		ok = group_add(&m->extra, &m->nextra,
			       xgroup_text(x + i, j - i, scratch), j - i);
		i = j;
	}
	for (size_t i = 0; x && i < nx; i++)
		free(x[i].key);
	free(x);
	free(scratch);
	return ok;
}

/* --- one signature ------------------------------------------------------ */

static bool sig_match(const struct sig *g, const struct norm *t, size_t n,
		      bool *covered, struct mp_arch_match *m)
{
	m->name = g->name;
	m->family = g->family;
	m->fallback = g->fallback;
	memset(covered, 0, n * sizeof *covered);
	long layer, nl = 0;
	for (size_t k = 0; k < g->nreq; k++)
		for (size_t i = 0; g->req[k].layered && i < n; i++)
			if (mp_arch_pat_match(g->req[k].text, t[i].name,
					      &layer) &&
			    layer + 1 > nl)
				nl = layer + 1;
	size_t w = nl ? (size_t)nl : 1;
	uint8_t *have = calloc(g->nreq * w, 1);
	long *idx = malloc(w * sizeof *idx);
	if (!have || !idx) {
		free(have);
		free(idx);
		return false;
	}
	struct bind b;
	memset(&b, 0, sizeof b);
	char show[MP_NAME_SHOW + 8];
	for (size_t k = 0; k < g->nreq; k++) {
		const struct pat *p = &g->req[k];
		for (size_t i = 0; i < n; i++) {
			layer = 0;
			if (!mp_arch_pat_match(p->text, t[i].name, &layer))
				continue;
			covered[i] = true;
			if (shape_fits(g, p, &t[i], &b)) {
				have[k * w + (size_t)layer] = 1;
				continue;
			}
			struct sb s = {0};
			sb_add(&s, "%s has shape ",
			       mp_printable(t[i].name, show));
			shape_text(&s, t[i].ndim, t[i].shape);
			sb_add(&s, ", %s wants ", g->name);
			if (p->ndim == t[i].ndim)
				want_text(&s, g, p, &b);
			else
				sb_add(&s, "%d dimensions", p->ndim);
			conflict(m, &s);
		}
	}
	for (size_t k = 0; k < g->nopt; k++)
		for (size_t i = 0; i < n; i++)
			if (!covered[i] && mp_arch_pat_match(g->opt[k].text,
							     t[i].name, &layer))
				covered[i] = true;
	for (size_t k = 0; k < g->nforbid; k++)
		for (size_t i = 0; i < n; i++)
			if (mp_arch_pat_match(g->forbid[k].text, t[i].name,
					      &layer)) {
				struct sb s = {0};
				sb_add(&s, "%s is not part of %s",
				       mp_printable(t[i].name, show), g->name);
				conflict(m, &s);
				break;
			}
	relations(g, &b, m);
	bool ok = true;
	for (size_t k = 0; k < g->nreq && ok; k++) {
		const struct pat *p = &g->req[k];
		size_t want = p->layered ? (size_t)nl : 1, got = 0, ni = 0;
		if (p->layered && !nl) {
			m->expected++;
			ok = group_add(&m->missing, &m->nmissing,
				       mp_strdup(p->text), 1);
			continue;
		}
		for (size_t l = 0; l < want; l++) {
			if (have[k * w + l])
				got++;
			else
				idx[ni++] = (long)l;
		}
		m->expected += want;
		m->present += got;
		if (ni)
			ok = group_add(&m->missing, &m->nmissing,
				       p->layered
					   ? layered_text(p->text, idx, ni)
					   : mp_strdup(p->text),
				       ni);
	}
	free(have);
	free(idx);
	m->coverage =
	    m->expected ? (double)m->present / (double)m->expected : 0;
	m->layers = (uint64_t)nl;
	if (g->v_hidden >= 0 && b.bound[g->v_hidden])
		m->hidden = b.val[g->v_hidden];
	uint64_t hd = g->head_dim;
	for (size_t k = 0; k < g->nhd; k++)
		if (m->hidden == g->hd_hidden[k])
			hd = g->hd_dim[k];
	if (hd && g->v_q >= 0 && b.bound[g->v_q] && b.val[g->v_q] % hd == 0)
		m->heads = b.val[g->v_q] / hd;
	if (hd && g->v_kv >= 0 && b.bound[g->v_kv] && b.val[g->v_kv] % hd == 0)
		m->kv_heads = b.val[g->v_kv] / hd;
	return ok;
}

static void groups_free(struct mp_arch_group *g, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(g[i].pattern);
	free(g);
}

/* The ranking score: coverage, 0 when rejected; a fallback's is
 * discounted so that a named model covering nearly as much (its required
 * set is larger, with lm_head say) comes first. */
static double match_score(const struct mp_arch_match *m)
{
	return m->rejected ? 0 : m->fallback ? 0.99 * m->coverage : m->coverage;
}

static int match_cmp(const void *a, const void *b)
{
	const struct mp_arch_match *x = a, *y = b;
	double sx = match_score(x), sy = match_score(y);
	if (sx != sy)
		return sx > sy ? -1 : 1;
	if (x->fallback != y->fallback)
		return x->fallback ? 1 : -1;
	if (x->coverage != y->coverage)
		return x->coverage > y->coverage ? -1 : 1;
	if (x->present != y->present)
		return x->present > y->present ? -1 : 1;
	return strcmp(x->name, y->name);
}

mp_status mp_arch_match(const struct mp_arch_set *s,
			const struct mp_arch_item *items, size_t n,
			const char *names_arch, struct mp_arch_result **out,
			struct mp_error *err)
{
	*out = NULL;
	struct mp_arch_result *r = calloc(1, sizeof *r);
	struct norm *t = calloc(n ? n : 1, sizeof *t);
	bool *covered = calloc(n ? n : 1, sizeof *covered);
	/* GGUF names are matched under their Hugging Face name (the
	 * signatures' convention), the first alias of gguf_names.json */
	char(*hf)[MP_GGUF_NAME_MAX] = calloc(n ? n : 1, sizeof *hf);
	bool ok = r && t && covered && hf &&
		  (r->m = calloc(s->nsigs, sizeof *r->m));
	const struct mp_gguf_names *gn = mp_gguf_names_default();
	for (size_t i = 0; ok && i < n; i++) {
		const char *name = items[i].name;
		char alias[MP_GGUF_ALIAS_MAX][MP_GGUF_NAME_MAX];
		if (gn && mp_gguf_names_is_gguf(name) &&
		    mp_gguf_names_alias(gn, names_arch, name, alias, NULL) > 0) {
			memcpy(hf[i], alias[0], sizeof hf[i]);
			name = hf[i];
		}
		t[i] = (struct norm){mp_arch_normalise(s, name), items[i].ndim,
				     items[i].shape};
	}
	if (ok) {
		qsort(t, n, sizeof *t, norm_cmp);
		r->n = s->nsigs;
		r->min_coverage = s->min_coverage;
	}
	for (size_t k = 0; ok && k < s->nsigs; k++)
		ok = sig_match(&s->sigs[k], t, n, covered, &r->m[k]);
	if (ok)
		qsort(r->m, r->n, sizeof *r->m, match_cmp);
	/* the extra tensors of the best signature only: the one reported */
	for (size_t k = 0; ok && r->n && k < s->nsigs; k++)
		if (s->sigs[k].name == r->m[0].name) {
			struct mp_arch_match scratch = {0};
			ok = sig_match(&s->sigs[k], t, n, covered, &scratch) &&
			     extras(t, n, covered, &r->m[0]);
			free(scratch.conflict);
			groups_free(scratch.missing, scratch.nmissing);
			break;
		}
	free(t);
	free(hf);
	free(covered);
	if (!ok) {
		mp_arch_result_free(r);
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	r->known =
	    r->n && !r->m[0].rejected && r->m[0].coverage >= s->min_coverage;
	*out = r;
	return MP_OK;
}

/* A known match whose signature cannot read the head counts (a fallback
 * has no head size) takes those the model declares (q, kv; 0: none). */
static void declared_heads(struct mp_arch_result *r, uint64_t q, uint64_t kv)
{
	if (r->known && !r->m[0].heads && q) {
		r->m[0].heads = q;
		r->m[0].kv_heads = kv;
	}
}

mp_status mp_arch_match_model(const struct mp_arch_set *s,
			      const struct mp_model *m,
			      struct mp_arch_result **out, struct mp_error *err)
{
	struct mp_arch_item *v =
	    calloc(m->ntensors ? m->ntensors : 1, sizeof *v);
	if (!v)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	for (size_t i = 0; i < m->ntensors; i++)
		v[i] = (struct mp_arch_item){m->tensors[i].name,
					     m->tensors[i].ndim,
					     m->tensors[i].shape};
	mp_status st = mp_arch_match(s, v, m->ntensors, m->names_arch, out, err);
	free(v);
	uint64_t q, kv;
	if (st == MP_OK && mp_gguf_heads(m, &q, &kv))
		declared_heads(*out, q, kv);
	return st;
}

mp_status mp_arch_match_fp(const struct mp_arch_set *s,
			   const struct mp_fingerprint *fp,
			   struct mp_arch_result **out, struct mp_error *err)
{
	struct mp_arch_item *v =
	    calloc(fp->ntensors ? fp->ntensors : 1, sizeof *v);
	if (!v)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	for (size_t i = 0; i < fp->ntensors; i++)
		v[i] = (struct mp_arch_item){fp->tensors[i].name,
					     fp->tensors[i].ndim,
					     fp->tensors[i].shape};
	mp_status st =
	    mp_arch_match(s, v, fp->ntensors, fp->names_arch, out, err);
	free(v);
	uint64_t q, kv;
	if (st == MP_OK && mp_gguf_meta_heads(fp->meta, fp->nmeta, &q, &kv))
		declared_heads(*out, q, kv);
	return st;
}

bool mp_arch_compatible(const struct mp_arch_result *a,
			const struct mp_arch_result *b)
{
	if (!a || !b || !a->known || !b->known)
		return true;
	const struct mp_arch_match *x = &a->m[0], *y = &b->m[0];
	return x->fallback || y->fallback || !strcmp(x->name, y->name);
}

void mp_arch_result_free(struct mp_arch_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; r->m && i < r->n; i++) {
		free(r->m[i].conflict);
		groups_free(r->m[i].missing, r->m[i].nmissing);
		groups_free(r->m[i].extra, r->m[i].nextra);
	}
	free(r->m);
	free(r);
}

/* --- JSON ---------------------------------------------------------------- */

static void num_or_null(mp_json *o, const char *key, uint64_t v)
{
	if (v)
		mp_json_add_num(o, key, (double)v);
	else
		mp_json_add_null(o, key);
}

static void groups_json(mp_json *o, const char *key,
			const struct mp_arch_group *g, size_t n)
{
	mp_json *a = mp_json_add_arr(o, key);
	for (size_t i = 0; a && i < n; i++) {
		mp_json *e = mp_json_object();
		mp_json_add_str(e, "pattern", g[i].pattern);
		mp_json_add_num(e, "count", (double)g[i].count);
		mp_json_push(a, e);
	}
}

mp_json *mp_arch_result_json(const struct mp_arch_result *r)
{
	mp_json *o = mp_json_object();
	if (!o)
		return NULL;
	const struct mp_arch_match *b = r->n ? &r->m[0] : NULL;
	mp_json_add_str(o, "name", r->known ? b->name : "unknown");
	if (r->known)
		mp_json_add_str(o, "family", b->family);
	else
		mp_json_add_null(o, "family");
	mp_json_add_bool(o, "known", r->known);
	mp_json_add_num(o, "min_coverage", r->min_coverage);
	if (b && r->known) {
		mp_json_add_num(o, "coverage", b->coverage);
		mp_json_add_num(o, "present", (double)b->present);
		mp_json_add_num(o, "expected", (double)b->expected);
		num_or_null(o, "hidden", b->hidden);
		num_or_null(o, "layers", b->layers);
		num_or_null(o, "heads", b->heads);
		num_or_null(o, "kv_heads", b->kv_heads);
		groups_json(o, "missing", b->missing, b->nmissing);
		groups_json(o, "extra", b->extra, b->nextra);
	}
	mp_json *c = mp_json_add_arr(o, "candidates");
	for (size_t i = 0; c && i < r->n && i < 3; i++) {
		mp_json *e = mp_json_object();
		mp_json_add_str(e, "name", r->m[i].name);
		mp_json_add_num(e, "coverage", r->m[i].coverage);
		if (r->m[i].conflict)
			mp_json_add_str(e, "conflict", r->m[i].conflict);
		else
			mp_json_add_null(e, "conflict");
		mp_json_push(c, e);
	}
	return o;
}
