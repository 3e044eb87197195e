/* TEMPORARY until branch pg merges */
#include "sql_pg.h"
mp_status mp_pg_open(const char *where, unsigned flags, struct mp_sql **out,
		     struct mp_error *err)
{ return mp_error_set(err, MP_EINVAL, "%s: PostgreSQL not merged yet", where); }
void mp_pg_close(struct mp_sql *db) {}
mp_status mp_pg_exec(struct mp_sql *db, const char *sql,
		     const struct mp_sql_val *params, size_t np,
		     struct mp_sql_res **out, struct mp_error *err)
{ return MP_EINVAL; }
mp_status mp_pg_script(struct mp_sql *db, const char *sql, struct mp_error *err) { return MP_EINVAL; }
const char *mp_pg_name(const struct mp_sql *db) { return db->name; }
#include "registry_pg.h"
mp_status mp_regpg_grant_roles(struct mp_sql *db, struct mp_error *err) { return MP_EINVAL; }
mp_status mp_regpg_check_write(struct mp_sql *db, struct mp_error *err) { return MP_EINVAL; }
