/* registry_io.c — moving registries between forms: the automatic import
 * of a directory-form registry, registry import and export, and the
 * creation of a global registry's schema and roles. */
#include "registry_int.h"
#include "registry_pg.h"
#include "registry_schema.h"
#include "atomic_write.h"
#include "sql.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Where the models of an import come from, and their fingerprints. */
struct source {
	struct mp_registry *models;
	const char *dir;       /* directory form, or NULL */
	struct mp_regdb *db;   /* or an open registry */
	bool fresh;            /* into a new database: no id is taken yet */
};

static mp_status source_fp(const struct source *s, const char *id,
			   const char *method, struct mp_fingerprint **fp,
			   struct mp_error *err)
{
	return s->dir ? mp_regdir_get_fp(s->dir, id, method, fp, err)
		      : mp_regdb_get_fp(s->db, id, method, fp, err);
}

/* Whether model a and b have the same files (paths aside): the same
 * multiset of SHA-256s. */
static bool same_files(const struct mp_reg_model *a,
		       const struct mp_reg_model *b)
{
	if (a->nfiles != b->nfiles)
		return false;
	for (size_t i = 0; i < a->nfiles; i++) {
		size_t hits_a = 0, hits_b = 0;
		for (size_t k = 0; k < a->nfiles; k++) {
			hits_a += strcmp(a->sha256[k], a->sha256[i]) == 0;
			hits_b += strcmp(b->sha256[k], a->sha256[i]) == 0;
		}
		if (hits_a != hits_b)
			return false;
	}
	return true;
}

/* Copy every model of s (and its fingerprints of every known method)
 * into db inside one transaction of the caller. */
static mp_status copy_models(struct mp_regdb *db, const struct source *s,
			     size_t *added, size_t *skipped,
			     struct mp_error *err)
{
	*added = *skipped = 0;
	const char *const *methods = mp_method_names();
	mp_status st = MP_OK;
	const char *largest = NULL; /* automatic-shaped id of most value */
	uint64_t top = 0, v;
	for (size_t i = 0; st == MP_OK && i < s->models->nmodels; i++) {
		const struct mp_reg_model *m = &s->models->models[i];
		enum mp_reg_id_state state = MP_ID_FREE;
		char show[MP_NAME_SHOW + 8];
		if (!mp_reg_valid_name(m->id)) {
			st = mp_error_set(err, MP_EFORMAT,
					  "%s: model id '%s' is not letters, "
					  "digits, '.', '_' and '-'; nothing was "
					  "imported",
					  s->models->dir, mp_printable(m->id, show));
			break;
		}
		if (!s->fresh)
			st = mp_reg_id_state(db, m->id, &state, err);
		if (st == MP_OK && state != MP_ID_FREE) {
			struct mp_reg_model *have = NULL;
			if (state == MP_ID_LIVE)
				st = mp_regdb_get(db, m->id, &have, err);
			if (st == MP_OK && have && same_files(have, m))
				++*skipped;
			else if (st == MP_OK)
				st = mp_error_set(
				    err, MP_EEXIST,
				    "%s: model id '%s' of %s is %s with other "
				    "files; nothing was imported",
				    mp_regdb_name(db), mp_printable(m->id, show),
				    s->models->dir,
				    have ? "registered" : "taken by a removed "
							  "model");
			mp_reg_model_free(have);
			continue;
		}
		if (st == MP_OK)
			st = mp_reg_insert(db, m, m->id, err);
		if (mp_reg_auto_id_value(m->id, &v) && (!largest || v > top)) {
			largest = m->id;
			top = v;
		}
		for (size_t k = 0; st == MP_OK && methods[k]; k++) {
			struct mp_fingerprint *fp;
			struct mp_error e2;
			mp_status g = source_fp(s, m->id, methods[k], &fp, &e2);
			if (g == MP_ENOENT)
				continue;
			if (g != MP_OK) {
				st = mp_error_set(err, g, "%s", e2.msg);
				break;
			}
			st = mp_reg_store_fp(db, m->id, fp, err);
			mp_fp_free(fp);
		}
		if (st == MP_OK)
			++*added;
	}
	if (st == MP_OK && largest)
		st = mp_reg_note_id(db, largest, err);
	return st;
}

static mp_status import_source(struct mp_regdb *db, const struct source *s,
			       size_t *added, size_t *skipped,
			       struct mp_error *err)
{
	struct mp_sql *sql = mp_reg_sql(db);
	mp_status st = mp_sql_begin(sql, true, err);
	if (st != MP_OK)
		return st;
	st = copy_models(db, s, added, skipped, err);
	if (st == MP_OK)
		return mp_sql_commit(sql, err);
	mp_sql_rollback(sql);
	return st;
}

/* A fresh SQLite database at path with the schema, attached to db. */
static mp_status fresh_db(struct mp_regdb *db, const char *path,
			  struct mp_error *err)
{
	struct mp_sql *sql;
	mp_status st = mp_sql_open(MP_SQL_SQLITE, path, MP_SQL_CREATE, &sql,
				   err);
	if (st != MP_OK)
		return st;
	mp_reg_attach(db, sql);
	return mp_regschema_migrate(sql, err);
}

static mp_status import_into(struct mp_regdb *db, const char *dir,
			     const char *path, struct mp_error *err)
{
	struct source s = {.dir = dir, .fresh = true};
	mp_status st = mp_regdir_read(dir, &s.models, err);
	if (st == MP_OK)
		st = fresh_db(db, path, err);
	size_t added, skipped;
	if (st == MP_OK)
		st = import_source(db, &s, &added, &skipped, err);
	mp_registry_free(s.models);
	return st;
}

