/* registry_pg.h — PostgreSQL-only parts of the registry: its roles and
 * the check of a connection's privileges (registry_pg.c). */
#ifndef MP_REGISTRY_PG_H
#define MP_REGISTRY_PG_H

#include "sql.h"

/* Create roles modelprint_reader and modelprint_writer and grant them on
 * the registry tables; idempotent. */
mp_status mp_regpg_grant_roles(struct mp_sql *db, struct mp_error *err);
/* MP_OK when current_user may write every registry table, else MP_EPERM
 * naming the role, the privilege and the GRANT that gives it. */
mp_status mp_regpg_check_write(struct mp_sql *db, struct mp_error *err);

#endif
