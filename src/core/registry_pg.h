/* registry_pg.h — the PostgreSQL-only parts of the registry: the reader
 * and writer roles, and the check that a connection may write. Both work
 * on the connection's current schema, which holds the registry tables
 * (schema_version, registry_state, models, model_files, fingerprints). */
#ifndef MP_REGISTRY_PG_H
#define MP_REGISTRY_PG_H

#include "sql.h"

/* Create roles modelprint_reader (NOLOGIN; USAGE on the schema, SELECT on
 * all its tables) and modelprint_writer (NOLOGIN; member of the reader,
 * plus INSERT, UPDATE, DELETE on all tables and USAGE on all sequences of
 * the schema); idempotent. Run after the schema exists, by a role that may
 * create roles (MP_EPERM otherwise). */
mp_status mp_regpg_grant_roles(struct mp_sql *db, struct mp_error *err);

/* MP_OK when the connection is not read-only and current_user may INSERT,
 * UPDATE and DELETE on every registry table; else MP_EPERM naming the
 * first missing privilege, e.g. "NAME: role 'alice' lacks INSERT on table
 * models; an administrator grants it with: GRANT modelprint_writer TO
 * alice". A missing table is MP_EFORMAT. Changes nothing. */
mp_status mp_regpg_check_write(struct mp_sql *db, struct mp_error *err);

#endif