mp_status mp_reg_import_dir_form(struct mp_regdb *db, const char *dir,
				 const char *db_path, struct mp_error *err)
{
	if (access(dir, W_OK) != 0) {
		/* read-only: imported again on every open, never written */
		if (mp_reg_writing(db))
			return mp_error_set(err, MP_EPERM,
					    "%s: cannot write the registry: its "
					    "directory is read-only",
					    dir);
		return import_into(db, dir, ":memory:", err);
	}
	return mp_reg_create_aside(db, dir, db_path, err);
}

mp_status mp_reg_create_aside(struct mp_regdb *db, const char *dir,
			      const char *db_path, struct mp_error *err)
{
	/* The temporary name of an atomic write: unique, never a planted
	 * file, and left-overs of dead processes are removed. */
	struct mp_atomic a;
	mp_status st = mp_atomic_open(&a, db_path, err);
	if (st != MP_OK)
		return st;
	fclose(a.fp); /* an empty file is a new SQLite database */
	a.fp = NULL;
	st = dir ? import_into(db, dir, a.tmp, err) : fresh_db(db, a.tmp, err);
	mp_sql_close(mp_reg_sql(db));
	mp_reg_attach(db, NULL);
	/* link, not rename: a concurrent first open that linked its own
	 * database first wins, and ours is dropped */
	if (st == MP_OK && link(a.tmp, db_path) != 0 && errno != EEXIST)
		st = mp_error_set(err, MP_EIO, "%s: cannot create: %s", db_path,
				  strerror(errno));
	mp_atomic_abort(&a); /* removes the temporary name */
	if (st != MP_OK)
		return st;
	struct mp_sql *sql;
	st = mp_sql_open(MP_SQL_SQLITE, db_path,
			 mp_reg_writing(db) ? 0 : MP_SQL_READONLY, &sql, err);
	if (st == MP_OK)
		mp_reg_attach(db, sql);
	return st;
}

mp_status mp_regdb_import(struct mp_regdb *db, const char *src,
			  size_t *added, size_t *skipped,
			  struct mp_error *err)
{
	*added = *skipped = 0;
	if (!mp_reg_sql(db) || !mp_reg_writing(db))
		return mp_error_set(err, MP_EPERM,
				    "%s: the registry was opened for reading",
				    mp_regdb_name(db));
	struct source s = {0};
	mp_status st;
	struct stat sb;
	if (!mp_registry_is_url(src) && stat(src, &sb) == 0 &&
	    S_ISDIR(sb.st_mode) && mp_regdir_exists(src)) {
		char *dbf = mp_path_join(src, "registry.db");
		bool has_db = dbf && stat(dbf, &sb) == 0;
		free(dbf);
		if (!has_db)
			s.dir = src; /* read in place, not converted */
	}
	if (s.dir)
		st = mp_regdir_read(src, &s.models, err);
	else if (stat(src, &sb) != 0 && !mp_registry_is_url(src))
		st = mp_error_set(err, MP_ENOENT, "%s: no such registry", src);
	else if ((st = mp_regdb_open(src, false, &s.db, err)) == MP_OK)
		st = mp_regdb_list(s.db, NULL, &s.models, err);
	if (st == MP_OK)
		st = import_source(db, &s, added, skipped, err);
	mp_registry_free(s.models);
	mp_regdb_close(s.db);
	return st;
}

mp_status mp_regdb_export(struct mp_regdb *db, const char *dir,
			  struct mp_error *err)
{
	if (mp_regdir_exists(dir))
		return mp_error_set(err, MP_EEXIST,
				    "%s: holds a registry already; export into a "
				    "new directory",
				    dir);
	struct mp_registry *r;
	mp_status st = mp_mkdir_p(dir, err);
	if (st == MP_OK)
		st = mp_regdb_list(db, NULL, &r, err);
	if (st != MP_OK)
		return st;
	for (size_t i = 0; st == MP_OK && i < r->nmodels; i++) {
		char **methods = NULL;
		st = mp_regdb_fp_methods(db, r->models[i].id, &methods, err);
		for (size_t k = 0; st == MP_OK && methods[k]; k++) {
			struct mp_fingerprint *fp;
			st = mp_regdb_get_fp(db, r->models[i].id, methods[k], &fp,
					     err);
			if (st == MP_OK)
				st = mp_regdir_put_fp(dir, r->models[i].id, fp,
						      err);
			mp_fp_free(fp);
		}
		mp_strv_free(methods);
	}
	/* the table last: a directory with models.json is a whole export */
	if (st == MP_OK)
		st = mp_regdir_write_table(dir, r, err);
	mp_registry_free(r);
	return st;
}

mp_status mp_regdb_init(const char *where, struct mp_error *err)
{
	struct mp_sql *sql;
	mp_status st;
	if (mp_registry_is_url(where)) {
		st = mp_sql_open(MP_SQL_PG, where, 0, &sql, err);
		if (st != MP_OK)
			return st;
		st = mp_regschema_migrate(sql, err);
		if (st == MP_OK)
			st = mp_regpg_grant_roles(sql, err);
		mp_sql_close(sql);
		return st;
	}
	struct mp_regdb *db;
	st = mp_regdb_open(where, true, &db, err);
	mp_regdb_close(db);
	return st;
}
