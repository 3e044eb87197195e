/* registry.c — the registry over sql.h: locations, models, their files
 * and fingerprints. Every change is one transaction; removed models keep
 * their row (removed_at) so that ids are never reused. */
#include "registry_int.h"
#include "registry_pg.h"
#include "registry_schema.h"
#include "atomic_write.h"
#include "sql.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DB_FILE "registry.db"

struct mp_regdb {
	char *where;        /* the location as given */
	char *name;         /* how errors name it */
	struct mp_sql *sql; /* NULL: a registry that does not exist (empty) */
	bool write;
	int version; /* schema version once open (0: no database) */
};

char *mp_registry_default_dir(void)
{
	const char *e = getenv("MODELPRINT_REGISTRY");
	if (e && *e)
		return mp_strdup(e);
	const char *x = getenv("XDG_DATA_HOME");
	if (x && *x)
		return mp_path_join(x, "modelprint");
	const char *h = getenv("HOME");
	return mp_path_join(h && *h ? h : ".", ".local/share/modelprint");
}

bool mp_registry_is_url(const char *where)
{
	return strncmp(where, "postgresql://", 13) == 0 ||
	       strncmp(where, "postgres://", 11) == 0;
}

bool mp_reg_valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64 || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' ||
		      s[i] == '-'))
			return false;
	return true;
}

void mp_reg_model_done(struct mp_reg_model *m)
{
	free(m->id);
	free(m->name);
	free(m->family);
	free(m->type);
	free(m->path);
	free(m->format);
	free(m->added);
	free(m->extra);
	for (size_t i = 0; i < m->nfiles; i++) {
		free(m->files[i]);
		free(m->sha256[i]);
	}
	free(m->files);
	free(m->sha256);
	free(m->sizes);
}

void mp_reg_model_free(struct mp_reg_model *m)
{
	if (m)
		mp_reg_model_done(m);
	free(m);
}

struct mp_registry *mp_reg_list_new(const char *where)
{
	struct mp_registry *r = calloc(1, sizeof *r);
	if (r && !(r->dir = mp_strdup(where))) {
		free(r);
		r = NULL;
	}
	return r;
}

void mp_registry_free(struct mp_registry *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nmodels; i++)
		mp_reg_model_done(&r->models[i]);
	free(r->models);
	free(r->by_id);
	free(r->dir);
	free(r);
}

static int cmp_by_id(const void *a, const void *b, void *ctx)
{
	const struct mp_reg_model *m = ctx;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = strcmp(m[i].id, m[j].id);
	return c ? c : (i > j) - (i < j);
}

bool mp_reg_index(struct mp_registry *r)
{
	free(r->by_id);
	r->by_id = malloc((r->nmodels + 1) * sizeof *r->by_id);
	if (!r->by_id)
		return false;
	for (size_t i = 0; i < r->nmodels; i++)
		r->by_id[i] = i;
	qsort_r(r->by_id, r->nmodels, sizeof *r->by_id, cmp_by_id, r->models);
	return true;
}

const struct mp_reg_model *mp_registry_find(const struct mp_registry *r,
					    const char *id)
{
	if (!r->by_id) {
		for (size_t i = 0; i < r->nmodels; i++)
			if (strcmp(r->models[i].id, id) == 0)
				return &r->models[i];
		return NULL;
	}
	size_t lo = 0, hi = r->nmodels; /* first entry with id >= the key */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(r->models[r->by_id[mid]].id, id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < r->nmodels && strcmp(r->models[r->by_id[lo]].id, id) == 0)
		return &r->models[r->by_id[lo]];
	return NULL;
}

/* --- automatic ids ---------------------------------------------------- */

/* Automatic ids are decimal numbers of at most 19 digits (below 10^19, so
 * no overflow): one more than the largest such id the registry ever held
 * (registry_state.max_auto_id). */
#define AUTO_ID_DIGITS 19

