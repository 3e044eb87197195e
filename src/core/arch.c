/* arch.c — load architecture signatures and match tensor lists against
 * them (see arch.h and modelprint-files(5)). */
#include "arch_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- patterns ------------------------------------------------------------ */

bool mp_arch_pat_match(const char *p, const char *s, long *layer)
{
	while (*p) {
		if (*p == '*') {
			for (const char *t = s;; t++) {
				if (mp_arch_pat_match(p + 1, t, layer))
					return true;
				if (!*t)
					return false;
			}
		}
		if (*p == '{') {
			const char *close = strchr(p, '}');
			bool is_i = close == p + 2 && p[1] == 'i';
			if (*s < '0' || *s > '9')
				return false;
			long v = 0;
			const char *t = s;
			while (*t >= '0' && *t <= '9') {
				if (v < MP_ARCH_MAX_LAYERS)
					v = v * 10 + (*t - '0');
				t++;
			}
			/* digits are greedy: a pattern never puts a digit
			 * right after a placeholder */
			if (is_i && v >= MP_ARCH_MAX_LAYERS)
				return false;
			if (!mp_arch_pat_match(close + 1, t, layer))
				return false;
			if (is_i)
				*layer = v;
			return true;
		}
		if (*p != *s)
			return false;
		p++;
		s++;
	}
	return *s == '\0';
}

/* Check pattern text: braces closed around [a-z]+, at most one {i}. */
static bool pat_valid(const char *p, bool *layered, const char **why)
{
	int ni = 0;
	if (!*p) {
		*why = "is empty";
		return false;
	}
	for (; *p; p++) {
		if (*p == '}') {
			*why = "has '}' without '{'";
			return false;
		}
		if (*p != '{')
			continue;
		const char *q = p + 1;
		while (*q >= 'a' && *q <= 'z')
			q++;
		if (*q != '}' || q == p + 1) {
			*why = "has a '{' not closed by '}' around a name "
			       "in a-z";
			return false;
		}
		if (q == p + 2 && p[1] == 'i')
			ni++;
		if (q[1] >= '0' && q[1] <= '9') {
			*why = "has a digit right after a placeholder";
			return false;
		}
		p = q;
	}
	if (ni > 1) {
		*why = "has {i} twice";
		return false;
	}
	*layered = ni == 1;
	return true;
}

/* --- loading ---------------------------------------------------------------
 */

static int var_find(const struct sig *g, const char *name)
{
	for (int i = 0; i < g->nvars; i++)
		if (!strcmp(g->vars[i].name, name))
			return i;
	return -1;
}

static bool is_ident(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '_'))
			return false;
	return true;
}

/* Context for error messages. */
struct ctx {
	const char *path;
	size_t ai;
	const char *aname;
	struct mp_error *err;
};

static mp_status bad(const struct ctx *c, const char *field, size_t k,
		     const char *why)
{
	char show[MP_NAME_SHOW + 8];
	return mp_error_set(
	    c->err, MP_EFORMAT, "%s: architecture %zu (%s): %s[%zu] %s",
	    c->path, c->ai, c->aname ? mp_printable(c->aname, show) : "?",
	    field, k, why);
}

/* One pattern entry: "text" or ["text", dim...]; with_shape false allows
 * the string form only. */
