/* sql_sqlite.c — sql.h over SQLite: WAL, foreign keys, a busy timeout,
 * read-only opening of a database in a directory we cannot write. */
#include "sql_impl.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUSY_MS 60000
#define CACHED 24 /* prepared statements kept per connection */

/* A SQLite connection: struct mp_sql first, then the statements prepared
 * on it, reused by their text (round-robin eviction). */
struct lite {
	struct mp_sql base;
	sqlite3_stmt *cache[CACHED];
	unsigned next;
};

static mp_status map_code(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_CONSTRAINT:
		return (rc == SQLITE_CONSTRAINT_UNIQUE ||
			rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			       ? MP_EEXIST
			       : MP_EFORMAT;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return MP_ELOCK;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return MP_EPERM;
	case SQLITE_CANTOPEN:
	case SQLITE_IOERR:
	case SQLITE_FULL:
		return MP_EIO;
	case SQLITE_NOMEM:
		return MP_ENOMEM;
	default:
		return MP_EFORMAT;
	}
}

static mp_status fail(struct mp_sql *db, int rc, struct mp_error *err)
{
	sqlite3 *c = db->conn;
	const char *msg = c ? sqlite3_errmsg(c) : sqlite3_errstr(rc);
	return mp_error_set(err, map_code(rc), "%s: %s", db->name, msg);
}

/* "file:PATH?immutable=1" with the URI's special characters escaped. */
static char *immutable_uri(const char *path)
{
	size_t n = strlen(path);
	char *u = malloc(3 * n + 32), *o = u;
	if (!u)
		return NULL;
	o += sprintf(o, "file:");
	for (const char *p = path; *p; p++) {
		if (*p == '%' || *p == '?' || *p == '#')
			o += sprintf(o, "%%%02X", (unsigned char)*p);
		else
			*o++ = *p;
	}
	strcpy(o, "?immutable=1");
	return u;
}

/* The directory of path can be written (WAL needs its -shm beside it). */
static bool dir_writable(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return access(".", W_OK) == 0;
	char *d = strndup(path, (size_t)(slash - path) + (slash == path));
	bool ok = d && access(d, W_OK) == 0;
	free(d);
	return ok;
}

static mp_status open_conn(struct mp_sql *db, const char *path, unsigned flags,
			 bool immutable, struct mp_error *err)
{
	int of = SQLITE_OPEN_NOMUTEX;
	if (flags & MP_SQL_READONLY)
		of |= SQLITE_OPEN_READONLY;
	else
		of |= SQLITE_OPEN_READWRITE |
		      (flags & MP_SQL_CREATE ? SQLITE_OPEN_CREATE : 0);
	char *uri = immutable ? immutable_uri(path) : NULL;
	if (immutable && !uri)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	sqlite3 *c = NULL;
	int rc = sqlite3_open_v2(uri ? uri : path, &c,
				 of | (uri ? SQLITE_OPEN_URI : 0), NULL);
	free(uri);
	db->conn = c;
	if (rc != SQLITE_OK)
		return fail(db, rc, err);
	sqlite3_extended_result_codes(c, 1);
	sqlite3_busy_timeout(c, BUSY_MS);
	/* Reading the schema makes SQLite open the file for real: a file that
	 * is not a database, or a WAL database whose -shm cannot be made,
	 * fails here rather than at the first query. */
	rc = sqlite3_exec(c, "PRAGMA foreign_keys = ON; "
			     "SELECT count(*) FROM sqlite_master",
			  NULL, NULL, NULL);
	if (rc == SQLITE_OK && !(flags & MP_SQL_READONLY) &&
	    sqlite3_db_readonly(c, "main") == 1)
		return mp_error_set(err, MP_EPERM, "%s: the file is read-only",
				    db->name);
	/* Switching a database to WAL takes an exclusive lock, which SQLite
	 * may refuse at once rather than wait for: retry for the busy time. */
	for (int waited = 0; rc == SQLITE_OK && !(flags & MP_SQL_READONLY);
	     waited += 5) {
		rc = sqlite3_exec(c, "PRAGMA journal_mode = WAL; "
				     "PRAGMA synchronous = NORMAL",
				  NULL, NULL, NULL);
		if (rc != SQLITE_BUSY || waited >= BUSY_MS)
			break;
		usleep(5000);
		rc = SQLITE_OK;
	}
	return rc == SQLITE_OK ? MP_OK : fail(db, rc, err);
}