bool mp_reg_auto_id_value(const char *id, uint64_t *v)
{
	size_t n = strspn(id, "0123456789");
	if (n == 0 || n > AUTO_ID_DIGITS || id[n] != '\0')
		return false;
	*v = 0;
	for (size_t i = 0; i < n; i++)
		*v = *v * 10 + (uint64_t)(id[i] - '0');
	return true;
}

/* Order of lists: automatic-shaped ids by value, then the others
 * bytewise. */
static int cmp_list_order(const void *a, const void *b)
{
	const struct mp_reg_model *x = a, *y = b;
	uint64_t u, v;
	bool nx = mp_reg_auto_id_value(x->id, &u), ny = mp_reg_auto_id_value(y->id, &v);
	if (nx && ny)
		return (u > v) - (u < v);
	if (nx != ny)
		return nx ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* --- opening ------------------------------------------------------------ */

const char *mp_regdb_name(const struct mp_regdb *db)
{
	return db->name;
}

struct mp_sql *mp_reg_sql(struct mp_regdb *db)
{
	return db->sql;
}

void mp_regdb_close(struct mp_regdb *db)
{
	if (!db)
		return;
	mp_sql_close(db->sql);
	free(db->where);
	free(db->name);
	free(db);
}

/* Where a SQLite registry's database file is for a location that is not a
 * URL: DIR/registry.db for a directory (or a missing path not ending in
 * .db, .sqlite or .sqlite3), else the path itself. *is_dir tells which. */
static char *sqlite_path(const char *where, bool *is_dir)
{
	struct stat sb;
	if (stat(where, &sb) == 0)
		*is_dir = S_ISDIR(sb.st_mode);
	else {
		const char *dot = strrchr(where, '.');
		const char *slash = strrchr(where, '/');
		*is_dir = !(dot && (!slash || dot > slash) &&
			    (!strcmp(dot, ".db") || !strcmp(dot, ".sqlite") ||
			     !strcmp(dot, ".sqlite3")));
	}
	return *is_dir ? mp_path_join(where, DB_FILE) : mp_strdup(where);
}

/* The parent directory of path (caller frees). */
static char *parent_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return mp_strdup(".");
	return slash == path ? mp_strdup("/")
			     : strndup(path, (size_t)(slash - path));
}

/* Open or create the SQLite database at path for db; a missing one read
 * only leaves db->sql NULL (an empty registry). */
static mp_status open_sqlite(struct mp_regdb *db, const char *path,
			     struct mp_error *err)
{
	struct stat sb;
	bool exists = stat(path, &sb) == 0;
	if (!exists && !db->write)
		return MP_OK;
	mp_status st = MP_OK;
	if (!exists) {
		char *parent = parent_dir(path);
		st = parent ? mp_dir_prepare(parent, "registry", err)
			    : mp_error_set(err, MP_ENOMEM, "out of memory");
		free(parent);
		if (st != MP_OK)
			return st;
		st = mp_reg_create_aside(db, NULL, path, err);
	} else {
		st = mp_sql_open(MP_SQL_SQLITE, path,
				 db->write ? 0 : MP_SQL_READONLY, &db->sql, err);
	}
	if (st != MP_OK && db->write && st != MP_ENOMEM && st != MP_EFORMAT) {
		char *parent = parent_dir(path);
		bool ro = parent && access(parent, W_OK) != 0;
		free(parent);
		char why[MP_ERRMSG_MAX];
		snprintf(why, sizeof why, "%s", err->msg);
		return mp_error_set(err, MP_EPERM,
				    "%s: cannot write the registry: %s",
				    db->name,
				    ro ? "its directory is read-only" : why);
	}
	return st;
}

bool mp_registry_exists(const char *where)
{
	if (mp_registry_is_url(where))
		return true;
	bool is_dir;
	char *path = sqlite_path(where, &is_dir);
	struct stat sb;
	bool yes = path && (stat(path, &sb) == 0 ||
			    (is_dir && mp_regdir_exists(where)));
	free(path);
	return yes;
}

