/* registry_store.c — adding and removing models and storing their
 * fingerprints (zlib-compressed JSON of modelprint-files(5)), one
 * transaction per change. */
#include "registry_int.h"
#include "escape.h"
#include "json_write.h"
#include "sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "config.h"

#define MAX_FP (1ULL << 30)
#define FP_ENCODING "zlib-json"
#define AUTO_ID_LIMIT 9999999999999999999ULL

mp_status mp_reg_id_state(struct mp_regdb *db, const char *id,
			  enum mp_reg_id_state *state, struct mp_error *err)
{
	struct mp_sql_res *r;
	struct mp_sql_val p[] = {MP_SQL_TEXT(id)};
	mp_status st = mp_sql_exec(mp_reg_sql(db),
				   "SELECT CASE WHEN removed_at IS NULL THEN 'l' "
				   "ELSE 'r' END FROM models WHERE id = ?",
				   p, 1, &r, err);
	if (st != MP_OK)
		return st;
	const char *s = mp_sql_res_text(r, 0, 0);
	*state = !s ? MP_ID_FREE : *s == 'l' ? MP_ID_LIVE : MP_ID_REMOVED;
	mp_sql_res_free(r);
	return MP_OK;
}

/* registry_state.max_auto_id, read after locking its row (PostgreSQL
 * queues concurrent adds there; SQLite's write transaction already
 * does). */
static mp_status max_auto_id(struct mp_sql *sql, uint64_t *max,
			     struct mp_error *err)
{
	mp_status st = mp_sql_exec(sql,
				   "UPDATE registry_state SET value = value "
				   "WHERE key = 'max_auto_id'",
				   NULL, 0, NULL, err);
	struct mp_sql_res *r = NULL;
	if (st == MP_OK)
		st = mp_sql_exec(sql,
				 "SELECT value FROM registry_state WHERE key = "
				 "'max_auto_id'",
				 NULL, 0, &r, err);
	const char *v = st == MP_OK ? mp_sql_res_text(r, 0, 0) : NULL;
	if (st == MP_OK && (!v || !mp_reg_auto_id_value(v, max)))
		st = mp_error_set(err, MP_EFORMAT,
				  "%s: registry_state.max_auto_id is missing or "
				  "not a number",
				  mp_sql_name(sql));
	mp_sql_res_free(r);
	return st;
}

mp_status mp_reg_insert(struct mp_regdb *db, const struct mp_reg_model *m,
			const char *id, struct mp_error *err)
{
	struct mp_sql *sql = mp_reg_sql(db);
	char now[32];
	const char *added = m->added && *m->added ? m->added : mp_reg_now(now);
	struct mp_sql_val p[] = {
		MP_SQL_TEXT(id),
		MP_SQL_TEXT(m->name ? m->name : ""),
		MP_SQL_TEXT(m->family ? m->family : ""),
		MP_SQL_TEXT(m->type ? m->type : ""),
		MP_SQL_TEXT(m->path ? m->path : ""),
		MP_SQL_TEXT(m->format ? m->format : ""),
		MP_SQL_TEXT(added),
		MP_SQL_TEXT(m->extra), /* NULL stays NULL */
	};
	mp_status st = mp_sql_exec(sql,
				   "INSERT INTO models (id, name, family, type, "
				   "path, format, added_at, extra) VALUES (?, ?, "
				   "?, ?, ?, ?, ?, ?)",
				   p, 8, NULL, err);
	for (size_t k = 0; st == MP_OK && k < m->nfiles; k++) {
		char seq[24], size[24];
		snprintf(seq, sizeof seq, "%zu", k);
		snprintf(size, sizeof size, "%llu",
			 (unsigned long long)(m->sizes ? m->sizes[k] : 0));
		struct mp_sql_val f[] = {MP_SQL_TEXT(id), MP_SQL_TEXT(seq),
					 MP_SQL_TEXT(m->files[k]),
					 MP_SQL_TEXT(m->sizes ? size : NULL),
					 MP_SQL_TEXT(m->sha256[k])};
		st = mp_sql_exec(sql,
				 "INSERT INTO model_files (model_id, seq, path, "
				 "size, sha256) VALUES (?, CAST(? AS INTEGER), ?, "
				 "CAST(? AS BIGINT), ?)",
				 f, 5, NULL, err);
	}
	return st;
}

