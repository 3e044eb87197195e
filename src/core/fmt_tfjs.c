/* fmt_tfjs.c — TF.js models: a model.json (graph or layers model) with its
 * weightsManifest, a bare weights manifest (an array of groups), or a
 * directory holding model.json. The weights of a group are laid out back to
 * back in the concatenation of its shard files, cut anywhere. */
#include "json.h"
#include "model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_JSON (64ULL << 20)

static bool is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static const mp_json *manifest_of(const mp_json *doc)
{
	return mp_json_is_array(doc) ? doc : mp_json_get(doc, "weightsManifest");
}

static bool probe(const char *path)
{
	if (is_dir(path)) {
		char *p = mp_path_join(path, "model.json");
		struct stat st;
		bool ok = p && stat(p, &st) == 0;
		free(p);
		return ok;
	}
	if (!mp_ends_with(path, ".json") || mp_ends_with(path, ".index.json"))
		return false;
	struct mp_file f;
	if (mp_file_open(&f, path, NULL) != MP_OK)
		return false;
	/* cheap look at the text: the reader gives the precise errors */
	bool ok = false;
	const char *d = (const char *)f.data;
	size_t n = f.size < (1u << 20) ? (size_t)f.size : (1u << 20);
	for (size_t i = 0; i < n && !ok; i++)
		ok = (d[i] == '"' && n - i > 16 &&
		      (!memcmp(d + i, "\"weightsManifest\"", 17) ||
		       !memcmp(d + i, "\"weights\"", 9)));
	size_t k = 0;
	while (k < n && (d[k] == ' ' || d[k] == '\n' || d[k] == '\r' || d[k] == '\t'))
		k++;
	if (!ok && k < n && (d[k] == '{' || d[k] == '['))
		ok = true; /* JSON of some kind: let the reader say what is wrong */
	mp_file_close(&f);
	return ok;
}

struct group {
	int first; /* index of the first shard file in m->files */
	int nfiles;
	uint64_t total;
};

/* Point t->seg at bytes [off, off+len) of the group's concatenation. */
static mp_status place(struct mp_model *m, const struct group *g,
		       struct mp_tensor *t, uint64_t off, const char *where,
		       struct mp_error *err)
{
	uint64_t base = 0, left = t->nbytes, pos = off;
	t->nseg = 0;
	for (int i = 0; i < g->nfiles && left; i++) {
		const struct mp_file *f = &m->files[g->first + i];
		if (pos >= base + f->size) {
			base += f->size;
			continue;
		}
		char nb[MP_NAME_SHOW + 8];
		if (t->nseg == MP_MAX_SEGS)
			return mp_error_set(err, MP_ERANGE,
					    "%s: weight '%s' spans more than %d "
					    "shards",
					    where, mp_printable(t->name, nb),
					    MP_MAX_SEGS);
		uint64_t in = pos - base, take = f->size - in;
		if (take > left)
			take = left;
		if (t->nseg == 0) {
			t->file_index = g->first + i;
			t->offset = in;
		}
		t->seg[t->nseg].data = f->data + in;
		t->seg[t->nseg++].len = take;
		left -= take;
		pos += take;
		base += f->size;
	}
	if (t->nbytes == 0) {
		t->nseg = 1;
		t->seg[0].data = (const uint8_t *)"";
		t->seg[0].len = 0;
		t->file_index = g->first;
	}
	return MP_OK;
}