/* Check the schema version: migrate an older one when writing. */
static mp_status check_schema(struct mp_regdb *db, struct mp_error *err)
{
	int v;
	mp_status st = mp_regschema_version(db->sql, &v, err);
	db->version = v;
	if (st != MP_OK || v == MP_REG_SCHEMA_VERSION)
		return st;
	if (v > MP_REG_SCHEMA_VERSION)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: registry schema version %d is newer than "
				    "this modelprint's (%d); use a newer "
				    "modelprint",
				    db->name, v, MP_REG_SCHEMA_VERSION);
	bool pg = mp_sql_kind(db->sql) == MP_SQL_PG;
	if (!pg && v == 0 && !db->write) {
		/* a file whose creator died before its schema was committed:
		 * nothing was ever stored in it */
		mp_sql_close(db->sql);
		db->sql = NULL;
		return MP_OK;
	}
	if (pg && v == 0)
		return mp_error_set(err, MP_ENOENT,
				    "%s: holds no modelprint registry; an "
				    "administrator creates one with 'modelprint "
				    "registry init --global URL'",
				    db->name);
	if (!db->write && v >= MP_REG_SCHEMA_READABLE)
		return MP_OK;
	if (!db->write)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: registry schema version %d is older than "
				    "this modelprint's (%d); open it once for "
				    "writing ('modelprint registry init') to "
				    "migrate it",
				    db->name, v, MP_REG_SCHEMA_VERSION);
	st = mp_regschema_migrate(db->sql, err);
	if (st == MP_OK)
		db->version = MP_REG_SCHEMA_VERSION;
	return st;
}

int mp_reg_schema(const struct mp_regdb *db)
{
	return db->sql ? db->version : 0;
}

