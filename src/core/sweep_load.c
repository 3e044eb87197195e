/* sweep_load.c — reading a sweep manifest and the bilinear weights of the
 * models it lists (man/modelprint-files.5, "Sweep manifest"). */
#include "json.h"
#include "model.h"
#include "reader.h"
#include "sweep.h"
#include "sweep_int.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MANIFEST_MAX (16u << 20)

/* The sweep's name: base name of path without ".json". */
static char *name_from_path(const char *path)
{
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	char *s = mp_strdup(b);
	if (s && mp_ends_with(s, ".json") && strlen(s) > 5)
		s[strlen(s) - 5] = '\0';
	return s;
}

static char *dir_of(const char *path)
{
	const char *b = strrchr(path, '/');
	if (!b)
		return mp_strdup(".");
	size_t n = (size_t)(b - path);
	char *s = malloc(n + 2);
	if (!s)
		return NULL;
	memcpy(s, path, n ? n : 1);
	s[n ? n : 1] = '\0';
	return s;
}

/* Tensor t must be floating and logically rows x cols. */
static mp_status check_matrix(const struct mp_tensor *t, const char *file,
			      uint64_t rows, uint64_t cols,
			      struct mp_error *err)
{
	char nb[MP_NAME_SHOW + 8];
	const char *name = mp_printable(t->name, nb);
	if (!mp_dtype_is_float(t->logical))
		return mp_error_set(err, MP_EDTYPE,
				    "%s: tensor '%s' is %s, not floating", file,
				    name, mp_dtype_name(t->logical));
	if (t->ndim != 2)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: tensor '%s' has %d dimensions, expected "
				    "a (%llu, %llu) matrix for this P and d",
				    file, name, t->ndim, (unsigned long long)rows,
				    (unsigned long long)cols);
	/* a TF.js kernel is stored input-first: (cols, rows) */
	uint64_t r0 = t->output_last ? cols : rows;
	uint64_t c0 = t->output_last ? rows : cols;
	if (t->shape[0] != r0 || t->shape[1] != c0)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: tensor '%s' has shape (%llu, %llu), "
				    "expected (%llu, %llu) for this P and d%s",
				    file, name,
				    (unsigned long long)t->shape[0],
				    (unsigned long long)t->shape[1],
				    (unsigned long long)r0,
				    (unsigned long long)c0,
				    t->output_last ? " (TF.js: input-first)"
						   : "");
	return MP_OK;
}

/* Copy tensor t (checked by check_matrix), logically rows x cols, into
 * out[rows*cols] row-major. */
static mp_status read_matrix(const struct mp_tensor *t, const char *file,
			     uint64_t cols, double *out, struct mp_error *err)
{
	char nb[MP_NAME_SHOW + 8];
	const char *name = mp_printable(t->name, nb);
	uint64_t c0 = t->shape[1];
	uint8_t scratch[64 * 8];
	double vals[64];
	for (uint64_t off = 0; off < t->numel; off += 64) {
		size_t k = t->numel - off < 64 ? (size_t)(t->numel - off) : 64;
		const uint8_t *b =
			mp_tensor_elems(t, off, k, scratch);
		mp_tensor_decode(t, b, k, vals);
		for (size_t q = 0; q < k; q++) {
			uint64_t e = off + q, r = e / c0, c = e % c0;
			if (!isfinite(vals[q]))
				return mp_error_set(
					err, MP_ERANGE,
					"%s: tensor '%s' holds a non-finite "
					"value at element %llu",
					file, name, (unsigned long long)e);
			if (t->output_last)
				out[c * cols + r] = vals[q];
			else
				out[e] = vals[q];
		}
	}
	return MP_OK;
}