mp_status mp_sqlite_open(const char *path, unsigned flags,
			 struct mp_sql **out, struct mp_error *err)
{
	struct stat sb;
	if (strcmp(path, ":memory:") != 0 && stat(path, &sb) != 0) {
		if (errno != ENOENT || !(flags & MP_SQL_CREATE))
			return mp_error_set(err, errno == ENOENT ? MP_ENOENT
								 : MP_EIO,
					    "%s: %s", path, strerror(errno));
	} else if (strcmp(path, ":memory:") != 0 && !S_ISREG(sb.st_mode)) {
		return mp_error_set(err, MP_EFORMAT,
				    "%s: not a regular file, not a registry "
				    "database",
				    path);
	}
	struct lite *l = calloc(1, sizeof *l);
	if (!l || !(l->base.name = mp_strdup(path))) {
		free(l);
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	struct mp_sql *db = &l->base;
	db->kind = MP_SQL_SQLITE;
	mp_status st = open_conn(db, path, flags, false, err);
	if (st != MP_OK && (flags & MP_SQL_READONLY) && !dir_writable(path)) {
		/* A WAL database in a directory we cannot write: readable as
		 * an immutable file (nobody writes where nobody can). */
		sqlite3_close(db->conn);
		db->conn = NULL;
		st = open_conn(db, path, flags, true, err);
	}
	if (st != MP_OK) {
		mp_sqlite_close(db);
		return st;
	}
	*out = db;
	return MP_OK;
}

void mp_sqlite_close(struct mp_sql *db)
{
	if (!db)
		return;
	struct lite *l = (struct lite *)db;
	for (unsigned i = 0; i < CACHED; i++)
		sqlite3_finalize(l->cache[i]);
	sqlite3_close(db->conn);
	free(db->name);
	free(l);
}

/* The prepared statement of sql, from the cache or prepared now (and
 * cached). */
static int prepared(struct lite *l, const char *sql, sqlite3_stmt **out)
{
	for (unsigned i = 0; i < CACHED; i++)
		if (l->cache[i] && strcmp(sqlite3_sql(l->cache[i]), sql) == 0) {
			*out = l->cache[i];
			return SQLITE_OK;
		}
	int rc = sqlite3_prepare_v3(l->base.conn, sql, -1,
				    SQLITE_PREPARE_PERSISTENT, out, NULL);
	if (rc != SQLITE_OK)
		return rc;
	unsigned k = l->next++ % CACHED;
	sqlite3_finalize(l->cache[k]);
	l->cache[k] = *out;
	return SQLITE_OK;
}

static int bind_all(sqlite3_stmt *s, const struct mp_sql_val *params,
		    size_t np)
{
	for (size_t i = 0; i < np; i++) {
		const struct mp_sql_val *v = &params[i];
		int k = (int)i + 1, rc;
		if (!v->p)
			rc = sqlite3_bind_null(s, k);
		else if (v->blob)
			rc = sqlite3_bind_blob64(s, k, v->p, v->n,
						 SQLITE_TRANSIENT);
		else
			rc = sqlite3_bind_text(s, k, v->p, -1, SQLITE_TRANSIENT);
		if (rc != SQLITE_OK)
			return rc;
	}
	return SQLITE_OK;
}

/* Collect the rows of s into *out (NULL: step through them). */
static int collect(sqlite3_stmt *s, struct mp_sql_res **out)
{
	int ncols = sqlite3_column_count(s), rc;
	struct mp_sql_res *r = out ? mp_sql_res_new((size_t)ncols) : NULL;
	if (out && !r)
		return SQLITE_NOMEM;
	const void *cells[64];
	size_t lens[64];
	if (ncols > 64) {
		mp_sql_res_free(r);
		return SQLITE_TOOBIG;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (!r)
			continue;
		for (int k = 0; k < ncols; k++) {
			int t = sqlite3_column_type(s, k);
			if (t == SQLITE_NULL) {
				cells[k] = NULL;
				lens[k] = 0;
				continue;
			}
			cells[k] = t == SQLITE_BLOB ? sqlite3_column_blob(s, k)
						    : (const void *)
							  sqlite3_column_text(s, k);
			lens[k] = (size_t)sqlite3_column_bytes(s, k);
			if (!cells[k])
				cells[k] = ""; /* an empty blob */
		}
		if (!mp_sql_res_push(r, cells, lens)) {
			mp_sql_res_free(r);
			return SQLITE_NOMEM;
		}
	}
	if (rc != SQLITE_DONE) {
		mp_sql_res_free(r);
		return rc;
	}
	if (out)
		*out = r;
	return SQLITE_OK;
}

mp_status mp_sqlite_exec(struct mp_sql *db, const char *sql,
			 const struct mp_sql_val *params, size_t np,
			 struct mp_sql_res **out, struct mp_error *err)
{
	sqlite3_stmt *s = NULL;
	int rc = prepared((struct lite *)db, sql, &s);
	if (rc == SQLITE_OK)
		rc = bind_all(s, params, np);
	if (rc == SQLITE_OK)
		rc = collect(s, out);
	mp_status st = rc == SQLITE_OK ? MP_OK : fail(db, rc, err);
	if (s) { /* ready for its next use, holding no parameter copies */
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
	}
	return st;
}

mp_status mp_sqlite_script(struct mp_sql *db, const char *sql,
			   struct mp_error *err)
{
	int rc = sqlite3_exec(db->conn, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? MP_OK : fail(db, rc, err);
}