mp_status mp_regdb_open(const char *where, bool write, struct mp_regdb **out,
			struct mp_error *err)
{
	*out = NULL;
	struct mp_regdb *db = calloc(1, sizeof *db);
	if (!db || !(db->where = mp_strdup(where))) {
		free(db);
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	db->write = write;
	mp_status st = MP_OK;
	if (mp_registry_is_url(where)) {
		st = mp_sql_open(MP_SQL_PG, where, write ? 0 : MP_SQL_READONLY,
				 &db->sql, err);
		if (st == MP_OK && !(db->name = mp_strdup(mp_sql_name(db->sql))))
			st = mp_error_set(err, MP_ENOMEM, "out of memory");
	} else {
		bool is_dir;
		char *path = sqlite_path(where, &is_dir);
		db->name = mp_strdup(where);
		if (!path || !db->name)
			st = mp_error_set(err, MP_ENOMEM, "out of memory");
		struct stat sb;
		if (st == MP_OK && is_dir && stat(path, &sb) != 0 &&
		    mp_regdir_exists(where))
			st = mp_reg_import_dir_form(db, where, path, err);
		else if (st == MP_OK)
			st = open_sqlite(db, path, err);
		free(path);
	}
	if (st == MP_OK && db->sql)
		st = check_schema(db, err);
	if (st != MP_OK) {
		mp_regdb_close(db);
		return st;
	}
	*out = db;
	return MP_OK;
}

mp_status mp_reg_attach(struct mp_regdb *db, struct mp_sql *sql)
{
	db->sql = sql;
	return MP_OK;
}

bool mp_reg_writing(const struct mp_regdb *db)
{
	return db->write;
}

mp_status mp_regdb_check_write(struct mp_regdb *db, struct mp_error *err)
{
	if (!db->write || !db->sql)
		return mp_error_set(err, MP_EPERM,
				    "%s: cannot write the registry: it was "
				    "opened for reading",
				    db->name);
	if (mp_sql_kind(db->sql) == MP_SQL_PG)
		return mp_regpg_check_write(db->sql, err);
	/* Taking the write lock is the test: it needs a writable file. */
	mp_status st = mp_sql_begin(db->sql, true, err);
	if (st == MP_OK)
		st = mp_sql_exec(db->sql,
				 "UPDATE registry_state SET value = value WHERE "
				 "key = 'max_auto_id'",
				 NULL, 0, NULL, err);
	mp_sql_rollback(db->sql);
	if (st == MP_EPERM || st == MP_EIO) {
		char why[MP_ERRMSG_MAX];
		snprintf(why, sizeof why, "%s", err->msg);
		return mp_error_set(err, MP_EPERM,
				    "%s: cannot write the registry (%s)",
				    db->name, why);
	}
	return st;
}

/* --- reading models ---------------------------------------------------- */

char *mp_reg_now(char buf[32])
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

static char *cell_dup(const struct mp_sql_res *r, size_t row, size_t col)
{
	const char *s = mp_sql_res_text(r, row, col);
	return mp_strdup(s ? s : "");
}

/* The WHERE clause of the filter (and one id when id is not NULL) over
 * models aliased m, with its parameters in p[*np]. */
static void filter_sql(const struct mp_reg_filter *f, const char *id,
		       char *sql, size_t cap, struct mp_sql_val p[4],
		       size_t *np)
{
	*np = 0;
	size_t n = (size_t)snprintf(sql, cap, " WHERE m.removed_at IS NULL");
	const char *col[] = {"family", "type", "format"};
	const char *val[] = {f ? f->family : NULL, f ? f->type : NULL,
			     f ? f->format : NULL};
	for (int k = 0; k < 3; k++)
		if (val[k] && *val[k]) {
			n += (size_t)snprintf(sql + n, cap - n, " AND m.%s = ?",
					      col[k]);
			p[(*np)++] = MP_SQL_TEXT(val[k]);
		}
	if (id) {
		snprintf(sql + n, cap - n, " AND m.id = ?");
		p[(*np)++] = MP_SQL_TEXT(id);
	}
}

/* The files of the models in r (indexed), read with the same filter. */
static mp_status attach_files(struct mp_regdb *db, struct mp_registry *r,
			      const char *where, const struct mp_sql_val *p,
			      size_t np, struct mp_error *err)
{
	char sql[512];
	snprintf(sql, sizeof sql,
		 "SELECT f.model_id, f.path, CAST(f.size AS TEXT), f.sha256 "
		 "FROM model_files f JOIN models m ON m.id = f.model_id%s "
		 "ORDER BY f.model_id, f.seq",
		 where);
	struct mp_sql_res *res;
	mp_status st = mp_sql_exec(db->sql, sql, p, np, &res, err);
	if (st != MP_OK)
		return st;
	/* two passes: count each model's files, then fill them in order */
	for (int pass = 0; pass < 2 && st == MP_OK; pass++) {
		for (size_t i = 0; i < res->nrows; i++) {
			struct mp_reg_model *m = (struct mp_reg_model *)
				mp_registry_find(r, mp_sql_res_text(res, i, 0));
			if (!m)
				continue; /* a model the name glob dropped */
			if (pass == 0) {
				m->nfiles++;
				continue;
			}
			size_t k = m->nfiles++;
			const char *size = mp_sql_res_text(res, i, 2);
			m->files[k] = cell_dup(res, i, 1);
			m->sha256[k] = cell_dup(res, i, 3);
			m->sizes[k] = size ? strtoull(size, NULL, 10) : 0;
			if (!m->files[k] || !m->sha256[k])
				st = mp_error_set(err, MP_ENOMEM, "out of memory");
		}
		for (size_t j = 0; pass == 0 && j < r->nmodels; j++) {
			struct mp_reg_model *m = &r->models[j];
			m->files = calloc(m->nfiles + 1, sizeof *m->files);
			m->sha256 = calloc(m->nfiles + 1, sizeof *m->sha256);
			m->sizes = calloc(m->nfiles + 1, sizeof *m->sizes);
			m->nfiles = 0;
			if (!m->files || !m->sha256 || !m->sizes)
				st = mp_error_set(err, MP_ENOMEM, "out of memory");
		}
	}
	mp_sql_res_free(res);
	return st;
}

/* The models the filter keeps (one id when id is not NULL). */
static mp_status query_models(struct mp_regdb *db,
			      const struct mp_reg_filter *f, const char *id,
			      struct mp_registry **out, struct mp_error *err)
{
	*out = NULL;
	struct mp_registry *r = mp_reg_list_new(db->name);
	if (!r)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	if (!db->sql) { /* a registry that does not exist yet */
		if (!mp_reg_index(r)) {
			mp_registry_free(r);
			return mp_error_set(err, MP_ENOMEM, "out of memory");
		}
		*out = r;
		return MP_OK;
	}
	char where[256], sql[512];
	struct mp_sql_val p[4];
	size_t np;
	filter_sql(f, id, where, sizeof where, p, &np);
	snprintf(sql, sizeof sql,
		 "SELECT m.id, m.name, m.family, m.type, m.path, m.format, "
		 "m.added_at, m.extra FROM models m%s",
		 where);
	struct mp_sql_res *res;
	mp_status st = mp_sql_exec(db->sql, sql, p, np, &res, err);
	if (st == MP_OK && !(r->models = calloc(res->nrows + 1, sizeof *r->models)))
		st = mp_error_set(err, MP_ENOMEM, "out of memory");
	const char *glob = f && f->name_glob && *f->name_glob ? f->name_glob
							       : NULL;
	for (size_t i = 0; st == MP_OK && i < res->nrows; i++) {
		const char *name = mp_sql_res_text(res, i, 1);
		if (glob && fnmatch(glob, name ? name : "", 0) != 0)
			continue;
		struct mp_reg_model *m = &r->models[r->nmodels++];
		m->id = cell_dup(res, i, 0);
		m->name = cell_dup(res, i, 1);
		m->family = cell_dup(res, i, 2);
		m->type = cell_dup(res, i, 3);
		m->path = cell_dup(res, i, 4);
		m->format = cell_dup(res, i, 5);
		m->added = cell_dup(res, i, 6);
		const char *extra = mp_sql_res_text(res, i, 7);
		m->extra = extra ? mp_strdup(extra) : NULL;
		if (!m->id || !m->name || !m->family || !m->type || !m->path ||
		    !m->format || !m->added)
			st = mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	if (st == MP_OK) {
		mp_sql_res_free(res);
		res = NULL;
		qsort(r->models, r->nmodels, sizeof *r->models, cmp_list_order);
		if (!mp_reg_index(r))
			st = mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	mp_sql_res_free(res);
	if (st == MP_OK)
		st = attach_files(db, r, where, p, np, err);
	if (st != MP_OK) {
		mp_registry_free(r);
		return st;
	}
	*out = r;
	return MP_OK;
}

mp_status mp_regdb_list(struct mp_regdb *db, const struct mp_reg_filter *f,
			struct mp_registry **out, struct mp_error *err)
{
	return query_models(db, f, NULL, out, err);
}

mp_status mp_regdb_get(struct mp_regdb *db, const char *id,
		       struct mp_reg_model **out, struct mp_error *err)
{
	*out = NULL;
	struct mp_registry *r;
	mp_status st = query_models(db, NULL, id, &r, err);
	if (st != MP_OK)
		return st;
	if (r->nmodels == 0) {
		mp_registry_free(r);
		char show[MP_NAME_SHOW + 8];
		return mp_error_set(err, MP_ENOENT, "%s: no model with id '%s'",
				    db->name, mp_printable(id, show));
	}
	*out = malloc(sizeof **out);
	if (!*out) {
		mp_registry_free(r);
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	**out = r->models[0];
	r->nmodels = 0; /* moved out */
	mp_registry_free(r);
	return MP_OK;
}

mp_status mp_registry_load(const char *where, struct mp_registry **out,
			   struct mp_error *err)
{
	*out = NULL;
	struct mp_regdb *db;
	mp_status st = mp_regdb_open(where, false, &db, err);
	if (st == MP_OK)
		st = mp_regdb_list(db, NULL, out, err);
	mp_regdb_close(db);
	return st;
}
