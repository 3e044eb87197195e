/* sql_pg.h — sql.h over PostgreSQL (libpq); see sql_impl.h. */
#ifndef MP_SQL_PG_H
#define MP_SQL_PG_H

#include "sql_impl.h"

mp_status mp_pg_open(const char *where, unsigned flags, struct mp_sql **out,
		     struct mp_error *err);
void mp_pg_close(struct mp_sql *db);
mp_status mp_pg_exec(struct mp_sql *db, const char *sql,
		     const struct mp_sql_val *params, size_t np,
		     struct mp_sql_res **out, struct mp_error *err);
mp_status mp_pg_script(struct mp_sql *db, const char *sql,
		       struct mp_error *err);
const char *mp_pg_name(const struct mp_sql *db);

#endif