static mp_status pat_load(struct ctx *c, struct sig *g, const mp_json *j,
			  const char *field, size_t k, bool with_shape,
			  struct pat *p)
{
	const mp_json *t =
	    mp_json_is_array(j) && with_shape ? mp_json_at(j, 0) : j;
	const char *why;
	if (!mp_json_is_string(t))
		return bad(c, field, k,
			   with_shape ? "is neither a pattern nor [pattern, "
					"dimension...]"
				      : "is not a pattern string");
	if (!pat_valid(mp_json_str(t), &p->layered, &why))
		return bad(c, field, k, why);
	if (!(p->text = mp_strdup(mp_json_str(t))))
		return mp_error_set(c->err, MP_ENOMEM, "out of memory");
	p->ndim = -1;
	if (!mp_json_is_array(j) || !with_shape)
		return MP_OK;
	size_t nd = mp_json_size(j) - 1;
	if (nd > MP_MAX_DIMS)
		return bad(c, field, k, "has more than 8 dimensions");
	p->ndim = (int)nd;
	for (size_t d = 0; d < nd; d++) {
		const mp_json *e = mp_json_at(j, d + 1);
		struct dim *dm = &p->dims[d];
		if (mp_json_uint(e, &dm->lit)) {
			dm->kind = DIM_LIT;
			continue;
		}
		const char *s = mp_json_str(e);
		if (!s)
			return bad(c, field, k,
				   "has a dimension that is neither a "
				   "non-negative integer nor a name");
		if (!strcmp(s, "*")) {
			dm->kind = DIM_ANY;
			continue;
		}
		if (!is_ident(s))
			return bad(c, field, k,
				   "has a dimension name not in [a-z0-9_]");
		dm->kind = DIM_VAR;
		dm->var = var_find(g, s);
		if (dm->var < 0) {
			if (g->nvars == MAX_VARS)
				return bad(c, field, k,
					   "names more than 32 dimensions");
			if (!(g->vars[g->nvars].name = mp_strdup(s)))
				return mp_error_set(c->err, MP_ENOMEM,
						    "out of memory");
			g->vars[g->nvars].other = -1;
			dm->var = g->nvars++;
		}
	}
	return MP_OK;
}

static mp_status pats_load(struct ctx *c, struct sig *g, const mp_json *a,
			   const char *field, bool need, bool with_shape,
			   struct pat **out, size_t *n)
{
	if (!a && !need)
		return MP_OK;
	if (!mp_json_is_array(a) || (need && mp_json_size(a) == 0))
		return bad(c, field, 0,
			   need ? "missing: \"require\" must be "
				  "a non-empty array"
				: "is not in an array");
	size_t m = mp_json_size(a);
	if (!(*out = calloc(m, sizeof **out)))
		return mp_error_set(c->err, MP_ENOMEM, "out of memory");
	*n = m;
	for (size_t k = 0; k < m; k++) {
		mp_status st = pat_load(c, g, mp_json_at(a, k), field, k,
					with_shape, &(*out)[k]);
		if (st != MP_OK)
			return st;
	}
	return MP_OK;
}

/* "vars": {"name": {"in": [..]} | {"lt": "other"} | {"eq": "other"}} */
static mp_status vars_load(struct ctx *c, struct sig *g, const mp_json *o)
{
	if (!o)
		return MP_OK;
	if (!mp_json_is_object(o))
		return bad(c, "vars", 0, "is not an object");
	size_t k = 0;
	for (const mp_json *e = mp_json_child(o); e; e = mp_json_next(e), k++) {
		int v = var_find(g, mp_json_key(e));
		if (v < 0)
			return bad(c, "vars", k,
				   "names a dimension no shape uses");
		struct var *vr = &g->vars[v];
		const mp_json *x;
		if (!mp_json_is_object(e) || mp_json_size(e) != 1)
			return bad(c, "vars", k,
				   "needs exactly one of in, lt, eq");
		if ((x = mp_json_get(e, "in"))) {
			size_t m = mp_json_size(x);
			if (!mp_json_is_array(x) || !m)
				return bad(c, "vars", k,
					   "\"in\" needs a non-empty array");
			if (!(vr->in = calloc(m, sizeof *vr->in)))
				return mp_error_set(c->err, MP_ENOMEM,
						    "out of memory");
			vr->nin = m;
			vr->rel = REL_IN;
			for (size_t i = 0; i < m; i++)
				if (!mp_json_uint(mp_json_at(x, i), &vr->in[i]))
					return bad(c, "vars", k,
						   "\"in\" holds a value that "
						   "is not a non-negative "
						   "integer");
			continue;
		}
		x = mp_json_get(e, "lt");
		vr->rel = x ? REL_LT : REL_EQ;
		if (!x)
			x = mp_json_get(e, "eq");
		if (!x)
			return bad(c, "vars", k,
				   "needs exactly one of in, lt, eq");
		const char *s = mp_json_str(x);
		vr->other = s ? var_find(g, s) : -1;
		if (vr->other < 0 || vr->other == v)
			return bad(c, "vars", k,
				   "compares with a dimension no shape uses");
	}
	return MP_OK;
}

