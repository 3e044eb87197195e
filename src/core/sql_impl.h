/* sql_impl.h — what sql.c shares with the backends sql_sqlite.c and
 * sql_pg.c: the connection struct and each backend's entry points. */
#ifndef MP_SQL_IMPL_H
#define MP_SQL_IMPL_H

#include "sql.h"

struct mp_sql {
	enum mp_sql_kind kind;
	char *name; /* how errors name the database */
	void *conn; /* sqlite3 * or PGconn * */
};

mp_status mp_sqlite_open(const char *path, unsigned flags,
			 struct mp_sql **out, struct mp_error *err);
void mp_sqlite_close(struct mp_sql *db);
mp_status mp_sqlite_exec(struct mp_sql *db, const char *sql,
			 const struct mp_sql_val *params, size_t np,
			 struct mp_sql_res **out, struct mp_error *err);
mp_status mp_sqlite_script(struct mp_sql *db, const char *sql,
			   struct mp_error *err);

/* A result of nrows x ncols cells to fill; NULL when out of memory. */
struct mp_sql_res *mp_sql_res_new(size_t ncols);
/* Append one row (cells copied, NUL added); false when out of memory. */
bool mp_sql_res_push(struct mp_sql_res *r, const void *const *cells,
		     const size_t *lens);

#endif