static mp_status weight(struct mp_model *m, const struct group *g,
			const mp_json *w, uint64_t *off, const char *where,
			struct mp_error *err)
{
	const char *name = mp_json_str(mp_json_get(w, "name"));
	if (!name)
		return mp_error_set(err, MP_EFORMAT, "%s: a weight has no name",
				    where);
	char nb[MP_NAME_SHOW + 8], db[MP_NAME_SHOW + 8];
	const char *shown = mp_printable(name, nb);
	if (mp_model_find(m, name))
		return mp_error_set(err, MP_EFORMAT,
				    "%s: weight '%s' is listed twice", where, shown);
	const char *dt = mp_json_str(mp_json_get(w, "dtype"));
	enum mp_dtype logical;
	if (dt && !strcmp(dt, "float32"))
		logical = MP_F32;
	else if (dt && !strcmp(dt, "int32"))
		logical = MP_I32;
	else if (dt && !strcmp(dt, "bool"))
		logical = MP_BOOL;
	else
		return mp_error_set(err, MP_EDTYPE,
				    "%s: weight '%s': unsupported dtype '%s' "
				    "(valid: float32, int32, bool)",
				    where, shown,
				    dt ? mp_printable(dt, db) : "(none)");
	struct mp_quant q = {MP_QUANT_NONE, 0, 0};
	enum mp_dtype stored = logical;
	const mp_json *qj = mp_json_get(w, "quantization");
	if (qj) {
		const char *qd = mp_json_str(mp_json_get(qj, "dtype"));
		if (qd && !strcmp(qd, "float16")) {
			stored = MP_F16;
			q.kind = MP_QUANT_F16;
		} else if (qd && (!strcmp(qd, "uint8") || !strcmp(qd, "uint16"))) {
			stored = qd[4] == '8' ? MP_U8 : MP_U16;
			q.kind = MP_QUANT_AFFINE;
			q.scale = mp_json_num(mp_json_get(qj, "scale"));
			q.min = mp_json_num(mp_json_get(qj, "min"));
			if (!isfinite(q.scale) || !isfinite(q.min))
				return mp_error_set(err, MP_EFORMAT,
						    "%s: weight '%s': quantization "
						    "needs finite scale and min",
						    where, shown);
		} else {
			return mp_error_set(err, MP_EDTYPE,
					    "%s: weight '%s': unsupported "
					    "quantization dtype '%s' (valid: "
					    "uint8, uint16, float16)",
					    where, shown,
					    qd ? mp_printable(qd, db)
					       : "(none)");
		}
		if (logical == MP_BOOL)
			return mp_error_set(err, MP_EDTYPE,
					    "%s: weight '%s': a bool weight "
					    "cannot be quantized",
					    where, shown);
	}
	const mp_json *sh = mp_json_get(w, "shape");
	if (!mp_json_is_array(sh))
		return mp_error_set(err, MP_EFORMAT,
				    "%s: weight '%s': shape is not an array",
				    where, shown);
	size_t nd = mp_json_size(sh);
	if (nd > MP_MAX_DIMS)
		return mp_error_set(err, MP_ERANGE,
				    "%s: weight '%s' has %zu dimensions (at most "
				    "%d supported)",
				    where, shown, nd, MP_MAX_DIMS);
	uint64_t dims[MP_MAX_DIMS];
	for (size_t i = 0; i < nd; i++)
		if (!mp_json_uint(mp_json_at(sh, i), &dims[i]))
			return mp_error_set(err, MP_EFORMAT,
					    "%s: weight '%s': shape entry %zu is "
					    "not a non-negative integer",
					    where, shown, i);
	struct mp_tensor *t;
	mp_status s = mp_model_add_tensor(m, name, &t, err);
	if (s != MP_OK)
		return s;
	t->stored = stored;
	t->logical = logical;
	t->quant = q;
	t->output_last = true;
	s = mp_tensor_set_shape(t, (int)nd, dims, where, err);
	if (s != MP_OK)
		return s;
	uint64_t end;
	if (!mp_add_u64(*off, t->nbytes, &end) || end > g->total)
		return mp_error_set(err, MP_ETRUNC,
				    "%s: truncated: weight '%s' needs bytes "
				    "%llu..%llu of its group but the shards "
				    "hold %llu",
				    where, shown, (unsigned long long)*off,
				    (unsigned long long)(*off + t->nbytes),
				    (unsigned long long)g->total);
	s = place(m, g, t, *off, where, err);
	*off = end;
	return s;
}

