/* sparsity_report.c — loading, naming and grouping of `sparsity multi`
 * results for the comparative report (sparsity_report.h). */
#include "sparsity_report.h"
#include "json.h"
#include "model.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_JSON (64u << 20)

const char *const mp_spr_keys[MP_SPR_NMETRIC] = {
	"separation_ratio", "within", "between", "inertia", "min_distance",
	"max_distance", "distance_range", "balance", "size_std"};

static const char *base_of(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

static bool word_char(char c)
{
	return isalnum((unsigned char)c);
}

/* The projection in s: the word ending in "_proj" (letters and digits
 * before it), with where it starts in *at; false when none. */
static bool find_proj(const char *s, char *proj, size_t plen, size_t *at)
{
	for (const char *q = strstr(s, "_proj"); q; q = strstr(q + 1, "_proj")) {
		if (word_char(q[5]))
			continue;
		const char *b = q;
		while (b > s && word_char(b[-1]))
			b--;
		if (b == q)
			continue;
		snprintf(proj, plen, "%.*s", (int)(q + 5 - b), b);
		*at = (size_t)(b - s);
		return true;
	}
	return false;
}

void mp_spr_parse_name(const char *name, char *method, size_t mlen,
		       char *proj, size_t plen)
{
	method[0] = proj[0] = '\0';
	const char *b = base_of(name);
	size_t at;
	if (!find_proj(b, proj, plen, &at))
		return;
	/* the first word of the base name, when '_' ends it and the
	 * projection is not it */
	size_t w = 0;
	while (word_char(b[w]))
		w++;
	if (at > 0 && w > 0 && w < at && b[w] == '_') {
		snprintf(method, mlen, "%.*s", (int)w, b);
		return;
	}
	/* else the directory holding the file */
	if (b == name)
		return;
	const char *end = b - 1, *d = end;
	while (d > name && d[-1] != '/')
		d--;
	if (end > d)
		snprintf(method, mlen, "%.*s", (int)(end - d), d);
}

static bool keep_all(const char *path)
{
	(void)path;
	return true;
}

static bool is_json(const char *p)
{
	size_t n = strlen(p);
	return n > 5 && !strcmp(p + n - 5, ".json");
}

static char *dup_or(const char *s, const char *dflt)
{
	return mp_strdup(s && *s ? s : dflt);
}

/* Read the multi result at path into e (names from the label or the
 * file's names). */
static mp_status load_one(const char *path, const char *label,
			  struct mp_spr_entry *e, struct mp_error *err)
{
	mp_json *j;
	mp_status st = mp_json_load(path, MAX_JSON, &j, err);
	if (st != MP_OK)
		return st;
	const mp_json *ag = mp_json_get(j, "aggregate");
	const mp_json *mx = mp_json_get(j, "matrix");
	if (!mp_json_is_object(ag) || !mp_json_is_object(mp_json_get(
					  ag, "separation_ratio"))) {
		mp_json_free(j);
		return mp_error_set(err, MP_EFORMAT,
				    "%s: not a 'sparsity multi' result (no "
				    "\"aggregate\" with \"separation_ratio\")",
				    path);
	}
	for (int k = 0; k < MP_SPR_NMETRIC; k++) {
		const mp_json *a = mp_json_get(ag, mp_spr_keys[k]);
		const mp_json *mean = mp_json_get(a, "mean"),
			      *sd = mp_json_get(a, "std");
		if (a && (!mp_json_is_object(a) ||
			  (mean && !mp_json_is_number(mean) &&
			   !mp_json_is_null(mean)) ||
			  (sd && !mp_json_is_number(sd) &&
			   !mp_json_is_null(sd)))) {
			mp_json_free(j);
			return mp_error_set(err, MP_EFORMAT,
					    "%s: aggregate.%s is not "
					    "{\"mean\": number, \"std\": number}",
					    path, mp_spr_keys[k]);
		}
		e->mean[k] = mp_json_num(mean);
		e->std[k] = mp_json_num(sd);
	}
	if (mp_json_size(mx) == 2) {
		mp_json_uint(mp_json_at(mx, 0), &e->rows);
		mp_json_uint(mp_json_at(mx, 1), &e->cols);
	}
	const char *mpath = mp_json_str(mp_json_get(j, "file"));
	char m1[64], p1[64], m2[64], p2[64];
	mp_spr_parse_name(path, m1, sizeof m1, p1, sizeof p1);
	mp_spr_parse_name(mpath ? mpath : "", m2, sizeof m2, p2, sizeof p2);
	const char *lm = NULL, *lp = NULL;
	char lbuf[256];
	if (label) {
		snprintf(lbuf, sizeof lbuf, "%s", label);
		char *slash = strchr(lbuf, '/');
		*slash = '\0';
		lm = lbuf;
		lp = slash + 1;
	}
	e->file = mp_strdup(base_of(path));
	e->method = dup_or(lm, m1[0] ? m1 : m2[0] ? m2 : "?");
	e->proj = dup_or(lp, p1[0] ? p1 : p2[0] ? p2 : "?");
	e->tensor = dup_or(mp_json_str(mp_json_get(j, "tensor")), "?");
	e->path = dup_or(mpath, "?");
	mp_json_free(j);
	if (!e->file || !e->method || !e->proj || !e->tensor || !e->path)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	return MP_OK;
}

/* The label of path: the METHOD/PROJ of the label whose FILE is its base
 * name or the path itself; used[] marks the labels taken. */
static const char *label_of(const char *path, const char *const *labels,
			    size_t nl, bool *used)
{
	for (size_t i = 0; i < nl; i++) {
		const char *eq = strchr(labels[i], '=');
		size_t fl = (size_t)(eq - labels[i]);
		const char *b = base_of(path);
		if ((strlen(b) == fl && !strncmp(b, labels[i], fl)) ||
		    (strlen(path) == fl && !strncmp(path, labels[i], fl))) {
			used[i] = true;
			return eq + 1;
		}
	}
	return NULL;
}

bool mp_spr_label_ok(const char *label)
{
	const char *eq = strchr(label, '=');
	const char *sl = eq ? strchr(eq, '/') : NULL;
	return eq && eq != label && sl && sl != eq + 1 && sl[1] &&
	       !strchr(sl + 1, '/') && strlen(label) <= 250;
}

static mp_status check_labels(const char *const *labels, size_t nl,
			      struct mp_error *err)
{
	for (size_t i = 0; i < nl; i++)
		if (!mp_spr_label_ok(labels[i]))
			return mp_error_set(err, MP_EINVAL,
					    "--label '%s': give FILE=METHOD/"
					    "PROJ (e.g. a.json=wanda/down_proj)",
					    labels[i]);
	return MP_OK;
}

mp_status mp_spr_load(const char *dir, const char *const *labels, size_t nl,
		      struct mp_spr *r, struct mp_error *err)
{
	memset(r, 0, sizeof *r);
	mp_status st = check_labels(labels, nl, err);
	if (st != MP_OK)
		return st;
	char **paths;
	size_t np;
	if ((st = mp_dir_list(dir, keep_all, &paths, &np, err)) != MP_OK)
		return st;
	bool *used = calloc(nl + 1, sizeof *used);
	r->e = calloc(np + 1, sizeof *r->e);
	r->skip = calloc(np + 1, sizeof *r->skip);
	if (!used || !r->e || !r->skip)
		st = mp_error_set(err, MP_ENOMEM, "out of memory");
	for (size_t i = 0; i < np && st == MP_OK; i++) {
		if (!is_json(paths[i])) {
			if (!(r->skip[r->nskip++] = mp_strdup(base_of(paths[i]))))
				st = mp_error_set(err, MP_ENOMEM,
						  "out of memory");
			continue;
		}
		const char *lab = label_of(paths[i], labels, nl, used);
		st = load_one(paths[i], lab, &r->e[r->n++], err);
	}
	for (size_t i = 0; i < nl && st == MP_OK; i++)
		if (!used[i])
			st = mp_error_set(err, MP_EINVAL,
					  "--label '%s': %s holds no JSON file "
					  "of that name",
					  labels[i], dir);
	if (st == MP_OK && !r->n)
		st = mp_error_set(err, MP_EINVAL,
				  "%s: no JSON file (*.json) of 'sparsity "
				  "multi' results",
				  dir);
	for (size_t i = 0; i < np; i++)
		free(paths[i]);
	free(paths);
	free(used);
	if (st != MP_OK)
		mp_spr_done(r);
	return st;
}

void mp_spr_done(struct mp_spr *r)
{
	for (size_t i = 0; r->e && i < r->n; i++) {
		free(r->e[i].file);
		free(r->e[i].method);
		free(r->e[i].proj);
		free(r->e[i].tensor);
		free(r->e[i].path);
	}
	for (size_t i = 0; r->skip && i < r->nskip; i++)
		free(r->skip[i]);
	free(r->e);
	free(r->skip);
	memset(r, 0, sizeof *r);
}

static int cmp_group(const void *a, const void *b)
{
	const struct mp_spr_group *x = a, *y = b;
	bool dx = !isnan(x->ratio), dy = !isnan(y->ratio);
	if (dx != dy)
		return dx ? -1 : 1;
	if (dx && x->ratio != y->ratio)
		return x->ratio > y->ratio ? -1 : 1;
	return strcmp(x->name, y->name);
}

mp_status mp_spr_group(const struct mp_spr *r, bool by_method,
		       struct mp_spr_group **out, size_t *n,
		       struct mp_error *err)
{
	*n = 0;
	struct mp_spr_group *g = calloc(r->n + 1, sizeof *g);
	size_t *cnt = calloc(3 * (r->n + 1), sizeof *cnt);
	if (!g || !cnt) {
		free(g);
		free(cnt);
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < r->n; i++) {
		const char *key = by_method ? r->e[i].method : r->e[i].proj;
		size_t k = 0;
		while (k < *n && strcmp(g[k].name, key))
			k++;
		if (k == *n) {
			if (!(g[k].name = mp_strdup(key))) {
				mp_spr_groups_free(g, *n);
				free(cnt);
				return mp_error_set(err, MP_ENOMEM,
						    "out of memory");
			}
			(*n)++;
		}
		g[k].n++;
		double *acc[3] = {&g[k].ratio, &g[k].within, &g[k].between};
		for (int m = 0; m < 3; m++)
			if (!isnan(r->e[i].mean[m])) {
				*acc[m] += r->e[i].mean[m];
				cnt[3 * k + (size_t)m]++;
			}
	}
	for (size_t k = 0; k < *n; k++) {
		double *acc[3] = {&g[k].ratio, &g[k].within, &g[k].between};
		for (int m = 0; m < 3; m++)
			*acc[m] = cnt[3 * k + (size_t)m]
				      ? *acc[m] / (double)cnt[3 * k + (size_t)m]
				      : NAN;
	}
	free(cnt);
	qsort(g, *n, sizeof *g, cmp_group);
	*out = g;
	return MP_OK;
}

void mp_spr_groups_free(struct mp_spr_group *g, size_t n)
{
	for (size_t i = 0; g && i < n; i++)
		free(g[i].name);
	free(g);
}

void mp_spr_insight(const struct mp_spr_group *g, size_t n, const char *what,
		    char *buf, size_t len)
{
	size_t def = 0;
	while (def < n && !isnan(g[def].ratio))
		def++;
	if (def < 2) {
		snprintf(buf, len,
			 "only %zu %s%s with a defined separation ratio: "
			 "nothing to compare",
			 def, what, def == 1 ? "" : "s");
		return;
	}
	const struct mp_spr_group *b = &g[0], *w = &g[def - 1];
	char rel[48];
	if (w->ratio > 0)
		snprintf(rel, sizeof rel, "%.1f %% higher",
			 100 * (b->ratio - w->ratio) / w->ratio);
	else
		snprintf(rel, sizeof rel, "%.4g higher", b->ratio - w->ratio);
	if (b->ratio == w->ratio)
		snprintf(buf, len,
			 "every %s separates alike: mean separation ratio "
			 "%.4f",
			 what, b->ratio);
	else
		snprintf(buf, len,
			 "%s separates best, %s worst: mean separation ratio "
			 "%.4f vs %.4f (%s; %zu %ss compared)",
			 b->name, w->name, b->ratio, w->ratio, rel, def, what);
}
