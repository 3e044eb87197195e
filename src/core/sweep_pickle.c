/* sweep_pickle.c — a sweep saved by the research code as one file
 * (torch.save or pickle.dump of a dict, man/modelprint-files.5, "Sweep
 * file"): "models_state" or "models", a list of state dicts or a dict of
 * them keyed by d; "P"; optional "val_acc"/"val_accs" (a list in model
 * order or a dict keyed by d) and "dims" (a list, for a list of models).
 * Read through the PyTorch reader's restricted pickle parser and
 * allowlist (torch_int.h); each model's tensors are found by the dotted
 * names the reader gives them ("models.3.bi_linear.weight"). */
#include "reader.h"
#include "sweep_int.h"
#include "torch_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define D_MAX (1u << 20)

struct entry {
	char key[32]; /* the model's part of its tensors' names */
};

/* The sweep's name: base name of path without its extension. */
static char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');
	char *s = mp_strdup(b ? b + 1 : path);
	char *dot = s ? strrchr(s, '.') : NULL;
	if (dot && dot != s)
		*dot = '\0';
	return s;
}

/* A dict key or list item as a width: an int, or a string of digits. */
static bool as_width(const struct mp_pk *v, uint32_t *d)
{
	int64_t x = -1;
	if (v->kind == MP_PK_INT)
		x = v->i;
	else if (v->kind == MP_PK_STR && v->len > 0 && v->len < 9 &&
		 strspn(v->s, "0123456789") == v->len)
		x = strtoll(v->s, NULL, 10);
	if (x < 1 || x > D_MAX)
		return false;
	*d = (uint32_t)x;
	return true;
}

/* Item k (model order) of a val_acc list, or the value keyed by d in a
 * val_acc dict: *found false when absent or None. */
static mp_status val_acc(const struct mp_pk *va, size_t k, uint32_t d,
			 const char *path, bool *found, double *out,
			 struct mp_error *err)
{
	const struct mp_pk *v = NULL;
	*found = false;
	if (va->kind == MP_PK_LIST || va->kind == MP_PK_TUPLE) {
		v = k < va->n ? va->items[k] : NULL;
	} else {
		for (size_t i = 0; i + 1 < va->n && !v; i += 2) {
			uint32_t kd;
			if (as_width(va->items[i], &kd) && kd == d)
				v = va->items[i + 1];
		}
	}
	if (!v || v->kind == MP_PK_NONE)
		return MP_OK;
	double a = v->kind == MP_PK_FLOAT ? v->f
		   : v->kind == MP_PK_INT ? (double)v->i
					  : -1;
	if (!(a >= 0 && a <= 1))
		return mp_error_set(err, MP_EFORMAT,
				    "%s: the validation accuracy of d = %u is "
				    "not a number in [0, 1]",
				    path, d);
	*found = true;
	*out = a;
	return MP_OK;
}

/* The models of the sweep: their name parts and widths. */
static mp_status entries(const struct mp_pk *models, const struct mp_pk *dims,
			 const char *path, const char *mkey,
			 const struct mp_model *mdl, const char *proj_name,
			 struct entry *e, uint32_t *d, size_t n,
			 struct mp_error *err)
{
	bool list = models->kind == MP_PK_LIST || models->kind == MP_PK_TUPLE;
	for (size_t k = 0; k < n; k++) {
		if (list) {
			snprintf(e[k].key, sizeof e[k].key, "%zu", k);
		} else {
			const struct mp_pk *key = models->items[2 * k];
			if (!as_width(key, &d[k]))
				return mp_error_set(
				    err, MP_EFORMAT,
				    "%s: \"%s\" is a dict whose key %zu is "
				    "not a width d from 1 to %u",
				    path, mkey, k, D_MAX);
			if (key->kind == MP_PK_STR)
				snprintf(e[k].key, sizeof e[k].key, "%s",
					 key->s);
			else
				snprintf(e[k].key, sizeof e[k].key, "%" PRIu32,
					 d[k]);
			continue;
		}
		if (dims) {
			if (k >= dims->n || !as_width(dims->items[k], &d[k]))
				return mp_error_set(
				    err, MP_EFORMAT,
				    "%s: \"dims\" must list a width from 1 "
				    "to %u for each of the %zu models",
				    path, D_MAX, n);
			continue;
		}
		/* no dims: the width is the projection's second dimension */
		char name[512];
		snprintf(name, sizeof name, "%s.%s.%s", mkey, e[k].key,
			 proj_name);
		const struct mp_tensor *pj = mp_model_find(mdl, name);
		if (pj && pj->ndim == 2 && pj->shape[1] >= 1 &&
		    pj->shape[1] <= D_MAX)
			d[k] = (uint32_t)pj->shape[1];
		else
			d[k] = 1; /* mp_sweep_fill names the problem */
	}
	if (dims && list && dims->n != n)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: \"dims\" lists %zu widths for %zu "
				    "models",
				    path, dims->n, n);
	for (size_t k = 0; k < n; k++)
		for (size_t q = 0; q < k; q++)
			if (d[q] == d[k])
				return mp_error_set(
				    err, MP_EFORMAT,
				    "%s: two models have d = %u", path, d[k]);
	return MP_OK;
}

