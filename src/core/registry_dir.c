/* registry_dir.c — the directory form of a registry, as modelprint 0.1
 * kept it and as `registry export` writes it: DIR/models.json and
 * DIR/fingerprints/ID.METHOD.json (modelprint-files(5)). */
#include "registry_int.h"
#include "atomic_write.h"
#include "json_write.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MODELS "models.json"
#define MAX_TABLE (256ULL << 20)
#define MAX_FP (1ULL << 30)

bool mp_regdir_exists(const char *dir)
{
	char *p = mp_path_join(dir, MODELS);
	struct stat sb; /* any kind of file: reading it says what is wrong */
	bool yes = p && lstat(p, &sb) == 0;
	free(p);
	return yes;
}

static char *str_field(const mp_json *o, const char *k, bool required,
		       bool *bad)
{
	mp_json *v = mp_json_get(o, k);
	if (!v && !required)
		return mp_strdup("");
	const char *s = mp_json_str(v);
	if (!s) {
		*bad = true;
		return NULL;
	}
	return mp_strdup(s);
}

/* After mp_reg_index: an error naming the first id that appears twice,
 * and how to repair the table. */
static mp_status check_duplicates(const struct mp_registry *r,
				  const char *path, struct mp_error *err)
{
	for (size_t k = 1; k < r->nmodels; k++) {
		size_t a = r->by_id[k - 1], b = r->by_id[k];
		const char *id = r->models[b].id;
		if (strcmp(r->models[a].id, id) == 0)
			return mp_error_set(
			    err, MP_EFORMAT,
			    "%s: model id '%s' appears twice (models[%zu] and "
			    "models[%zu]); remove one of the entries from the "
			    "file, then open the registry again",
			    path, id, a, b);
	}
	return MP_OK;
}

static const char *const known_keys[] = {"id",   "name",   "family", "type",
					 "path", "format", "files",  "added",
					 NULL};

/* The members of o this modelprint does not know, as JSON text, or NULL
 * when there are none (or out of memory: they are then not kept). */
static char *unknown_fields(const mp_json *o)
{
	mp_json *x = NULL;
	for (mp_json *c = mp_json_child(o); c; c = mp_json_next(c)) {
		const char *k = mp_json_key(c);
		size_t i = 0;
		while (known_keys[i] && strcmp(known_keys[i], k) != 0)
			i++;
		if (known_keys[i])
			continue;
		if (!x && !(x = mp_json_object()))
			return NULL;
		mp_json_set(x, k, mp_json_dup(c));
	}
	char *s = x ? mp_json_print(x, false) : NULL;
	mp_json_free(x);
	return s;
}