mp_status mp_sweep_fill(struct mp_sweep *s, size_t i,
			const struct mp_model *mdl, const char *path,
			const char *lr_name, const char *proj_name,
			struct mp_error *err)
{
	mp_status st = MP_OK;
	struct mp_sweep_model *m = &s->m[i];
	const struct mp_tensor *lr = mp_model_find(mdl, lr_name);
	const struct mp_tensor *pj = mp_model_find(mdl, proj_name);
	char nb[MP_NAME_SHOW + 8];
	if (!lr || !pj) {
		st = mp_error_set(err, MP_ENOENT,
				  "%s: no tensor '%s' (the %s layer; other "
				  "names with --layers LR,PROJ)",
				  path, mp_printable(lr ? proj_name : lr_name, nb),
				  lr ? "projection" : "bilinear");
		goto done;
	}
	size_t d = m->d, P = s->P, w = 2 * P;
	st = check_matrix(lr, path, 2 * (uint64_t)d, w, err);
	if (st == MP_OK)
		st = check_matrix(pj, path, P, d, err);
	if (st != MP_OK)
		goto done;
	/* the shapes fit the file's bytes, so these sizes do not overflow */
	double *both = malloc(2 * d * w * sizeof *both);
	m->L = malloc(d * w * sizeof *m->L);
	m->R = malloc(d * w * sizeof *m->R);
	m->D = malloc(P * d * sizeof *m->D);
	if (!both || !m->L || !m->R || !m->D) {
		free(both);
		st = mp_error_set(err, MP_ENOMEM, "%s: out of memory", path);
		goto done;
	}
	st = read_matrix(lr, path, w, both, err);
	if (st == MP_OK) {
		memcpy(m->L, both, d * w * sizeof *both);
		memcpy(m->R, both + d * w, d * w * sizeof *both);
		st = read_matrix(pj, path, d, m->D, err);
	}
	free(both);
done:
	return st;
}

/* Fill model i of s from the file at path. */
static mp_status load_model(struct mp_sweep *s, size_t i, const char *path,
			    const char *lr_name, const char *proj_name,
			    struct mp_error *err)
{
	struct mp_model *mdl = NULL;
	mp_status st = mp_model_open(path, &mdl, err);
	if (st == MP_OK)
		st = mp_sweep_fill(s, i, mdl, path, lr_name, proj_name, err);
	mp_model_free(mdl);
	return st;
}

/* The width of models[k] into *d; errors name the manifest. */
static mp_status entry_width(const mp_json *e, size_t k, const char *where,
			     uint32_t *d, struct mp_error *err)
{
	uint64_t v;
	if (!mp_json_is_object(e))
		return mp_error_set(err, MP_EFORMAT,
				    "%s: models[%zu] is not an object", where,
				    k);
	if (!mp_json_uint(mp_json_get(e, "d"), &v) || v == 0 || v > (1u << 20))
		return mp_error_set(err, MP_EFORMAT,
				    "%s: models[%zu]: \"d\" must be a whole "
				    "number from 1 to %u",
				    where, k, 1u << 20);
	*d = (uint32_t)v;
	return MP_OK;
}

static mp_status load_entries(struct mp_sweep *s, const mp_json *models,
			      const char *where, const char *lr_name,
			      const char *proj_name, struct mp_error *err)
{
	char *dir = dir_of(where), *base = dir ? realpath(dir, NULL) : NULL;
	mp_status st = MP_OK;
	if (!base) {
		st = mp_error_set(err, MP_EIO,
				  "%s: cannot resolve its directory", where);
		goto done;
	}
	for (size_t k = 0; k < s->n && st == MP_OK; k++) {
		const mp_json *e = mp_json_at(models, k);
		const char *f = mp_json_str(mp_json_get(e, "file"));
		const mp_json *va = mp_json_get(e, "val_acc");
		char nb[MP_NAME_SHOW + 8];
		if (!f || !*f) {
			st = mp_error_set(err, MP_EFORMAT,
					  "%s: models[%zu]: \"file\" must be a "
					  "non-empty string",
					  where, k);
			break;
		}
		if (!mp_path_is_safe_relative(f)) {
			st = mp_error_set(err, MP_EPERM,
					  "%s: models[%zu]: file '%s' must be a "
					  "relative path inside the manifest's "
					  "directory",
					  where, k, mp_printable(f, nb));
			break;
		}
		if (va && !mp_json_is_null(va)) {
			double a = mp_json_num(va);
			if (!(a >= 0 && a <= 1)) {
				st = mp_error_set(err, MP_EFORMAT,
						  "%s: models[%zu]: \"val_acc\" "
						  "must be a number in [0, 1]",
						  where, k);
				break;
			}
			s->m[k].has_val_acc = true;
			s->m[k].val_acc = a;
		}
		if (!(s->m[k].file = mp_path_join(dir, f))) {
			st = mp_error_set(err, MP_ENOMEM, "out of memory");
			break;
		}
		struct mp_named nm = {base, where, "file", f};
		st = mp_path_check_inside(s->m[k].file, -1, &nm, err);
		if (st == MP_OK)
			st = load_model(s, k, s->m[k].file, lr_name, proj_name,
					err);
	}
done:
	free(base);
	free(dir);
	return st;
}

