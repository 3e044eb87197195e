/* sql_pg.h — the PostgreSQL backend of sql.h (libpq), called through
 * sql.c's dispatch. Statements use '?' placeholders (rewritten to $1..$n
 * outside quoted text and comments); results are requested in binary, so
 * every selected column must be text-like (text, varchar, char, name,
 * json) or bytea: any other type is refused (MP_EINVAL). Result cells are
 * each malloc'd (NUL-terminated), as are cells[], lens[] and the result:
 * mp_sql_res_free frees each cell, then the arrays, then the struct. */
#ifndef MP_SQL_PG_H
#define MP_SQL_PG_H

#include "sql_impl.h"

/* Connect to where (a postgresql:// or postgres:// URL, or a libpq
 * "key=value" string). MP_SQL_READONLY sets default_transaction_read_only;
 * MP_SQL_CREATE is ignored. Notices are dropped (client_min_messages =
 * warning). Errors: MP_EIO "NAME: cannot connect: <libpq message>" (one
 * line, the password hidden), MP_ENOMEM. */
mp_status mp_pg_open(const char *where, unsigned flags, struct mp_sql **out,
		     struct mp_error *err);
/* Disconnect and free db (NULL is allowed). */
void mp_pg_close(struct mp_sql *db);
/* One statement with np parameters (text sent as text, blobs as binary
 * bytea); rows into *out when out is not NULL. Errors by SQLSTATE: 23505
 * MP_EEXIST, 42501 and 25006 MP_EPERM, 40001/40P01/55P03 MP_ELOCK, class
 * 08, 57P01-57P03 or a broken connection MP_EIO ("server went away"),
 * MP_EINVAL for a placeholder count other than np or a non-text column,
 * MP_EFORMAT otherwise; the message is "NAME: <server's message>". */
mp_status mp_pg_exec(struct mp_sql *db, const char *sql,
		     const struct mp_sql_val *params, size_t np,
		     struct mp_sql_res **out, struct mp_error *err);
/* Several statements without parameters in one PQexec; errors as above. */
mp_status mp_pg_script(struct mp_sql *db, const char *sql,
		       struct mp_error *err);
/* The URL (or key=value string) with any password replaced by "***". */
const char *mp_pg_name(const struct mp_sql *db);

#endif