static mp_status open_json(struct mp_model *m, const char *path,
			   struct mp_error *err)
{
	mp_json *doc;
	mp_status s = mp_json_load(path, MAX_JSON, &doc, err);
	if (s != MP_OK)
		return s;
	const mp_json *man = manifest_of(doc);
	if (!mp_json_is_array(man)) {
		mp_json_free(doc);
		return mp_error_set(err, MP_EFORMAT,
				    "%s: no weightsManifest array (not a TF.js "
				    "model.json or weights manifest)",
				    path);
	}
	if (mp_json_is_object(doc)) {
		static const char *keys[] = {"format", "generatedBy",
					     "convertedBy"};
		for (int k = 0; k < 3 && s == MP_OK; k++) {
			const char *v = mp_json_str(mp_json_get(doc, keys[k]));
			if (v)
				s = mp_model_add_meta(m, keys[k], v, err);
		}
	}
	char *dir = mp_strdup(path);
	if (!dir) {
		mp_json_free(doc);
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else
		strcpy(dir, ".");
	size_t gi = 0;
	for (const mp_json *gj = mp_json_child(man); gj && s == MP_OK;
	     gj = mp_json_next(gj), gi++) {
		const mp_json *paths = mp_json_get(gj, "paths");
		const mp_json *ws = mp_json_get(gj, "weights");
		if (!mp_json_is_array(paths) || !mp_json_is_array(ws)) {
			s = mp_error_set(err, MP_EFORMAT,
					 "%s: manifest group %zu needs \"paths\" "
					 "and \"weights\" arrays",
					 path, gi);
			break;
		}
		struct group g = {(int)m->nfiles, 0, 0};
		for (const mp_json *p = mp_json_child(paths); p && s == MP_OK;
		     p = mp_json_next(p)) {
			const char *rel = mp_json_str(p);
			char nb[MP_NAME_SHOW + 8];
			if (!mp_path_is_safe_relative(rel)) {
				s = mp_error_set(err, MP_EFORMAT,
						 "%s: shard path '%.80s' is not a "
						 "relative path inside the model "
						 "directory",
						 path, rel ? mp_printable(rel, nb)
							   : "(not a string)");
				break;
			}
			char *full = mp_path_join(dir, rel);
			struct stat st;
			int fi;
			if (!full)
				s = mp_error_set(err, MP_ENOMEM, "out of memory");
			else if (stat(full, &st) != 0)
				s = mp_error_set(err, MP_ENOENT,
						 "%s: shard '%s' is missing", path,
						 mp_printable(rel, nb));
			else
				s = mp_model_add_file(m, full, &fi, err);
			free(full);
			if (s == MP_OK) {
				g.nfiles++;
				g.total += m->files[fi].size;
			}
		}
		uint64_t off = 0;
		for (const mp_json *w = mp_json_child(ws); w && s == MP_OK;
		     w = mp_json_next(w))
			s = weight(m, &g, w, &off, path, err);
		if (s == MP_OK && off != g.total)
			s = mp_error_set(err, MP_EFORMAT,
					 "%s: manifest group %zu: the weights use "
					 "%llu bytes but the shards hold %llu "
					 "(%llu unused): manifest and shards "
					 "disagree",
					 path, gi, (unsigned long long)off,
					 (unsigned long long)g.total,
					 (unsigned long long)(g.total - off));
	}
	free(dir);
	mp_json_free(doc);
	return s;
}

static mp_status open_model(struct mp_model *m, const char *path,
			    struct mp_error *err)
{
	if (!is_dir(path))
		return open_json(m, path, err);
	char *p = mp_path_join(path, "model.json");
	if (!p)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	mp_status s = open_json(m, p, err);
	free(p);
	return s;
}

const struct mp_format_ops mp_fmt_tfjs = {"tfjs", probe, open_model};