static mp_status variant_load(struct ctx *c, struct sig *g, const mp_json *o)
{
	g->v_hidden = g->v_q = g->v_kv = -1;
	if (!o)
		return MP_OK;
	if (!mp_json_is_object(o))
		return bad(c, "variant", 0, "is not an object");
	size_t k = 0;
	for (const mp_json *e = mp_json_child(o); e; e = mp_json_next(e), k++) {
		const char *key = mp_json_key(e);
		if (!strcmp(key, "head_dim_by_hidden")) {
			size_t m = mp_json_size(e), i = 0;
			if (!mp_json_is_object(e) || !m)
				return bad(c, "variant", k,
					   "head_dim_by_hidden needs a "
					   "non-empty object");
			g->hd_hidden = calloc(m, sizeof *g->hd_hidden);
			g->hd_dim = calloc(m, sizeof *g->hd_dim);
			if (!g->hd_hidden || !g->hd_dim)
				return mp_error_set(c->err, MP_ENOMEM,
						    "out of memory");
			g->nhd = m;
			for (const mp_json *x = mp_json_child(e); x;
			     x = mp_json_next(x), i++) {
				char *end;
				const char *ks = mp_json_key(x);
				unsigned long long h = strtoull(ks, &end, 10);
				if (*ks < '1' || *ks > '9' || *end ||
				    !mp_json_uint(x, &g->hd_dim[i]) ||
				    !g->hd_dim[i])
					return bad(c, "variant", k,
						   "head_dim_by_hidden maps "
						   "a hidden width to a "
						   "positive head size");
				g->hd_hidden[i] = h;
			}
			continue;
		}
		if (!strcmp(key, "head_dim")) {
			if (!mp_json_uint(e, &g->head_dim) || !g->head_dim)
				return bad(c, "variant", k,
					   "head_dim needs a positive "
					   "integer");
			continue;
		}
		int *slot = !strcmp(key, "hidden") ? &g->v_hidden
			    : !strcmp(key, "q")	   ? &g->v_q
			    : !strcmp(key, "kv")   ? &g->v_kv
						   : NULL;
		if (!slot)
			return bad(c, "variant", k,
				   "is none of hidden, q, kv, head_dim, "
				   "head_dim_by_hidden");
		const char *s = mp_json_str(e);
		if (!s || (*slot = var_find(g, s)) < 0)
			return bad(c, "variant", k,
				   "names a dimension no shape uses");
	}
	return MP_OK;
}

/* "weights": {normalised tensor name: positive weight}. */
static mp_status weights_load(struct ctx *c, struct sig *g, const mp_json *o)
{
	if (!o)
		return MP_OK;
	size_t m = mp_json_size(o), k = 0;
	if (!mp_json_is_object(o) || !m)
		return bad(c, "weights", 0, "needs a non-empty object");
	if (!(g->wname = calloc(m, sizeof *g->wname)) ||
	    !(g->wval = calloc(m, sizeof *g->wval)))
		return mp_error_set(c->err, MP_ENOMEM, "out of memory");
	for (const mp_json *e = mp_json_child(o); e; e = mp_json_next(e), k++) {
		double w = mp_json_num(e);
		if (!(w > 0 && w <= 1))
			return bad(c, "weights", k,
				   "needs a number in (0, 1]");
		if (!(g->wname[k] = mp_strdup(mp_json_key(e))))
			return mp_error_set(c->err, MP_ENOMEM,
					    "out of memory");
		g->wval[k] = w;
		g->nw = k + 1;
	}
	return MP_OK;
}