static mp_status fill(struct mp_sweep *s, const struct mp_model *mdl,
		      const struct mp_pk *va, const struct entry *e,
		      const char *path, const char *mkey, const char *lr_name,
		      const char *proj_name, struct mp_error *err)
{
	mp_status st = MP_OK;
	size_t ml = strlen(mkey) + strlen(lr_name) + strlen(proj_name) + 48;
	char *lr = malloc(ml), *pj = malloc(ml);
	if (!lr || !pj)
		st = mp_error_set(err, MP_ENOMEM, "%s: out of memory", path);
	for (size_t k = 0; k < s->n && st == MP_OK; k++) {
		snprintf(lr, ml, "%s.%s.%s", mkey, e[k].key, lr_name);
		snprintf(pj, ml, "%s.%s.%s", mkey, e[k].key, proj_name);
		st = mp_sweep_fill(s, k, mdl, path, lr, pj, err);
		if (st == MP_OK && va)
			st = val_acc(va, k, s->m[k].d, path,
				     &s->m[k].has_val_acc, &s->m[k].val_acc,
				     err);
		if (st == MP_OK && !(s->m[k].file = mp_strdup(path)))
			st = mp_error_set(err, MP_ENOMEM, "%s: out of memory",
					  path);
	}
	free(lr);
	free(pj);
	return st;
}

static bool is_seq(const struct mp_pk *v)
{
	return v && (v->kind == MP_PK_LIST || v->kind == MP_PK_TUPLE);
}

mp_status mp_sweep_load_pickle(const char *path, const char *lr_name,
			       const char *proj_name, struct mp_sweep **out,
			       struct mp_error *err)
{
	struct mp_model *mdl = NULL;
	struct mp_pk *root = NULL;
	struct mp_sweep *s = NULL;
	struct entry *e = NULL;
	uint32_t *d = NULL;
	*out = NULL;
	mp_status st = mp_torch_open_tree(path, &mdl, &root, err);
	if (st != MP_OK)
		return st;
	const char *mkey = "models_state";
	const struct mp_pk *models = mp_pk_get(root, mkey);
	if (!models)
		models = mp_pk_get(root, mkey = "models");
	const struct mp_pk *P = mp_pk_get(root, "P");
	const struct mp_pk *va = mp_pk_get(root, "val_acc");
	if (!va)
		va = mp_pk_get(root, "val_accs");
	const struct mp_pk *dims = mp_pk_get(root, "dims");
	bool list = is_seq(models);
	if (root->kind != MP_PK_DICT) {
		st = mp_error_set(err, MP_EFORMAT,
				  "%s: a sweep file holds a dict (\"P\", "
				  "\"models\" or \"models_state\", ...)",
				  path);
	} else if (!models || (!list && models->kind != MP_PK_DICT) ||
		   models->n == 0) {
		st = mp_error_set(err, MP_EFORMAT,
				  "%s: no \"models_state\" or \"models\" entry "
				  "(a non-empty list of state dicts, or a dict "
				  "of them keyed by d)",
				  path);
	} else if (!P || P->kind != MP_PK_INT || P->i < 2 ||
		   P->i > MP_SWEEP_P_MAX) {
		st = mp_error_set(err, MP_EFORMAT,
				  "%s: \"P\" is missing or not a whole number "
				  "from 2 to %u",
				  path, MP_SWEEP_P_MAX);
	} else if (va && !is_seq(va) && va->kind != MP_PK_DICT) {
		st = mp_error_set(
		    err, MP_EFORMAT,
		    "%s: \"%s\" is neither a list nor a dict "
		    "keyed by d",
		    path, mp_pk_get(root, "val_acc") ? "val_acc" : "val_accs");
	} else if (dims && (!list || !is_seq(dims))) {
		st = mp_error_set(err, MP_EFORMAT,
				  "%s: \"dims\" must be a list, next to a list "
				  "of models",
				  path);
	}
	if (st != MP_OK)
		goto done;
	size_t n = list ? models->n : models->n / 2;
	e = calloc(n, sizeof *e);
	d = calloc(n, sizeof *d);
	char *name = base_name(path);
	s = name && e && d ? mp_sweep_new(name, (uint32_t)P->i, n, NULL) : NULL;
	free(name);
	if (!s) {
		st = mp_error_set(err, MP_ENOMEM,
				  "%s: out of memory for %zu models", path, n);
		goto done;
	}
	st = entries(models, dims, path, mkey, mdl, proj_name, e, d, n, err);
	for (size_t k = 0; k < n && st == MP_OK; k++)
		s->m[k].d = d[k];
	if (st == MP_OK)
		st = fill(s, mdl, va, e, path, mkey, lr_name, proj_name, err);
done:
	free(e);
	free(d);
	mp_pk_free(root);
	mp_model_free(mdl);
	if (st != MP_OK)
		mp_sweep_free(s);
	else
		*out = s;
	return st;
}

mp_status mp_sweep_open(const char *path, const char *lr_name,
			const char *proj_name, struct mp_sweep **out,
			struct mp_error *err)
{
	*out = NULL;
	int fd;
	mp_status st = mp_open_input(path, &fd, err); /* no FIFO, no hang */
	if (st != MP_OK)
		return st;
	char b[64];
	ssize_t n = read(fd, b, sizeof b);
	close(fd);
	ssize_t i = 0;
	while (i < n && strchr(" \t\r\n", b[i]))
		i++;
	if (i < n && b[i] == '{')
		return mp_sweep_load(path, lr_name, proj_name, out, err);
	if (n < 2 || ((uint8_t)b[0] != 0x80 && memcmp(b, "PK", 2)))
		return mp_error_set(err, MP_EFORMAT,
				    "%s: neither a sweep manifest (JSON) nor a "
				    "sweep file (a pickle or torch.save)",
				    path);
	return mp_sweep_load_pickle(path, lr_name ? lr_name : MP_SWEEP_LR_NAME,
				    proj_name ? proj_name : MP_SWEEP_PROJ_NAME,
				    out, err);
}
