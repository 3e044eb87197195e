/* sql.c — the backend-independent half of sql.h: dispatch to SQLite or
 * PostgreSQL, transactions, results. */
#include "sql_impl.h"
#include "sql_pg.h"

#include <stdlib.h>
#include <string.h>

mp_status mp_sql_open(enum mp_sql_kind kind, const char *where,
		      unsigned flags, struct mp_sql **out,
		      struct mp_error *err)
{
	*out = NULL;
	return kind == MP_SQL_PG ? mp_pg_open(where, flags, out, err)
				 : mp_sqlite_open(where, flags, out, err);
}

void mp_sql_close(struct mp_sql *db)
{
	if (!db)
		return;
	if (db->kind == MP_SQL_PG)
		mp_pg_close(db);
	else
		mp_sqlite_close(db);
}

enum mp_sql_kind mp_sql_kind(const struct mp_sql *db)
{
	return db->kind;
}

const char *mp_sql_name(const struct mp_sql *db)
{
	return db->kind == MP_SQL_PG ? mp_pg_name(db) : db->name;
}

mp_status mp_sql_exec(struct mp_sql *db, const char *sql,
		      const struct mp_sql_val *params, size_t np,
		      struct mp_sql_res **out, struct mp_error *err)
{
	if (out)
		*out = NULL;
	return db->kind == MP_SQL_PG
		       ? mp_pg_exec(db, sql, params, np, out, err)
		       : mp_sqlite_exec(db, sql, params, np, out, err);
}

mp_status mp_sql_script(struct mp_sql *db, const char *sql,
			struct mp_error *err)
{
	return db->kind == MP_SQL_PG ? mp_pg_script(db, sql, err)
				     : mp_sqlite_script(db, sql, err);
}

mp_status mp_sql_begin(struct mp_sql *db, bool write, struct mp_error *err)
{
	const char *sql = db->kind == MP_SQL_SQLITE && write ? "BEGIN IMMEDIATE"
							     : "BEGIN";
	return mp_sql_exec(db, sql, NULL, 0, NULL, err);
}

mp_status mp_sql_commit(struct mp_sql *db, struct mp_error *err)
{
	return mp_sql_exec(db, "COMMIT", NULL, 0, NULL, err);
}

void mp_sql_rollback(struct mp_sql *db)
{
	struct mp_error ignored;
	mp_sql_exec(db, "ROLLBACK", NULL, 0, NULL, &ignored);
}

struct mp_sql_res *mp_sql_res_new(size_t ncols)
{
	struct mp_sql_res *r = calloc(1, sizeof *r);
	if (r)
		r->ncols = ncols;
	return r;
}

bool mp_sql_res_push(struct mp_sql_res *r, const void *const *cells,
		     const size_t *lens)
{
	size_t n = r->nrows * r->ncols, add = r->ncols;
	/* The capacity is 2 (nrows + 1) rows, reset each time nrows + 1 is
	 * a power of two (nrows = 0, 1, 3, 7, ...). */
	size_t rows = r->nrows + 1;
	if ((rows & (rows - 1)) == 0) {
		size_t cap = 2 * rows * r->ncols + 1;
		char **c = realloc(r->cells, cap * sizeof *c);
		if (!c)
			return false;
		r->cells = c;
		size_t *l = realloc(r->lens, cap * sizeof *l);
		if (!l)
			return false;
		r->lens = l;
	}
	for (size_t k = 0; k < add; k++) {
		r->cells[n + k] = NULL;
		r->lens[n + k] = 0;
	}
	r->nrows++; /* counted now, so that a failure below frees the row */
	for (size_t k = 0; k < add; k++) {
		if (!cells[k])
			continue;
		char *c = malloc(lens[k] + 1);
		if (!c)
			return false;
		memcpy(c, cells[k], lens[k]);
		c[lens[k]] = '\0';
		r->cells[n + k] = c;
		r->lens[n + k] = lens[k];
	}
	return true;
}

void mp_sql_res_free(struct mp_sql_res *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nrows * r->ncols; i++)
		free(r->cells[i]);
	free(r->cells);
	free(r->lens);
	free(r);
}

const char *mp_sql_res_text(const struct mp_sql_res *r, size_t row,
			    size_t col)
{
	if (!r || row >= r->nrows || col >= r->ncols)
		return NULL;
	return r->cells[row * r->ncols + col];
}