static bool only_keys(const mp_json *o, const char *const *keys)
{
	for (const mp_json *e = mp_json_child(o); e; e = mp_json_next(e)) {
		size_t i = 0;
		while (keys[i] && strcmp(keys[i], mp_json_key(e)))
			i++;
		if (!keys[i])
			return false;
	}
	return true;
}

static mp_status sig_load(struct ctx *c, const mp_json *a, struct sig *g)
{
	static const char *const keys[] = {
	    "name",	"family", "fallback", "vars",	 "require",
	    "optional", "forbid", "variant",  "weights", NULL};
	const char *name = mp_json_str(mp_json_get(a, "name"));
	const char *fam = mp_json_str(mp_json_get(a, "family"));
	c->aname = name;
	if (!mp_json_is_object(a) || !name || !*name || !fam)
		return mp_error_set(c->err, MP_EFORMAT,
				    "%s: architecture %zu: needs an object "
				    "with string \"name\" and \"family\"",
				    c->path, c->ai);
	if (!only_keys(a, keys))
		return bad(c, "keys", 0,
			   "has a key other than name, family, fallback, vars, "
			   "require, optional, forbid, variant, weights");
	const mp_json *fb = mp_json_get(a, "fallback");
	if (fb && !mp_json_is_bool(fb)) {
		char show[MP_NAME_SHOW + 8];
		return mp_error_set(c->err, MP_EFORMAT,
				    "%s: architecture %zu (%s): fallback "
				    "needs true or false",
				    c->path, c->ai, mp_printable(name, show));
	}
	g->fallback = fb && mp_json_true(fb);
	if (!(g->name = mp_strdup(name)) || !(g->family = mp_strdup(fam)))
		return mp_error_set(c->err, MP_ENOMEM, "out of memory");
	mp_status st = pats_load(c, g, mp_json_get(a, "require"), "require",
				 true, true, &g->req, &g->nreq);
	if (st == MP_OK)
		st = pats_load(c, g, mp_json_get(a, "optional"), "optional",
			       false, false, &g->opt, &g->nopt);
	if (st == MP_OK)
		st = pats_load(c, g, mp_json_get(a, "forbid"), "forbid", false,
			       false, &g->forbid, &g->nforbid);
	if (st == MP_OK)
		st = vars_load(c, g, mp_json_get(a, "vars"));
	if (st == MP_OK)
		st = variant_load(c, g, mp_json_get(a, "variant"));
	if (st == MP_OK)
		st = weights_load(c, g, mp_json_get(a, "weights"));
	return st;
}

