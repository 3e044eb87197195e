/* modelinfo.c — model-info files and the registry's names, families and
 * types. */
#include "modelinfo.h"

#include <stdlib.h>
#include <string.h>

#define MAX_INFO (256ULL << 20)

void mp_model_info_free(struct mp_model_info_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n && s->v; i++) {
		free(s->v[i].id);
		free(s->v[i].name);
		free(s->v[i].family);
		free(s->v[i].type);
	}
	free(s->v);
	free(s->by_id);
	free(s);
}

static int cmp_by_id(const void *a, const void *b, void *ctx)
{
	const struct mp_model_info *v = ctx;
	return strcmp(v[*(const size_t *)a].id, v[*(const size_t *)b].id);
}

/* Sort the id index and reject duplicates; the set has n filled entries. */
static mp_status index_ids(struct mp_model_info_set *s, const char *where,
			   struct mp_error *err)
{
	s->by_id = malloc((s->n ? s->n : 1) * sizeof *s->by_id);
	if (!s->by_id)
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory", where);
	for (size_t i = 0; i < s->n; i++)
		s->by_id[i] = i;
	qsort_r(s->by_id, s->n, sizeof *s->by_id, cmp_by_id, s->v);
	for (size_t k = 1; k < s->n; k++) {
		size_t a = s->by_id[k - 1], b = s->by_id[k];
		if (strcmp(s->v[a].id, s->v[b].id) == 0) {
			char show[MP_NAME_SHOW + 8];
			return mp_error_set(err, MP_EFORMAT,
					    "%s: entry %zu: model_id '%s' "
					    "appears twice (first in entry %zu)",
					    where, a > b ? a : b,
					    mp_printable(s->v[a].id, show),
					    a < b ? a : b);
		}
	}
	return MP_OK;
}

static struct mp_model_info_set *set_new(size_t n)
{
	struct mp_model_info_set *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->v = calloc(n ? n : 1, sizeof *s->v);
	if (!s->v) {
		free(s);
		return NULL;
	}
	return s;
}

/* Optional string member key of entry e: "" when absent, error when
 * present and not a string. */
static mp_status opt_str(const mp_json *e, const char *key, const char *path,
			 size_t idx, char **out, struct mp_error *err)
{
	mp_json *v = mp_json_get(e, key);
	const char *s = "";
	if (v && !mp_json_is_null(v)) {
		s = mp_json_str(v);
		if (!s)
			return mp_error_set(err, MP_EFORMAT,
					    "%s: entry %zu: \"%s\" is not a "
					    "string",
					    path, idx, key);
	}
	*out = mp_strdup(s);
	return *out ? MP_OK : mp_error_set(err, MP_ENOMEM, "out of memory");
}

mp_status mp_model_info_load(const char *path, struct mp_model_info_set **out,
			     struct mp_error *err)
{
	*out = NULL;
	mp_json *j;
	mp_status st = mp_json_load(path, MAX_INFO, &j, err);
	if (st != MP_OK)
		return st;
	if (!mp_json_is_array(j)) {
		mp_json_free(j);
		return mp_error_set(err, MP_EFORMAT,
				    "%s: a model-info file is a JSON array of "
				    "{\"model_id\", \"family\", \"model_type\", "
				    "\"display_name\"} objects",
				    path);
	}
	struct mp_model_info_set *s = set_new(mp_json_size(j));
	if (!s) {
		mp_json_free(j);
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory", path);
	}
	size_t idx = 0;
	for (mp_json *e = mp_json_child(j); e && st == MP_OK;
	     e = mp_json_next(e), idx++) {
		struct mp_model_info *m = &s->v[idx];
		s->n = idx + 1;
		if (!mp_json_is_object(e)) {
			st = mp_error_set(err, MP_EFORMAT,
					  "%s: entry %zu is not an object",
					  path, idx);
			break;
		}
		const char *id = mp_json_str(mp_json_get(e, "model_id"));
		if (!id || !*id) {
			st = mp_error_set(err, MP_EFORMAT,
					  "%s: entry %zu: \"model_id\" is "
					  "missing or not a non-empty string",
					  path, idx);
			break;
		}
		if (!(m->id = mp_strdup(id))) {
			st = mp_error_set(err, MP_ENOMEM, "out of memory");
			break;
		}
		st = opt_str(e, "display_name", path, idx, &m->name, err);
		if (st == MP_OK)
			st = opt_str(e, "family", path, idx, &m->family, err);
		if (st == MP_OK)
			st = opt_str(e, "model_type", path, idx, &m->type, err);
		if (st == MP_OK && !*m->name) {
			free(m->name);
			if (!(m->name = mp_strdup(id)))
				st = mp_error_set(err, MP_ENOMEM,
						  "out of memory");
		}
	}
	mp_json_free(j);
	if (st == MP_OK)
		st = index_ids(s, path, err);
	if (st != MP_OK) {
		mp_model_info_free(s);
		return st;
	}
	*out = s;
	return MP_OK;
}

mp_status mp_model_info_from_registry(const struct mp_registry *r,
				      struct mp_model_info_set **out,
				      struct mp_error *err)
{
	*out = NULL;
	struct mp_model_info_set *s = set_new(r->nmodels);
	if (!s)
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory", r->dir);
	for (size_t i = 0; i < r->nmodels; i++) {
		const struct mp_reg_model *rm = &r->models[i];
		struct mp_model_info *m = &s->v[i];
		s->n = i + 1;
		m->id = mp_strdup(rm->id);
		m->name = mp_strdup(rm->name && *rm->name ? rm->name : rm->id);
		m->family = mp_strdup(rm->family ? rm->family : "");
		m->type = mp_strdup(rm->type ? rm->type : "");
		if (!m->id || !m->name || !m->family || !m->type) {
			mp_model_info_free(s);
			return mp_error_set(err, MP_ENOMEM, "out of memory");
		}
	}
	mp_status st = index_ids(s, r->dir, err);
	if (st != MP_OK) {
		mp_model_info_free(s);
		return st;
	}
	*out = s;
	return MP_OK;
}

const struct mp_model_info *mp_model_info_find(const struct mp_model_info_set *s,
					       const char *id)
{
	size_t lo = 0, hi = s ? s->n : 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(s->v[s->by_id[mid]].id, id);
		if (c == 0)
			return &s->v[s->by_id[mid]];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