mp_status mp_reg_note_id(struct mp_regdb *db, const char *id,
			 struct mp_error *err)
{
	struct mp_sql *sql = mp_reg_sql(db);
	uint64_t v, max;
	mp_status st = MP_OK;
	if (mp_reg_auto_id_value(id, &v) &&
	    (st = max_auto_id(sql, &max, err)) == MP_OK && v > max) {
		char buf[24];
		snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
		struct mp_sql_val q[] = {MP_SQL_TEXT(buf)};
		st = mp_sql_exec(sql,
				 "UPDATE registry_state SET value = ? WHERE key "
				 "= 'max_auto_id'",
				 q, 1, NULL, err);
	}
	return st;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Whether the SHA-256s of model id are the multiset hex[0..n) (sorted). */
static mp_status same_shas(struct mp_sql *sql, const char *id,
			   char *const *hex, size_t n, bool *same,
			   struct mp_error *err)
{
	struct mp_sql_res *r;
	struct mp_sql_val p[] = {MP_SQL_TEXT(id)};
	mp_status st = mp_sql_exec(sql,
				   "SELECT sha256 FROM model_files WHERE "
				   "model_id = ?",
				   p, 1, &r, err);
	if (st != MP_OK)
		return st;
	*same = r->nrows == n;
	if (*same) {
		qsort(r->cells, n, sizeof *r->cells, cmp_str);
		for (size_t i = 0; i < n && *same; i++)
			*same = strcmp(r->cells[i], hex[i]) == 0;
	}
	mp_sql_res_free(r);
	return MP_OK;
}

/* MP_EEXIST naming the live model whose files have the SHA-256s of m. */
static mp_status refuse_duplicate(struct mp_regdb *db,
				  const struct mp_reg_model *m,
				  struct mp_error *err)
{
	if (m->nfiles == 0)
		return MP_OK;
	struct mp_sql *sql = mp_reg_sql(db);
	char **hex = malloc(m->nfiles * sizeof *hex);
	if (!hex)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	memcpy(hex, m->sha256, m->nfiles * sizeof *hex);
	qsort(hex, m->nfiles, sizeof *hex, cmp_str);
	struct mp_sql_res *r = NULL;
	struct mp_sql_val p[] = {MP_SQL_TEXT(hex[0])};
	mp_status st = mp_sql_exec(sql,
				   "SELECT DISTINCT m.id, m.name FROM model_files "
				   "f JOIN models m ON m.id = f.model_id WHERE "
				   "f.sha256 = ? AND m.removed_at IS NULL",
				   p, 1, &r, err);
	for (size_t i = 0; st == MP_OK && i < r->nrows; i++) {
		bool same;
		const char *id = mp_sql_res_text(r, i, 0);
		st = same_shas(sql, id, hex, m->nfiles, &same, err);
		if (st == MP_OK && same) {
			char a[MP_NAME_SHOW + 8], b[MP_NAME_SHOW + 8];
			st = mp_error_set(
			    err, MP_EEXIST,
			    "%s: %s has the same SHA-256 as model %s (%s), "
			    "which is registered already; add --force to "
			    "register it again",
			    mp_regdb_name(db), mp_printable(m->path, a), id,
			    mp_printable(mp_sql_res_text(r, i, 1), b));
		}
	}
	mp_sql_res_free(r);
	free(hex);
	return st;
}

/* The first text of m that is not valid UTF-8 (what it is in *what), or
 * NULL: such text could not be exported as JSON unchanged, and a path
 * would no longer name the model. */
static const char *not_utf8(const struct mp_reg_model *m, const char **what)
{
	const char *text[] = {m->name, m->family, m->type, m->path};
	static const char *const label[] = {"name", "family", "type", "path"};
	for (size_t i = 0; i < 4; i++)
		if (text[i] && !mp_utf8_valid(text[i]))
			return *what = label[i], text[i];
	for (size_t i = 0; i < m->nfiles; i++)
		if (!mp_utf8_valid(m->files[i]))
			return *what = "file", m->files[i];
	return NULL;
}

/* The id to add under: want_id when the registry never held it, else the
 * next automatic one (*automatic says which). A row holding that id
 * (written around modelprint) makes the insert fail on the primary key. */
#define ID_BUF 72 /* 64 characters of an id, or 19 digits */

static mp_status choose_id(struct mp_regdb *db, const char *want_id,
			   char buf[ID_BUF], bool *automatic,
			   struct mp_error *err)
{
	*automatic = !want_id;
	char show[MP_NAME_SHOW + 8];
	if (want_id) {
		enum mp_reg_id_state s;
		mp_status st = mp_reg_id_state(db, want_id, &s, err);
		if (st == MP_OK && s != MP_ID_FREE)
			st = mp_error_set(
			    err, MP_EEXIST,
			    s == MP_ID_LIVE ? "%s: model id '%s' already exists"
					    : "%s: model id '%s' belonged to a "
					      "removed model; ids are never "
					      "reused",
			    mp_regdb_name(db), mp_printable(want_id, show));
		snprintf(buf, ID_BUF, "%s", want_id);
		return st;
	}
	uint64_t max;
	mp_status st = max_auto_id(mp_reg_sql(db), &max, err);
	if (st != MP_OK)
		return st;
	if (max >= AUTO_ID_LIMIT)
		return mp_error_set(err, MP_EINVAL,
				    "%s: no automatic id is left (the largest, "
				    "%llu, was used); give one with --id",
				    mp_regdb_name(db), (unsigned long long)max);
	snprintf(buf, ID_BUF, "%llu", (unsigned long long)(max + 1));
	return MP_OK;
}

static mp_status need_writable(struct mp_regdb *db, struct mp_error *err)
{
	if (mp_reg_sql(db) && mp_reg_writing(db))
		return MP_OK;
	return mp_error_set(err, MP_EPERM,
			    "%s: the registry was opened for reading",
			    mp_regdb_name(db));
}

mp_status mp_regdb_add(struct mp_regdb *db, const struct mp_reg_model *model,
		       const char *want_id, unsigned flags, char **id_out,
		       struct mp_error *err)
{
	*id_out = NULL;
	char show[MP_NAME_SHOW + 8];
	if (want_id && !(mp_reg_valid_name(want_id) && want_id[0] != '-'))
		return mp_error_set(err, MP_EINVAL,
				    "invalid model id '%s': use 1 to 64 letters, "
				    "digits, '.', '_' or '-', not starting with "
				    "'.' or '-'",
				    mp_printable(want_id, show));
	const char *what, *bad = not_utf8(model, &what);
	if (bad) {
		char nb[MP_NAME_SHOW + 8];
		return mp_error_set(err, MP_EINVAL,
				    "%s: the model's %s '%s' is not valid UTF-8 "
				    "and cannot be stored in the registry",
				    mp_regdb_name(db), what, mp_printable(bad, nb));
	}
	mp_status st = need_writable(db, err);
	if (st != MP_OK)
		return st;
	struct mp_sql *sql = mp_reg_sql(db);
	if ((st = mp_sql_begin(sql, true, err)) != MP_OK)
		return st;
	char id[ID_BUF];
	bool automatic;
	struct mp_sql_val p[] = {MP_SQL_TEXT(id)};
	if (!(flags & MP_REG_FORCE))
		st = refuse_duplicate(db, model, err);
	if (st == MP_OK)
		st = choose_id(db, want_id, id, &automatic, err);
	if (st == MP_OK)
		st = mp_reg_insert(db, model, id, err);
	if (st == MP_OK && automatic) /* its row is locked since choose_id */
		st = mp_sql_exec(sql,
				 "UPDATE registry_state SET value = ? WHERE key "
				 "= 'max_auto_id'",
				 p, 1, NULL, err);
	else if (st == MP_OK)
		st = mp_reg_note_id(db, id, err);
	if (st == MP_OK)
		st = mp_sql_commit(sql, err);
	if (st != MP_OK) {
		mp_sql_rollback(sql);
		return st;
	}
	if (!(*id_out = mp_strdup(id)))
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	return MP_OK;
}

/* Begin a write transaction in which model id is live: MP_ENOENT naming
 * the registry and the id otherwise (the transaction then rolled back). */
static mp_status begin_on_live(struct mp_regdb *db, const char *id,
			       struct mp_error *err)
{
	mp_status st = need_writable(db, err);
	struct mp_sql *sql = mp_reg_sql(db);
	if (st != MP_OK || (st = mp_sql_begin(sql, true, err)) != MP_OK)
		return st;
	enum mp_reg_id_state s;
	char show[MP_NAME_SHOW + 8];
	st = mp_reg_id_state(db, id, &s, err);
	if (st == MP_OK && s != MP_ID_LIVE)
		st = mp_error_set(err, MP_ENOENT, "%s: no model with id '%s'",
				  mp_regdb_name(db), mp_printable(id, show));
	if (st != MP_OK)
		mp_sql_rollback(sql);
	return st;
}

mp_status mp_regdb_remove(struct mp_regdb *db, const char *id,
			  struct mp_error *err)
{
	mp_status st = begin_on_live(db, id, err);
	if (st != MP_OK)
		return st;
	struct mp_sql *sql = mp_reg_sql(db);
	char now[32];
	struct mp_sql_val p[] = {MP_SQL_TEXT(id)};
	struct mp_sql_val q[] = {MP_SQL_TEXT(mp_reg_now(now)), MP_SQL_TEXT(id)};
	st = mp_sql_exec(sql, "DELETE FROM fingerprints WHERE model_id = ?", p,
			 1, NULL, err);
	if (st == MP_OK)
		st = mp_sql_exec(sql, "DELETE FROM lsh_codes WHERE model_id = ?",
				 p, 1, NULL, err);
	if (st == MP_OK)
		st = mp_sql_exec(sql, "DELETE FROM model_files WHERE model_id = ?",
				 p, 1, NULL, err);
	if (st == MP_OK)
		st = mp_sql_exec(sql, "UPDATE models SET removed_at = ? WHERE id = ?",
				 q, 2, NULL, err);
	if (st == MP_OK)
		st = mp_sql_commit(sql, err);
	if (st != MP_OK)
		mp_sql_rollback(sql);
	return st;
}

/* fp as JSON text (modelprint-files(5)), streamed to memory. */
static mp_status fp_text(const struct mp_fingerprint *fp, char **text,
			 size_t *len, struct mp_error *err)
{
	*text = NULL;
	FILE *f = open_memstream(text, len);
	if (!f)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	struct mp_jw *w = mp_jw_new(f, false);
	bool ok = w && mp_fp_write_json(w, NULL, fp);
	ok = mp_jw_free(w) && ok;
	ok = fclose(f) == 0 && ok;
	if (!ok) {
		free(*text);
		*text = NULL;
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	return MP_OK;
}

mp_status mp_reg_store_fp(struct mp_regdb *db, const char *id,
			  const struct mp_fingerprint *fp,
			  struct mp_error *err)
{
	char *text, *args = NULL;
	size_t len;
	mp_status st = fp_text(fp, &text, &len, err);
	if (st != MP_OK)
		return st;
	uLongf zlen = compressBound(len);
	Bytef *z = malloc(zlen);
	if (fp->args)
		args = mp_json_print(fp->args, false);
	if (!z || (fp->args && !args))
		st = mp_error_set(err, MP_ENOMEM, "out of memory");
	else if (compress2(z, &zlen, (const Bytef *)text, len, Z_BEST_SPEED) != Z_OK)
		st = mp_error_set(err, MP_ENOMEM, "out of memory compressing "
						  "a fingerprint");
	char now[32], raw[24];
	snprintf(raw, sizeof raw, "%zu", len);
	struct mp_sql_val p[] = {MP_SQL_TEXT(id),
				 MP_SQL_TEXT(fp->method),
				 MP_SQL_TEXT(args ? args : "{}"),
				 MP_SQL_TEXT(PACKAGE_VERSION),
				 MP_SQL_TEXT(mp_reg_now(now)),
				 MP_SQL_TEXT(FP_ENCODING),
				 MP_SQL_TEXT(raw),
				 MP_SQL_BLOB(z, zlen)};
	if (st == MP_OK)
		st = mp_sql_exec(mp_reg_sql(db),
				 "INSERT INTO fingerprints (model_id, method, args, "
				 "version, created_at, encoding, raw_size, data) "
				 "VALUES (?, ?, ?, ?, ?, ?, CAST(? AS BIGINT), ?) "
				 "ON CONFLICT (model_id, method) DO UPDATE SET "
				 "args = excluded.args, version = excluded.version, "
				 "created_at = excluded.created_at, encoding = "
				 "excluded.encoding, raw_size = excluded.raw_size, "
				 "data = excluded.data",
				 p, 8, NULL, err);
	if (st == MP_OK && strcmp(fp->method, "tensors") == 0)
		st = mp_reg_store_codes(mp_reg_sql(db), mp_regdb_name(db), id, fp,
					err);
	free(z);
	free(args);
	free(text);
	return st;
}

mp_status mp_regdb_put_fps(struct mp_regdb *db, const char *id,
			   const struct mp_fingerprint *const *fps, size_t n,
			   struct mp_error *err)
{
	if (!mp_reg_valid_name(id))
		return mp_error_set(err, MP_EINVAL, "invalid model id");
	for (size_t k = 0; k < n; k++)
		if (!mp_reg_valid_name(fps[k]->method))
			return mp_error_set(err, MP_EINVAL, "invalid method name");
	mp_status st = begin_on_live(db, id, err);
	if (st != MP_OK)
		return st;
	struct mp_sql *sql = mp_reg_sql(db);
	for (size_t k = 0; st == MP_OK && k < n; k++)
		st = mp_reg_store_fp(db, id, fps[k], err);
	if (st == MP_OK)
		st = mp_sql_commit(sql, err);
	if (st != MP_OK)
		mp_sql_rollback(sql);
	return st;
}

mp_status mp_regdb_put_fp(struct mp_regdb *db, const char *id,
			  const struct mp_fingerprint *fp,
			  struct mp_error *err)
{
	return mp_regdb_put_fps(db, id, &fp, 1, err);
}

mp_status mp_reg_load_fp(struct mp_sql *sql, const char *where,
			 const char *id, const char *method,
			 struct mp_fingerprint **out, struct mp_error *err)
{
	*out = NULL;
	char a[MP_NAME_SHOW + 8];
	struct mp_sql_res *r;
	struct mp_sql_val p[] = {MP_SQL_TEXT(id), MP_SQL_TEXT(method)};
	mp_status st = mp_sql_exec(sql,
				   "SELECT encoding, CAST(raw_size AS TEXT), data "
				   "FROM fingerprints WHERE model_id = ? AND "
				   "method = ?",
				   p, 2, &r, err);
	if (st != MP_OK)
		return st;
	if (r->nrows == 0) {
		mp_sql_res_free(r);
		return mp_error_set(err, MP_ENOENT, "%s: not stored", where);
	}
	const char *enc = mp_sql_res_text(r, 0, 0);
	const char *raw = mp_sql_res_text(r, 0, 1);
	unsigned long long n = raw ? strtoull(raw, NULL, 10) : 0;
	char *text = NULL;
	if (!enc || strcmp(enc, FP_ENCODING) != 0 || !r->cells[2])
		st = mp_error_set(err, MP_EFORMAT,
				  "%s: unknown encoding '%s'", where,
				  mp_printable(enc ? enc : "", a));
	else if (n == 0 || n > MAX_FP)
		st = mp_error_set(err, MP_EFORMAT, "%s: raw size %llu out of "
						   "range", where, n);
	else if (!(text = malloc(n + 1)))
		st = mp_error_set(err, MP_ENOMEM, "out of memory");
	uLongf got = (uLongf)n;
	if (st == MP_OK &&
	    (uncompress((Bytef *)text, &got, (const Bytef *)r->cells[2],
			r->lens[2]) != Z_OK ||
	     got != n))
		st = mp_error_set(err, MP_EFORMAT,
				  "%s: the stored data does not decompress to "
				  "its %llu bytes",
				  where, n);
	mp_sql_res_free(r);
	mp_json *j = NULL;
	if (st == MP_OK)
		st = mp_json_parse(text, n, where, &j, err);
	free(text);
	if (st == MP_OK)
		st = mp_fp_from_json(j, where, out, err);
	mp_json_free(j);
	return st;
}

mp_status mp_regdb_get_fp(struct mp_regdb *db, const char *id,
			  const char *method, struct mp_fingerprint **out,
			  struct mp_error *err)
{
	*out = NULL;
	if (!mp_reg_valid_name(id) || !mp_reg_valid_name(method))
		return mp_error_set(err, MP_EINVAL, "invalid id or method name");
	char where[MP_ERRMSG_MAX / 2], a[MP_NAME_SHOW + 8], b[MP_NAME_SHOW + 8];
	snprintf(where, sizeof where, "%s: fingerprint of model %s (%s)",
		 mp_regdb_name(db), mp_printable(id, a), mp_printable(method, b));
	if (!mp_reg_sql(db))
		return mp_error_set(err, MP_ENOENT, "%s: not stored", where);
	return mp_reg_load_fp(mp_reg_sql(db), where, id, method, out, err);
}

mp_status mp_regdb_fp_methods(struct mp_regdb *db, const char *id,
			      char ***out, struct mp_error *err)
{
	*out = NULL;
	struct mp_sql_res *r = NULL;
	struct mp_sql_val p[] = {MP_SQL_TEXT(id)};
	mp_status st = mp_reg_sql(db)
			       ? mp_sql_exec(mp_reg_sql(db),
					     "SELECT method FROM fingerprints "
					     "WHERE model_id = ?",
					     p, 1, &r, err)
			       : MP_OK;
	size_t n = r ? r->nrows : 0;
	char **v = st == MP_OK ? calloc(n + 1, sizeof *v) : NULL;
	if (st == MP_OK && !v)
		st = mp_error_set(err, MP_ENOMEM, "out of memory");
	for (size_t i = 0; st == MP_OK && i < n; i++) {
		v[i] = r->cells[i]; /* moved out */
		r->cells[i] = NULL;
	}
	mp_sql_res_free(r);
	if (st != MP_OK)
		return st;
	qsort(v, n, sizeof *v, cmp_str);
	*out = v;
	return MP_OK;
}

void mp_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}