mp_status mp_arch_load(const char *path, struct mp_arch_set **out,
		       struct mp_error *err)
{
	static const char *const keys[] = {"format",	    "version",
					   "min_coverage",  "prefixes",
					   "architectures", NULL};
	*out = NULL;
	mp_json *j;
	mp_status st = mp_json_load(path, 4u << 20, &j, err);
	if (st != MP_OK)
		return st;
	struct mp_arch_set *s = calloc(1, sizeof *s);
	if (!s) {
		mp_json_free(j);
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	const mp_json *pre = mp_json_get(j, "prefixes");
	const mp_json *archs = mp_json_get(j, "architectures");
	const mp_json *mc = mp_json_get(j, "min_coverage");
	s->min_coverage = mc ? mp_json_num(mc) : 0.5;
	if (!mp_json_is_object(j) || !only_keys(j, keys) ||
	    strcmp(mp_json_str(mp_json_get(j, "format"))
		       ? mp_json_str(mp_json_get(j, "format"))
		       : "",
		   "modelprint-architectures") != 0) {
		st = mp_error_set(err, MP_EFORMAT,
				  "%s: not an architecture file (an object "
				  "with \"format\": "
				  "\"modelprint-architectures\" and only "
				  "format, version, min_coverage, prefixes, "
				  "architectures)",
				  path);
		goto fail;
	}
	const mp_json *ver = mp_json_get(j, "version");
	uint64_t v = 1;
	if (ver && (!mp_json_uint(ver, &v) || v != 1)) {
		st = mp_error_set(err, MP_EFORMAT,
				  "%s: version must be 1 (this modelprint "
				  "reads version 1 only)",
				  path);
		goto fail;
	}
	if (!(s->min_coverage > 0 && s->min_coverage <= 1)) {
		st = mp_error_set(err, MP_EFORMAT,
				  "%s: min_coverage must be a number in "
				  "(0, 1]",
				  path);
		goto fail;
	}
	if (pre && !mp_json_is_array(pre)) {
		st = mp_error_set(err, MP_EFORMAT,
				  "%s: prefixes must be an array", path);
		goto fail;
	}
	s->nprefixes = mp_json_size(pre);
	if (s->nprefixes &&
	    !(s->prefixes = calloc(s->nprefixes, sizeof *s->prefixes))) {
		st = mp_error_set(err, MP_ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < s->nprefixes; i++) {
		const char *p = mp_json_str(mp_json_at(pre, i));
		if (!p || !*p) {
			st = mp_error_set(err, MP_EFORMAT,
					  "%s: prefixes[%zu] is not a "
					  "non-empty string",
					  path, i);
			goto fail;
		}
		if (!(s->prefixes[i] = mp_strdup(p))) {
			st = mp_error_set(err, MP_ENOMEM, "out of memory");
			goto fail;
		}
	}
	if (!mp_json_is_array(archs) || !mp_json_size(archs)) {
		st = mp_error_set(err, MP_EFORMAT,
				  "%s: \"architectures\" must be a non-empty "
				  "array",
				  path);
		goto fail;
	}
	s->nsigs = mp_json_size(archs);
	if (!(s->sigs = calloc(s->nsigs, sizeof *s->sigs))) {
		st = mp_error_set(err, MP_ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < s->nsigs; i++) {
		struct ctx c = {path, i, NULL, err};
		st = sig_load(&c, mp_json_at(archs, i), &s->sigs[i]);
		if (st != MP_OK)
			goto fail;
	}
	mp_json_free(j);
	*out = s;
	return MP_OK;
fail:
	mp_json_free(j);
	mp_arch_free(s);
	return st;
}

static void pats_free(struct pat *p, size_t n)
{
	for (size_t i = 0; p && i < n; i++)
		free(p[i].text);
	free(p);
}

void mp_arch_free(struct mp_arch_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nprefixes; i++)
		free(s->prefixes[i]);
	free(s->prefixes);
	for (size_t i = 0; s->sigs && i < s->nsigs; i++) {
		struct sig *g = &s->sigs[i];
		free(g->name);
		free(g->family);
		pats_free(g->req, g->nreq);
		pats_free(g->opt, g->nopt);
		pats_free(g->forbid, g->nforbid);
		free(g->hd_hidden);
		free(g->hd_dim);
		for (size_t w = 0; w < g->nw; w++)
			free(g->wname[w]);
		free(g->wname);
		free(g->wval);
		for (int v = 0; v < g->nvars; v++) {
			free(g->vars[v].name);
			free(g->vars[v].in);
		}
	}
	free(s->sigs);
	free(s);
}

const char *mp_arch_normalise(const struct mp_arch_set *s, const char *name)
{
	for (;;) {
		size_t best = 0;
		for (size_t i = 0; i < s->nprefixes; i++) {
			size_t l = strlen(s->prefixes[i]);
			if (l > best && !strncmp(name, s->prefixes[i], l) &&
			    name[l])
				best = l;
		}
		if (!best)
			return name;
		name += best;
	}
}

size_t mp_arch_weights(const struct mp_arch_set *s, const char *arch,
		       const char *const **names, const double **weights)
{
	for (size_t i = 0; arch && i < s->nsigs; i++)
		if (!strcmp(s->sigs[i].name, arch)) {
			*names = (const char *const *)s->sigs[i].wname;
			*weights = s->sigs[i].wval;
			return s->sigs[i].nw;
		}
	*names = NULL;
	*weights = NULL;
	return 0;
}
