/* sql.h — the few SQL operations the registry needs, over SQLite
 * (sql_sqlite.c) or PostgreSQL (sql_pg.c). Statements are written once,
 * with '?' placeholders (never inside string literals); the PostgreSQL
 * side numbers them $1, $2, ... Every selected column must be text or a
 * blob (cast numbers: CAST(x AS TEXT)), so that a result is an array of
 * byte strings on both backends. Errors name the database (its display
 * form, a file path or the URL without its password). */
#ifndef MP_SQL_H
#define MP_SQL_H

#include "mp.h"

#include <stdbool.h>
#include <stddef.h>

enum mp_sql_kind { MP_SQL_SQLITE, MP_SQL_PG };

struct mp_sql; /* one open connection; not shared between threads */

/* A statement parameter: text (NUL-terminated p, n ignored), a blob (p, n
 * bytes), or SQL NULL (p == NULL). */
struct mp_sql_val {
	const void *p;
	size_t n;
	bool blob;
};
#define MP_SQL_TEXT(s) ((struct mp_sql_val){.p = (s)})
#define MP_SQL_BLOB(b, len) ((struct mp_sql_val){.p = (b), .n = (len), .blob = true})

/* A whole result: cell (r, c) is cells[r * ncols + c], lens[] its length
 * in bytes; a text cell is also NUL-terminated; SQL NULL is cells[] ==
 * NULL. */
struct mp_sql_res {
	size_t nrows, ncols;
	char **cells;
	size_t *lens;
};

/* Open flags. */
#define MP_SQL_READONLY 1u /* never write (SQLite: SQLITE_OPEN_READONLY) */
#define MP_SQL_CREATE 2u   /* SQLite: create the file when missing */

/* Open a SQLite file (path) or a PostgreSQL connection (a postgresql:// or
 * postgres:// URL, or a libpq "key=value" string). SQLite connections get
 * foreign keys on, a busy timeout of 60 s and WAL mode (when writable).
 * Errors: MP_ENOENT (a SQLite file that is missing without MP_SQL_CREATE),
 * MP_EPERM, MP_EIO (cannot connect), MP_EFORMAT (not a database). */
mp_status mp_sql_open(enum mp_sql_kind kind, const char *where,
		      unsigned flags, struct mp_sql **out,
		      struct mp_error *err);
void mp_sql_close(struct mp_sql *db);

enum mp_sql_kind mp_sql_kind(const struct mp_sql *db);
/* How errors name the database: the SQLite path, or the PostgreSQL URL
 * with any password replaced by "***". */
const char *mp_sql_name(const struct mp_sql *db);

/* Run one statement with np parameters; when out is not NULL the rows are
 * returned (free with mp_sql_res_free). Errors carry the database's
 * message prefixed by mp_sql_name: MP_EEXIST for a unique or primary key
 * violation, MP_ELOCK when the database stayed busy, MP_EPERM for a
 * read-only database or a missing privilege (PostgreSQL SQLSTATE 42501),
 * MP_EIO for a lost connection, MP_EFORMAT otherwise. */
mp_status mp_sql_exec(struct mp_sql *db, const char *sql,
		      const struct mp_sql_val *params, size_t np,
		      struct mp_sql_res **out, struct mp_error *err);
void mp_sql_res_free(struct mp_sql_res *r);

/* Run a script of several statements without parameters (schema). */
mp_status mp_sql_script(struct mp_sql *db, const char *sql,
			struct mp_error *err);

/* Transactions: begin (write: SQLite BEGIN IMMEDIATE, so that writers
 * queue at the start instead of failing at their first write), commit,
 * rollback (which never fails visibly: it is the cleanup path). */
mp_status mp_sql_begin(struct mp_sql *db, bool write, struct mp_error *err);
mp_status mp_sql_commit(struct mp_sql *db, struct mp_error *err);
void mp_sql_rollback(struct mp_sql *db);

/* The first cell of the first row as text, or NULL (no row, SQL NULL). */
const char *mp_sql_res_text(const struct mp_sql_res *r, size_t row,
			    size_t col);

#endif