mp_status mp_sweep_load(const char *manifest, const char *lr_name,
			const char *proj_name, struct mp_sweep **out,
			struct mp_error *err)
{
	mp_json *j = NULL;
	uint32_t *d = NULL;
	struct mp_sweep *s = NULL;
	*out = NULL;
	mp_status st = mp_json_load(manifest, MANIFEST_MAX, &j, err);
	if (st != MP_OK)
		return st;
	uint64_t P;
	const mp_json *models = mp_json_get(j, "models");
	const mp_json *nm = mp_json_get(j, "name");
	if (!mp_json_is_object(j)) {
		st = mp_error_set(err, MP_EFORMAT,
				  "%s: a sweep manifest is a JSON object", manifest);
		goto done;
	}
	if (!mp_json_uint(mp_json_get(j, "P"), &P) || P < 2 ||
	    P > MP_SWEEP_P_MAX) {
		st = mp_error_set(err, MP_EFORMAT,
				  "%s: \"P\" must be a whole number from 2 to %u",
				  manifest, MP_SWEEP_P_MAX);
		goto done;
	}
	if (!mp_json_is_array(models) || mp_json_size(models) == 0) {
		st = mp_error_set(err, MP_EFORMAT,
				  "%s: \"models\" must be a non-empty array",
				  manifest);
		goto done;
	}
	if (nm && (!mp_json_str(nm) || !*mp_json_str(nm))) {
		st = mp_error_set(err, MP_EFORMAT,
				  "%s: \"name\" must be a non-empty string",
				  manifest);
		goto done;
	}
	size_t n = mp_json_size(models);
	if (!(d = calloc(n, sizeof *d))) {
		st = mp_error_set(err, MP_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t k = 0; k < n && st == MP_OK; k++) {
		st = entry_width(mp_json_at(models, k), k, manifest, &d[k], err);
		for (size_t q = 0; q < k && st == MP_OK; q++)
			if (d[q] == d[k])
				st = mp_error_set(err, MP_EFORMAT,
						  "%s: models[%zu] and "
						  "models[%zu] both have d = %u",
						  manifest, q, k, d[k]);
	}
	if (st != MP_OK)
		goto done;
	char *name = nm ? mp_strdup(mp_json_str(nm)) : name_from_path(manifest);
	s = name ? mp_sweep_new(name, (uint32_t)P, n, NULL) : NULL;
	free(name);
	for (size_t k = 0; s && k < n; k++)
		s->m[k].d = d[k];
	if (!s) {
		st = mp_error_set(err, MP_ENOMEM,
				  "%s: out of memory for %zu models", manifest,
				  n);
		goto done;
	}
	st = load_entries(s, models, manifest,
			  lr_name ? lr_name : MP_SWEEP_LR_NAME,
			  proj_name ? proj_name : MP_SWEEP_PROJ_NAME, err);
done:
	mp_json_free(j);
	free(d);
	if (st != MP_OK)
		mp_sweep_free(s);
	else
		*out = s;
	return st;
}