static mp_status parse_files(struct mp_reg_model *m, const mp_json *e,
			     const char *path, struct mp_error *err)
{
	mp_json *fs = mp_json_get(e, "files");
	size_t nf = mp_json_size(fs);
	if (fs && !mp_json_is_array(fs))
		return mp_error_set(err, MP_EFORMAT,
				    "%s: model '%s': files is not an array",
				    path, m->id);
	m->files = calloc(nf + 1, sizeof *m->files);
	m->sha256 = calloc(nf + 1, sizeof *m->sha256);
	if (!m->files || !m->sha256)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	mp_json *f = mp_json_child(fs);
	for (size_t k = 0; k < nf; k++, f = mp_json_next(f)) {
		const char *p = mp_json_str(mp_json_get(f, "path"));
		const char *h = mp_json_str(mp_json_get(f, "sha256"));
		if (!p || !h)
			return mp_error_set(err, MP_EFORMAT,
					    "%s: model '%s': files[%zu] needs "
					    "path and sha256",
					    path, m->id, k);
		m->files[k] = mp_strdup(p);
		m->sha256[k] = mp_strdup(h);
		m->nfiles++;
		if (!m->files[k] || !m->sha256[k])
			return mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	return MP_OK;
}

/* Parse models.json text into r, validating everything. */
static mp_status parse_table(struct mp_registry *r, const char *path,
			     const char *text, size_t len,
			     struct mp_error *err)
{
	mp_json *j;
	mp_status st = mp_json_parse(text, len, path, &j, err);
	if (st != MP_OK)
		return st;
	mp_json *ms = mp_json_get(j, "models");
	if (!mp_json_is_array(ms)) {
		mp_json_free(j);
		return mp_error_set(err, MP_EFORMAT,
				    "%s: \"models\" is not an array", path);
	}
	r->models = calloc(mp_json_size(ms) + 1, sizeof *r->models);
	if (!r->models) {
		mp_json_free(j);
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory", path);
	}
	size_t i = 0;
	for (mp_json *e = mp_json_child(ms); e && st == MP_OK;
	     e = mp_json_next(e), i++) {
		struct mp_reg_model *m = &r->models[r->nmodels++];
		bool bad = !mp_json_is_object(e);
		m->id = str_field(e, "id", true, &bad);
		m->name = str_field(e, "name", false, &bad);
		m->family = str_field(e, "family", false, &bad);
		m->type = str_field(e, "type", false, &bad);
		m->path = str_field(e, "path", true, &bad);
		m->format = str_field(e, "format", false, &bad);
		m->added = str_field(e, "added", false, &bad);
		if (bad || !m->id || !mp_reg_valid_name(m->id)) {
			st = mp_error_set(err, MP_EFORMAT,
					  "%s: models[%zu]: needs string fields "
					  "id (letters, digits, . _ -), path and "
					  "optional name, family, type, format",
					  path, i);
			break;
		}
		m->extra = unknown_fields(e);
		st = parse_files(m, e, path, err);
	}
	mp_json_free(j);
	if (st == MP_OK && !mp_reg_index(r))
		st = mp_error_set(err, MP_ENOMEM, "%s: out of memory", path);
	if (st == MP_OK)
		st = check_duplicates(r, path, err);
	return st;
}

mp_status mp_regdir_read(const char *dir, struct mp_registry **out,
			 struct mp_error *err)
{
	*out = NULL;
	struct mp_registry *r = mp_reg_list_new(dir);
	char *path = mp_path_join(dir, MODELS);
	char *text = NULL;
	size_t len;
	mp_status st = r && path
			       ? mp_read_text(path, MAX_TABLE, &text, &len, err)
			       : mp_error_set(err, MP_ENOMEM, "out of memory");
	if (st == MP_OK)
		st = parse_table(r, path, text, len, err);
	free(text);
	free(path);
	if (st != MP_OK) {
		mp_registry_free(r);
		return st;
	}
	*out = r;
	return MP_OK;
}

char *mp_regdir_fp_path(const char *dir, const char *id, const char *method)
{
	size_t n = strlen(dir) + strlen(id) + strlen(method) + 32;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/fingerprints/%s.%s.json", dir, id, method);
	return p;
}

mp_status mp_regdir_get_fp(const char *dir, const char *id,
			   const char *method, struct mp_fingerprint **out,
			   struct mp_error *err)
{
	*out = NULL;
	if (!mp_reg_valid_name(id) || !mp_reg_valid_name(method))
		return mp_error_set(err, MP_EINVAL, "invalid id or method name");
	char *path = mp_regdir_fp_path(dir, id, method);
	if (!path)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	mp_json *j;
	mp_status st = mp_json_load(path, MAX_FP, &j, err);
	if (st == MP_OK) {
		st = mp_fp_from_json(j, path, out, err);
		mp_json_free(j);
	}
	free(path);
	return st;
}

mp_status mp_regdir_write_table(const char *dir, const struct mp_registry *r,
				struct mp_error *err)
{
	mp_json *root = mp_json_object();
	mp_json_add_num(root, "version", 1);
	mp_json *ms = mp_json_add_arr(root, "models");
	for (size_t i = 0; i < r->nmodels; i++) {
		const struct mp_reg_model *m = &r->models[i];
		mp_json *o = NULL;
		if (m->extra && mp_json_parse(m->extra, strlen(m->extra),
					      "extra", &o, NULL) != MP_OK)
			o = NULL;
		if (!o)
			o = mp_json_object();
		mp_json_add_str(o, "id", m->id);
		mp_json_add_str(o, "name", m->name ? m->name : "");
		mp_json_add_str(o, "family", m->family ? m->family : "");
		mp_json_add_str(o, "type", m->type ? m->type : "");
		mp_json_add_str(o, "path", m->path ? m->path : "");
		mp_json_add_str(o, "format", m->format ? m->format : "");
		if (m->added && *m->added)
			mp_json_add_str(o, "added", m->added);
		mp_json *fs = mp_json_add_arr(o, "files");
		for (size_t k = 0; k < m->nfiles; k++) {
			mp_json *f = mp_json_object();
			mp_json_add_str(f, "path", m->files[k]);
			mp_json_add_str(f, "sha256", m->sha256[k]);
			if (m->sizes)
				mp_json_add_num(f, "size", (double)m->sizes[k]);
			mp_json_push(fs, f);
		}
		mp_json_push(ms, o);
	}
	char *text = mp_json_print(root, true);
	mp_json_free(root);
	char *path = mp_path_join(dir, MODELS);
	mp_status st = text && path ? mp_atomic_write(path, text, err)
				    : mp_error_set(err, MP_ENOMEM, "out of memory");
	free(text);
	free(path);
	return st;
}

mp_status mp_regdir_put_fp(const char *dir, const char *id,
			   const struct mp_fingerprint *fp,
			   struct mp_error *err)
{
	if (!mp_reg_valid_name(id) || !mp_reg_valid_name(fp->method))
		return mp_error_set(err, MP_EINVAL, "invalid id or method name");
	char *sub = mp_path_join(dir, "fingerprints");
	mp_status st = sub ? mp_mkdir_p(sub, err)
			   : mp_error_set(err, MP_ENOMEM, "out of memory");
	free(sub);
	if (st != MP_OK)
		return st;
	char *path = mp_regdir_fp_path(dir, id, fp->method);
	if (!path)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	struct mp_atomic a = {0};
	st = mp_atomic_open(&a, path, err);
	if (st == MP_OK) {
		/* streamed: no tree of the whole fingerprint in memory */
		struct mp_jw *w = mp_jw_new(a.fp, false);
		bool ok = w && mp_fp_write_json(w, NULL, fp);
		if (!mp_jw_free(w) || !ok) {
			mp_atomic_abort(&a);
			st = mp_error_set(err, MP_EIO, "%s: cannot write", path);
		} else {
			st = mp_atomic_commit(&a, err);
		}
	}
	free(path);
	return st;
}
